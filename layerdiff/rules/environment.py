"""Rules about what the runtime's processes find when they start: the distributions each Python environment
imports (and whether ``pip check`` still passes), the file each command name on PATH runs, and the file each
``DT_NEEDED`` of an ELF object loads.

Evidence names environments, commands and libraries by path, so that a reviewer can confirm a finding with
``pip check``, ``command -v`` or ``ldd`` inside the derived image.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from layerdiff.diff.changes import ConfigChange
from layerdiff.diff.inventory import CommandChange, LibraryChange, LostDistribution
from layerdiff.fs.view import ImageFiles
from layerdiff.inventory.collect import PYTHON_COMMANDS, Inventory
from layerdiff.inventory.commands import Command, shebang
from layerdiff.inventory.libraries import NeededResolution, Via
from layerdiff.inventory.python import Distribution, PythonEnvironment
from layerdiff.rules.model import Finding, RuleContext, Severity
from layerdiff.rules.registry import rule

_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
_MESSAGE_NAMES = 5  # distributions or objects named in a message before "and N more"

# Config fields and variables that decide whose user site Python adds to sys.path.
_USER_SITE_SETTINGS = (
    ("User", None),
    ("Env", "HOME"),
    ("Env", "PYTHONUSERBASE"),
    ("Env", "PYTHONNOUSERSITE"),
)


# --- attribution: which derived layer or instruction caused a change ----------------------------------------


def _changed_setting(context: RuleContext, settings: Iterable[tuple[str, str | None]]) -> ConfigChange | None:
    return next((c for f, k in settings if (c := context.config_change(f, k)) is not None), None)


def _metadata_paths(distribution: Distribution) -> tuple[str, ...]:
    folder = distribution.metadata
    return (posixpath.join(folder, "METADATA"), posixpath.join(folder, "PKG-INFO"), folder)


def _named(names: list[str]) -> str:
    shown = ", ".join(names[:_MESSAGE_NAMES])
    more = len(names) - _MESSAGE_NAMES
    return f"{shown} and {more} more" if more > 0 else shown


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _config_word(used_by: str) -> str:
    """Config field -> the Dockerfile instruction that sets it (Entrypoint -> ENTRYPOINT)."""
    return used_by.upper()


# --- which Python the image's own commands start ------------------------------------------------------------


@dataclass(frozen=True)
class PythonLaunch:
    """A command the image runs (ENTRYPOINT, CMD, HEALTHCHECK) that starts Python, and how it finds it."""

    used_by: str  # Entrypoint | Cmd | Healthcheck
    word: str  # the command word as the config writes it
    environment: str | None  # the key of the environment it starts; None when that cannot be told
    # whether the interpreter is looked up on PATH: a bare python3, #!/usr/bin/env python3, a shell script
    through_path: bool
    how: str

    def describe(self) -> str:
        return f"{_config_word(self.used_by)} runs {self.word} ({self.how})"


def python_launches(inventory: Inventory, files: ImageFiles) -> tuple[PythonLaunch, ...]:
    """Every way the image's ENTRYPOINT, CMD and HEALTHCHECK start Python in the image ``inventory`` is of."""
    launches: list[PythonLaunch] = []
    for word, used_by in sorted(inventory.commands_used.items()):
        launches += _launches(inventory, files, word, used_by)
    return tuple(launches)


def _launches(inventory: Inventory, files: ImageFiles, word: str, used_by: str) -> list[PythonLaunch]:
    resolved = _resolve_word(inventory, files, word)
    if resolved is None:
        return []  # not a command (an argument to the entrypoint) or missing: it starts nothing
    path, line = resolved
    if _PYTHON_NAME.match(posixpath.basename(word)):
        bare = "/" not in word
        how = f"{word} on PATH is {path}" if bare else "the interpreter itself"
        return [PythonLaunch(used_by, word, _environment_of(inventory, files, path), bare, how)]
    program = _program(line)
    if line is None or program is None:
        return []
    name, through_env = program
    how = f"#!{line}"
    if _PYTHON_NAME.match(posixpath.basename(name)):
        if through_env:
            return [PythonLaunch(used_by, word, _python_on_path(inventory, files, name), True, how)]
        return [PythonLaunch(used_by, word, _environment_of(inventory, files, name), False, how)]
    if posixpath.basename(name) in _SHELLS:
        # A shell script may run python3 from PATH; which commands it runs cannot be told without running it.
        environments = dict.fromkeys(_python_on_path(inventory, files, n) for n in PYTHON_COMMANDS)
        return [
            PythonLaunch(used_by, word, key, True, f"{how} script, may run python3 from PATH")
            for key in environments
            if key is not None
        ]
    return []


