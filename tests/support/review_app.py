"""Everything the review app shows of a report, read with textual's Pilot: each tab's screen and table
cells, then each finding's detail pane."""

from __future__ import annotations

import asyncio
import html

from layerdiff.report.wire import Report


def shown_by_the_review_app(report: Report) -> list[str]:
    from textual.widgets import DataTable

    from layerdiff.tui.app import ReviewApp

    shown: list[str] = []

    async def scenario() -> None:
        async with ReviewApp(report).run_test(size=(160, 60)) as pilot:
            await pilot.pause()
            for key in "1234567":
                await pilot.press(key)
                await pilot.pause()
                shown.append(html.unescape(pilot.app.export_screenshot()))
                for table in pilot.app.query(DataTable):
                    shown.extend(
                        str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)
                    )
            await pilot.press("2")
            for _ in report.findings:  # each finding's detail pane
                await pilot.press("down")
                await pilot.pause()
                shown.append(html.unescape(pilot.app.export_screenshot()))

    asyncio.run(scenario())
    return shown
