"""The inventory parts of the report: runtime user, Python environments, commands, libraries, packages.

A fact that findings' evidence shows too (a runtime user, a command, a library resolution) is read from its
evidence form (layerdiff.inventory.evidence), so that it reads the same in both; a value whose fields are
a fact's own takes them by name (``Wire.from_attributes``)."""

from __future__ import annotations

from typing import TypeVar

from layerdiff.diff.inventory import InventoryDiff
from layerdiff.diff.packages import PackageChange
from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.evidence import command_evidence, resolution_evidence, user_evidence
from layerdiff.inventory.python import Distribution, PythonEnvironment
from layerdiff.report import wire_inventory as wire
from layerdiff.report.codec import JsonObject, Wire
from layerdiff.sbom.model import SbomPackage

_Typed = TypeVar("_Typed", bound=Wire)


def inventory_section(base: Inventory, derived: Inventory, diff: InventoryDiff) -> wire.Inventory:
    return wire.Inventory(
        runtime_user=wire.RuntimeUsers(
            base=wire.RuntimeUser.from_json(user_evidence(base.user)),
            derived=wire.RuntimeUser.from_json(user_evidence(derived.user)),
        ),
        python=wire.PythonInventory(
            environments=tuple(_environment(e, derived) for e in derived.python),
            distribution_changes=tuple(
                wire.DistributionChange.from_attributes(
                    c, before=_distribution(c.before), after=_distribution(c.after)
                )
                for c in diff.distributions
            ),
            unsatisfied=tuple(
                wire.UnsatisfiedRequirement(
                    environment=key,
                    distribution=u.distribution.display_name,
                    version=u.distribution.version,
                    requirement=u.requirement,
                    installed=u.installed,
                    message=u.message(),
                )
                for key, u in diff.unsatisfied
            ),
            shadowed=tuple(
                wire.ShadowedDistribution(
                    environment=key,
                    name=s.name,
                    winner=_present(s.winner),
                    hidden=tuple(_present(h) for h in s.hidden),
                )
                for key, s in diff.shadowed
            ),
            lost=tuple(
                wire.LostDistribution.from_attributes(
                    item,
                    name=item.distribution.display_name,
                    version=item.distribution.version,
                    location=item.distribution.location,
                )
                for item in diff.lost
            ),
        ),
        commands=tuple(
            wire.CommandChange.from_attributes(
                c,
                before=_typed(wire.Command, command_evidence(c.before)),
                after=_typed(wire.Command, command_evidence(c.after)),
            )
            for c in diff.commands
        ),
        libraries=tuple(
            wire.LibraryChange.from_attributes(
                c,
                before=_typed(wire.Resolution, resolution_evidence(c.before, c.before_sha256)),
                after=_typed(wire.Resolution, resolution_evidence(c.after, c.after_sha256)),
            )
            for c in diff.libraries
        ),
        os_packages=wire.OsPackages(
            changes=tuple(wire.OsPackageChange.from_attributes(c) for c in diff.os_packages),
            broken_dependencies=tuple(
                wire.BrokenDependency(
                    package=b.package.name,
                    ecosystem=b.package.ecosystem,
                    version=b.package.version,
                    field=b.field,
                    relation=b.relation.text,
                    reason=b.reason.value,
                    installed=b.installed_version,
                    detail=b.detail,
                )
                for b in diff.broken_dependencies
            ),
            modified_files=tuple(
                wire.ModifiedFile.from_attributes(p, dpkg_verify=p.dpkg_line())
                for p in diff.package_file_problems
            ),
        ),
    )


def _typed(cls: type[_Typed], evidence: JsonObject | None) -> _Typed | None:
    """The report's value of a fact given in its evidence form; None for no fact."""
    return cls.from_json(evidence) if evidence is not None else None


def _environment(environment: PythonEnvironment, inventory: Inventory) -> wire.PythonEnvironment:
    return wire.PythonEnvironment.from_attributes(
        environment,
        sys_path=tuple(environment.sys_path),
        distributions=len(environment.distributions),
        on_path_as=tuple(
            sorted(name for name, key in inventory.python_on_path.items() if key == environment.key)
        ),
    )


def _distribution(distribution: Distribution | None) -> wire.Distribution | None:
    return _present(distribution) if distribution is not None else None


def _present(distribution: Distribution) -> wire.Distribution:
    # the evidence's form (distribution_evidence) less the metadata path, which the report does not carry
    return wire.Distribution(
        name=distribution.display_name, version=distribution.version, location=distribution.location
    )


def packages_section(tool: str | None, changes: tuple[PackageChange, ...]) -> wire.Packages:
    return wire.Packages(
        sbom_tool=tool,
        changes=tuple(
            wire.PackageChange.from_attributes(c, before=_package(c.before), after=_package(c.after))
            for c in changes
        ),
    )


def _package(package: SbomPackage | None) -> wire.SbomPackage | None:
    if package is None:
        return None
    return wire.SbomPackage(version=package.version, purl=package.purl, paths=tuple(package.paths[:5]))
