"""The Findings tab: filter and sort the findings, read their evidence, mark them for approval, jump to what
they concern."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from layerdiff.approval import has_expired
from layerdiff.report.wire import Finding
from layerdiff.tui.cells import SEVERITIES, SEVERITY_STYLE
from layerdiff.tui.evidence import evidence_text, raw_evidence
from layerdiff.tui.records import Record
from layerdiff.tui.tables import RecordsPane, SearchInput

APPROVED, WAIVED, MARKED, EXPIRED = "approved", "waived", "marked", "expired"
_STATUS_STYLE = {APPROVED: "bold green", WAIVED: "green", MARKED: "bold reverse", EXPIRED: "yellow"}


@dataclass(frozen=True)
class Acceptance:
    """A reviewer's approval of a finding: from the record given with --approval, or written in the app."""

    reviewer: str
    reason: str
    expires: date | None

    def is_expired(self, today: date) -> bool:
        return has_expired(self.expires, today)

    def describe(self, today: date) -> str:
        if self.expires is None:
            until = ""
        elif self.is_expired(today):
            until = f", expired on {self.expires.isoformat()} (the gate no longer counts it)"
        else:
            until = f" until {self.expires.isoformat()}"
        return f"approved by {self.reviewer}{until}: {self.reason}"


def finding_detail(finding: Finding, status: str, approval: Text | None = None, raw: bool = False) -> Text:
    """The finding for the detail pane: what breaks first (the message), then where it comes from, the
    evidence in words (``raw``: as the report's JSON), the fix and how to look it up."""
    text = Text()
    text.append(f"{finding.severity.upper()} {finding.rule}", style=SEVERITY_STYLE[finding.severity])
    if status:
        text.append(f"  [{status}]", style=_STATUS_STYLE[status])
    text.append(f"\n{finding.message}\n\n", style="bold")
    text.append(f"{finding.title}\n")
    text.append("subject: ", style="bold")
    text.append(f"{finding.subject}\n")
    if finding.instruction:
        text.append("caused by: ", style="bold")
        where = "" if finding.layer is None else f"layer {finding.layer}: "
        text.append(f"{where}{finding.instruction}\n")
    if raw:
        text.append("\nevidence, as in the report (r: in words)\n", style="bold")
        text.append(raw_evidence(finding.evidence) + "\n\n")
    else:
        text.append("\nevidence (r: as JSON)\n", style="bold")
        text.append_text(evidence_text(finding.evidence))
        text.append("\n")
    text.append("fix: ", style="bold")
    text.append(f"{finding.remediation}\n")
    text.append(f"doc: {finding.doc}\nfingerprint: {finding.fingerprint}\n", style="dim")
    waiver = finding.waived
    if waiver is not None:
        until = f" until {waiver.expires}" if waiver.expires else ""
        text.append(f"waived by policy{until}: {waiver.reason}\n", style="green")
    if approval is not None:
        text.append_text(approval)
        text.append("\n")
    text.append(
        "\nEnter: show what it concerns   a: mark for approval   w: write approval   r: evidence as JSON",
        style="dim",
    )
    return text


def _detail_now(finding: Finding, pane: FindingsPane) -> Text:
    fingerprint = finding.fingerprint
    return finding_detail(
        finding, pane.status(fingerprint), pane.approval_note(fingerprint), raw=pane.raw_evidence
    )


def finding_records(findings: Sequence[Finding], pane: FindingsPane) -> list[Record]:
    return [
        Record(
            cells=(
                Text(f.severity, style=SEVERITY_STYLE[f.severity]),
                f.rule,
                f.subject,
                "" if f.layer is None else str(f.layer),
            ),
            keys=frozenset({f.fingerprint}),
            search_text=f"{f.rule} {f.subject} {f.message}".lower(),
            detail=partial(_detail_now, f, pane),
            group="config" if f.layer is None else f"layer {f.layer}",
            ident=f.fingerprint,
        )
        for f in findings
    ]