def _resolve_word(inventory: Inventory, files: ImageFiles, word: str) -> tuple[str, str | None] | None:
    """(path, ``#!`` line) of a command word the config runs, looked up on PATH when it is a bare name;
    None when no such file exists."""
    bare = "/" not in word
    command = inventory.commands.get(word) if bare else None
    path = command.path if command is not None else (None if bare else word)
    if path is None or files.resolve(path) is None:
        return None
    return path, command.interpreter if command is not None else shebang(files, path)


def _program(line: str | None) -> tuple[str, bool] | None:
    """The program a ``#!`` line runs, and whether ``env`` looks it up on PATH."""
    words = (line or "").split()
    if not words:
        return None
    if posixpath.basename(words[0]) != "env":
        return words[0], False
    name = next((w for w in words[1:] if not w.startswith("-") and "=" not in w), None)
    return (name, True) if name is not None else None


def _python_on_path(inventory: Inventory, files: ImageFiles, name: str) -> str | None:
    if name in inventory.python_on_path:
        return inventory.python_on_path[name]
    command = inventory.commands.get(name)
    return _environment_of(inventory, files, command.path) if command is not None else None


def _environment_of(inventory: Inventory, files: ImageFiles, interpreter: str) -> str | None:
    """The key of the environment the interpreter at ``interpreter`` starts: its venv, else its real file."""
    root = posixpath.dirname(posixpath.dirname(interpreter))
    venv = inventory.python_env(root)
    if venv is not None and venv.venv is not None:
        return root
    real = files.resolve(interpreter)
    return real if real is not None and inventory.python_env(real) is not None else None


# --- python-requirement-broken ------------------------------------------------------------------------------


@rule(
    "python-requirement-broken",
    Severity.HIGH,
    "A Python requirement the base satisfied is broken",
    "Install a version every installed distribution accepts (pip check must pass), or upgrade the "
    "distribution that declares the requirement along with the pin.",
)
def python_requirement_broken(context: RuleContext) -> Iterator[Finding]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    for key, problem in context.diff.inventory.unsatisfied:
        environment = derived.python_env(key)
        if environment is None:
            continue
        needed = _requirement_name(problem.requirement)
        installed = environment.get(needed)
        before_env = base.python_env(key)
        before = before_env.get(needed) if before_env is not None else None
        owner = problem.distribution
        paths = [
            *(_metadata_paths(installed) if installed else ()),
            *(_metadata_paths(before) if before else ()),
        ]
        layer = context.layer_that_changed(*paths, *_metadata_paths(owner))
        yield python_requirement_broken.finding(
            context,
            subject=f"{key}:{owner.name}:{needed}",
            message=f"pip check fails for {_environment_label(environment)}: {problem.message()}",
            evidence={
                "environment": _environment_evidence(environment),
                "pip_check": problem.message(),
                "distribution": {
                    "name": owner.display_name,
                    "version": owner.version,
                    "location": owner.location,
                },
                "requirement": problem.requirement,
                "installed": _distribution_evidence(installed),
                "installed_in_base": _distribution_evidence(before),
            },
            layer=layer,
        )


def _requirement_name(text: str) -> str:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return canonicalize_name(re.split(r"[\s;<>=!~\[(]", text, maxsplit=1)[0])


def _environment_label(environment: PythonEnvironment) -> str:
    return f"the venv {environment.venv}" if environment.venv else environment.interpreter


def _environment_evidence(environment: PythonEnvironment | None) -> dict[str, Any] | None:
    if environment is None:
        return None
    return {
        "key": environment.key,
        "interpreter": environment.interpreter,
        "venv": environment.venv,
        "user_site": environment.user_site,
    }


def _distribution_evidence(distribution: Distribution | None) -> dict[str, Any] | None:
    if distribution is None:
        return None
    return {
        "name": distribution.display_name,
        "version": distribution.version,
        "location": distribution.location,
        "metadata": distribution.metadata,
    }


