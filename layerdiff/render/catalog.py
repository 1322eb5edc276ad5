"""The rule catalog (``layerdiff rules``) as a table or JSON, and one rule's documentation
(``layerdiff rules ID``)."""

from __future__ import annotations

import io
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
    lines = [f"{r.id:<{width}}  {r.severity.label:<8}  {r.title}\n" for r in rules]
    return "".join(lines) + "\n`layerdiff rules ID` prints a rule's documentation.\n"


def render_rule_doc(rule: Rule, markdown: str, *, color: bool, width: int) -> str:
    """The documentation of ``rule``: rendered Markdown on a terminal, the Markdown itself otherwise (for a
    pager, a file or another Markdown viewer). The online copy's address ends it either way."""
    footer = f"\nOnline: {rule.doc}\n"
    if not color:
        return markdown.rstrip("\n") + "\n" + footer
    from rich.console import Console
    from rich.markdown import Markdown

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    console.print(Markdown(markdown))
    return buffer.getvalue() + footer
