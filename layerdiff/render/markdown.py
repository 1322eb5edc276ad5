"""A report as a GitHub-flavoured Markdown pull-request comment.

The verdict and the high/critical findings are visible at once; everything else (lower findings, package
changes, Python problems, the file change summary) folds into ``<details>`` sections so that the comment stays
short. Pure function of the report: equal reports give equal bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from layerdiff.report.wire import Finding, Report, Verdict
from layerdiff.report.wire_inventory import Distribution, PythonInventory
from layerdiff.rules.severity import Severity

# A PR comment holds at most 65,536 characters; a first build can change thousands of packages or files.
MAX_TABLE_ROWS = 200
SHORT_ID_LENGTH = 19  # "sha256:" and 12 hex digits, as `docker images` shows them
PROMINENT = Severity.HIGH
FILE_CHANGE_KINDS = ("added", "removed", "modified", "metadata")

# Characters Markdown would read as table structure, code, emphasis or links; HTML-significant ones become
# entities so a message like "needs <module>" is not swallowed as a tag.
_MARKDOWN_ESCAPES = {c: "\\" + c for c in "\\`|*_[]~"}
_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CELL_TRANSLATION = str.maketrans({**_MARKDOWN_ESCAPES, **_HTML_ESCAPES, "\n": " ", "\r": " "})


def render_markdown(report: Report) -> str:
    findings = report.findings
    prominent = [f for f in findings if Severity.parse(f.severity) >= PROMINENT]
    lower = [f for f in findings if Severity.parse(f.severity) < PROMINENT]
    sections = [
        _verdict(report.verdict),
        _images(report),
        _prominent_findings(prominent),
        _details(f"Lower-severity findings ({len(lower)})", _findings_table(lower)) if lower else "",
        _package_changes(report),
        _python_problems(report.inventory.python),
        _file_changes(report),
        _warnings(report.warnings),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def cell(value: object) -> str:
    """Text safe inside a Markdown table cell: one line, no table, code, emphasis or HTML syntax."""
    if value is None:
        return "—"
    return str(value).translate(_CELL_TRANSLATION)


def _verdict(verdict: Verdict) -> str:
    by_severity = " · ".join(f"{count} {severity}" for severity, count in verdict.counts.items())
    if verdict.fail_on is None:
        gate = "`--fail-on none`: nothing enforced"
    else:
        gate = f"{verdict.failing} at or above **{verdict.fail_on}**"
    if verdict.waived:
        gate += f", {verdict.waived} waived"
    status = {"fail": "❌ FAIL", "review": "⚠️ REVIEW"}.get(verdict.status, "✅ PASS")
    total = verdict.counts.total()
    noun = "finding" if total == 1 else "findings"
    return f"### layerdiff: {status}\n\n**{total} {noun}** ({gate}): {by_severity}"


def _images(report: Report) -> str:
    base, derived, comparison = report.base, report.derived, report.comparison
    derived_layers = f"{len(derived.layers)} ({comparison.shared_layers} shared)"
    rows = [
        ["base", base.reference, _short_id(base.image_id), str(len(base.layers))],
        ["derived", derived.reference, _short_id(derived.image_id), derived_layers],
    ]
    table = _table(["image", "reference", "image id", "layers"], rows)
    if not comparison.extends_base:
        table += "\n\n**The derived image does not start with the base's layers**: whole trees were compared."
    return table


def _short_id(image_id: str | None) -> str:
    return (image_id or "")[:SHORT_ID_LENGTH] or "—"


def _prominent_findings(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No high or critical findings."
    return f"#### High and critical findings ({len(findings)})\n\n{_findings_table(findings)}"


def _findings_table(findings: Sequence[Finding]) -> str:
    rows = [[_severity(f), f.rule, f.subject, _layer(f.layer, f.instruction), f.message] for f in findings]
    return _table(["severity", "rule", "subject", "layer", "message"], rows)


def _severity(finding: Finding) -> str:
    return f"{finding.severity} (waived)" if finding.waived else finding.severity


def _layer(layer: int | None, instruction: str | None) -> str:
    if layer is not None:
        return str(layer)
    return "config" if instruction else "—"


def _package_changes(report: Report) -> str:
    changes = report.package_changes()
    if not changes:
        return ""
    if any(change.from_sbom for change in changes):
        source = report.packages.sbom_tool or "SBOM"
        rows = [[c.kind, c.type, c.name, c.before, c.after, c.layer] for c in changes]
        table = _table(["change", "type", "name", "before", "after", "layer"], rows)
        return _details(f"Package changes ({len(changes)}, from {source})", table)
    # Without an SBOM, the OS package database and the Python environments still tell what changed.
    rows = [[c.kind, c.type, c.name, c.before, c.after, c.qualifier] for c in changes]
    table = _table(["change", "type", "name", "before", "after", "architecture / environment"], rows)
    return _details(f"Package changes ({len(changes)})", table)


def _python_problems(python: PythonInventory) -> str:
    unsatisfied, lost, shadowed = python.unsatisfied, python.lost, python.shadowed
    parts = []
    if unsatisfied:
        lines = sorted(f"{u.environment}: {u.message}" for u in unsatisfied)
        # A fenced block shows pip's own wording verbatim; only a fence in the text could break out of it.
        parts.append("`pip check`:\n\n```text\n" + "\n".join(lines).replace("```", "'''") + "\n```")
    if lost:
        rows = [[d.name, d.version, d.environment, d.cause, d.via] for d in lost]
        parts.append(
            "Distributions the runtime can no longer import:\n\n"
            + _table(["distribution", "version", "environment", "cause", "via"], rows)
        )
    if shadowed:
        rows = [
            [s.name, s.environment, _located(s.winner), ", ".join(_located(h) for h in s.hidden)]
            for s in shadowed
        ]
        parts.append(
            "Shadowed distributions:\n\n" + _table(["distribution", "environment", "wins", "hidden"], rows)
        )
    if not parts:
        return ""
    count = len(unsatisfied) + len(lost) + len(shadowed)
    return _details(f"Python problems ({count})", "\n\n".join(parts))


def _located(distribution: Distribution) -> str:
    return f"{distribution.name} {distribution.version} in {distribution.location}"


def _file_changes(report: Report) -> str:
    changes = report.file_changes
    if not changes:
        return ""
    per_layer: dict[int | None, Counter[str]] = {}
    for change in changes:
        per_layer.setdefault(change.layer, Counter())[change.kind] += 1
    instructions: dict[int | None, str | None] = {
        layer.position: layer.instruction for layer in report.derived.layers
    }
    rows = [
        [position, instructions.get(position) or "(no history)", *(kinds[k] for k in FILE_CHANGE_KINDS)]
        for position, kinds in sorted(per_layer.items(), key=lambda item: -1 if item[0] is None else item[0])
    ]
    summary = ", ".join(f"{count} {kind}" for kind, count in report.summary.file_changes.items())
    table = _table(["layer", "instruction", *FILE_CHANGE_KINDS], rows)
    return _details(f"File changes ({len(changes)}: {summary})", table)


def _warnings(warnings: Sequence[str]) -> str:
    return "\n".join(f"> **warning:** {cell(w)}" for w in warnings)


def _details(summary: str, body: str) -> str:
    # The blank lines around the body make GitHub render the Markdown inside the HTML block.
    return f"<details>\n<summary>{cell(summary)}</summary>\n\n{body}\n\n</details>"


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    rows = list(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows[:MAX_TABLE_ROWS]]
    if len(rows) > MAX_TABLE_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_TABLE_ROWS} more rows in the JSON report.")
    return "\n".join(lines)
