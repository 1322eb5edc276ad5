"""Compare two inventories: Python environments and commands on PATH."""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from layerdiff.inventory.collect import PYTHON_COMMANDS, Inventory
from layerdiff.inventory.commands import Command
from layerdiff.inventory.dpkg_verify import FileProblem
from layerdiff.inventory.libraries import NeededResolution
from layerdiff.inventory.ospkg_interface import BrokenDependency
from layerdiff.inventory.python import Distribution, PythonEnvironment, Shadowing, Unsatisfied
from layerdiff.inventory.python_record import Overwrite, RecordProblem
from layerdiff.inventory.versions import change_kind


@dataclass(frozen=True)
class DistributionChange:
    environment: str
    name: str
    kind: str  # added | removed | upgraded | downgraded | changed
    before: Distribution | None
    after: Distribution | None


@dataclass(frozen=True)
class LostDistribution:
    """Importable by the runtime's interpreter in the base, not in the derived image."""

    environment: str  # the base environment it was importable from
    distribution: Distribution
    cause: str  # removed | hidden (user site gone, another interpreter on PATH, sys.path changed)
    via: str | None  # "python3 on PATH" when the lookup went through PATH


@dataclass(frozen=True)
class CommandChange:
    name: str
    before: Command | None
    after: Command | None
    used_by: str | None  # Entrypoint | Cmd | Healthcheck when the image runs it


@dataclass(frozen=True)
class LibraryChange:
    """How one DT_NEEDED of one ELF object resolves differently in the derived image."""

    object: str
    soname: str
    kind: str  # unresolved | moved (another file) | replaced (same path, other content)
    before: NeededResolution | None  # None when the object is new in the derived image
    after: NeededResolution
    before_sha256: str | None
    after_sha256: str | None


@dataclass(frozen=True)
class OsPackageChange:
    ecosystem: str
    name: str
    architecture: str
    kind: str  # added | removed | upgraded | downgraded | changed
    before: str | None  # version
    after: str | None


@dataclass(frozen=True)
class InventoryDiff:
    distributions: tuple[DistributionChange, ...]
    unsatisfied: tuple[tuple[str, Unsatisfied], ...]  # (environment key, problem) new in the derived image
    shadowed: tuple[tuple[str, Shadowing], ...]  # shadowing new (or with a new winner) in the derived image
    lost: tuple[LostDistribution, ...]
    commands: tuple[CommandChange, ...]
    libraries: tuple[LibraryChange, ...]
    os_packages: tuple[OsPackageChange, ...]
    broken_dependencies: tuple[BrokenDependency, ...]  # unsatisfied in the derived image, not in the base
    package_file_problems: tuple[FileProblem, ...]  # dpkg --verify lines new in the derived image
    # Python RECORD checks that fail in the derived image and passed in the base (which is the baseline:
    # Debian's own RECORDs list files Debian never installs)
    record_problems: tuple[RecordProblem, ...] = ()
    record_overwrites: tuple[Overwrite, ...] = ()


def diff_inventories(base: Inventory, derived: Inventory) -> InventoryDiff:
    changes, unsatisfied, shadowed, lost = [], [], [], []
    for after in derived.python:
        before = base.python_env(after.key)
        changes += _distribution_changes(after.key, before, after, derived.distribution_metadata)
        old_problems = (
            {(u.distribution.name, u.requirement, u.installed) for u in before.unsatisfied}
            if before
            else set()
        )
        unsatisfied += [
            (after.key, u)
            for u in after.unsatisfied
            if (u.distribution.name, u.requirement, u.installed) not in old_problems
        ]
        old_winners = {s.name: s.winner.metadata for s in before.shadowed} if before else {}
        shadowed += [(after.key, s) for s in after.shadowed if old_winners.get(s.name) != s.winner.metadata]
    for before in base.python:
        if derived.python_env(before.key) is None:
            changes += _distribution_changes(before.key, before, None, derived.distribution_metadata)
    lost += _lost_in_place(base, derived)
    lost += _lost_through_path(base, derived, {(item.environment, item.distribution.name) for item in lost})
    # what the base already had, as sets built once (not once per derived item)
    old_broken = {_broken_key(b) for b in base.broken_dependencies}
    old_file_problems = {p.dpkg_line() for p in base.package_file_problems}
    old_record_problems = {p.key for p in base.record_problems}
    old_overwrites = {o.key for o in base.record_overwrites}
    return InventoryDiff(
        distributions=tuple(changes),
        unsatisfied=tuple(unsatisfied),
        shadowed=tuple(shadowed),
        lost=tuple(lost),
        commands=_command_changes(base, derived),
        libraries=_library_changes(base, derived),
        os_packages=_os_package_changes(base, derived),
        broken_dependencies=tuple(b for b in derived.broken_dependencies if _broken_key(b) not in old_broken),
        package_file_problems=tuple(
            p for p in derived.package_file_problems if p.dpkg_line() not in old_file_problems
        ),
        record_problems=tuple(p for p in derived.record_problems if p.key not in old_record_problems),
        record_overwrites=tuple(o for o in derived.record_overwrites if o.key not in old_overwrites),
    )