# --- python-distribution-lost -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LostGroup:
    """Distributions one environment lost for one reason: one finding."""

    environment: str
    cause: str  # removed | user-site | path | sys-path
    location: str  # the site dir they were imported from ("" for the PATH cause, which spans site dirs)
    # (for "removed", the distribution's metadata path: every removed distribution is a finding of its own)
    items: tuple[LostDistribution, ...]

    @property
    def subject(self) -> str:
        if self.cause == "removed":
            return f"{self.environment}:removed:{self.items[0].distribution.name}"
        if self.cause == "path":
            return f"{self.environment}:hidden:python on PATH"
        return f"{self.environment}:hidden:{self.location}"

    @property
    def names(self) -> list[str]:
        return [f"{i.distribution.display_name} {i.distribution.version}" for i in self.items]


@rule(
    "python-distribution-lost",
    Severity.HIGH,
    "A distribution the runtime's Python imported in the base can no longer be imported",
    "Keep the base's USER (or set PYTHONUSERBASE to the base user's ~/.local), keep the base's interpreter "
    "first on PATH (or install the distributions into the new environment), and do not uninstall what the "
    "base installed.",
)
def python_distribution_lost(context: RuleContext) -> Iterator[Finding]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    launches = python_launches(derived, context.diff.derived_files)
    for group in _lost_groups(base, derived, context.diff.inventory.lost):
        affected = [
            launch
            for launch in launches
            if (launch.through_path if group.cause == "path" else launch.environment == group.environment)
        ]
        # High unless the image's own commands provably never reach that environment; an image that runs
        # nothing of its own (no ENTRYPOINT/CMD) runs whatever it is given, which may well be python.
        severity = Severity.HIGH if affected or not derived.commands_used else Severity.MEDIUM
        message, evidence, layer, instruction = _describe_loss(context, group)
        yield python_distribution_lost.finding(
            context,
            subject=group.subject,
            message=message,
            evidence={**evidence, "reached_by": [launch.describe() for launch in affected]},
            layer=layer,
            severity=severity,
            instruction=instruction,
        )


def _lost_groups(base: Inventory, derived: Inventory, lost: Iterable[LostDistribution]) -> list[_LostGroup]:
    groups: dict[tuple[str, str, str], list[LostDistribution]] = {}
    for item in lost:
        location = item.distribution.location
        if item.via is not None:
            key = (item.environment, "path", "")
        elif item.cause == "removed":
            key = (item.environment, "removed", item.distribution.metadata)
        else:
            key = (item.environment, _hidden_cause(base, derived, item), location)
        groups.setdefault(key, []).append(item)
    return [
        _LostGroup(environment, cause, location, tuple(items))
        for (environment, cause, location), items in sorted(groups.items())
    ]


def _hidden_cause(base: Inventory, derived: Inventory, item: LostDistribution) -> str:
    before, after = base.python_env(item.environment), derived.python_env(item.environment)
    if before is None or before.user_site != item.distribution.location:
        return "sys-path"
    return "user-site" if after is None or after.user_site != before.user_site else "sys-path"


def _describe_loss(
    context: RuleContext, group: _LostGroup
) -> tuple[str, dict[str, Any], int | None, str | None]:
    """(message, evidence, layer, instruction) for one group of lost distributions."""
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    before = base.python_env(group.environment)
    label = _environment_label(before) if before else group.environment
    evidence: dict[str, Any] = {
        "environment": _environment_evidence(before),
        "cause": group.cause,
        "distributions": [_distribution_evidence(i.distribution) for i in group.items],
    }
    if group.cause == "removed":
        distribution = group.items[0].distribution
        layer = context.layer_that_changed(*_metadata_paths(distribution))
        message = (
            f"{distribution.display_name} {distribution.version} was removed from {distribution.location}, "
            f"so {label} can no longer import it."
        )
        return message, evidence, layer, None
    if group.cause == "user-site":
        after = derived.python_env(group.environment)
        evidence |= {
            "user": {"base": _user_evidence(base), "derived": _user_evidence(derived)},
            "user_site": {"base": group.location, "derived": after.user_site if after else None},
        }
        change = _changed_setting(context, _USER_SITE_SETTINGS)
        message = (
            f"{label} running as {derived.user.spec or 'root'} (HOME {derived.user.home}) no longer sees the "
            f"user site {group.location}, hiding {_hidden(group)}."
        )
        return message, evidence, None, change.instruction if change else None
    if group.cause == "path":
        return _describe_path_loss(context, group, label, evidence)
    after = derived.python_env(group.environment)
    evidence["sys_path"] = {
        "base": list(before.sys_path) if before else [],
        "derived": list(after.sys_path) if after else [],
    }
    change = context.config_change("Env", "PYTHONPATH")
    message = f"{group.location} is no longer on the sys.path of {label}, hiding {_hidden(group)}."
    return message, evidence, None, change.instruction if change else None


