"""The review app, driven with Textual's Pilot on a real report of the bundled example."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from layerdiff.tui.app import HelpScreen, ReviewApp
from tests.support.cli import assert_one_line_error, run
from tests.support.example import TARGET


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    result = run(
        "diff",
        str(TARGET / "airflow-base.tar"),
        str(TARGET / "airflow-extended.tar"),
        "--format",
        "json",
        "--no-cache",
        "--sbom",
        "none",
        "--fail-on",
        "high",
    )
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def drive(
    report: dict[str, Any],
    steps: Callable[[ReviewApp, Any], Awaitable[None]],
    size: tuple[int, int] = (80, 24),
) -> None:
    async def scenario() -> None:
        app = ReviewApp(report)
        async with app.run_test(size=size) as pilot:
            await steps(app, pilot)

    asyncio.run(scenario())


def detail_text(app: ReviewApp) -> str:
    return str(app.query_one("#detail-text", Static).render())


def test_opens_on_the_most_severe_finding_with_its_evidence(report: dict[str, Any]) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        table = app.query_one("#findings", DataTable)
        assert table.row_count == len(report["findings"])
        first = report["findings"][0]
        assert first["severity"] == "high"
        assert first["rule"] in detail_text(app) and first["fingerprint"] in detail_text(app)
        await pilot.press("j")
        assert report["findings"][1]["subject"] in detail_text(app)
        await pilot.press("k")
        assert first["subject"] in detail_text(app)

    drive(report, steps)


def test_severity_filter_and_search(report: dict[str, Any]) -> None:
    high = [f for f in report["findings"] if f["severity"] in ("critical", "high")]

    async def steps(app: ReviewApp, pilot: Any) -> None:
        table = app.query_one("#findings", DataTable)
        await pilot.press("s")
        assert table.row_count == len(high) and "high and above" in app.sub_title
        await pilot.press("slash")
        await pilot.press(*"pip", "enter")
        matching = [f for f in high if "pip" in f"{f['rule']} {f['subject']} {f['message']}".lower()]
        assert table.row_count == len(matching) >= 1
        await pilot.press("slash", *"no such thing", "enter")
        assert table.row_count == 0 and detail_text(app) == "No finding matches."

    drive(report, steps, size=(160, 48))


def test_help_screen(report: dict[str, Any]) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

    drive(report, steps)


def test_view_refuses_what_is_not_a_report(tmp_path: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert_one_line_error(run("view", str(bad)), 2, "not a layerdiff report")
