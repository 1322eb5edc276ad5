"""The rule about files of the base image the derived layers deleted. A deleted tree (``rm -rf``) is one
finding for its top-most path; what a package manager deletes (dpkg, or pip replacing or uninstalling a
distribution) is the package's change, reported by the package rules."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerdiff.diff.changes import ChangeKind, FileChange
from layerdiff.diff.files import select_changes
from layerdiff.fs.ancestry import top_most
from layerdiff.image.model import Entry, EntryType
from layerdiff.inventory.evidence import entry_evidence
from layerdiff.inventory.python_record import FileState
from layerdiff.rules.file_findings import collapsed, file_finding, layer_evidence
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.pip_files import pip_removals
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
    # removed it, package-file-modified when something else did. What pip deleted replacing or uninstalling
    # a distribution is that distribution's change (package-upgraded, -downgraded, -removed).
    # What a distribution's RECORD lists and is now missing is python-file-modified's finding for it.
    owner_of = context.diff.base_inventory.owner_of
    by_pip = pip_removals(context)
    removed = {
        c.path: c
        for c in select_changes(context.diff.file_changes, (ChangeKind.REMOVED,))
        if c.path not in by_pip and owner_of(c.path) is None and not c.path.startswith(_DPKG_INFO)
    }
    for path in _recorded_deletions(context, removed):
        del removed[path]
    for path, descendants in sorted(top_most(removed).items()):
        change = removed[path]
        assert change.before is not None
        group = [path, *descendants]
        size = sum(_file_size(removed[p].before) for p in group)
        count = f" and {counted(len(descendants), 'entry', 'entries')} below it" if descendants else ""
        # A derived image that does not extend its base removes a file in no particular layer
        by = f"by layer {change.layer}" if change.layer is not None else "in the derived image"
        yield file_finding(
            BASE_FILE_DELETED,
            context,
            subject=path,
            message=f"{_consequence(change.before, path)}: it{count} was deleted {by}.",
            evidence={
                "path": path,
                "before": entry_evidence(change.before),
                "entries_removed": len(group),
                "bytes_removed": size,
                **layer_evidence(context, change.layer),
                **collapsed(descendants),
            },
            layer=change.layer,
        )


def _recorded_deletions(context: RuleContext, removed: dict[str, FileChange]) -> set[str]:
    """The removed paths python-file-modified reports: files a distribution's RECORD lists that are gone,
    and the directories (``rm -rf .../tests``) whose removed files all are."""
    recorded = {p.path for p in context.diff.inventory.record_problems if p.state is not FileState.MODIFIED}
    explained = recorded.intersection(removed)
    holds_other: set[str] = set()
    holds_recorded: set[str] = set()
    for path, change in removed.items():
        # directories and byte-code caches (RECORD lists .pyc without a digest) take no side
        if (change.before is not None and change.before.type is EntryType.DIR) or "/__pycache__/" in path:
            continue
        marks = holds_recorded if path in explained else holds_other
        parent = posixpath.dirname(path)
        # bounded by the path's depth; stops where an ancestor was already marked the same way
        while parent in removed and parent not in marks:
            marks.add(parent)
            parent = posixpath.dirname(parent)
    dirs = holds_recorded - holds_other
    # and what is below those directories: only recorded files, and directories holding nothing else
    below = {path for path in removed if dirs and any(parent in dirs for parent in _ancestors(path))}
    return explained | dirs | below


def _ancestors(path: str) -> Iterator[str]:
    parent = posixpath.dirname(path)
    while parent != "/":
        yield parent
        parent = posixpath.dirname(parent)


def _consequence(entry: Entry, path: str) -> str:
    """What stops working, in the words of whoever used the path."""
    if entry.type is EntryType.DIR:
        return f"Whatever the base reads from {path} is gone"
    if entry.mode & 0o111 and entry.type in (EntryType.FILE, EntryType.HARDLINK):
        return f"Running {path} fails (No such file or directory)"
    return f"Opening {path} fails (No such file or directory)"


def _file_size(entry: Entry | None) -> int:
    return entry.size if entry is not None and entry.type is EntryType.FILE else 0