def _describe_path_loss(
    context: RuleContext, group: _LostGroup, label: str, evidence: dict[str, Any]
) -> tuple[str, dict[str, Any], int | None, str | None]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    names = sorted({i.via.split(" ", 1)[0] for i in group.items if i.via})
    name = names[-1]  # python3 when both changed: the name scripts use
    old, new = base.commands.get(name), derived.commands.get(name)
    new_key = derived.python_on_path.get(name)
    evidence |= {
        "command": name,
        "before": _command_evidence(old),
        "after": _command_evidence(new),
        "now_starts": new_key,
        "path": {"base": base.path, "derived": derived.path},
    }
    change = context.config_change("Env", "PATH")
    layer = context.layer_that_changed(new.path) if new is not None and change is None else None
    message = (
        f"{name} on PATH now starts {new_key} instead of {label}, which cannot import "
        f"{_count(len(group.items), 'distribution')} the base's {name} could ({_named(group.names)})."
    )
    return message, evidence, layer, change.instruction if change else None


def _hidden(group: _LostGroup) -> str:
    return f"{_count(len(group.items), 'distribution')} ({_named(group.names)})"


def _user_evidence(inventory: Inventory) -> dict[str, Any]:
    user = inventory.user
    return {"user": user.spec, "name": user.name, "uid": user.uid, "home": user.home}


# --- python-package-shadowed --------------------------------------------------------------------------------


@rule(
    "python-package-shadowed",
    Severity.HIGH,
    "Python imports a distribution from another site dir than in the base",
    "Install each distribution once per environment: upgrade it where the base installed it (the same "
    "`pip install --user` as the base's user), or remove the other copy.",
)
def python_package_shadowed(context: RuleContext) -> Iterator[Finding]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    for key, shadowing in context.diff.inventory.shadowed:
        before_env, environment = base.python_env(key), derived.python_env(key)
        before = before_env.get(shadowing.name) if before_env is not None else None
        winner = shadowing.winner
        others = ", ".join(f"{c.version} in {c.location}" for c in shadowing.hidden)
        if before is not None and before.metadata != winner.metadata:
            severity = Severity.HIGH
            message = (
                f"{key} now imports {winner.display_name} {winner.version} from {winner.location} instead of "
                f"{before.version} from {before.location} (other copies: {others})."
            )
        else:
            # What the base imported still wins (or the distribution is new): nothing that worked changed,
            # but the other copy, usually the derived image's own install, has no effect.
            severity = Severity.MEDIUM
            message = (
                f"{key} imports {winner.display_name} {winner.version} from {winner.location}; "
                f"the other copies are never imported ({others})."
            )
        yield python_package_shadowed.finding(
            context,
            subject=f"{key}:{shadowing.name}",
            message=message,
            evidence={
                "environment": _environment_evidence(environment),
                "imported": _distribution_evidence(winner),
                "shadowed": [_distribution_evidence(c) for c in shadowing.hidden],
                "imported_in_base": _distribution_evidence(before),
                "sys_path": list(environment.sys_path) if environment else [],
            },
            layer=_newest_layer(context, [winner, *shadowing.hidden]),
            severity=severity,
        )


def _newest_layer(context: RuleContext, distributions: Iterable[Distribution]) -> int | None:
    """The last derived layer that wrote (or removed) one of the distributions' metadata."""
    layers = [context.layer_that_changed(*_metadata_paths(d)) for d in distributions]
    return max((layer for layer in layers if layer is not None), default=None)


# --- path-command-shadowed ----------------------------------------------------------------------------------


