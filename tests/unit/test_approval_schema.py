"""The approval predicate's JSON Schema is published with the package, names the predicate type, and every
record layerdiff writes satisfies it; a record that departs from it is refused naming where."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from layerdiff.approval import (
    PREDICATE_TYPE,
    build_statement,
    predicate_schema,
    read_approval,
    statement_text,
)
from layerdiff.errors import UsageError
from layerdiff.report.wire import Report

REPORTS = Path(__file__).resolve().parents[1] / "data" / "review"


def statement() -> dict[str, object]:
    report = Report.from_json(json.loads((REPORTS / "example.json").read_text()))
    return build_statement(report, "alice", "ok", None, datetime(2026, 12, 1, tzinfo=UTC))


def test_the_schema_is_the_predicate_type_and_every_written_predicate_satisfies_it() -> None:
    schema = predicate_schema()
    assert schema["$id"] == PREDICATE_TYPE
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(statement()["predicate"], schema)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda p: p.pop("reason"), "'reason' is a required property"),
        (lambda p: p["accepted"].append({"fingerprint": "xyz"}), "accepted/"),
        (lambda p: p["base"].update(image_id="sha256:nothex"), "base/image_id"),
    ],
)
def test_a_record_that_departs_from_the_schema_is_refused_naming_where(change: object, where: str) -> None:
    document = statement()
    change(document["predicate"])  # type: ignore[operator]
    with pytest.raises(UsageError, match="invalid approval record") as raised:
        read_approval(statement_text(document), "r.json")
    assert where in str(raised.value) and str(raised.value).count("\n") == 0
