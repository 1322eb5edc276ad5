"""The review app's detail pane and approval form, driven with Textual's Pilot: J scrolls the whole way,
subjects keep their start and end, and the form starts where input is missing and keeps its draft."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from layerdiff.approval import read_approval
from layerdiff.report.wire import Report
from layerdiff.signing import load_signer
from layerdiff.tui.app import ReviewApp
from layerdiff.tui.approve import ApprovalScreen
from layerdiff.tui.findings import FindingsPane
from tests.support.example import example_report
from tests.support.keys import make_key_pair, needs_openssl
from tests.unit.test_tui import drive, earlier_approval, findings_table


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


def form_of(app: ReviewApp) -> ApprovalScreen:
    form = app.screen
    assert isinstance(form, ApprovalScreen)
    return form


def field(form: ApprovalScreen, name: str) -> Input:
    return form.query_one(f"#{name}", Input)


def test_the_form_starts_on_the_first_empty_required_field(report: Report, tmp_path: Path) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("a", "w")
        await pilot.pause()
        form = form_of(app)
        assert field(form, "reviewer").value == "" and app.focused is field(form, "reviewer")
        await pilot.press(*"dana", "tab")
        assert app.focused is field(form, "reason")

    drive(ReviewApp(report, reviewer="", approval_output=tmp_path / "a.json"), steps)

    async def prefilled(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("a", "w")
        await pilot.pause()
        assert app.focused is field(form_of(app), "reason")  # the reviewer is given: the reason is next

    drive(ReviewApp(report, reviewer="dana", approval_output=tmp_path / "a.json"), prefilled)


def test_cancel_keeps_the_draft_for_the_session(report: Report, tmp_path: Path) -> None:
    output = tmp_path / "kept.json"

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("a", "w")
        await pilot.pause()
        await pilot.press(*"half written")
        field(form_of(app), "expires").value = "2099-12-31"
        await pilot.press("escape")
        assert not isinstance(app.screen, ApprovalScreen)
        await pilot.press("w")
        await pilot.pause()
        form = form_of(app)
        assert field(form, "reason").value == "half written" and field(form, "expires").value == "2099-12-31"
        await pilot.click("#cancel")  # the button keeps it too
        await pilot.press("w")
        await pilot.pause()
        form = form_of(app)
        assert field(form, "reason").value == "half written"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ApprovalScreen) and output.exists()
        await pilot.press("j", "a", "w")  # written: the next record asks for its own reason
        await pilot.pause()
        form = form_of(app)
        assert field(form, "reason").value == "" and field(form, "reviewer").value == "erin"

    drive(ReviewApp(report, reviewer="erin", approval_output=output), steps)
    assert read_approval(output.read_text(), str(output)).reason == "half written"


def test_the_reviewer_comes_from_the_earlier_record(report: Report, tmp_path: Path) -> None:
    approval = earlier_approval(report, {report.findings[0].fingerprint}, expires=None)

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("j", "a", "w")
        await pilot.pause()
        assert field(form_of(app), "reviewer").value == "erin"

    drive(ReviewApp(report, approval=approval, approval_output=tmp_path / "a.json"), steps)


def test_the_form_lists_exactly_the_fingerprints_the_record_accepts(report: Report, tmp_path: Path) -> None:
    first, second, third = report.findings[:3]
    # the earlier record approved a finding this report no longer has: it cannot be accepted again
    approval = earlier_approval(report, {first.fingerprint, "0" * 32}, expires=None)
    output = tmp_path / "exact.json"

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("j", "a", "a", "w")
        await pilot.pause()
        form = form_of(app)
        listing = str(form.query_one("#approval-accepts Static", Static).render())
        assert "the record accepts these 3 fingerprints" in listing and "0" * 32 not in listing
        for finding in (first, second, third):
            assert f"{finding.fingerprint}  {finding.rule}" in listing
        assert listing.count("(renewed)") == 1
        assert "unsigned" in str(form.query_one("#approval-signing", Static).render())
        field(form, "reason").value = "exact"
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ApprovalScreen)

    drive(ReviewApp(report, approval=approval, approval_output=output), steps)
    accepted = read_approval(output.read_text(), str(output)).accepted
    assert accepted == {first.fingerprint, second.fingerprint, third.fingerprint}


@needs_openssl
def test_the_form_names_the_key_it_signs_with(report: Report, tmp_path: Path) -> None:
    pair = make_key_pair(tmp_path, "ed25519", "alice")
    signer = load_signer(pair.private.read_bytes(), None, str(pair.private))

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("a", "w")
        await pilot.pause()
        signing = str(form_of(app).query_one("#approval-signing", Static).render())
        assert f"signed with {signer.keyid}" in signing

    drive(ReviewApp(report, reviewer="alice", approval_output=tmp_path / "s.json", signer=signer), steps)
