"""Saved reports are checked before `view` or `approve` reads them: bad ones are a one-line usage error."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from layerdiff.report.load import parse_report, report_problem
from layerdiff.report.model import load_schema
from tests.support.cli import assert_one_line_error, run

SAVED = Path(__file__).resolve().parents[1] / "data" / "review"
Report = dict[str, Any]


@pytest.fixture(scope="module")
def saved() -> Report:
    document: Report = json.loads((SAVED / "purge.json").read_text())
    return document


def test_saved_reports_pass(saved: Report) -> None:
    for path in sorted(SAVED.glob("*.json")):
        assert report_problem(json.loads(path.read_text())) is None, path
    assert parse_report((SAVED / "purge.json").read_text(), "purge.json").to_json() == saved


def test_a_report_of_schema_1_reads_as_the_same_report(saved: Report) -> None:
    """Schema 1 wrote every key of a file change, null or empty; 2 leaves those out and nothing else."""
    older = copy.deepcopy(saved)
    older["schema_version"] = "1.6.0"
    for change in older["file_changes"]:
        change.setdefault("fields", [])
        for side in ("before", "after"):
            state = change.setdefault(side, None)
            if state is not None:
                state.setdefault("link", None)
                state.setdefault("sha256", None)
                state.setdefault("xattrs", {})
    assert report_problem(older) is None
    read = parse_report(json.dumps(older), "older.json").to_json()
    assert read == {**saved, "schema_version": "1.6.0"}


def _without(key: str) -> Callable[[Report], None]:
    return lambda report: report.pop(key)


def _set_change(field: str, value: Any) -> Callable[[Report], None]:
    def mutate(report: Report) -> None:
        report["file_changes"][1][field] = value

    return mutate


def _without_sides(report: Report) -> None:
    for side in ("before", "after"):
        report["file_changes"][1].pop(side, None)


def _drop_state_field(name: str) -> Callable[[Report], None]:
    def mutate(report: Report) -> None:
        change = next(c for c in report["file_changes"] if c.get("after") is not None)
        del change["after"][name]

    return mutate


def _set_state(name: str, value: Any) -> Callable[[Report], None]:
    def mutate(report: Report) -> None:
        change = next(c for c in report["file_changes"] if c.get("after") is not None)
        change["after"][name] = value

    return mutate


# Each mutation, what the one-line message must name.
BROKEN: dict[str, tuple[Callable[[Report], None], str]] = {
    "no derived image": (_without("derived"), "'derived' is a required property"),
    "no findings": (_without("findings"), "'findings' is a required property"),
    "finding without severity": (
        lambda report: report["findings"][0].pop("severity"),
        "findings[0]: 'severity' is a required property",
    ),
    "other major version": (lambda report: report.update(schema_version="3.0.0"), "expected 2.x"),
    "file change of unknown kind": (_set_change("kind", "renamed"), "file_changes[1]: kind 'renamed'"),
    "file change path not a string": (_set_change("path", 7), "file_changes[1]: path"),
    "file change without before or after": (
        _without_sides,
        "file_changes[1]: before and after are both null",
    ),
    "file change layer as text": (_set_change("layer", "3"), "file_changes[1]: layer"),
    "entry without uid": (_drop_state_field("uid"), "missing uid"),
    "entry without mode": (_drop_state_field("mode"), "missing mode"),
    "changed fields not names": (_set_change("fields", [["size"]]), "file_changes[1]: fields"),
    "changed field unknown": (_set_change("fields", ["size\x1b[2J"]), "file_changes[1]: fields"),
    "path_hex not hex": (_set_change("path_hex", "zz"), "file_changes[1]: path_hex"),
    "mode with an escape": (
        _set_state("mode", "07\x1b5"),
        "mode four octal digits",
    ),
    "sha256 not a digest": (
        _set_state("sha256", "\x1b]0;x\x07" + "0" * 56),
        "sha256",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_reports_say_what_is_wrong(saved: Report, case: str) -> None:
    mutate, expected = BROKEN[case]
    report = copy.deepcopy(saved)
    mutate(report)
    problem = report_problem(report)
    assert problem is not None and expected in problem, problem
    # The fast check of file changes never accepts what the published schema rejects.
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, load_schema())


def test_a_saved_report_passes_the_output_boundary_again(saved: Report) -> None:
    """A report edited after layerdiff wrote it cannot smuggle an escape or a credential into the app."""
    report = copy.deepcopy(saved)
    report["findings"][0]["message"] = "look \x1b[2J\x1b]0;title\x07 https://ci:hunter2pw@host/x"
    report["file_changes"][1]["path"] = "/opt/\u202eevil"
    parsed = parse_report(json.dumps(report), "edited.json")
    assert parsed.findings[0].message == "look \\x1b[2J\\x1b]0;title\\x07 https://ci:<redacted>@host/x"
    assert parsed.file_changes[1].path == "/opt/\\u202eevil"
    assert bytes.fromhex(parsed.file_changes[1].path_hex or "").decode() == "/opt/\u202eevil"


@pytest.mark.parametrize(
    ("content", "expected"),
    [("{", "not JSON"), ("[1, 2]", "not a JSON object"), ('{"schema_version": "1.2.0"}', "file_changes")],
)
def test_view_and_approve_refuse_what_is_not_a_report(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "report.json"
    path.write_text(content)
    assert_one_line_error(run("view", str(path)), 2, expected)
    approve = run("approve", str(path), "--reviewer", "r", "--reason", "why")
    assert_one_line_error(approve, 2, expected)


def test_an_approval_record_is_named_for_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "approval.json"
    path.write_text(
        json.dumps({"_type": "https://in-toto.io/Statement/v1", "predicateType": "x", "subject": []})
    )
    assert_one_line_error(
        run("view", str(path)), 2, "an in-toto Statement (an approval record?), not a report"
    )


def test_a_missing_report_is_a_usage_error(tmp_path: Path) -> None:
    assert_one_line_error(run("view", str(tmp_path / "nowhere.json")), 2, "cannot read report")


def test_a_binary_file_is_not_a_report(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_bytes(b"\xff\xfe\x00binary")
    assert_one_line_error(run("view", str(path)), 2, "not JSON (not UTF-8 text)")


def test_documents_nested_too_deeply_are_one_line_errors(saved: Report, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    assert_one_line_error(run("view", str(deep)), 2, "nested too deeply")
    assert_one_line_error(
        run("approve", str(deep), "--reviewer", "r", "--reason", "x"), 2, "nested too deeply"
    )
    assert_one_line_error(run("sbom-diff", str(deep), str(deep)), 4, "nested more than 64 levels deep")
    evidence = copy.deepcopy(saved)
    value: Any = "bottom"
    for _ in range(500):  # what the parser accepts, but a recursive walk of the evidence would not
        value = [value]
    evidence["findings"][0]["evidence"] = {"x": value}
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(evidence))
    assert_one_line_error(run("view", str(path)), 2, "nested more than 64 levels deep")
