"""The gate's decision as a few lines for a deploy log, or JSON."""

from __future__ import annotations

import json

from layerdiff.gate import GateDecision
from layerdiff.text.terminal import safe_line


def render_gate(decision: GateDecision, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(decision.to_json(), indent=2, sort_keys=True) + "\n"
    lines = [f"gate: {decision.status} ({decision.image}, approved by {decision.reviewer})"]
    lines += [f"  - {reason}" for reason in (*decision.reasons, *decision.unenforced)]
    return "".join(safe_line(line) + "\n" for line in lines)