@rule(
    "path-command-shadowed",
    Severity.HIGH,
    "A command name on PATH runs another file than in the base",
    "Keep the base's directories first on PATH (append new ones: ENV PATH=$PATH:/opt/tool/bin), call the "
    "new tool by its full path, or install it under a name that does not collide.",
)
def path_command_shadowed(context: RuleContext) -> Iterator[Finding]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    for change in context.diff.inventory.commands:
        before, after = change.before, change.after
        if before is None:
            continue  # a new name shadows nothing
        used = _uses(context, change)
        if after is None and not used:
            continue  # an unused command that is gone: base-file-deleted reports the file
        if after is not None and before.target == after.target:
            # the same file reached through another PATH entry (/bin -> /usr/bin) runs the same, unless it is
            # a Python interpreter whose venv decides what it imports
            before_env = _environment_of(base, context.diff.base_files, before.path)
            if before_env == _environment_of(derived, context.diff.derived_files, after.path):
                continue
        severity = Severity.HIGH if used else Severity.MEDIUM
        layer, instruction = _command_cause(context, change)
        yield path_command_shadowed.finding(
            context,
            subject=change.name,
            message=_command_message(change, used),
            evidence={
                "command": change.name,
                "before": _command_evidence(before),
                "after": _command_evidence(after),
                "used_by": used,
                "path": {"base": base.path, "derived": derived.path},
            },
            layer=layer,
            severity=severity,
            instruction=instruction,
        )


def _uses(context: RuleContext, change: CommandChange) -> list[str]:
    """How ENTRYPOINT, CMD and HEALTHCHECK run the command: by name, or by ``#!/usr/bin/env NAME``."""
    uses = [f"{_config_word(change.used_by)} runs {change.name}"] if change.used_by else []
    derived, files = context.diff.derived_inventory, context.diff.derived_files
    for word, used_by in sorted(derived.commands_used.items()):
        resolved = _resolve_word(derived, files, word)
        line = resolved[1] if resolved is not None else None
        if _program(line) == (change.name, True):
            uses.append(f"{_config_word(used_by)} runs {word} (#!{line})")
    return uses


def _command_cause(context: RuleContext, change: CommandChange) -> tuple[int | None, str | None]:
    """(layer, instruction) to blame: ENV PATH when it put the winning directory on PATH, else the layer
    that wrote the new file or removed the old one, else USER (another user may not run the same files)."""
    path_change = context.config_change("Env", "PATH")
    new_on_path = change.after is not None and posixpath.dirname(change.after.path) not in (
        context.diff.base_inventory.path.split(":")
    )
    if path_change is not None and new_on_path:
        return None, path_change.instruction
    for command in (change.after, change.before):
        layer = context.layer_that_changed(command.path, command.target) if command is not None else None
        if layer is not None:
            return layer, None
    if path_change is not None:
        return None, path_change.instruction
    user_change = context.config_change("User")
    return None, user_change.instruction if user_change else None


def _command_message(change: CommandChange, used: list[str]) -> str:
    before, after = change.before, change.after
    assert before is not None
    use = f", and {used[0]}" if used else ""
    if after is None:
        return f"{change.name} is no longer found on PATH (was {before.path}){use}."
    if after.path == before.path:
        return f"{change.name} at {after.path} now runs {after.target} instead of {before.target}{use}."
    return f"{change.name} on PATH now resolves to {after.path} instead of {before.path}{use}."


def _command_evidence(command: Command | None) -> dict[str, Any] | None:
    if command is None:
        return None
    return {"path": command.path, "target": command.target, "interpreter": command.interpreter}


# --- library-unresolved -------------------------------------------------------------------------------------


