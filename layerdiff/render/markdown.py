"""A report as a GitHub-flavoured Markdown pull-request comment that always fits GitHub's limit.

In order: the verdict with its threshold and the images compared; the findings, most severe first; then the
config changes, package changes, Python problems, the file changes counted per layer, and the warnings
(docs/report.md shows the format). GitHub refuses a comment over 65,536 characters, so the comment is
built within a smaller budget: whole rows and blocks only, and what does not fit is counted in words and
left to the JSON report. Pure function of the report: equal reports give equal bytes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TypeVar

from layerdiff.render.markdown_findings import INSTRUCTION_LIMIT, dockerfile_line, findings_section
from layerdiff.render.markdown_fit import SEPARATOR, Section, fill, fit_entries
from layerdiff.render.markdown_text import cell, size
from layerdiff.report.codec import JsonValue
from layerdiff.report.package_view import ChangedPackage
from layerdiff.report.wire import ConfigChange, Report, SourceLine
from layerdiff.report.wire_inventory import Distribution, PythonInventory

__all__ = ["BUDGET", "COMMENT_LIMIT", "cell", "render_markdown"]

COMMENT_LIMIT = 65_536  # what GitHub accepts in one comment
BUDGET = 60_000  # what the comment may use: a margin below the limit
TAIL_RESERVE = 15_000  # kept from the findings for the sections after them, when those need it
REFERENCE_LIMIT = 200
VALUE_LIMIT = 200
SHORT_ID_LENGTH = 19  # "sha256:" and 12 hex digits, as `docker images` shows them
FILE_CHANGE_KINDS = ("added", "removed", "modified", "metadata")
HIDDEN_SHOWN = 5  # of the distributions a shadowing hides
LEFT_TO_JSON = "full details in the JSON report"

Row = TypeVar("Row")


def render_markdown(report: Report) -> str:
    head = _verdict(report)
    room = BUDGET - size(head) - size(SEPARATOR) - 1  # the final newline
    tail = _tail_sections(report)
    # The findings come first, but the config changes and the rest keep some room when they need it.
    tail_needs = sum(size(text) + size(SEPARATOR) for text in fill(tail, min(TAIL_RESERVE, room)))
    findings = findings_section(report, room - tail_needs)
    rest = fill(tail, room - size(findings) - size(SEPARATOR))
    return SEPARATOR.join([head, findings, *rest]) + "\n"


# --- the verdict ------------------------------------------------------------------------------------------


def _verdict(report: Report) -> str:
    verdict = report.verdict
    by_severity = " · ".join(f"{count:,} {severity}" for severity, count in verdict.counts.items())
    if verdict.fail_on is None:
        gate = "`--fail-on none`: nothing enforced"
    else:
        gate = f"{verdict.failing:,} at or above **{cell(verdict.fail_on)}**"
    if verdict.waived:
        gate += f", {verdict.waived:,} waived"
    status = {"fail": "❌ FAIL", "review": "⚠️ REVIEW"}.get(verdict.status, "✅ PASS")
    total = verdict.counts.total()
    noun = "finding" if total == 1 else "findings"
    lines = [f"### layerdiff: {status}", "", f"**{total:,} {noun}** ({gate}): {by_severity}"]
    if verdict.expired_waivers:
        count = len(verdict.expired_waivers)
        lines += [
            "",
            f"**{count:,} expired policy {'waiver' if count == 1 else 'waivers'}** no longer apply.",
        ]
    lines += ["", _images(report)]
    if report.dockerfile is not None:
        dockerfile = report.dockerfile
        stage = f", {cell(dockerfile.stage, REFERENCE_LIMIT)}," if dockerfile.stage else ""
        lines.append(
            f"Located on the lines of {cell(dockerfile.path, REFERENCE_LIMIT)}"
            f" (its final stage{stage} starts on line {dockerfile.from_line})."
        )
    return "\n".join(lines)


def _images(report: Report) -> str:
    base, derived, comparison = report.base, report.derived, report.comparison
    text = (
        f"**derived** {cell(derived.reference, REFERENCE_LIMIT)} ({cell(_short_id(derived.image_id))},"
        f" {len(derived.layers):,} layers) on **base** {cell(base.reference, REFERENCE_LIMIT)}"
        f" ({cell(_short_id(base.image_id))}, {len(base.layers):,} layers;"
        f" {comparison.shared_layers:,} shared)"
    )
    if not comparison.extends_base:
        text += "\n\n**The derived image does not start with the base's layers**: whole trees were compared."
    return text


def _short_id(image_id: str | None) -> str:
    return (image_id or "")[:SHORT_ID_LENGTH] or "—"


# --- what follows the findings ----------------------------------------------------------------------------


def _tail_sections(report: Report) -> list[Section]:
    sections = [
        _config_changes(report),
        _package_changes(report),
        _python_problems(report.inventory.python),
        _file_changes(report),
        _warnings(report.warnings),
    ]
    return [section for section in sections if section is not None]


def _config_changes(report: Report) -> Section | None:
    changes = report.config_changes
    if not changes:
        return None
    lines: dict[int, str] = {}
    if report.dockerfile is not None:
        path = report.dockerfile.path
        lines = {
            step.history_index: dockerfile_line(SourceLine(path, step.line, step.end_line, step.confidence))
            for step in report.dockerfile.steps
        }

    def row(change: ConfigChange) -> Sequence[str]:
        index = change.history_index
        set_by = lines.get(index) if index is not None else None
        if set_by is None:
            set_by = cell(change.instruction, INSTRUCTION_LIMIT)
        return [cell(change.name), _value(change.before), _value(change.after), set_by]

    title = f"Config changes ({len(changes):,})"
    opening = f"#### {title}\n\n" + _table_header(["change", "before", "after", "set by"])
    return _table_section(title, opening, "", changes, row, "config changes")


def _value(value: JsonValue) -> str:
    if value is None:
        return "(unset)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
    return cell(text, VALUE_LIMIT)


def _package_changes(report: Report) -> Section | None:
    changes = report.package_changes()
    if not changes:
        return None
    from_sbom = any(change.from_sbom for change in changes)
    last = "layer" if from_sbom else "architecture / environment"
    source = f", from {report.packages.sbom_tool or 'SBOM'}" if from_sbom else ""

    def row(change: ChangedPackage) -> Sequence[str]:
        where = change.layer if from_sbom else change.qualifier
        return [cell(v) for v in (change.kind, change.type, change.name, change.before, change.after, where)]

    title = f"Package changes ({len(changes):,}{source})"
    header = _table_header(["change", "type", "name", "before", "after", last])
    return _table_section(
        title, _details_opening(title) + header, _DETAILS_CLOSING, changes, row, "package changes"
    )


def _python_problems(python: PythonInventory) -> Section | None:
    rows: list[tuple[str, str, str, str]] = []
    rows += [
        ("pip check", f"{u.distribution} {u.version}", u.environment, u.message) for u in python.unsatisfied
    ]
    rows += [
        (
            "cannot be imported",
            f"{d.name} {d.version}",
            d.environment,
            d.cause + (f": {d.via}" if d.via else ""),
        )
        for d in python.lost
    ]
    for shadowed in python.shadowed:
        hidden = ", ".join(_located(d) for d in shadowed.hidden[:HIDDEN_SHOWN])
        more = len(shadowed.hidden) - HIDDEN_SHOWN
        hidden += f" and {more:,} more" if more > 0 else ""
        rows.append(
            ("shadowed", shadowed.name, shadowed.environment, f"{_located(shadowed.winner)} hides {hidden}")
        )
    if not rows:
        return None
    title = f"Python problems ({len(rows):,})"
    header = _table_header(["problem", "distribution", "environment", "detail"])

    def row(problem: tuple[str, str, str, str]) -> Sequence[str]:
        return [cell(value) for value in problem]

    return _table_section(title, _details_opening(title) + header, _DETAILS_CLOSING, rows, row, "problems")


def _located(distribution: Distribution) -> str:
    return f"{distribution.name} {distribution.version} in {distribution.location}"


def _file_changes(report: Report) -> Section | None:
    changes = report.file_changes
    if not changes:
        return None
    per_layer: dict[int | None, Counter[str]] = {}
    for change in changes:
        per_layer.setdefault(change.layer, Counter())[change.kind] += 1
    instructions = {layer.position: layer.instruction for layer in report.derived.layers}
    layers = sorted(per_layer.items(), key=lambda item: -1 if item[0] is None else item[0])

    def row(item: tuple[int | None, Counter[str]]) -> Sequence[str]:
        position, kinds = item
        instruction = instructions.get(position) if position is not None else None
        counts = [f"{kinds[kind]:,}" for kind in FILE_CHANGE_KINDS]
        return [cell(position), cell(instruction or "(no history)", INSTRUCTION_LIMIT), *counts]

    summary = ", ".join(f"{count:,} {kind}" for kind, count in report.summary.file_changes.items())
    title = f"File changes ({len(changes):,}: {summary})"
    header = _table_header(["layer", "instruction", *FILE_CHANGE_KINDS])
    return _table_section(title, _details_opening(title) + header, _DETAILS_CLOSING, layers, row, "layers")


def _warnings(warnings: Sequence[str]) -> Section | None:
    if not warnings:
        return None
    title = f"Warnings ({len(warnings):,})"

    def render(budget: int) -> str | None:
        fitted = fit_entries(
            f"#### {title}\n\n", warnings, lambda w: f"- {cell(w)}", "", budget, _left_out("warnings")
        )
        return fitted.text if fitted else None

    return Section(render, _omitted(title))


# --- building blocks --------------------------------------------------------------------------------------

_DETAILS_CLOSING = "\n\n</details>"
_SINGULAR = {
    "config changes": "config change",
    "package changes": "package change",
    "problems": "problem",
    "layers": "layer",
    "warnings": "warning",
}


def _details_opening(summary: str) -> str:
    # The blank line after the summary makes GitHub render the Markdown inside the HTML block.
    return f"<details>\n<summary>{cell(summary)}</summary>\n\n"


def _table_header(header: Sequence[str]) -> str:
    return "| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n"


def _table_section(
    title: str,
    opening: str,
    closing: str,
    rows: Sequence[Row],
    cells: Callable[[Row], Sequence[str]],
    noun: str,
) -> Section:
    def render(budget: int) -> str | None:
        fitted = fit_entries(
            opening, rows, lambda r: "| " + " | ".join(cells(r)) + " |", closing, budget, more
        )
        return fitted.text if fitted else None

    more = _left_out(noun)
    return Section(render, _omitted(title))


def _left_out(noun: str) -> Callable[[Sequence[object]], str]:
    """``… and 1,234 more package changes — full details in the JSON report.`` (``noun`` in the plural)"""

    def line(rest: Sequence[object]) -> str:
        return f"… and {len(rest):,} more {noun if len(rest) != 1 else _SINGULAR[noun]} — {LEFT_TO_JSON}."

    return line


def _omitted(title: str) -> str:
    return f"**{cell(title)}**: left out to keep this comment within GitHub's size limit — {LEFT_TO_JSON}."
