"""The report's JSON text, made a file change at a time, is the whole document's dumps with each file change
on one compact line (schema 2), byte for byte, and it is handed out in bounded pieces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.synthetic import synthetic_changes, synthetic_report
from layerdiff.report.json_text import report_pieces, report_text
from layerdiff.report.wire import Report

SAVED = Path(__file__).resolve().parents[1] / "data" / "review"


def whole(report: Report) -> str:
    document = report.to_json()
    if not document["file_changes"]:
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    marker = "\0"  # no other string of a report holds a NUL as it is: the boundary escapes it
    rest = json.dumps({**document, "file_changes": [marker]}, indent=2, sort_keys=True, ensure_ascii=False)
    lines = ",\n    ".join(
        json.dumps(change, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        for change in document["file_changes"]
    )
    return rest.replace(json.dumps(marker), lines) + "\n"


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
    assert json.loads(report_text(report)) == report.to_json()
    pieces = list(report_pieces(report))
    assert len(pieces) > 1 and max(map(len, pieces[1:-1])) < 70_000  # the first and last hold the rest
    assert "".join(pieces) == report_text(report)


def test_a_report_without_file_changes_is_the_plain_dumps() -> None:
    report = Report.from_json(json.loads((SAVED / "example.json").read_text()))
    empty = Report.from_json({**report.to_json(), "file_changes": []})
    assert report_text(empty) == whole(empty)
    assert '"file_changes": []' in report_text(empty)
