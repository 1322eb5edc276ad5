"""Rules about packages: OS package files changed behind the package manager's back, dependencies the
installed set no longer meets, and the package inventory's changes (downgrades, removals, additions and
upgrades).

Version changes come from two sources: the SBOM diff (every ecosystem syft catalogs) and the OS package
databases read natively (deb, apk, rpm). An OS package that both report is reported once, from the SBOM.
Subjects name packages the same way in both (``deb:libpq5:amd64``), so that a finding approved in a run with
``--sbom none`` is still the same finding with ``--sbom syft``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from layerdiff.diff.inventory import OsPackageChange
from layerdiff.diff.packages import PackageChange
from layerdiff.inventory.dpkg_verify import FileProblem
from layerdiff.inventory.evidence import entry_evidence
from layerdiff.inventory.ospkg import DATABASES
from layerdiff.inventory.ospkg_interface import BrokenDependency
from layerdiff.rules.model import Finding, Rule, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity

OS_ECOSYSTEMS = frozenset({"deb", "apk", "rpm"})

# Where each ecosystem's database lives: the layer that rewrote it is the one that changed the packages.
_DATABASES: dict[str, tuple[str, ...]] = {database.ecosystem: database.locations for database in DATABASES}

# Documentation nothing executes: deleting it is how images are slimmed (and how dpkg's path-exclude
# leaves packages), not a way to break them.
_DOCUMENTATION_DIRS = (
    "/usr/share/doc/",
    "/usr/share/man/",
    "/usr/share/info/",
    "/usr/share/locale/",
    "/usr/share/lintian/",
    "/usr/share/linda/",
)


# --- package-file-modified ----------------------------------------------------------------------------------


@rule(
    "package-file-modified",
    Severity.HIGH,
    "A file an OS package installed was changed, replaced or deleted outside the package manager",
    "Change packaged files through the package manager: install the version you need (apt-get install "
    "pkg=version), use dpkg-divert for a deliberate replacement, and put local files under /usr/local.",
)
def package_file_modified(context: RuleContext) -> Iterator[Finding]:
    base_packages = {p.name: p for p in context.diff.base_inventory.os_packages if p.ecosystem == "deb"}
    derived_packages = {p.name: p for p in context.diff.derived_inventory.os_packages if p.ecosystem == "deb"}
    for problem in context.diff.inventory.package_file_problems:
        owner = base_packages.get(problem.package)
        owners = context.diff.base_inventory.owners_of(problem.path)
        if owner is None or owner not in owners or problem.path.startswith(_DOCUMENTATION_DIRS):
            continue  # only what the base's packages installed; a package the derived image added is its own
        # Admins are meant to edit conffiles (dpkg keeps the edits on upgrade): shown, but not a risk.
        severity = Severity.LOW if problem.conffile else Severity.HIGH
        package = derived_packages.get(problem.package, owner)
        yield package_file_modified.finding(
            context,
            subject=f"{problem.package}:{problem.path}",
            message=f"{problem.path} of package {problem.package} {_what_happened(problem)} outside dpkg.",
            evidence={
                "package": problem.package,
                "version": package.version,
                "path": problem.path,
                "conffile": problem.conffile,
                "dpkg_verify": problem.dpkg_line(),
                "expected_md5": problem.expected_md5,
                "actual_md5": problem.actual_md5,
                "before": entry_evidence(context.diff.base_files.lookup(problem.path)),
                "after": entry_evidence(context.diff.derived_files.lookup(problem.path)),
            },
            layer=context.layer_that_changed(problem.path),
            severity=severity,
        )


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
    for broken in context.diff.inventory.broken_dependencies:
        package = broken.package
        names = "|".join(ref.name for ref in broken.relation.alternatives)
        yield os_package_dependency_broken.finding(
            context,
            subject=f"{package.ecosystem}:{package.name}:{names}",
            message=(
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
                "apt_get_check": f"{package.name} : {broken.field}: {broken.detail}",
            },
            layer=context.layer_that_changed(*_DATABASES.get(package.ecosystem, ())),
        )


def _reason(broken: BrokenDependency) -> str:
    if broken.installed_version is not None:
        return f"{broken.installed_version} is installed"
    return "not installed"


# --- package inventory changes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionChange:
    """One package's change, from the SBOM or from an OS package database."""

    ecosystem: str  # purl type: deb, apk, rpm, pypi, npm, ...
    name: str  # without the purl namespace for OS packages, as their databases name them
    qualifier: str  # architecture (OS packages) or install root (language packages); may be ""
    kind: str  # added | removed | upgraded | downgraded | changed
    before: str | None
    after: str | None
    layer: int | None
    evidence: dict[str, Any]

    @property
    def subject(self) -> str:
        return ":".join(part for part in (self.ecosystem, self.name, self.qualifier) if part)

    @property
    def label(self) -> str:
        return f"{self.ecosystem} package {self.name}"


def version_changes(context: RuleContext) -> list[VersionChange]:
    """The SBOM's package changes, then the OS databases' changes the SBOM does not have, by subject."""
    changes: list[VersionChange] = []
    for change in context.diff.packages:
        if change.kind != "rebuilt":  # same version written again: no inventory change
            changes.append(_from_sbom(context, change))
    from_sbom = {(c.ecosystem, c.name) for c in changes}
    for os_change in context.diff.inventory.os_packages:
        if (os_change.ecosystem, os_change.name) not in from_sbom:
            changes.append(_from_database(context, os_change))
    return sorted(changes, key=lambda c: c.subject)


def _from_sbom(context: RuleContext, change: PackageChange) -> VersionChange:
    package = change.after or change.before
    assert package is not None
    name = change.name.rsplit("/", 1)[-1] if change.type in OS_ECOSYSTEMS else change.name
    arch, install_root = package.key[2], package.key[3]
    layer = change.layer if change.layer is not None and change.layer >= context.first_reviewed else None
    if layer is None and change.before is not None:
        layer = context.layer_that_changed(*change.before.paths)
    return VersionChange(
        ecosystem=change.type,
        name=name,
        qualifier=arch if change.type in OS_ECOSYSTEMS else install_root,
        kind=change.kind,
        before=change.before.version if change.before else None,
        after=change.after.version if change.after else None,
        layer=layer,
        evidence={
            "source": context.diff.sbom_tool or "sbom",
            "purl_before": change.before.purl if change.before else None,
            "purl_after": change.after.purl if change.after else None,
            "paths": list(package.paths[:5]),
        },
    )


def _from_database(context: RuleContext, change: OsPackageChange) -> VersionChange:
    databases = _DATABASES.get(change.ecosystem, ())
    return VersionChange(
        ecosystem=change.ecosystem,
        name=change.name,
        qualifier=change.architecture,
        kind=change.kind,
        before=change.before,
        after=change.after,
        layer=context.layer_that_changed(*databases),
        evidence={
            "source": f"{change.ecosystem} database",
            "database": list(databases),
            "architecture": change.architecture,
        },
    )


def _change_findings(context: RuleContext, kinds: frozenset[str]) -> Iterator[tuple[VersionChange, str]]:
    """Each change of one of ``kinds`` with its one-sentence message."""
    for change in version_changes(context):
        if change.kind not in kinds:
            continue
        if change.kind == "added":
            message = f"{change.label} {change.after} was installed."
        elif change.kind == "removed":
            message = f"{change.label} {change.before} is no longer installed."
        elif change.kind == "changed":
            message = f"{change.label} changed from {change.before} to {change.after} (versions not ordered)."
        else:
            message = f"{change.label} was {change.kind} from {change.before} to {change.after}."
        yield change, message


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
