"""The findings of a PR comment, most severe first, each a short block a reviewer can act on.

Findings at or above the verdict's threshold (high with ``--fail-on none``) are shown open; the rest fold
into a ``<details>`` block. Each finding gives its severity, its rule linked to the rule's documentation,
its subject, where it comes from (the Dockerfile line when the review had the Dockerfile, else the layer
and its instruction), the consequence and the fix each in one line, and the fingerprint a reviewer
approves. What does not fit the budget is counted in one line by severity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from layerdiff.render.markdown_fit import SEPARATOR, Fitted, fit_entries
from layerdiff.render.markdown_text import cell, fingerprint_code, link, size
from layerdiff.report.wire import Finding, Report, SourceLine
from layerdiff.rules.documentation import rule_doc_url
from layerdiff.rules.severity import Severity

PROMINENT = Severity.HIGH  # shown open when nothing is enforced
SUBJECT_LIMIT = 200
MESSAGE_LIMIT = 600  # the consequence and the fix
INSTRUCTION_LIMIT = 160
APPROVE_HINT = (
    "Approve a finding with"
    " `layerdiff approve REPORT.json --reviewer NAME --reason TEXT --finding FINGERPRINT`."
)
_CONFIDENCE_NOTE = {"exact": "", "likely": " (likely)"}  # any other confidence: no instruction matched


def findings_section(report: Report, budget: int) -> str:
    """The findings within ``budget`` characters (the caller leaves room for at least a few lines)."""
    if not report.findings:
        return "No findings."
    threshold = Severity.parse(report.verdict.fail_on) if report.verdict.fail_on else PROMINENT
    ordered = sorted(report.findings, key=lambda f: -Severity.parse(f.severity))
    prominent = [f for f in ordered if Severity.parse(f.severity) >= threshold]
    lower = ordered[len(prominent) :]
    lower_room = size(SEPARATOR) + size(_left_out(lower)) if lower else 0

    enforced = "" if report.verdict.fail_on else ", not enforced"
    if prominent:
        opening = f"#### Findings at or above {threshold.label} ({len(prominent):,}{enforced})\n\n"
        shown = fit_entries(
            opening,
            prominent,
            _finding,
            SEPARATOR + APPROVE_HINT,
            budget - lower_room,
            lambda rest: _left_out([*rest, *lower]),
        )
        if shown is None:
            return _left_out(ordered, shown_any=False)
        if shown.shown < len(prominent) or not lower:
            return shown.text
        head = shown.text
    else:
        head = f"No findings at or above **{threshold.label}**."
    room = budget - size(head) - size(SEPARATOR)
    folded = _lower_findings(lower, threshold, room)
    return head + SEPARATOR + (folded.text if folded else _left_out(lower, shown_any=bool(prominent)))


def _lower_findings(lower: Sequence[Finding], threshold: Severity, budget: int) -> Fitted | None:
    summary = f"Findings below {threshold.label} ({len(lower):,})"
    opening = f"<details>\n<summary>{cell(summary)}</summary>\n\n"
    return fit_entries(opening, lower, _finding, "\n\n</details>", budget, _left_out)


def _finding(finding: Finding) -> str:
    # Reports before 1.5 name the rule's doc by its path in the source tree, which a comment cannot link.
    doc = rule_doc_url(finding.rule) if finding.doc == f"docs/rules/{finding.rule}.md" else finding.doc
    severity = f"**{cell(finding.severity)}**"
    if finding.waived is not None:
        severity += f" (waived: {cell(finding.waived.reason, SUBJECT_LIMIT)})"
    lines = [
        f"- {severity} · {link(finding.rule, doc)} · {cell(finding.subject, SUBJECT_LIMIT)}",
        f"  - where: {where(finding)}",
        f"  - consequence: {cell(finding.message, MESSAGE_LIMIT)}",
        f"  - fix: {cell(finding.remediation, MESSAGE_LIMIT)}",
        f"  - fingerprint: {fingerprint_code(finding.fingerprint)}",
    ]
    return "\n".join(lines)


def where(finding: Finding) -> str:
    """``Dockerfile:LINE`` when the finding is located in the Dockerfile, else its layer or the config."""
    if finding.dockerfile is not None:
        layer = f" (layer {finding.layer})" if finding.layer is not None else ""
        return dockerfile_line(finding.dockerfile) + layer
    instruction = cell(finding.instruction, INSTRUCTION_LIMIT) if finding.instruction else None
    if finding.layer is not None:
        return f"layer {finding.layer}" + (f": {instruction}" if instruction else "")
    return f"image config: {instruction}" if instruction else "the image as a whole"


def dockerfile_line(source: SourceLine) -> str:
    note = _CONFIDENCE_NOTE.get(source.confidence, " (uncertain: no instruction matched)")
    return cell(f"{source.path}:{source.line}", SUBJECT_LIMIT) + note


def _left_out(findings: Sequence[Finding], shown_any: bool = True) -> str:
    """``… and 412 more findings (3 high, 409 low) — full details in the JSON report.``"""
    counts = Counter(Severity.parse(f.severity) for f in findings)
    by_severity = ", ".join(f"{counts[s]:,} {s.label}" for s in sorted(counts, reverse=True))
    noun = "finding" if len(findings) == 1 else "findings"
    count = f"{len(findings):,} {'more ' if shown_any else ''}{noun}"
    lead = "… and " if shown_any else ""
    shown = "" if shown_any else " not shown"
    return f"{lead}{count} ({by_severity}){shown} — full details in the JSON report."
