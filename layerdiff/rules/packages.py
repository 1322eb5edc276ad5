"""Rules about packages: OS package files changed behind the package manager's back, dependencies the
installed set no longer meets, and the package inventory's changes (downgrades, removals, additions and
upgrades).

Each package change is one finding, whatever its package manager deleted or rewrote doing it (the files are
counted in its evidence); where the changes come from is ``layerdiff.rules.version_changes``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from layerdiff.image.model import Entry
from layerdiff.inventory.dpkg_verify import FileProblem
from layerdiff.inventory.evidence import entry_evidence
from layerdiff.inventory.ospkg_interface import BrokenDependency
from layerdiff.rules.launch import provider_changes
from layerdiff.rules.lost_libraries import DOCUMENTATION_DIRS, apt_get_check_line, lost_packages
from layerdiff.rules.model import Finding, Rule, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.rules.version_changes import DATABASE_LOCATIONS, VersionChange, version_changes
from layerdiff.text.words import counted, listed

_PROVIDER_KINDS = frozenset({"upgraded", "downgraded", "changed"})


# --- package-file-modified ----------------------------------------------------------------------------------


@rule(
    "package-file-modified",
    Severity.HIGH,
    "A file an OS package installed was changed, replaced or deleted outside the package manager",
    "Change packaged files through the package manager: install the version you need (apt-get install "
    "pkg=version), use dpkg-divert for a deliberate replacement, and put local files under /usr/local.",
)
def package_file_modified(context: RuleContext) -> Iterator[Finding]:
    # One finding per package (its conffiles apart, which are low): `rm libpq.so.5*` is one cause, however
    # many of the package's files it took.
    base_packages = {p.name: p for p in context.diff.base_inventory.os_packages if p.ecosystem == "deb"}
    derived_packages = {p.name: p for p in context.diff.derived_inventory.os_packages if p.ecosystem == "deb"}
    # a library's files deleted with nothing else are the cause of its library-unresolved finding
    explained = {name for name, lost in lost_packages(context).items() if lost.deleted}
    groups: dict[tuple[str, bool], list[FileProblem]] = {}
    for problem in context.diff.inventory.package_file_problems:
        if problem.package in explained and not problem.conffile:
            continue
        owner = base_packages.get(problem.package)
        owners = context.diff.base_inventory.owners_of(problem.path)
        if owner is None or owner not in owners or problem.path.startswith(DOCUMENTATION_DIRS):
            continue  # only what the base's packages installed; a package the derived image added is its own
        groups.setdefault((problem.package, problem.conffile), []).append(problem)
    for (name, conffiles), problems in sorted(groups.items()):
        package = derived_packages.get(name, base_packages[name])
        yield _modified_finding(context, package.version, conffiles, problems)


def _modified_finding(
    context: RuleContext, version: str, conffiles: bool, problems: list[FileProblem]
) -> Finding:
    # the problem that breaks the most first: a missing file, then one that is no longer a regular file
    problems = sorted(problems, key=lambda p: (not p.missing, not p.not_regular, p.path))
    first = problems[0]
    before = context.diff.base_files.lookup(first.path)
    files = [_problem_evidence(context, problem) for problem in problems]
    if len(problems) == 1:
        what = f"{first.path} of package {first.package} {_what_happened(first)}"
    else:
        paths = listed([p.path for p in problems])
        how = "deleted" if all(p.missing for p in problems) else "changed or deleted"
        what = f"{counted(len(problems), 'file')} of package {first.package} were {how} ({paths})"
    return package_file_modified.finding(
        context,
        subject=f"{first.package}:conffiles" if conffiles else first.package,
        message=f"{_file_consequence(first, before)}: {what} outside dpkg.",
        evidence={
            "package": first.package,
            "version": version,
            "conffile": conffiles,
            **files[0],
            "files": files,
        },
        layer=context.layer_that_changed(*(p.path for p in problems)),
        # Admins are meant to edit conffiles (dpkg keeps the edits on upgrade): shown, but not a risk.
        severity=Severity.LOW if conffiles else Severity.HIGH,
    )


def _problem_evidence(context: RuleContext, problem: FileProblem) -> dict[str, Any]:
    return {
        "path": problem.path,
        "dpkg_verify": problem.dpkg_line(),
        "expected_md5": problem.expected_md5,
        "actual_md5": problem.actual_md5,
        "before": entry_evidence(context.diff.base_files.lookup(problem.path)),
        "after": entry_evidence(context.diff.derived_files.lookup(problem.path)),
    }


def _file_consequence(problem: FileProblem, before: Entry | None) -> str:
    """What whoever uses the file now meets."""
    if problem.conffile:
        return f"{problem.package} now runs with an edited configuration"
    name = posixpath.basename(problem.path)
    if problem.missing:
        if ".so" in name:
            return f"Programs that load {name} fail to start"
        if before is not None and before.mode & 0o111:
            return f"Running {problem.path} fails"
        return f"Opening {problem.path} fails"
    return f"Whatever uses {problem.path} gets content {problem.package} did not install"


def _what_happened(problem: FileProblem) -> str:
    if problem.missing:
        return "was deleted"
    if problem.not_regular:
        return "was replaced by something that is not a regular file"
    return "was changed (its md5 differs from the package's)"


# --- os-package-dependency-broken ---------------------------------------------------------------------------


@rule(
    "os-package-dependency-broken",
    Severity.HIGH,
    "An installed OS package's dependency is no longer met",
    "Remove packages with the package manager (apt-get remove, which removes what depends on them too) "
    "instead of dpkg --force-depends or deleting files; reinstall the dependency in the version required.",
)
def os_package_dependency_broken(context: RuleContext) -> Iterator[Finding]:
    # a dependency on a package whose loss left the dependent's own library unresolved is that finding's
    explained = {id(broken) for lost in lost_packages(context).values() for broken in lost.dependents}
    for broken in context.diff.inventory.broken_dependencies:
        if id(broken) in explained:
            continue
        package = broken.package
        names = "|".join(ref.name for ref in broken.relation.alternatives)
        yield os_package_dependency_broken.finding(
            context,
            subject=f"{package.ecosystem}:{package.name}:{names}",
            message=(
                f"{package.name} may fail at run time: "
                f"{package.ecosystem} package {package.name} {package.version} {broken.field}: "
                f"{broken.relation.text}, which is not met ({_reason(broken)})."
            ),
            evidence={
                "package": package.name,
                "version": package.version,
                "architecture": package.architecture,
                "field": broken.field,
                "relation": broken.relation.text,
                "reason": broken.reason.value,
                "installed": broken.installed_version,
                "apt_get_check": apt_get_check_line(broken),
            },
            layer=context.layer_that_changed(*DATABASE_LOCATIONS.get(package.ecosystem, ())),
        )


def _reason(broken: BrokenDependency) -> str:
    if broken.installed_version is not None:
        return f"{broken.installed_version} is installed"
    return "not installed"


# --- package inventory changes ------------------------------------------------------------------------------


def _change_findings(context: RuleContext, kinds: frozenset[str]) -> Iterator[tuple[VersionChange, str]]:
    """Each change of one of ``kinds`` with its one-sentence message: what code using the package now gets,
    then what the package manager did."""
    # a package providing what the image runs is entrypoint-provider-changed's finding
    claimed = {c.after.key for c in provider_changes(context)} if kinds & _PROVIDER_KINDS else set()
    # a removal whose consequence is an unresolved library is that library-unresolved finding
    removals = [lost.removed.key for lost in lost_packages(context).values() if lost.removed is not None]
    claimed.update(removals if "removed" in kinds else ())
    for change in version_changes(context):
        if change.kind in kinds and change.key not in claimed:
            yield change, _change_message(change)


def _change_message(change: VersionChange) -> str:
    users = "Code using" if change.ecosystem == "pypi" else "Whatever uses"
    where = f" in {change.qualifier}" if change.ecosystem == "pypi" and change.qualifier else ""
    deleted = _deleted_files(change)
    if change.kind == "added":
        return f"The image now also ships {change.label} {change.after}{where}."
    if change.kind == "removed":
        return (
            f"{users} {change.name} fails: {change.label} {change.before} is no longer installed{where}"
            f"{deleted}."
        )
    if change.kind == "changed":
        how = "another version"
    else:
        how = "an older version" if change.kind == "downgraded" else "a newer version"
    return (
        f"{users} {change.name} now gets {how}, {change.after} instead of {change.before}: "
        f"{change.label} was {change.kind}{where}{deleted}."
    )


def _deleted_files(change: VersionChange) -> str:
    removed = change.evidence.get("removed")
    count = removed.get("files_removed", 0) if isinstance(removed, dict) else 0
    if not count:
        return ""
    return f", which deleted {counted(count, 'file')} of {change.before or 'the old version'}"


def _version_change_rule(
    rule_id: str, severity: Severity, title: str, remediation: str, kinds: frozenset[str]
) -> Rule:
    """A rule with one finding per package change of one of ``kinds``."""

    def check(context: RuleContext) -> Iterator[Finding]:
        for change, message in _change_findings(context, kinds):
            yield registered.finding(context, change.subject, message, _evidence(change), layer=change.layer)

    registered = rule(rule_id, severity, title, remediation)(check)
    return registered


package_downgraded = _version_change_rule(
    "package-downgraded",
    Severity.MEDIUM,
    "A package is older than in the base",
    "Do not pin below the base's version; if the older version is required, say why in the Dockerfile and "
    "check that everything depending on the package accepts it.",
    frozenset({"downgraded"}),
)
package_removed = _version_change_rule(
    "package-removed",
    Severity.MEDIUM,
    "A package of the base is no longer installed",
    "Keep the base's packages; if one must go, remove it with its package manager and check what used it.",
    frozenset({"removed"}),
)
package_added = _version_change_rule(
    "package-added",
    Severity.INFO,
    "A package was installed",
    "Nothing to fix; review that the package is needed at run time.",
    frozenset({"added"}),
)
package_upgraded = _version_change_rule(
    "package-upgraded",
    Severity.INFO,
    "A package is newer than in the base (or its version changed in a way that cannot be ordered)",
    "Nothing to fix; review that the new version is compatible with what the base runs.",
    frozenset({"upgraded", "changed"}),
)

_CHANGE_FIELDS = ("ecosystem", "name", "kind", "before", "after")


def _evidence(change: VersionChange) -> dict[str, Any]:
    return {**{name: getattr(change, name) for name in _CHANGE_FIELDS}, **change.evidence}
