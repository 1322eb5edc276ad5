"""The rule about the pip constraints file the base ships (``layerdiff.inventory.constraints``): what the
derived image installs or changes in the base's environments outside those constraints."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerdiff.inventory.evidence import distribution_evidence, environment_evidence
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity

_INSTALLED = ("added", "upgraded", "downgraded", "changed")


@rule(
    "python-constraint-violated",
    Severity.MEDIUM,
    "A distribution was installed outside the pip constraints the base ships",
    "Install with the base's constraints (pip install -c ~/constraints.txt NAME), or pick a version they "
    "allow; when a newer version is really needed, also pin the base's own distribution (apache-airflow=="
    "the base's version) and test the combination.",
)
def python_constraint_violated(context: RuleContext) -> Iterator[Finding]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    constraints = base.constraints
    if constraints is None:
        return
    reported: set[tuple[str, str]] = set()
    for change in context.diff.inventory.distributions:
        after, environment = change.after, derived.python_env(change.environment)
        # a venv the derived image made for itself is not the installation the constraints describe
        if change.kind not in _INSTALLED or after is None or environment is None:
            continue
        if base.python_env(change.environment) is None or (after.location, after.name) in reported:
            continue
        constraint = constraints.violated_by(after.name, after.version, environment.version)
        if constraint is None:
            continue
        reported.add((after.location, after.name))
        before = change.before
        was = f" (the base has {before.version})" if before is not None else ""
        yield python_constraint_violated.finding(
            context,
            subject=f"{after.location}:{after.name}",
            message=(
                f"The image now runs {after.display_name} {after.version}{was}, which the constraints the "
                f"base was built and tested with exclude: {constraint.requirement} ({constraints.path} "
                f"line {constraint.line})."
            ),
            evidence={
                "distribution": distribution_evidence(after),
                "before": distribution_evidence(before),
                "constraint": constraint.requirement,
                "constraints_file": constraints.path,
                "line": constraint.line,
                "environment": environment_evidence(environment),
                "change": change.kind,
            },
            layer=context.layer_that_changed(posixpath.join(after.metadata, "METADATA"), after.metadata),
        )
