"""The rule about files of the base image the derived layers deleted. A deleted tree (``rm -rf``) is one
finding for its top-most path; what pip deletes when it replaces a distribution with another version of it
is only low."""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterator, Mapping

from layerdiff.diff.changes import ChangeKind, FileChange
from layerdiff.fs.ancestry import top_most
from layerdiff.image.model import Entry, EntryType
from layerdiff.inventory.evidence import entry_evidence
from layerdiff.inventory.python import METADATA_SUFFIXES, read_distribution, site_distributions
from layerdiff.rules.file_findings import collapsed, file_finding, layer_evidence
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.words import counted

_DPKG_INFO = "/var/lib/dpkg/info/"


@rule(
    "base-file-deleted",
    Severity.MEDIUM,
    "A file of the base image was deleted",
    "Don't delete what the base ships (its own code, entrypoint and packages may use it); if it must go, "
    "remove it with the package manager that installed it. Note the bytes stay in the base's layers anyway.",
)
def BASE_FILE_DELETED(context: RuleContext) -> Iterator[Finding]:
    # What an OS package owns is judged by the package rules: package-removed when the package manager
    # removed it, package-file-modified when something else did.
    owner_of = context.diff.base_inventory.owner_of
    removed = {
        c.path: c
        for c in context.diff.file_changes
        if c.kind is ChangeKind.REMOVED and owner_of(c.path) is None and not c.path.startswith(_DPKG_INFO)
    }
    replaced = _reinstalled_distribution_files(context, removed)
    for path, descendants in sorted(top_most(removed).items()):
        change = removed[path]
        assert change.before is not None
        group = [path, *descendants]
        size = sum(_file_size(removed[p].before) for p in group)
        reinstalled = replaced.get(path) if all(p in replaced for p in group) else None
        count = f" and {counted(len(descendants), 'entry', 'entries')} below it" if descendants else ""
        # A derived image that does not extend its base removes a file in no particular layer
        by = f"by layer {change.layer}" if change.layer is not None else "in the derived image"
        message = f"{path}{count} from the base image was deleted {by}"
        message += f" when pip replaced the distribution with {reinstalled}." if reinstalled else "."
        yield file_finding(
            BASE_FILE_DELETED,
            context,
            subject=path,
            message=message,
            evidence={
                "path": path,
                "before": entry_evidence(change.before),
                "entries_removed": len(group),
                "bytes_removed": size,
                "replaced_by": reinstalled,
                **layer_evidence(context, change.layer),
                **collapsed(descendants),
            },
            layer=change.layer,
            # pip uninstalling the old version of what it installs is routine; the package rules report it
            severity=Severity.LOW if reinstalled else None,
        )


def _file_size(entry: Entry | None) -> int:
    return entry.size if entry is not None and entry.type is EntryType.FILE else 0


def _reinstalled_distribution_files(
    context: RuleContext, removed: Mapping[str, FileChange]
) -> dict[str, str]:
    """Removed paths that belonged to a Python distribution pip replaced by another version of it in the same
    site directory (its metadata directory and the files its RECORD lists), mapped to the new metadata."""
    replaced: dict[str, str] = {}
    successors: dict[str, dict[str, str]] = {}  # site dir -> distribution name -> its metadata's name there
    ordered = sorted(removed)  # what is below a path follows it: found by bisection, not a scan per path
    for path in removed:
        site, folder = posixpath.split(path)
        if not folder.endswith(METADATA_SUFFIXES):
            continue
        old = read_distribution(context.diff.base_files, site, folder, context.limits)
        if old is None:
            continue
        if site not in successors:
            successors[site] = {}
            for new in site_distributions(context.diff.derived_files, site, context.limits):
                successors[site].setdefault(new.name, posixpath.basename(new.metadata))
        successor = successors[site].get(old.name)
        if successor is None:
            continue
        replaced[path] = successor
        for other in _below(ordered, path):
            replaced[other] = successor
        for listed in _record_paths(context, path, site):
            replaced.setdefault(listed, successor)
    return replaced


def _below(ordered: list[str], directory: str) -> Iterator[str]:
    """The paths of ``ordered`` (sorted) inside ``directory``."""
    prefix = directory.rstrip("/") + "/"
    for index in range(bisect.bisect_left(ordered, prefix), len(ordered)):
        if not ordered[index].startswith(prefix):
            return
        yield ordered[index]


def _record_paths(context: RuleContext, dist_info: str, site: str) -> Iterator[str]:
    record = context.diff.base_files.read(f"{dist_info}/RECORD")
    for line in (record or b"").decode("utf-8", "replace").splitlines():
        relative = line.split(",", 1)[0]
        if relative:
            yield posixpath.normpath(posixpath.join(site, relative))