class FindingsPane(RecordsPane):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "cycle_severity", "severity"),
        Binding("enter", "jump", "show"),
        Binding("a,space", "toggle_mark", "mark"),
        Binding("A", "mark_all", "mark all shown", show=False),
        Binding("w", "write_approval", "approve"),
        Binding("r", "toggle_raw_evidence", "raw evidence", show=False),
    ]

    class Jump(Message):
        def __init__(self, finding: Finding) -> None:
            super().__init__()
            self.finding = finding

    class ApprovalRequested(Message):
        def __init__(self, fingerprints: frozenset[str]) -> None:
            super().__init__()
            self.fingerprints = fingerprints

    def __init__(
        self,
        findings: Sequence[Finding],
        accepted: Mapping[str, Acceptance],
        today: date,
        id: str | None = None,
    ):
        self.findings = list(findings)
        self.accepted = dict(accepted)
        self.today = today
        self.marked: set[str] = set()
        self.raw_evidence = False  # the detail pane shows the evidence as the report's JSON
        self.minimum: str | None = None  # severity filter: this and above
        self.by_fingerprint = {f.fingerprint: f for f in self.findings}
        self.waived = {f.fingerprint for f in self.findings if f.waived is not None}
        super().__init__(
            "findings",
            ("status", "severity", "rule", "subject", "layer"),
            finding_records(self.findings, self),
            "from",
            "No findings: the derived layers changed nothing a rule flags.",
            id=id,
        )

    @property
    def approved(self) -> set[str]:
        """Fingerprints approved by a record that still counts."""
        return {fp for fp, acceptance in self.accepted.items() if not acceptance.is_expired(self.today)}

    def status(self, fingerprint: str) -> str:
        if fingerprint in self.marked:
            return MARKED
        acceptance = self.accepted.get(fingerprint)
        if acceptance is not None and not acceptance.is_expired(self.today):
            return APPROVED
        if fingerprint in self.waived:
            return WAIVED
        return EXPIRED if acceptance is not None else ""

    def approval_note(self, fingerprint: str) -> Text | None:
        acceptance = self.accepted.get(fingerprint)
        if acceptance is None:
            return None
        expired = acceptance.is_expired(self.today)
        return Text(acceptance.describe(self.today), style=_STATUS_STYLE[EXPIRED if expired else APPROVED])

    def finding_of(self, record: Record) -> Finding:
        return self.by_fingerprint[record.ident]

    def full_cells(self, record: Record) -> tuple[Any, ...]:
        status = self.status(self.finding_of(record).fingerprint)
        return (Text(status, style=_STATUS_STYLE.get(status, "")), *record.cells)

    def passes(self, record: Record) -> bool:
        if not super().passes(record):
            return False
        severity = self.finding_of(record).severity
        return self.minimum is None or SEVERITIES.index(severity) <= SEVERITIES.index(self.minimum)

    def status_text(self) -> Text:
        text = super().status_text()
        if self.minimum is not None:
            text.append(f", {self.minimum} and above")
        if self.marked:
            text.append(f"  {len(self.marked)} marked for approval (w writes it)", style="bold")
        return text

    def action_cycle_severity(self) -> None:
        order: list[str | None] = [None, "high", "medium", "low"]
        self.minimum = order[(order.index(self.minimum) + 1) % len(order)] if self.minimum in order else None
        self.refresh_rows(self.current())

    def show_layer(self, position: int | None) -> None:
        """Only the findings of the layer at ``position`` (the group filter, `g` cycles on from it); the
        severity filter and search are cleared, so that all of them show."""
        self.group = f"layer {position}"
        self.minimum, self.needle = None, ""
        self.query_one(SearchInput).value = ""
        self.refresh_rows(self.current())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # Enter, or a click on the highlighted row: the table's own selection, taken as "show me".
        event.stop()
        self.action_jump()

    def action_toggle_raw_evidence(self) -> None:
        self.raw_evidence = not self.raw_evidence
        self.show_detail(self.table.cursor_row)

    def action_jump(self) -> None:
        record = self.current()
        if record is not None:
            self.post_message(self.Jump(self.finding_of(record)))

    def action_toggle_mark(self) -> None:
        record = self.current()
        if record is None:
            return
        fingerprint = self.finding_of(record).fingerprint
        self.marked ^= {fingerprint}
        row = self.table.cursor_row
        self.refresh_rows(record)
        if row + 1 < len(self.shown):
            self.table.move_cursor(row=row + 1)  # marking walks down the list, as in a mail reader

    def action_mark_all(self) -> None:
        self.marked |= {self.finding_of(record).fingerprint for record in self.shown}
        self.refresh_rows(self.current())

    def action_write_approval(self) -> None:
        if not self.marked:
            self.app.notify("Mark findings with a (or space) first; A marks all shown.", severity="warning")
            return
        self.post_message(self.ApprovalRequested(frozenset(self.marked)))

    def record_approved(self, fingerprints: Collection[str], acceptance: Acceptance) -> None:
        self.accepted.update(dict.fromkeys(fingerprints, acceptance))
        self.marked -= set(fingerprints)
        self.refresh_rows(self.current())
