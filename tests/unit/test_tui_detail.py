"""The review app's detail pane and approval form, driven with Textual's Pilot: J scrolls the whole way,
subjects keep their start and end, and the form starts where input is missing and keeps its draft."""

from __future__ import annotations

from typing import Any

import pytest
from textual.containers import VerticalScroll

from layerdiff.report.wire import Report
from layerdiff.tui.app import ReviewApp
from layerdiff.tui.findings import FindingsPane
from tests.support.example import example_report
from tests.unit.test_tui import drive, findings_table


@pytest.fixture(scope="module")
def report() -> Report:
    return Report.from_json(example_report("--fail-on", "high"))


def test_fast_shift_j_repeats_scroll_the_detail_to_its_end(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        detail = app.query_one("#findings-pane .detail", VerticalScroll)
        assert detail.max_scroll_y > 6
        pane = app.query_one(FindingsPane)
        presses = detail.max_scroll_y // 3 + 2
        for _ in range(presses):  # key repeat: every J arrives before the screen refreshes
            pane.action_scroll_detail(3)
        await pilot.pause()
        assert detail.scroll_y == detail.max_scroll_y
        for _ in range(presses):
            pane.action_scroll_detail(-3)
        await pilot.pause()
        assert detail.scroll_y == 0
        await pilot.press("J", "J")  # and as keys
        assert detail.scroll_y == 6

    drive(ReviewApp(report), steps)


def test_subjects_keep_their_start_and_end_at_any_width(report: Report) -> None:
    for size in ((80, 24), (160, 48)):

        async def steps(app: ReviewApp, pilot: Any) -> None:
            table = findings_table(app)
            for row, finding in enumerate(report.findings):
                shown = table.get_row_at(row)[3].plain
                if shown != finding.subject:
                    start, end = shown.split("…")
                    assert start and finding.subject.startswith(start) and finding.subject.endswith(end)

        drive(ReviewApp(report), steps, size=size)
