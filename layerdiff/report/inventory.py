"""The inventory parts of the report: runtime user, Python environments, commands, libraries, packages."""

from __future__ import annotations

from layerdiff.diff.inventory import InventoryDiff
from layerdiff.diff.packages import PackageChange
from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.commands import Command
from layerdiff.inventory.libraries import NeededResolution
from layerdiff.inventory.python import Distribution, PythonEnvironment
from layerdiff.inventory.users import RuntimeUser
from layerdiff.report import wire_inventory as wire
from layerdiff.sbom.model import SbomPackage


def inventory_section(base: Inventory, derived: Inventory, diff: InventoryDiff) -> wire.Inventory:
    return wire.Inventory(
        runtime_user=wire.RuntimeUsers(base=_user(base.user), derived=_user(derived.user)),
        python=wire.PythonInventory(
            environments=tuple(_environment(e, derived) for e in derived.python),
            distribution_changes=tuple(
                wire.DistributionChange(
                    environment=c.environment,
                    name=c.name,
                    kind=c.kind,
                    before=_distribution(c.before),
                    after=_distribution(c.after),
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
                wire.LostDistribution(
                    environment=item.environment,
                    name=item.distribution.display_name,
                    version=item.distribution.version,
                    location=item.distribution.location,
                    cause=item.cause,
                    via=item.via,
                )
                for item in diff.lost
            ),
        ),
        commands=tuple(
            wire.CommandChange(
                name=c.name, before=_command(c.before), after=_command(c.after), used_by=c.used_by
            )
            for c in diff.commands
        ),
        libraries=tuple(
            wire.LibraryChange(
                object=c.object,
                soname=c.soname,
                kind=c.kind,
                before=_resolution(c.before, c.before_sha256) if c.before is not None else None,
                after=_resolution(c.after, c.after_sha256),
            )
            for c in diff.libraries
        ),
        os_packages=wire.OsPackages(
            changes=tuple(
                wire.OsPackageChange(
                    ecosystem=c.ecosystem,
                    name=c.name,
                    architecture=c.architecture,
                    kind=c.kind,
                    before=c.before,
                    after=c.after,
                )
                for c in diff.os_packages
            ),
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
                wire.ModifiedFile(
                    package=p.package,
                    path=p.path,
                    conffile=p.conffile,
                    missing=p.missing,
                    expected_md5=p.expected_md5,
                    actual_md5=p.actual_md5,
                    dpkg_verify=p.dpkg_line(),
                )
                for p in diff.package_file_problems
            ),
        ),
    )


def _resolution(resolution: NeededResolution, sha256: str | None) -> wire.Resolution:
    return wire.Resolution(
        path=resolution.path, real_path=resolution.real_path, via=resolution.via.value, sha256=sha256
    )


def _user(user: RuntimeUser) -> wire.RuntimeUser:
    return wire.RuntimeUser(
        user=user.spec,
        name=user.name,
        uid=user.uid,
        gid=user.gid,
        groups=tuple(sorted(user.groups)),
        home=user.home,
    )


def _environment(environment: PythonEnvironment, inventory: Inventory) -> wire.PythonEnvironment:
    return wire.PythonEnvironment(
        key=environment.key,
        interpreter=environment.interpreter,
        version=environment.version,
        venv=environment.venv,
        user_site=environment.user_site,
        sys_path=tuple(environment.sys_path),
        distributions=len(environment.distributions),
        on_path_as=tuple(
            sorted(name for name, key in inventory.python_on_path.items() if key == environment.key)
        ),
    )


def _distribution(distribution: Distribution | None) -> wire.Distribution | None:
    return _present(distribution) if distribution is not None else None


def _present(distribution: Distribution) -> wire.Distribution:
    return wire.Distribution(
        name=distribution.display_name, version=distribution.version, location=distribution.location
    )


def _command(command: Command | None) -> wire.Command | None:
    if command is None:
        return None
    return wire.Command(path=command.path, target=command.target, interpreter=command.interpreter)


def packages_section(tool: str | None, changes: tuple[PackageChange, ...]) -> wire.Packages:
    return wire.Packages(
        sbom_tool=tool,
        changes=tuple(
            wire.PackageChange(
                type=c.type,
                name=c.name,
                kind=c.kind,
                before=_package(c.before),
                after=_package(c.after),
                layer=c.layer,
            )
            for c in changes
        ),
    )


def _package(package: SbomPackage | None) -> wire.SbomPackage | None:
    if package is None:
        return None
    return wire.SbomPackage(version=package.version, purl=package.purl, paths=tuple(package.paths[:5]))
