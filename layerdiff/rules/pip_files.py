"""The base files pip itself deleted: those of a distribution it replaced by another version in the same
site dir, or uninstalled. They are the distribution's change (one finding, with the files counted in its
evidence), never files deleted behind the package manager's back.

A distribution counts as replaced or uninstalled when its metadata folder is gone while its site dir
remains (``rm -rf`` of a whole site dir is not pip's doing); its files are those its RECORD lists and the
metadata folder's, and a removed directory is pip's when every file removed below it is the same
distribution's (pip removes the directories it empties, such as ``__pycache__``).
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from layerdiff.diff.changes import ChangeKind, FileChange
from layerdiff.diff.files import select_changes
from layerdiff.image.model import Entry, EntryType
from layerdiff.inventory.python import METADATA_SUFFIXES, Distribution, read_distribution, site_distributions
from layerdiff.rules.model import RuleContext

EXAMPLES = 5  # removed files named in a distribution's evidence


@dataclass(frozen=True)
class PipRemoval:
    """One distribution pip took out of a site dir of the base: replaced by ``successor``, or uninstalled."""

    old: Distribution
    successor: Distribution | None

    @property
    def key(self) -> tuple[str, str]:
        """(site dir, canonical name): how the distribution's change is found again."""
        return self.old.location, self.old.name


@dataclass(frozen=True)
class RemovedFiles:
    """What pip deleted of one distribution, for its finding's evidence."""

    count: int
    bytes: int
    examples: tuple[str, ...]

    def evidence(self) -> dict[str, object]:
        return {"files_removed": self.count, "bytes_removed": self.bytes, "examples": list(self.examples)}


def pip_removals(context: RuleContext) -> dict[str, PipRemoval]:
    """Every base path removed by pip replacing or uninstalling a distribution, with that distribution."""
    return context.shared("pip_removals", _pip_removals)


def _pip_removals(context: RuleContext) -> dict[str, PipRemoval]:
    removed = {c.path: c for c in select_changes(context.diff.file_changes, (ChangeKind.REMOVED,))}
    derived_files = context.diff.derived_files
    owned: dict[str, PipRemoval] = {}
    successors: dict[str, dict[str, Distribution]] = {}  # site dir -> name -> the derived image's copy
    ordered = sorted(removed)  # what is below a path follows it: found by bisection, not a scan per path
    for path in removed:
        site, folder = posixpath.split(path)
        if not folder.endswith(METADATA_SUFFIXES) or derived_files.lookup(site) is None:
            continue
        old = read_distribution(context.diff.base_files, site, folder, context.limits)
        if old is None:
            continue
        if site not in successors:
            successors[site] = {}
            for new in site_distributions(derived_files, site, context.limits):
                successors[site].setdefault(new.name, new)
        removal = PipRemoval(old, successors[site].get(old.name))
        owned[path] = removal
        for other in _below(ordered, path):
            owned[other] = removal
        for listed in record_paths(context, old):
            if listed in removed:
                owned.setdefault(listed, removal)
    _claim_emptied_directories(ordered, removed, owned)
    return owned


def removed_files(
    removals: Mapping[str, PipRemoval], context: RuleContext
) -> dict[tuple[str, str], RemovedFiles]:
    """Per (site dir, name) of a distribution pip replaced or uninstalled: the files it deleted."""
    paths: dict[tuple[str, str], list[str]] = {}
    metadata: dict[tuple[str, str], str] = {}
    for path, removal in removals.items():
        paths.setdefault(removal.key, []).append(path)
        metadata[removal.key] = removal.old.metadata
    result = {}
    for key, listed in paths.items():
        # the distribution's own files first: its metadata says least about what code is gone
        inside = metadata[key].rstrip("/") + "/"
        files = sorted(
            (p for p in listed if _is_file(context.diff.base_files.lookup(p))),
            key=lambda p: (p.startswith(inside) or p == inside[:-1], p),
        )
        size = sum(_size(context, p) for p in files)
        result[key] = RemovedFiles(len(files), size, tuple(files[:EXAMPLES]))
    return result


def record_paths(context: RuleContext, distribution: Distribution) -> Iterator[str]:
    """The paths the base's RECORD of ``distribution`` lists, made absolute."""
    if not distribution.metadata.endswith(".dist-info"):
        return
    record = context.diff.base_files.read(f"{distribution.metadata}/RECORD")
    for line in (record or b"").decode("utf-8", "replace").splitlines():
        relative = line.split(",", 1)[0]
        if relative:
            yield posixpath.normpath(posixpath.join(distribution.location, relative))


def _below(ordered: list[str], directory: str) -> Iterator[str]:
    """The paths of ``ordered`` (sorted) inside ``directory``."""
    start, end = _block(ordered, directory)
    yield from ordered[start:end]


def _block(ordered: list[str], directory: str) -> tuple[int, int]:
    prefix = directory.rstrip("/") + "/"
    # "0" follows "/": every path under the directory sorts between the two
    return bisect.bisect_left(ordered, prefix), bisect.bisect_left(ordered, prefix[:-1] + "0")


def _claim_emptied_directories(
    ordered: list[str], removed: Mapping[str, FileChange], owned: dict[str, PipRemoval]
) -> None:
    """Removed directories whose removed files all belong to one removal become that removal's too."""
    # breaks[p]: how many of the first p removed files are not pip's, or another removal's than the file
    # before them; a directory's files have one owner when the count does not grow after its first file
    owners: list[PipRemoval | None] = []
    for path in ordered:
        before = removed[path].before
        owners.append(owned.get(path) if before is not None and before.type is not EntryType.DIR else None)
    files = [i for i, path in enumerate(ordered) if not _is_dir(removed[path])]
    breaks = [0]
    previous: PipRemoval | None = None
    for position, index in enumerate(files):
        owner = owners[index]
        breaks.append(breaks[-1] + (owner is None or (position > 0 and owner != previous)))
        previous = owner
    for path in ordered:
        if path in owned or not _is_dir(removed[path]):
            continue
        start, end = _block(ordered, path)
        first, last = bisect.bisect_left(files, start), bisect.bisect_left(files, end)
        if first == last:
            continue  # an empty directory: nothing says whose it was
        owner = owners[files[first]]
        if owner is not None and breaks[last] - breaks[first + 1] == 0:
            owned[path] = owner
            for other in ordered[start:end]:
                owned.setdefault(other, owner)


def _is_dir(change: FileChange) -> bool:
    return change.before is not None and change.before.type is EntryType.DIR


def _is_file(entry: Entry | None) -> bool:
    return entry is not None and entry.type is not EntryType.DIR


def _size(context: RuleContext, path: str) -> int:
    entry = context.diff.base_files.lookup(path)
    return entry.size if entry is not None and entry.type is EntryType.FILE else 0
