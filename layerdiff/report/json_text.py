"""The report's JSON text, made and written a file change at a time.

The document is what ``json.dumps(report.to_json(), indent=2, sort_keys=True, ensure_ascii=False)`` gives,
except that each file change is one line (compact, keys sorted; schema 2): a million of them are a million
lines a tool can stream, and the indentation of eight lines each was a third of the report's bytes. They
are encoded one at a time, and the text is handed out in pieces, so that neither the document nor its text
exists whole in memory: for a million file changes the text alone is hundreds of megabytes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

from layerdiff.report.wire import Inspection, Report

# Where the file changes go in the rest of the document's text: a top-level key, two spaces in.
_KEY = '\n  "file_changes": '
_ITEM_BREAK = "\n    "  # each file change on its own line, four spaces in (the list's, two more)
_PIECE = 1 << 16  # characters of text gathered before a piece is handed out


def _text(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)


def report_text(report: Report | Inspection) -> str:
    """The JSON text of a report (or an inspection): sorted keys, two-space indent, a final newline."""
    return "".join(report_pieces(report))


def report_pieces(report: Report | Inspection) -> Iterator[str]:
    """``report_text`` in pieces of about 64 K characters, made as they are taken."""
    if not isinstance(report, Report) or not report.file_changes:
        yield _text(report.to_json()) + "\n"
        return
    rest = _text(dataclasses.replace(report, file_changes=()).to_json())
    empty = _KEY + "[]"
    head, found, tail = rest.partition(empty)
    assert found and empty not in tail  # a top-level key appears once
    encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode
    parts = [head, _KEY, "["]
    size = 0
    separator = _ITEM_BREAK
    for change in report.file_changes:
        text = encode(change.to_json())
        parts += (separator, text)
        separator = "," + _ITEM_BREAK
        size += len(text)
        if size >= _PIECE:
            yield "".join(parts)
            parts, size = [], 0
    parts += ["\n  ]", tail, "\n"]
    yield "".join(parts)
