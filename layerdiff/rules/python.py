"""Rules about the distributions each Python environment imports, and whether ``pip check`` still passes.

Evidence names environments and distributions by path, so that a reviewer can confirm a finding with
``pip check`` or ``python -c 'import sys; print(sys.path)'`` inside the derived image.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from layerdiff.diff.changes import ConfigChange
from layerdiff.diff.inventory import LostDistribution
from layerdiff.fs.view import ImageFiles
from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.commands import config_keyword
from layerdiff.inventory.evidence import (
    command_evidence,
    describe_environment,
    distribution_evidence,
    environment_evidence,
    user_evidence,
)
from layerdiff.inventory.imports import first_import_name
from layerdiff.inventory.launches import SHELL_GUESS, PythonLaunch, python_launches
from layerdiff.inventory.python import Distribution, Shadowing
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.python_start_loss import lost_at_start
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.words import NAMES_SHOWN, counted, listed

# Config fields and variables that decide whose user site Python adds to sys.path.
_USER_SITE_SETTINGS = (
    ("User", None),
    ("Env", "HOME"),
    ("Env", "PYTHONUSERBASE"),
    ("Env", "PYTHONNOUSERSITE"),
)


def _changed_setting(context: RuleContext, settings: Iterable[tuple[str, str | None]]) -> ConfigChange | None:
    return next((c for f, k in settings if (c := context.config_change(f, k)) is not None), None)


def _metadata_paths(distribution: Distribution) -> tuple[str, ...]:
    folder = distribution.metadata
    return (posixpath.join(folder, "METADATA"), posixpath.join(folder, "PKG-INFO"), folder)


def _newest_layer(context: RuleContext, distributions: Iterable[Distribution]) -> int | None:
    """The last derived layer that wrote (or removed) one of the distributions' metadata."""
    layers = [context.layer_that_changed(*_metadata_paths(d)) for d in distributions]
    return max((layer for layer in layers if layer is not None), default=None)


def _first_changed(context: RuleContext, *distributions: Distribution | None) -> int | None:
    """The derived layer that changed the first of the distributions' metadata a derived layer touched."""
    paths = [path for d in distributions if d is not None for path in _metadata_paths(d)]
    return context.layer_that_changed(*paths)


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
        needed = problem.needed
        installed = environment.get(needed)
        before_env = base.python_env(key)
        before = before_env.get(needed) if before_env is not None else None
        owner = problem.distribution
        module = first_import_name(context.diff.derived_files, owner)
        line = problem.message()
        if problem.installed is None:
            needed_module = f"`{needed.replace('-', '_')}`"
            consequence = f"`import {module}` may fail with ModuleNotFoundError for {needed_module}"
        else:
            consequence = f"`import {module}` may fail or misbehave with {needed} {problem.installed}"
        yield python_requirement_broken.finding(
            context,
            subject=f"{key}:{owner.name}:{needed}",
            message=f"{consequence}: pip check fails for {describe_environment(environment)}: {line}",
            evidence={
                "environment": environment_evidence(environment),
                "pip_check": problem.message(),
                "distribution": distribution_evidence(owner),
                "requirement": problem.requirement,
                "installed": distribution_evidence(installed),
                "installed_in_base": distribution_evidence(before),
            },
            layer=_first_changed(context, installed, before, owner),
        )


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

    @property
    def hidden(self) -> str:
        return f"{counted(len(self.items), 'distribution')} ({listed(self.names)})"


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
        explanation, evidence, layer, instruction = _describe_loss(context, group)
        yield python_distribution_lost.finding(
            context,
            subject=group.subject,
            message=f"{_loss_consequence(context, group, affected)}: {explanation}",
            evidence={**evidence, "reached_by": [launch.describe() for launch in affected]},
            layer=layer,
            severity=severity,
            instruction=instruction,
        )
    # what one of the image's own commands loses through the flags it now starts Python with
    yield from lost_at_start(context, python_distribution_lost)


def _loss_consequence(context: RuleContext, group: _LostGroup, affected: list[PythonLaunch]) -> str:
    """``airflow`` — the HEALTHCHECK — fails with ModuleNotFoundError ...: who fails, and on what."""
    modules = [i.distribution for i in group.items]
    names = _imports(context.diff.base_files, modules, "`{}`")
    if affected:
        # a command that starts Python itself first; a shell script only may run python3
        launch = min(affected, key=lambda launch: launch.how.endswith(SHELL_GUESS))
        more = (
            f" (and {counted(len(affected) - 1, 'other command')} the image runs)"
            if len(affected) > 1
            else ""
        )
        who = f"`{launch.word}` — the {config_keyword(launch.used_by)} —{more}"
        if launch.how.endswith(SHELL_GUESS):
            who = f"`python3` run by {who}"  # which commands a script runs is not known
    else:
        before = context.diff.base_inventory.python_env(group.environment)
        who = f"Python code run by {describe_environment(before) if before else group.environment}"
    if len(modules) == 1:
        return f"{who} fails with ModuleNotFoundError for {names}"
    return f"{who} fails with ModuleNotFoundError when it imports any of {names}"


