"""SVG snapshots of every screen of the review app at 80x24 and 160x48 (pytest-textual-snapshot).

After an intended change of the app's look: `.venv/bin/pytest tests/unit/test_tui_snapshots.py
--snapshot-update`, then review the changed SVGs under __snapshots__/ before committing them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from layerdiff.report.model import load_schema
from layerdiff.report.wire import Report
from layerdiff.tui.app import ReviewApp

REPORTS = Path(__file__).resolve().parents[1] / "data" / "review"
SIZES = [(80, 24), (160, 48)]

# screen -> (saved report, keys that lead there)
SCREENS: dict[str, tuple[str, list[str]]] = {
    "overview": ("purge", ["1"]),
    "findings": ("example", []),
    "findings-filtered": ("example", ["s", "o", "o", "o", "j"]),
    "files": ("example", ["3"]),
    "files-removed-only": ("example", ["3", "a", "m", "t", "j", "j"]),
    "files-layer-own": ("example", ["3", "tab", "up"]),
    "files-layer-up-to": ("example", ["3", "tab", "up", "u"]),
    "packages": ("purge", ["4"]),
    "libraries": ("purge", ["5"]),
    "python": ("example", ["6"]),
    "config": ("example", ["7"]),
    "help": ("example", ["question_mark"]),
    "approval-form": ("example", ["s", "A", "w"]),
    "evidence-json": ("example", ["r"]),
    "evidence-library-zoomed": ("purge", ["z", "J", "J", "J"]),
}


def load(name: str) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((REPORTS / f"{name}.json").read_text())
    return report


@pytest.mark.parametrize("name", ["example", "purge"])
def test_saved_reports_match_the_current_schema(name: str) -> None:
    """Snapshots render saved reports; when this fails, regenerate them (tests/support/review_reports.py)."""
    jsonschema.validate(load(name), load_schema())


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(
    snap_compare: Any, screen: str, size: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(
        "NO_COLOR", raising=False
    )  # the snapshots are in colour, whatever the caller's terminal
    report, keys = SCREENS[screen]
    app = ReviewApp(
        Report.from_json(load(report)), reviewer="reviewer", approval_output=Path("approval.json")
    )
    assert snap_compare(app, press=keys, terminal_size=size)
