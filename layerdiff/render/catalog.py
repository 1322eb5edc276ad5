"""The rule catalog (``layerdiff rules``) as a table or JSON."""

from __future__ import annotations

import json

from layerdiff.rules.model import Rule


def render_catalog(rules: tuple[Rule, ...], fmt: str) -> str:
    if fmt == "json":
        items = [
            {
                "id": r.id,
                "severity": r.severity.label,
                "title": r.title,
                "remediation": r.remediation,
                "doc": r.doc,
            }
            for r in rules
        ]
        return json.dumps(items, indent=2) + "\n"
    width = max((len(r.id) for r in rules), default=10)
    return "".join(f"{r.id:<{width}}  {r.severity.label:<8}  {r.title}  ({r.doc})\n" for r in rules)
