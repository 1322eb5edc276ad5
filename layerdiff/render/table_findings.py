"""Each finding as a block a person reads at 80 columns, as trivy and hadolint print theirs: a header line
(severity, rule, subject), then where it comes from, what it does and how to fix it, indented beneath.

    HIGH      runtime-user-lost-write  /opt/airflow/logs
      where   Dockerfile:12
              layer 5: RUN mkdir -p /opt/airflow/logs
      impact  /opt/airflow/logs was writable by the base's runtime user ...
      fix     Give the runtime user back its directories: ...
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from layerdiff.render.table_layout import FINDING_BLOCKS, head, print_more
from layerdiff.report.wire import Finding

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}
_INDENT = "  "


def print_findings(console: Console, findings: Sequence[Finding]) -> None:
    shown, hidden = head(findings, FINDING_BLOCKS)
    # One grid for all blocks, so that every block's labels and values line up with the others'.
    grid = Table.grid(padding=(0, 2, 0, 0))
    grid.add_column(overflow="fold")
    grid.add_column(overflow="fold")
    for number, finding in enumerate(shown):
        if number:
            grid.add_row()
        for label, value in _block(finding):
            grid.add_row(label, value)
    console.print(grid)
    print_more(console, hidden, "finding")


def _block(finding: Finding) -> list[tuple[Text, Text]]:
    """The rows of one finding: a (label, value) pair each."""
    header = Text.assemble((finding.rule, "bold"), "  ", finding.subject)
    rows = [(Text(finding.severity.upper(), style=SEVERITY_STYLE.get(finding.severity, "")), header)]
    where = _places(finding)
    rows += [(_label("where" if n == 0 else ""), Text(place)) for n, place in enumerate(where)]
    rows.append((_label("impact"), Text(finding.message)))
    if finding.remediation:
        rows.append((_label("fix"), Text(finding.remediation)))
    if finding.waived is not None:
        waiver = finding.waived
        until = f" (until {waiver.expires})" if waiver.expires else ""
        rows.append((_label("waived"), Text(f"{waiver.reason}{until}", style="dim")))
    return rows


def _places(finding: Finding) -> list[str]:
    """Where a finding comes from: its Dockerfile line when the report maps one, then its layer and
    instruction; nothing for a finding about the image as a whole."""
    found = []
    location = finding.dockerfile
    if location is not None:
        guess = {"likely": " (likely)", "none": " (no instruction matched: the FROM line)"}
        found.append(f"{location.path}:{location.line}{guess.get(location.confidence, '')}")
    if finding.layer is not None:
        found.append(f"layer {finding.layer}" + (f": {finding.instruction}" if finding.instruction else ""))
    elif finding.instruction:
        found.append(finding.instruction)
    return found


def _label(text: str) -> Text:
    return Text(_INDENT + text if text else "", style="dim")
