"""The report's JSON text made a file change at a time is, byte for byte, the whole document's dumps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.synthetic import synthetic_changes, synthetic_report
from layerdiff.report.json_text import report_text
from layerdiff.report.wire import Report

SAVED = Path(__file__).resolve().parents[1] / "data" / "review"


def whole(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", ["example.json", "purge.json"])
def test_a_saved_report_gives_the_same_text(name: str) -> None:
    report = Report.from_json(json.loads((SAVED / name).read_text()))
    assert report.file_changes
    assert report_text(report) == whole(report)


def test_odd_paths_and_many_changes_give_the_same_text() -> None:
    document: dict[str, Any] = synthetic_report(synthetic_changes(2000, seed=3))
    odd = dict(document["file_changes"][0])
    odd.update(path='/opt/caf\u00e9/\u65e5\u672c/\\x80name "quoted"\n', path_hex="2f6f7074")
    document["file_changes"][0] = odd
    report = Report.from_json(document)
    assert report_text(report) == whole(report)


def test_a_report_without_file_changes_is_the_plain_dumps() -> None:
    report = Report.from_json(json.loads((SAVED / "example.json").read_text()))
    empty = Report.from_json({**report.to_json(), "file_changes": []})
    assert report_text(empty) == whole(empty)
    assert '"file_changes": []' in report_text(empty)
