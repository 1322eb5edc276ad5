"""Where a rule's documentation lives: on the project's documentation site, and inside the installed package
(``layerdiff/rules/docs/<id>.md``), so that ``layerdiff rules ID`` works without a checkout or a network."""

from __future__ import annotations

from importlib import resources

# The project's documentation, as pyproject.toml's project.urls names it (a test keeps the two in step).
DOCUMENTATION_URL = "https://github.com/layerdiff/layerdiff/tree/main/docs"
RULE_DOCS_URL = "https://github.com/layerdiff/layerdiff/blob/main/layerdiff/rules/docs/"


def rule_doc_url(rule_id: str) -> str:
    return f"{RULE_DOCS_URL}{rule_id}.md"


def packaged_rule_doc(rule_id: str) -> str | None:
    """The Markdown of a rule's documentation as installed with layerdiff, or None when there is none."""
    document = resources.files("layerdiff.rules").joinpath("docs", f"{rule_id}.md")
    return document.read_text(encoding="utf-8") if document.is_file() else None