def _imports(files: ImageFiles, distributions: list[Distribution], form: str) -> str:
    """The names code imports the distributions by, as a message lists them: only the RECORDs of those it
    names are read (``a, b, c, d, e and 995 more``)."""
    shown = list(dict.fromkeys(form.format(first_import_name(files, d)) for d in distributions[:NAMES_SHOWN]))
    unread = len(distributions) - min(len(distributions), NAMES_SHOWN)
    return listed(shown + [""] * unread, shown=len(shown))


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
    label = describe_environment(before) if before else group.environment
    evidence: dict[str, Any] = {
        "environment": environment_evidence(before),
        "cause": group.cause,
        "distributions": [distribution_evidence(i.distribution) for i in group.items],
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
            "user": {"base": user_evidence(base.user), "derived": user_evidence(derived.user)},
            "user_site": {"base": group.location, "derived": after.user_site if after else None},
        }
        change = _changed_setting(context, _USER_SITE_SETTINGS)
        message = (
            f"{label} running as {derived.user.spec or 'root'} (HOME {derived.user.home}) no longer sees the "
            f"user site {group.location}, hiding {group.hidden}."
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
    message = f"{group.location} is no longer on the sys.path of {label}, hiding {group.hidden}."
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
        "before": command_evidence(old),
        "after": command_evidence(new),
        "now_starts": new_key,
        "path": {"base": base.path, "derived": derived.path},
    }
    change = context.config_change("Env", "PATH")
    layer = context.layer_that_changed(new.path) if new is not None and change is None else None
    message = (
        f"{name} on PATH now starts {new_key} instead of {label}, which cannot import "
        f"{counted(len(group.items), 'distribution')} the base's {name} could ({listed(group.names)})."
    )
    return message, evidence, layer, change.instruction if change else None


# --- python-package-shadowed --------------------------------------------------------------------------------


@rule(
    "python-package-shadowed",
    Severity.HIGH,
    "Python imports a distribution from another site dir than in the base",
    "Install each distribution once per environment: upgrade it where the base installed it (the same "
    "`pip install --user` as the base's user), or remove the other copy.",
)
def python_package_shadowed(context: RuleContext) -> Iterator[Finding]:
    # One finding per cause: the distributions one environment now imports from one site dir instead of
    # the base's copies, or whose copies in one site dir it never imports (one `pip install` as root).
    base = context.diff.base_inventory
    groups: dict[tuple[str, bool, str], list[_Shadow]] = {}
    for key, shadowing in context.diff.inventory.shadowed:
        before_env = base.python_env(key)
        shadow = _Shadow(key, shadowing, before_env.get(shadowing.name) if before_env is not None else None)
        location = shadowing.winner.location if shadow.changed else shadowing.hidden[0].location
        groups.setdefault((key, shadow.changed, location), []).append(shadow)
    for (key, changed, location), shadows in sorted(groups.items()):
        yield _shadowed_finding(context, key, changed, location, shadows)


@dataclass(frozen=True)
class _Shadow:
    environment: str
    shadowing: Shadowing
    before: Distribution | None  # what the environment imported in the base

    @property
    def changed(self) -> bool:
        """The environment imports another copy than in the base (not only a new copy it never imports)."""
        return self.before is not None and self.before.metadata != self.shadowing.winner.metadata

    def evidence(self) -> dict[str, Any]:
        return {
            "name": self.shadowing.winner.display_name,
            "imported": distribution_evidence(self.shadowing.winner),
            "shadowed": [distribution_evidence(c) for c in self.shadowing.hidden],
            "imported_in_base": distribution_evidence(self.before),
        }


def _shadowed_finding(
    context: RuleContext, key: str, changed: bool, location: str, shadows: list[_Shadow]
) -> Finding:
    environment = context.diff.derived_inventory.python_env(key)
    files = context.diff.derived_files
    imports = _imports(files, [s.shadowing.winner for s in shadows], "`import {}`")
    first = shadows[0]
    winner = first.shadowing.winner
    if changed and len(shadows) == 1:
        assert first.before is not None
        others = listed([f"{c.version} in {c.location}" for c in first.shadowing.hidden])
        message = (
            f"{imports} in {key} now gets {winner.display_name} {winner.version} from {winner.location} "
            f"instead of {first.before.version} from {first.before.location} (other copies: {others})."
        )
    elif changed:
        was = listed([f"{s.shadowing.winner.display_name} {s.before.version}" for s in shadows if s.before])
        message = f"{imports} in {key} now get the copies in {location} instead of the base's ({was})."
    else:
        # What the base imported still wins (or the distribution is new): nothing that worked changed,
        # but the other copies, usually the derived image's own install, have no effect.
        copies = [c for s in shadows for c in s.shadowing.hidden]
        hidden = listed([f"{c.display_name} {c.version}" for c in copies])
        if len(shadows) == 1 and len(copies) > 1:
            others = listed([f"{c.version} in {c.location}" for c in copies])
            message = (
                f"The other copies of {winner.display_name} are never imported ({others}): {imports} in "
                f"{key} still gets {winner.version} from {winner.location}."
            )
        elif len(shadows) == 1:
            message = (
                f"{hidden} in {location} is never imported: {imports} in {key} still gets {winner.version} "
                f"from {winner.location}."
            )
        else:
            winners = listed(list(dict.fromkeys(s.shadowing.winner.location for s in shadows)))
            message = (
                f"{hidden} in {location} are never imported: {imports} in {key} still get the copies in "
                f"{winners}."
            )
    evidence: dict[str, Any] = {
        "environment": environment_evidence(environment),
        "names": [s.shadowing.name for s in shadows],
        **{name: value for name, value in first.evidence().items() if name != "name"},
        "sys_path": list(environment.sys_path) if environment else [],
    }
    if len(shadows) > 1:
        evidence["each"] = [s.evidence() for s in shadows]
    distributions = [d for s in shadows for d in (s.shadowing.winner, *s.shadowing.hidden)]
    return python_package_shadowed.finding(
        context,
        subject=f"{key}:{location}",
        message=message,
        evidence=evidence,
        layer=_newest_layer(context, distributions),
        severity=Severity.HIGH if changed else Severity.MEDIUM,
    )
