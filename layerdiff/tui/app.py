"""Review a finished report: the verdict and both images at a glance, the findings in a filterable table,
and the evidence of the highlighted finding beside it."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Input, Static

SEVERITIES = ("critical", "high", "medium", "low", "info")
_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
HELP = """\
Keys
  up/down, j/k   move through findings
  /              search rule, subject and message (Enter to apply, Esc to leave)
  s              severity filter: all, then high and above, medium and above, ...
  ?              this help
  q              quit
"""


def overview(report: dict[str, Any]) -> Text:
    verdict = report["verdict"]
    counts = "  ".join(f"{verdict['counts'][s]} {s}" for s in SEVERITIES)
    threshold = f" (fail on {verdict['fail_on']})" if verdict["fail_on"] else ""
    text = Text()
    text.append(
        f"{verdict['status'].upper()}{threshold}",
        style="bold red" if verdict["status"] == "fail" else "bold green",
    )
    text.append(f"   {counts}\n")
    for side in ("base", "derived"):
        image = report[side]
        text.append(f"{side:8}", style="bold")
        text.append(
            f"{image['reference']}  {image['image_id'][:19]}  {len(image['layers'])} layers  "
            f"USER {image['user'] or '(root)'}\n"
        )
    return text


def detail(finding: dict[str, Any]) -> Text:
    text = Text()
    text.append(f"{finding['severity'].upper()} {finding['rule']}\n", style=_STYLE[finding["severity"]])
    text.append(f"{finding['title']}\n", style="bold")
    text.append(f"{finding['subject']}\n\n")
    text.append(f"{finding['message']}\n\n")
    if finding["instruction"]:
        text.append("instruction: ", style="bold")
        text.append(f"layer {finding['layer']}: {finding['instruction']}\n\n")
    text.append("evidence\n", style="bold")
    text.append(json.dumps(finding["evidence"], indent=2, sort_keys=True) + "\n\n")
    text.append("fix: ", style="bold")
    text.append(f"{finding['remediation']}\n")
    text.append(f"doc: {finding['doc']}   fingerprint: {finding['fingerprint']}\n", style="dim")
    if finding.get("waived"):
        text.append(f"waived: {finding['waived']['reason']}\n", style="green")
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        yield Static(HELP, id="help")


class ReviewApp(App[None]):
    TITLE = "layerdiff"
    CSS = """
    #overview { height: auto; padding: 0 1; }
    #search { display: none; }
    #search.visible { display: block; }
    #findings { width: 3fr; }
    #detail { width: 2fr; padding: 0 1; border-left: solid $accent; }
    #help { width: 60; height: auto; padding: 1 2; border: solid $accent; background: $surface; }
    HelpScreen { align: center middle; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("slash", "search", "search"),
        Binding("s", "cycle_severity", "severity"),
        Binding("question_mark", "help", "help"),
        Binding("j", "cursor_down", "down", show=False),
        Binding("k", "cursor_up", "up", show=False),
    ]

    def __init__(self, report: dict[str, Any]) -> None:
        super().__init__()
        self.report = report
        self.minimum: str | None = None  # severity filter: this and above
        self.query_text = ""
        self.shown: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(overview(self.report), id="overview")
        yield Input(placeholder="search rule, subject, message", id="search")
        with Horizontal():
            yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="detail"):
                yield Static(id="detail-text")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#findings", DataTable)
        table.add_columns("severity", "rule", "subject", "layer")
        self.refresh_findings()
        table.focus()

    def refresh_findings(self) -> None:
        table = self.query_one("#findings", DataTable)
        table.clear()
        allowed = SEVERITIES[: SEVERITIES.index(self.minimum) + 1] if self.minimum else SEVERITIES
        needle = self.query_text.lower()
        self.shown = [
            f
            for f in self.report["findings"]
            if f["severity"] in allowed
            and (not needle or needle in f"{f['rule']} {f['subject']} {f['message']}".lower())
        ]
        for finding in self.shown:
            table.add_row(
                Text(
                    finding["severity"] + (" (waived)" if finding.get("waived") else ""),
                    style=_STYLE[finding["severity"]],
                ),
                finding["rule"],
                finding["subject"],
                "" if finding["layer"] is None else str(finding["layer"]),
            )
        label = f"{len(self.shown)} of {len(self.report['findings'])} findings"
        if self.minimum:
            label += f", {self.minimum} and above"
        if needle:
            label += f", matching {self.query_text!r}"
        self.sub_title = label
        self.show_detail(0)

    def show_detail(self, row: int) -> None:
        pane = self.query_one("#detail-text", Static)
        if 0 <= row < len(self.shown):
            pane.update(detail(self.shown[row]))
        else:
            pane.update("No findings to show." if not self.report["findings"] else "No finding matches.")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail(event.cursor_row)

    def action_cursor_down(self) -> None:
        self.query_one("#findings", DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        self.query_one("#findings", DataTable).action_cursor_up()

    def action_cycle_severity(self) -> None:
        order: list[str | None] = [None, "high", "medium", "low", "info"]
        self.minimum = order[(order.index(self.minimum) + 1) % len(order)]
        self.refresh_findings()

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        search.add_class("visible")
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_text = event.value.strip()
        event.input.remove_class("visible")
        self.refresh_findings()
        self.query_one("#findings", DataTable).focus()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
