"""The inventory parts of the report: runtime user, Python environments, commands, libraries, packages."""

from __future__ import annotations

from typing import Any

from layerdiff.diff.inventory import InventoryDiff
from layerdiff.diff.packages import PackageChange
from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.commands import Command
from layerdiff.inventory.libraries import NeededResolution
from layerdiff.inventory.python import Distribution, PythonEnvironment
from layerdiff.inventory.users import RuntimeUser
from layerdiff.sbom.model import SbomPackage


def inventory_section(base: Inventory, derived: Inventory, diff: InventoryDiff) -> dict[str, Any]:
    return {
        "runtime_user": {"base": _user(base.user), "derived": _user(derived.user)},
        "python": {
            "environments": [_environment(e, derived) for e in derived.python],
            "distribution_changes": [
                {
                    "environment": c.environment,
                    "name": c.name,
                    "kind": c.kind,
                    "before": _distribution(c.before),
                    "after": _distribution(c.after),
                }
                for c in diff.distributions
            ],
            "unsatisfied": [
                {
                    "environment": key,
                    "distribution": u.distribution.display_name,
                    "version": u.distribution.version,
                    "requirement": u.requirement,
                    "installed": u.installed,
                    "message": u.message(),
                }
                for key, u in diff.unsatisfied
            ],
            "shadowed": [
                {
                    "environment": key,
                    "name": s.name,
                    "winner": _distribution(s.winner),
                    "hidden": [_distribution(h) for h in s.hidden],
                }
                for key, s in diff.shadowed
            ],
            "lost": [
                {
                    "environment": item.environment,
                    "name": item.distribution.display_name,
                    "version": item.distribution.version,
                    "location": item.distribution.location,
                    "cause": item.cause,
                    "via": item.via,
                }
                for item in diff.lost
            ],
        },
        "commands": [
            {"name": c.name, "before": _command(c.before), "after": _command(c.after), "used_by": c.used_by}
            for c in diff.commands
        ],
        "libraries": [
            {
                "object": c.object,
                "soname": c.soname,
                "kind": c.kind,
                "before": _resolution(c.before, c.before_sha256),
                "after": _resolution(c.after, c.after_sha256),
            }
            for c in diff.libraries
        ],
        "os_packages": {
            "changes": [
                {
                    "ecosystem": c.ecosystem,
                    "name": c.name,
                    "architecture": c.architecture,
                    "kind": c.kind,
                    "before": c.before,
                    "after": c.after,
                }
                for c in diff.os_packages
            ],
            "broken_dependencies": [
                {
                    "package": b.package.name,
                    "ecosystem": b.package.ecosystem,
                    "version": b.package.version,
                    "field": b.field,
                    "relation": b.relation.text,
                    "reason": b.reason.value,
                    "installed": b.installed_version,
                    "detail": b.detail,
                }
                for b in diff.broken_dependencies
            ],
            "modified_files": [
                {
                    "package": p.package,
                    "path": p.path,
                    "conffile": p.conffile,
                    "missing": p.missing,
                    "expected_md5": p.expected_md5,
                    "actual_md5": p.actual_md5,
                    "dpkg_verify": p.dpkg_line(),
                }
                for p in diff.package_file_problems
            ],
        },
    }


def _resolution(resolution: NeededResolution | None, sha256: str | None) -> dict[str, Any] | None:
    if resolution is None:
        return None
    return {
        "path": resolution.path,
        "real_path": resolution.real_path,
        "via": resolution.via.value,
        "sha256": sha256,
    }


def _user(user: RuntimeUser) -> dict[str, Any]:
    return {
        "user": user.spec,
        "name": user.name,
        "uid": user.uid,
        "gid": user.gid,
        "groups": sorted(user.groups),
        "home": user.home,
    }


def _environment(environment: PythonEnvironment, inventory: Inventory) -> dict[str, Any]:
    return {
        "key": environment.key,
        "interpreter": environment.interpreter,
        "version": environment.version,
        "venv": environment.venv,
        "user_site": environment.user_site,
        "sys_path": list(environment.sys_path),
        "distributions": len(environment.distributions),
        "on_path_as": sorted(
            name for name, key in inventory.python_on_path.items() if key == environment.key
        ),
    }


def _distribution(distribution: Distribution | None) -> dict[str, Any] | None:
    if distribution is None:
        return None
    return {
        "name": distribution.display_name,
        "version": distribution.version,
        "location": distribution.location,
    }


def _command(command: Command | None) -> dict[str, Any] | None:
    if command is None:
        return None
    return {"path": command.path, "target": command.target, "interpreter": command.interpreter}


def packages_section(tool: str | None, changes: tuple[PackageChange, ...]) -> dict[str, Any]:
    return {
        "sbom_tool": tool,
        "changes": [
            {
                "type": c.type,
                "name": c.name,
                "kind": c.kind,
                "before": _package(c.before),
                "after": _package(c.after),
                "layer": c.layer,
            }
            for c in changes
        ],
    }


def _package(package: SbomPackage | None) -> dict[str, Any] | None:
    if package is None:
        return None
    return {"version": package.version, "purl": package.purl, "paths": list(package.paths[:5])}
