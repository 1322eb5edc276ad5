"""Distributions one of the image's own commands could import in the base and no longer can because of how
it now starts Python: interpreter flags in its ``#!`` line or command line (``-s``, ``-I``, ``-E``, ``-S``)
that leave out the user site, the ``PYTHON*`` variables or site-packages. Part of
``python-distribution-lost``: what the plain interpreter loses is reported there already."""

from __future__ import annotations

from collections.abc import Iterator

from layerdiff.inventory.evidence import distribution_evidence, environment_evidence
from layerdiff.inventory.launches import PythonLaunch, launch_environment, python_launches
from layerdiff.inventory.python_startup import DEFAULT_START
from layerdiff.rules.model import Finding, Rule, RuleContext
from layerdiff.rules.severity import Severity
from layerdiff.text.words import counted, listed


def lost_at_start(context: RuleContext, the_rule: Rule) -> Iterator[Finding]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    base_files, derived_files = context.diff.base_files, context.diff.derived_files
    before_launches = {(launch.word, launch.used_by): launch for launch in python_launches(base, base_files)}
    reported = {(item.environment, item.distribution.name) for item in context.diff.inventory.lost}
    for launch in python_launches(derived, derived_files):
        before = before_launches.get((launch.word, launch.used_by))
        if before is None or (launch.options == DEFAULT_START and before.options == DEFAULT_START):
            continue  # a plain start: the environment's own comparison covers it
        old = launch_environment(base, base_files, before, context.limits)
        new = launch_environment(derived, derived_files, launch, context.limits)
        if old is None or new is None:
            continue
        lost = [d for d in old.distributions if new.get(d.name) is None and (old.key, d.name) not in reported]
        if not lost:
            continue
        names = [f"{d.display_name} {d.version}" for d in lost]
        yield the_rule.finding(
            context,
            subject=f"{launch.word}:hidden:start",
            message=(
                f"{launch.label()} now starts Python {_flags(launch)} instead of {_flags(before)}, so it "
                f"cannot import {counted(len(lost), 'distribution')} it could in the base ({listed(names)})."
            ),
            evidence={
                "environment": environment_evidence(new),
                "cause": "start",
                "command": launch.word,
                "how": launch.how,
                "flags": {"base": before.options.flags, "derived": launch.options.flags},
                "sys_path": {"base": list(old.sys_path), "derived": list(new.sys_path)},
                "distributions": [distribution_evidence(d) for d in lost],
                "reached_by": [launch.describe()],
            },
            layer=context.layer_that_changed(launch.script) if launch.script else None,
            severity=Severity.HIGH,
            instruction=_instruction(context, launch),
        )


def _flags(launch: PythonLaunch) -> str:
    return f"with {launch.options.flags}" if launch.options != DEFAULT_START else "without flags"


def _instruction(context: RuleContext, launch: PythonLaunch) -> str | None:
    if launch.script is not None:
        return None  # the layer that rewrote the script says it
    change = context.config_change(launch.used_by)
    return change.instruction if change is not None else None
