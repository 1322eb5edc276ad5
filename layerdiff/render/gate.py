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
    if decision.records:
        lines.append("records:")
        for record in decision.records:
            how = f", matched by {record.matched_by}" if record.matched_by else ""
            key = f", key {record.keyid}" if record.keyid else ""
            counts = "counts" if not record.problems else "does not count"
            lines.append(
                f"  {record.source}: {record.reviewer}, {record.signature}{key}{how}, "
                f"accepts {record.accepted}: {counts}"
            )
    if decision.findings:
        lines.append("findings at or above the threshold:")
        for finding in decision.findings:
            who = ", ".join(finding.approved_by) or "nobody"
            state = "covered" if finding.covered else "MISSING"
            count = f"{len(finding.approved_by)} of {finding.needed}"
            lines.append(f"  {finding.label}: approved by {who} ({count}, {state})")
    lines += [f"note: {note}" for note in decision.notes]
    return "".join(safe_line(line) + "\n" for line in lines)
