"""The OS packages whose loss is why a library no longer resolves: one cause, one finding.

When the package that provided a library goes (dpkg removed it, or its files were deleted outside dpkg) and
an object that loaded the library no longer loads, what breaks at run time is that object: library-unresolved
reports it, with the package's change as its cause. The package rules then leave the package out: its
removal, its deleted files and the unmet dependency of the object's own package on it are that finding's
evidence, not findings of their own. A package whose files were deleted outside dpkg is folded only when every
file deleted is the lost library itself (or a link to it); anything else it lost stays package-file-modified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layerdiff.inventory.dpkg_verify import FileProblem
from layerdiff.inventory.ospkg_interface import BrokenDependency
from layerdiff.rules.model import RuleContext
from layerdiff.rules.version_changes import VersionChange, version_changes
from layerdiff.text.words import listed

# Documentation nothing executes: deleting it breaks nothing (see layerdiff.rules.packages).
DOCUMENTATION_DIRS = (
    "/usr/share/doc/",
    "/usr/share/man/",
    "/usr/share/info/",
    "/usr/share/locale/",
    "/usr/share/lintian/",
    "/usr/share/linda/",
)


@dataclass
class LostPackage:
    """An OS package of the base whose library some object no longer finds, and how it was lost."""

    name: str
    version: str
    objects: set[str] = field(default_factory=set)  # the objects that needed its library
    library_files: set[str] = field(default_factory=set)  # the library's files in the base, links resolved
    removed: VersionChange | None = None  # dpkg removed the package
    deleted: tuple[FileProblem, ...] = ()  # or its library files were deleted outside dpkg
    dependents: tuple[BrokenDependency, ...] = ()  # the objects' packages whose dependency on it is unmet

    @property
    def folded(self) -> bool:
        """Whether the package's own change is explained by the lost library (else it is reported itself)."""
        return self.removed is not None or bool(self.deleted)

    def sentence(self) -> str:
        """Why the library is gone, for the library finding's message."""
        if self.removed is not None:
            needed_by = sorted({b.package.name for b in self.dependents})
            though = f", though {listed(needed_by)} depends on it" if needed_by else ""
            return f"{self.name} {self.version} was removed{though}."
        paths = listed(sorted(p.path for p in self.deleted))
        were = "was" if len(self.deleted) == 1 else "were"
        return f"{paths} of package {self.name} {were} deleted or moved outside dpkg."

    def evidence(self) -> dict[str, Any]:
        removed = self.removed.evidence.get("removed") if self.removed is not None else None
        return {
            "package": self.name,
            "version": self.version,
            "change": "removed" if self.removed is not None else "files deleted or moved outside dpkg",
            "files_removed": removed.get("files_removed", 0) if isinstance(removed, dict) else None,
            "dpkg_verify": [problem.dpkg_line() for problem in sorted(self.deleted, key=lambda p: p.path)],
            "apt_get_check": [apt_get_check_line(broken) for broken in self.dependents],
        }


def apt_get_check_line(broken: BrokenDependency) -> str:
    return f"{broken.package.name} : {broken.field}: {broken.detail}"


def lost_packages(context: RuleContext) -> dict[str, LostPackage]:
    """The deb packages whose loss is the cause of a library-unresolved finding, by name."""
    return context.shared("lost_library_packages", _lost_packages)


def _lost_packages(context: RuleContext) -> dict[str, LostPackage]:
    base = context.diff.base_inventory
    base_files = context.diff.base_files
    found: dict[str, LostPackage] = {}
    for change in context.diff.inventory.libraries:
        before = change.before
        if change.kind != "unresolved" or before is None or not before.real_path:
            continue
        package = base.owner_of(before.real_path)
        if package is None or package.ecosystem != "deb":
            continue
        lost = found.setdefault(package.name, LostPackage(package.name, package.version))
        lost.objects.add(change.object)
        for path in (before.path, before.real_path):
            if path:
                lost.library_files.add(base_files.resolve(path) or path)
    removals = {c.name: c for c in version_changes(context) if c.ecosystem == "deb" and c.kind == "removed"}
    for lost in found.values():
        lost.removed = removals.get(lost.name)
        lost.deleted = _deleted_library_files(context, lost)
        lost.dependents = tuple(_dependents(context, lost))
    return {name: lost for name, lost in found.items() if lost.folded}


def _deleted_library_files(context: RuleContext, lost: LostPackage) -> tuple[FileProblem, ...]:
    """The package's files deleted outside dpkg, when they are all the lost library (else none)."""
    problems = [
        p
        for p in context.diff.inventory.package_file_problems
        if p.package == lost.name and not p.conffile and not p.path.startswith(DOCUMENTATION_DIRS)
    ]
    resolve = context.diff.base_files.resolve
    if problems and all(p.missing and (resolve(p.path) or p.path) in lost.library_files for p in problems):
        return tuple(problems)
    return ()


def _dependents(context: RuleContext, lost: LostPackage) -> list[BrokenDependency]:
    base = context.diff.base_inventory
    owners = {owner.name for owner in map(base.owner_of, sorted(lost.objects)) if owner is not None}
    return [
        broken
        for broken in context.diff.inventory.broken_dependencies
        if broken.package.name in owners
        and any(ref.name == lost.name for ref in broken.relation.alternatives)
    ]