def _distribution_changes(
    key: str,
    before: PythonEnvironment | None,
    after: PythonEnvironment | None,
    installed: frozenset[str],
) -> list[DistributionChange]:
    """What the environment imports differently. A distribution it no longer imports whose metadata is
    still in the image (``installed``) was not removed: it is hidden, and listed as lost only."""
    old = {d.name: d for d in before.distributions} if before else {}
    new = {d.name: d for d in after.distributions} if after else {}
    changes = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a is None:
            changes.append(DistributionChange(key, name, "added", None, b))
        elif b is None:
            if a.metadata not in installed:
                changes.append(DistributionChange(key, name, "removed", a, None))
        elif a.version != b.version:
            changes.append(DistributionChange(key, name, _direction(a.version, b.version), a, b))
        elif a.metadata != b.metadata:
            changes.append(DistributionChange(key, name, "changed", a, b))
    return changes


def _direction(before: str, after: str) -> str:
    try:
        return "upgraded" if Version(after) > Version(before) else "downgraded"
    except InvalidVersion:
        return "changed"


def _lost_in_place(base: Inventory, derived: Inventory) -> list[LostDistribution]:
    """Distributions an environment could import in the base and cannot in the derived image."""
    lost = []
    for before in base.python:
        after = derived.python_env(before.key)
        if after is None:
            continue
        for distribution in before.distributions:
            if after.get(distribution.name) is None and not _still_in_its_venv(derived, distribution):
                still_there = distribution.metadata in derived.distribution_metadata
                lost.append(
                    LostDistribution(before.key, distribution, "hidden" if still_there else "removed", None)
                )
    return lost


def _still_in_its_venv(derived: Inventory, distribution: Distribution) -> bool:
    """Whether the distribution is in a venv's own site-packages and that venv still imports it. Airflow's
    images (2.9 and later) make ``~/.local`` a venv: its site-packages is also the user site of the plain
    interpreter, which loses it with another HOME, while the venv everything runs in keeps it."""
    for environment in derived.python:
        if environment.venv is None or not distribution.location.startswith(environment.venv + "/"):
            continue
        imported = environment.get(distribution.name)
        if imported is not None and imported.metadata == distribution.metadata:
            return True
    return False


def _lost_through_path(
    base: Inventory, derived: Inventory, known: set[tuple[str, str]]
) -> list[LostDistribution]:
    """``python3`` on PATH starts another environment than in the base: what the old one imported and the new
    one cannot is lost to every script that runs ``python3``."""
    lost = []
    for name in PYTHON_COMMANDS:
        old_key, new_key = base.python_on_path.get(name), derived.python_on_path.get(name)
        if old_key is None or new_key is None or old_key == new_key:
            continue
        before, after = base.python_env(old_key), derived.python_env(new_key)
        if before is None or after is None:
            continue
        for distribution in before.distributions:
            if after.get(distribution.name) is None and (old_key, distribution.name) not in known:
                lost.append(LostDistribution(old_key, distribution, "hidden", f"{name} on PATH"))
                known.add((old_key, distribution.name))
    return lost


def _command_changes(base: Inventory, derived: Inventory) -> tuple[CommandChange, ...]:
    changes = []
    for name in sorted(set(base.commands) | set(derived.commands)):
        before, after = base.commands.get(name), derived.commands.get(name)
        # `command -v` answers with the PATH location; a venv's python3 is another command even though
        # it is a symlink to the same binary, because it starts another environment
        if _where(before) != _where(after):
            used = derived.commands_used.get(name) or base.commands_used.get(name)
            changes.append(CommandChange(name, before, after, used))
    return tuple(changes)


def _where(command: Command | None) -> tuple[str, str] | None:
    return (command.path, command.target) if command else None


def _library_changes(base: Inventory, derived: Inventory) -> tuple[LibraryChange, ...]:
    changes = []
    for path, resolutions in sorted(derived.libraries.items()):
        old = {r.soname: r for r in base.libraries.get(path, ())}
        for after in resolutions:
            before = old.get(after.soname)
            kind = _library_change_kind(base, derived, before, after)
            if kind is not None:
                changes.append(
                    LibraryChange(
                        path,
                        after.soname,
                        kind,
                        before,
                        after,
                        base.digests.get(before.real_path) if before and before.real_path else None,
                        derived.digests.get(after.real_path) if after.real_path else None,
                    )
                )
    return tuple(changes)


def _library_change_kind(
    base: Inventory, derived: Inventory, before: NeededResolution | None, after: NeededResolution
) -> str | None:
    if after.path is None:
        # new objects that do not load are as broken as old ones that stopped loading
        return "unresolved" if before is None or before.path is not None else None
    if before is None or before.path is None:
        return None
    if before.real_path != after.real_path:
        return "moved"
    if after.real_path is not None and base.digests.get(after.real_path) != derived.digests.get(
        after.real_path
    ):
        return "replaced"
    return None


def _os_package_changes(base: Inventory, derived: Inventory) -> tuple[OsPackageChange, ...]:
    old = {p.key: p for p in base.os_packages}
    new = {p.key: p for p in derived.os_packages}
    changes = []
    for key in sorted(set(old) | set(new)):
        ecosystem, name, architecture = key
        a, b = old.get(key), new.get(key)
        if a is None or b is None:
            kind = "added" if a is None else "removed"
        else:
            kind = change_kind(ecosystem, a.version, b.version)
            if kind == "unchanged":
                continue
        changes.append(
            OsPackageChange(
                ecosystem, name, architecture, kind, a.version if a else None, b.version if b else None
            )
        )
    return tuple(changes)


def _broken_key(broken: BrokenDependency) -> tuple[str, str, str, str | None]:
    return (broken.package.name, broken.relation.text, broken.reason.value, broken.installed_version)
