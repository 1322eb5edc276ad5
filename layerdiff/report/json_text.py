"""The report's JSON text, made a file change at a time.

The text is what ``json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False)`` gives, byte
for byte. But the file changes, a large report's bulk, are encoded one at a time, so that the whole document
never exists as Python objects at once: for a million file changes that took 2.8 GB on top of the report.
Each change's text is indented to its place in the document (JSON strings hold no raw newline, so every
newline in it is a line break of the layout).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from layerdiff.report.wire import Inspection, Report

# Where the file changes go in the rest of the document's text: a top-level key, two spaces in.
_KEY = '\n  "file_changes": '
_ITEM_BREAK = "\n    "  # a file change's lines, four spaces in (the list's, two more)


def _text(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def report_text(report: Report | Inspection) -> str:
    """The JSON text of a report (or an inspection): sorted keys, two-space indent, a final newline."""
    if not isinstance(report, Report) or not report.file_changes:
        return _text(report.to_json()) + "\n"
    rest = _text(dataclasses.replace(report, file_changes=()).to_json())
    empty = _KEY + "[]"
    head, found, tail = rest.partition(empty)
    assert found and empty not in tail  # a top-level key appears once
    parts = [head, _KEY, "[", _ITEM_BREAK]
    for number, change in enumerate(report.file_changes):
        if number:
            parts.append("," + _ITEM_BREAK)
        parts.append(_text(change.to_json()).replace("\n", _ITEM_BREAK))
    parts += ["\n  ]", tail, "\n"]
    return "".join(parts)
