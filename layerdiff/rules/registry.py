"""The rule catalog: every rule module registers its rules here."""

from __future__ import annotations

from collections.abc import Callable

from layerdiff.rules.model import Check, Finding, Rule, RuleContext
from layerdiff.rules.severity import Severity

_RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: Severity, title: str, remediation: str) -> Callable[[Check], Rule]:
    """Register ``check`` as a rule. The check receives the context and yields findings; it makes them
    with ``that_rule.finding(...)``, where ``that_rule`` is the Rule this decorator returns."""

    def register(check: Check) -> Rule:
        if rule_id in _RULES:
            raise ValueError(f"rule {rule_id} registered twice")
        registered = Rule(rule_id, severity, title, remediation, check)
        _RULES[rule_id] = registered
        return registered

    return register


def all_rules() -> tuple[Rule, ...]:
    _load_catalog()
    return tuple(sorted(_RULES.values(), key=lambda r: r.id))


def rule_by_id(rule_id: str) -> Rule:
    _load_catalog()
    return _RULES[rule_id]


def evaluate(context: RuleContext, rules: tuple[Rule, ...] | None = None) -> tuple[Finding, ...]:
    """Every finding of every rule, most severe first, then by rule and subject (stable output)."""
    findings = [
        finding for r in (rules if rules is not None else all_rules()) for finding in r.check(context)
    ]
    return tuple(sorted(findings, key=lambda f: (-f.severity, f.rule, f.subject)))


def _load_catalog() -> None:
    # Importing the rule modules registers their rules; they are listed here so the catalog is explicit.
    import importlib

    for module in CATALOG_MODULES:
        importlib.import_module(f"layerdiff.rules.{module}")


CATALOG_MODULES: tuple[str, ...] = (
    "config",
    "permissions",
    "deleted",
    "credentials",
    "waste",
    "python",
    "python_integrity",
    "startup",
    "constraints",
    "commands",
    "launch",
    "libraries",
    "packages",
)
