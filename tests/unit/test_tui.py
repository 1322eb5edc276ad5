"""The review app, driven with Textual's Pilot on a real report of the bundled example."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from layerdiff.approval import Approval, read_approval
from layerdiff.report.wire import Report, Waiver
from layerdiff.signing import load_public_key, load_signer
from layerdiff.tui.app import HelpScreen, ReviewApp
from layerdiff.tui.approve import ApprovalForm, ApprovalScreen, parse_form
from layerdiff.tui.files import FilesPane
from layerdiff.tui.findings import FindingsPane
from tests.support.cli import assert_one_line_error, run
from tests.support.example import TARGET, example_report
from tests.support.keys import make_key_pair, needs_openssl


@pytest.fixture(scope="module")
def report() -> Report:
    return Report.from_json(example_report("--fail-on", "high"))


def drive(
    app: ReviewApp,
    steps: Callable[[ReviewApp, Any], Awaitable[None]],
    size: tuple[int, int] = (80, 24),
) -> None:
    async def scenario() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(app, pilot)

    asyncio.run(scenario())


def findings_table(app: ReviewApp) -> DataTable[Any]:
    return app.query_one("#findings-pane .records", DataTable)


def detail_text(app: ReviewApp, pane: str = "findings") -> str:
    return str(app.query_one(f"#{pane}-pane .detail-text", Static).render())


def test_opens_on_the_most_severe_finding_with_its_evidence(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        assert app.query_one(TabbedContent).active == "findings"
        assert findings_table(app).row_count == len(report.findings)
        first = report.findings[0]
        assert first.severity == "high"
        assert first.rule in detail_text(app) and first.fingerprint in detail_text(app)
        await pilot.press("j")
        assert report.findings[1].subject in detail_text(app)
        await pilot.press("k")
        assert first.subject in detail_text(app)

    drive(ReviewApp(report), steps)


def test_severity_filter_search_and_sort(report: Report) -> None:
    high = [f for f in report.findings if f.severity in ("critical", "high")]

    async def steps(app: ReviewApp, pilot: Any) -> None:
        table = findings_table(app)
        status = app.query_one("#findings-pane .status", Static)
        await pilot.press("s")
        assert table.row_count == len(high) and "high and above" in str(status.render())
        await pilot.press("slash", *"pip", "enter")
        matching = [f for f in high if "pip" in f"{f.rule} {f.subject} {f.message}".lower()]
        assert table.row_count == len(matching) >= 1
        await pilot.press("escape")  # in the table, Escape clears the search too
        assert table.row_count == len(high)
        await pilot.press("slash", *"no such thing", "enter")
        assert table.row_count == 0 and detail_text(app) == "No findings match."
        await pilot.press("slash", "escape", "s", "s", "s")  # clear the search; severity back to all
        assert table.row_count == len(report.findings)
        await pilot.press("o", "o", "o")  # sort by rule
        rules = [str(table.get_row_at(row)[2]) for row in range(table.row_count)]
        assert rules == sorted(rules) and "sorted by rule" in str(status.render())

    drive(ReviewApp(report), steps, size=(160, 48))


def test_number_keys_switch_tabs_and_focus_their_table(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        tabs = app.query_one(TabbedContent)
        for key, tab in [
            ("1", "overview"),
            ("7", "config"),
            ("6", "python"),
            ("3", "files"),
            ("2", "findings"),
        ]:
            await pilot.press(key)
            await pilot.pause()
            assert tabs.active == tab
        await pilot.press("7")
        await pilot.pause()
        assert app.focused is app.query_one("#config-pane .records", DataTable)
        assert "PATH" in detail_text(app, "config")

    drive(ReviewApp(report), steps)


def test_clicking_a_tab_and_a_row(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.click("#--content-tab-python")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "python"
        table = app.query_one("#python-pane .records", DataTable)
        await pilot.click(table, offset=(2, 3))  # header, then the third row
        await pilot.pause()
        assert table.cursor_row == 2

    drive(ReviewApp(report), steps, size=(160, 48))


@pytest.mark.parametrize(
    ("rule", "tab", "expect"),
    [
        ("runtime-user-lost-write", "files", "/opt/airflow/logs"),
        ("python-requirement-broken", "python", "responses"),
        ("path-command-shadowed", "config", "command python3"),
    ],
)
def test_enter_jumps_from_a_finding_to_what_it_concerns(
    report: Report, rule: str, tab: str, expect: str
) -> None:
    row = next(i for i, f in enumerate(report.findings) if f.rule == rule)

    async def steps(app: ReviewApp, pilot: Any) -> None:
        findings_table(app).move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == tab
        if tab == "files":
            node = app.query_one(FilesPane).tree_view.current
            assert node is not None and node.path == expect
        else:
            assert expect in detail_text(app, tab)

    drive(ReviewApp(report), steps)


def test_approving_marked_findings_writes_the_record_approve_writes(report: Report, tmp_path: Path) -> None:
    output = tmp_path / "approval.json"
    high = [f.fingerprint for f in report.findings if f.severity == "high"]

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("w")  # nothing marked yet: a warning, no form
        assert not isinstance(app.screen, ApprovalScreen)
        await pilot.press("s", "A")  # high and above, mark all shown
        pane = app.query_one(FindingsPane)
        assert pane.marked == set(high)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press(*"accepted in review", "enter")  # reason first; reviewer is prefilled
        await pilot.pause()
        assert not isinstance(app.screen, ApprovalScreen)
        assert pane.approved == set(high) and not pane.marked
        assert "approved" in str(findings_table(app).get_row_at(0)[0])

    drive(ReviewApp(report, reviewer="alice", approval_output=output), steps)
    statement = json.loads(output.read_text())
    approval = read_approval(output.read_text(), str(output))
    assert approval.accepted == frozenset(high) and approval.reviewer == "alice"
    assert statement["predicate"]["reason"] == "accepted in review"
    assert approval.derived_image_id == report.derived.image_id


@needs_openssl
def test_the_approval_form_signs_with_the_key_it_was_given(report: Report, tmp_path: Path) -> None:
    pair = make_key_pair(tmp_path, "ed25519", "alice")
    signer = load_signer(pair.private.read_bytes(), None, str(pair.private))
    output = tmp_path / "signed.json"

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("s", "A", "w")
        await pilot.pause()
        await pilot.press(*"signed in review", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, ApprovalScreen)

    drive(ReviewApp(report, reviewer="alice", approval_output=output, signer=signer), steps)
    trusted = load_public_key(pair.public.read_bytes(), "alice", str(pair.public))
    approval = read_approval(output.read_text(), str(output), [trusted])
    assert approval.signature == "verified" and approval.keyid == signer.keyid
    assert approval.accepted == {f.fingerprint for f in report.findings if f.severity == "high"}


def test_an_earlier_approval_shows_and_is_kept(report: Report, tmp_path: Path) -> None:
    earlier = report.findings[0].fingerprint
    output = tmp_path / "again.json"

    async def steps(app: ReviewApp, pilot: Any) -> None:
        assert "approved" in str(findings_table(app).get_row_at(0)[0])
        await pilot.press("j", "a", "w")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ApprovalScreen)
        form.query_one("#reason", Input).value = "second look"
        await pilot.press("enter")
        await pilot.pause()

    approval = earlier_approval(report, {earlier}, expires=None)
    drive(ReviewApp(report, approval=approval, reviewer="bob", approval_output=output), steps)
    accepted = read_approval(output.read_text(), str(output)).accepted
    assert accepted == {earlier, report.findings[1].fingerprint}


def earlier_approval(report: Report, fingerprints: set[str], expires: date | None) -> Approval:
    return Approval(
        derived_image_id=report.derived.image_id,
        base_image_id=report.base.image_id,
        base_reference=report.base.reference,
        accepted=frozenset(fingerprints),
        policy_digest=None,
        reviewer="erin",
        reason="reviewed last quarter",
        expires=expires,
    )


def test_an_expired_approval_shows_as_expired_and_is_not_carried_over(report: Report, tmp_path: Path) -> None:
    first, second = (f.fingerprint for f in report.findings[:2])
    output = tmp_path / "renewed.json"

    async def steps(app: ReviewApp, pilot: Any) -> None:
        assert str(findings_table(app).get_row_at(0)[0]) == "expired"
        assert "approved by erin, expired on 2020-01-31" in detail_text(app)
        assert "expired on 2020-01-31" in str([n.message for n in app._notifications])
        await pilot.press("j", "a", "w")
        await pilot.pause()
        app.screen.query_one("#reason", Input).value = "renewed"
        await pilot.press("enter")
        await pilot.pause()

    approval = earlier_approval(report, {first}, expires=date(2020, 1, 31))
    drive(ReviewApp(report, approval=approval, reviewer="bob", approval_output=output), steps)
    assert read_approval(output.read_text(), str(output)).accepted == {second}


def fill_form(app: ReviewApp, **values: str) -> ApprovalScreen:
    form = app.screen
    assert isinstance(form, ApprovalScreen)
    for name, value in values.items():
        form.query_one(f"#{name}", Input).value = value
    return form


def form_error(form: ApprovalScreen) -> str:
    return str(form.query_one("#approval-error", Static).render())


def test_the_form_stays_open_with_what_was_typed_when_the_record_cannot_be_written(
    report: Report, tmp_path: Path
) -> None:
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report.to_json()))
    existing = tmp_path / "existing.json"
    existing.write_text("keep me")

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("a", "w")
        await pilot.pause()
        form = fill_form(app, reason="ok for now", expires="2020-01-01", output=str(tmp_path / "a.json"))
        await pilot.press("enter")
        assert "is in the past" in form_error(form) and app.screen is form
        form = fill_form(app, expires="", output="/proc/no/such/approval.json")
        await pilot.press("enter")
        assert "cannot write /proc/no/such/approval.json" in form_error(form) and app.screen is form
        assert form.query_one("#reason", Input).value == "ok for now"
        form = fill_form(app, output=str(saved))
        await pilot.press("enter")
        assert "is the report under review" in form_error(form) and app.screen is form
        form = fill_form(app, output=str(existing))
        await pilot.press("enter")
        assert "exists: Enter again replaces it" in form_error(form) and app.screen is form
        assert existing.read_text() == "keep me"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is not form

    drive(ReviewApp(report, reviewer="dan", report_path=saved), steps)
    assert read_approval(existing.read_text(), str(existing)).reviewer == "dan"
    assert json.loads(saved.read_text()) == report.to_json()


def test_the_form_says_what_is_missing() -> None:
    assert parse_form("", "why", "", "a.json") == "a reviewer is required"
    assert parse_form("me", " ", "", "a.json") == "a reason is required"
    assert parse_form("me", "why", "tomorrow", "a.json") == "expires 'tomorrow': expected YYYY-MM-DD"
    form = parse_form(" me ", "why", "2027-01-31", "out/a.json")
    assert isinstance(form, ApprovalForm) and form.reviewer == "me" and str(form.expires) == "2027-01-31"


def test_help_screen(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)

    drive(ReviewApp(report), steps)


def test_view_refuses_what_is_not_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert_one_line_error(run("view", str(bad)), 2, "not a layerdiff diff report")


def test_view_refuses_an_approval_for_another_image(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report.to_json()))
    other = replace(report, derived=replace(report.derived, image_id="sha256:" + "1" * 64))
    approval = tmp_path / "approval.json"
    (tmp_path / "other.json").write_text(json.dumps(other.to_json()))
    made = run(
        "approve", str(tmp_path / "other.json"), "--reviewer", "a", "--reason", "b", "-o", str(approval)
    )
    assert made.code == 0, made.stderr
    assert_one_line_error(run("view", str(path), "--approval", str(approval)), 2, "approves sha256:1111")


def test_diff_tui_excludes_format(report: Report) -> None:
    result = run(
        "diff",
        str(TARGET / "airflow-base.tar"),
        str(TARGET / "airflow-extended.tar"),
        "--tui",
        "--format",
        "json",
    )
    assert_one_line_error(result, 2, "--tui shows the report in the terminal")


def test_the_app_reads_reports_only() -> None:
    """Importing the app loads neither the Docker SDK, the image sources nor the syft runner."""
    code = (
        "import sys, layerdiff.tui.app; "
        "print(sorted(m for m in sys.modules if m == 'docker' or m.startswith("
        "('layerdiff.sources', 'layerdiff.sbom', 'layerdiff.index', 'layerdiff.pipeline'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_app_without_a_terminal_is_a_usage_error(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report.to_json()))
    assert_one_line_error(run("view", str(path)), 2, "the review app needs a terminal")


def test_findings_waived_by_policy_say_so(report: Report) -> None:
    waiver = Waiver(rule="ownership-changed", subject="/opt/airflow/logs", reason="OPS-7", expires=None)
    waived = replace(
        report,
        findings=tuple(replace(f, waived=waiver) if f.rule == waiver.rule else f for f in report.findings),
    )
    row = next(i for i, f in enumerate(waived.findings) if f.waived)

    async def steps(app: ReviewApp, pilot: Any) -> None:
        table = findings_table(app)
        assert str(table.get_row_at(row)[0]) == "waived"
        table.move_cursor(row=row)
        await pilot.pause()
        assert "waived by policy: OPS-7" in detail_text(app)

    drive(ReviewApp(waived), steps)


def test_g_filters_findings_by_the_layer_that_caused_them(report: Report) -> None:
    layers = sorted({f.layer for f in report.findings if f.layer is not None})

    async def steps(app: ReviewApp, pilot: Any) -> None:
        table = findings_table(app)
        await pilot.press("g")  # "config": findings with no layer come first
        assert table.row_count == sum(1 for f in report.findings if f.layer is None)
        await pilot.press("g")
        assert table.row_count == sum(1 for f in report.findings if f.layer == layers[0])
        assert f"from layer {layers[0]}" in str(app.query_one("#findings-pane .status", Static).render())

    drive(ReviewApp(report), steps)


def test_every_column_fits_the_terminal_and_refits_on_resize(report: Report) -> None:
    def widths(table: DataTable[Any]) -> list[int]:
        return [column.get_render_width(table) for column in table.columns.values()]

    async def steps(app: ReviewApp, pilot: Any) -> None:
        table = findings_table(app)
        await pilot.pause()
        narrow = widths(table)
        assert sum(narrow) <= table.size.width  # the layer column is on screen at 80 columns
        assert [str(column.label) for column in table.columns.values()][-1] == "layer"
        await pilot.resize_terminal(200, 48)
        await pilot.pause()
        wide = widths(table)
        assert sum(wide) <= table.size.width and sum(wide) > sum(narrow)

    drive(ReviewApp(report), steps)


def test_home_end_move_the_cursor_and_shift_jk_scroll_the_detail(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        table = findings_table(app)
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0
        detail = app.query_one("#findings-pane .detail")
        assert detail.max_scroll_y > 0  # 80x24 shows only the start of a finding's detail
        await pilot.press("J", "J")
        assert detail.scroll_y == 6
        await pilot.press("K")
        assert detail.scroll_y == 3
        await pilot.press("j")  # another finding's detail starts at its top
        assert detail.scroll_y == 0

    drive(ReviewApp(report), steps)


def test_z_zooms_the_detail_pane(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        detail = app.query_one("#findings-pane .detail")
        usual = detail.size.height
        await pilot.press("z")
        await pilot.pause()
        assert detail.size.height > usual * 1.5
        await pilot.press("z")
        await pilot.pause()
        assert detail.size.height == usual

    drive(ReviewApp(report), steps)


def notices(app: ReviewApp) -> str:
    return " | ".join(str(notification.message) for notification in app._notifications)


def test_quitting_with_unwritten_marks_warns_once(report: Report) -> None:
    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("a", "q")
        await pilot.pause()
        assert app.is_running and "1 finding marked but not written" in notices(app)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(ReviewApp(report), steps)


def test_report_warnings_are_announced_on_the_first_screen(report: Report) -> None:
    warned = replace(report, warnings=("syft not found: no SBOM", "layer 4: duplicate entry /a"))

    async def steps(app: ReviewApp, pilot: Any) -> None:
        assert "The report has 2 warnings: see Overview (1)." in notices(app)

    drive(ReviewApp(warned), steps)


def test_renewing_earlier_approvals_is_said_and_keeps_their_earliest_expiry(
    report: Report, tmp_path: Path
) -> None:
    first = report.findings[0].fingerprint
    later = date.today().replace(year=date.today().year + 1)

    async def steps(app: ReviewApp, pilot: Any) -> None:
        await pilot.press("j", "a", "w")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, ApprovalScreen)
        title = str(form.query_one(Static).render())
        assert "Approve 1 finding" in title and "renew 1 approved before" in title
        assert form.query_one("#expires", Input).value == later.isoformat()

    approval = earlier_approval(report, {first}, expires=later)
    drive(ReviewApp(report, approval=approval, approval_output=tmp_path / "a.json"), steps)
