"""The gate's decision as a few lines for a deploy log, or JSON."""

from __future__ import annotations

import json

from layerdiff.gate import GateDecision
from layerdiff.text.terminal import safe_line


def render_gate(decision: GateDecision, derived_name: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(decision.to_json(), indent=2, sort_keys=True) + "\n"
    lines = [f"gate: {decision.status} ({derived_name}, approved by {decision.reviewer})"]
    lines += [f"  - {reason}" for reason in decision.reasons]
    return "".join(safe_line(line) + "\n" for line in lines)
