"""What the rules about files share: the derived layers they review, the layer and (redacted) instruction
a finding blames, and one finding for a whole tree (``rm -rf``, ``chown -R``) with a count and examples.

Only the derived image's own layers are reviewed (positions from ``context.first_reviewed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from layerdiff.image.model import EntryType
from layerdiff.rules.model import Finding, Rule, RuleContext
from layerdiff.rules.severity import Severity
from layerdiff.text.secrets import redact_text

EXAMPLES = 5  # paths listed in the evidence of a finding that stands for many
FILE_TYPES = (EntryType.FILE, EntryType.HARDLINK)


def reviewed_layers(context: RuleContext) -> range:
    return range(context.first_reviewed, len(context.derived_indexes))


def layer_instruction(context: RuleContext, layer: int | None) -> str | None:
    return redact_text(context.instruction(layer))  # instructions may carry credentials (ENV, RUN echo)


def layer_evidence(context: RuleContext, layer: int | None) -> dict[str, Any]:
    return {"layer": layer, "instruction": layer_instruction(context, layer)}


def collapsed(descendants: list[str]) -> dict[str, Any]:
    """Evidence of a finding for a tree: how many paths below the top one, and a few of them."""
    return {"also_affected": len(descendants), "examples": descendants[:EXAMPLES]}


def file_finding(
    the_rule: Rule,
    context: RuleContext,
    subject: str,
    message: str,
    evidence: Mapping[str, Any],
    layer: int | None,
    severity: Severity | None = None,
) -> Finding:
    """A finding blamed on ``layer``, with that layer's instruction redacted."""
    return the_rule.finding(
        context,
        subject,
        message,
        evidence,
        layer=layer,
        severity=severity,
        instruction=layer_instruction(context, layer),
    )