@rule(
    "library-unresolved",
    Severity.HIGH,
    "A shared library an ELF object needs no longer resolves",
    "Keep the package that provides the library installed (apt-mark manual it before autoremove, or install "
    "it again), or remove the object that needs it.",
)
def library_unresolved(context: RuleContext) -> Iterator[Finding]:
    base = context.diff.base_inventory
    for change in context.diff.inventory.libraries:
        if change.kind != "unresolved":
            continue
        before = change.before
        # An object the derived image added that never loaded may be an optional plugin: worth a look, but
        # nothing that worked in the base stopped working.
        severity = Severity.HIGH if before is not None else Severity.MEDIUM
        if before is None:
            message = (
                f"{change.object}, new in the derived image, needs {change.soname}, which does not resolve."
            )
        else:
            message = f"{change.object} needs {change.soname}, which no longer resolves (was {before.path})."
        package = base.owner_of(before.real_path) if before is not None and before.real_path else None
        owner = package.name if package is not None else None
        paths = [p for p in (before.real_path, before.path) if p] if before is not None else []
        yield library_unresolved.finding(
            context,
            subject=f"{change.object}:{change.soname}",
            message=message,
            evidence={
                "object": change.object,
                "soname": change.soname,
                "ldd": f"{change.soname} => not found",
                "before": _resolution_evidence(before, change.before_sha256),
                "before_package": owner,
                "after": None,
                "ld_library_path": _ld_library_path(context),
            },
            layer=context.layer_that_changed(*paths, change.object),
            severity=severity,
        )


# --- library-shadowed ---------------------------------------------------------------------------------------


@rule(
    "library-shadowed",
    Severity.HIGH,
    "A shared library resolves to another file than in the base",
    "Do not put copies of system libraries ahead of the system's (LD_LIBRARY_PATH, /usr/local/lib, "
    "ld.so.conf.d); build against the system's library, or give the private copy its own soname and RPATH.",
)
def library_shadowed(context: RuleContext) -> Iterator[Finding]:
    derived = context.diff.derived_inventory
    groups: dict[tuple[str, str, str], list[LibraryChange]] = {}
    for change in context.diff.inventory.libraries:
        before, after = change.before, change.after
        if change.kind == "unresolved" or before is None or after.path is None:
            continue
        if before.path != after.path:
            kind = "shadowed"  # another location is searched first
        elif after.real_path and derived.owner_of(after.real_path):
            # Same location, other content, and the file is a package's: the package manager upgraded it
            # (package-upgraded) or it was changed behind its back (package-file-modified).
            continue
        else:
            kind = "replaced"
        groups.setdefault((change.soname, kind, after.path), []).append(change)
    for (soname, kind, path), changes in sorted(groups.items()):
        yield _shadowed_finding(context, soname, kind, path, changes)


def _shadowed_finding(
    context: RuleContext, soname: str, kind: str, path: str, changes: list[LibraryChange]
) -> Finding:
    after = changes[0].after
    objects = [c.object for c in changes]
    old_paths = sorted({c.before.path for c in changes if c.before is not None and c.before.path})
    if kind == "shadowed":
        message = (
            f"{soname} now resolves to {path} (via {after.via.value}) instead of {', '.join(old_paths)} "
            f"for {_count(len(objects), 'object')} ({_named(objects)})."
        )
    else:
        message = (
            f"{path} ({soname}) was replaced with other content outside the package manager, for "
            f"{_count(len(objects), 'object')} ({_named(objects)})."
        )
    ld_path_change = context.config_change("Env", "LD_LIBRARY_PATH")
    layer = context.layer_that_changed(*(p for p in (after.real_path, after.path) if p))
    instruction = ld_path_change.instruction if ld_path_change and after.via is Via.LD_LIBRARY_PATH else None
    return library_shadowed.finding(
        context,
        subject=f"{soname}:{kind}:{path}",
        message=message,
        evidence={
            "soname": soname,
            "kind": kind,
            "after": _resolution_evidence(after, changes[0].after_sha256),
            "objects": [
                {"object": c.object, "before": _resolution_evidence(c.before, c.before_sha256)}
                for c in changes
            ],
            "ld_library_path": _ld_library_path(context),
        },
        layer=None if instruction else layer,
        instruction=instruction,
    )


def _resolution_evidence(resolution: NeededResolution | None, sha256: str | None) -> dict[str, Any] | None:
    if resolution is None:
        return None
    return {
        "path": resolution.path,
        "real_path": resolution.real_path,
        "via": resolution.via.value,
        "sha256": sha256,
    }


def _ld_library_path(context: RuleContext) -> dict[str, str | None]:
    return {
        "base": context.diff.base_inventory.env.get("LD_LIBRARY_PATH"),
        "derived": context.diff.derived_inventory.env.get("LD_LIBRARY_PATH"),
    }
