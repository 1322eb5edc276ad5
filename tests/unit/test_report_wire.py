"""The typed report model reads and writes exactly the JSON report, which its schema describes."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from layerdiff.report.model import load_schema
from layerdiff.report.wire import EntryState, FileChange, Report
from layerdiff.report.wire_inventory import BrokenDependency
from tests.support.example import example_report

SAVED = Path(__file__).resolve().parents[1] / "data" / "review"


def _documents() -> dict[str, dict[str, Any]]:
    documents = {path.name: json.loads(path.read_text()) for path in sorted(SAVED.glob("*.json"))}
    documents["fresh example"] = example_report("--fail-on", "low")
    return documents


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    return _documents()


def test_round_trips_every_report_exactly(documents: dict[str, dict[str, Any]]) -> None:
    validator = jsonschema.Draft202012Validator(load_schema())
    for name, document in documents.items():
        report = Report.from_json(document)
        written = report.to_json()
        assert written == document, name
        assert json.dumps(written, sort_keys=True) == json.dumps(document, sort_keys=True), name
        validator.validate(written)


def test_attributes_are_the_json_keys(documents: dict[str, dict[str, Any]]) -> None:
    document = documents["purge.json"]
    report = Report.from_json(document)
    assert report.derived.image_id == document["derived"]["image_id"]
    assert report.verdict.counts.high == document["verdict"]["counts"]["high"]
    change = report.file_changes[0]
    assert isinstance(change, FileChange) and change.path == document["file_changes"][0]["path"]
    assert report.inventory.os_packages.broken_dependencies[0].ecosystem == "deb"
    assert isinstance(report.file_changes, tuple) and isinstance(report.findings[0].evidence, dict)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.verdict.status = "pass"  # type: ignore[misc]


def test_optional_keys_stay_absent_and_extended_attributes_are_pairs(
    documents: dict[str, dict[str, Any]],
) -> None:
    document = copy.deepcopy(documents["example.json"])
    change = next(c for c in document["file_changes"] if c.get("after") is not None)
    change["path_hex"] = "2f6fff"
    change["after"]["xattrs"] = {"security.capability": "0100000200200000", "user.a": "00"}
    dependency: dict[str, Any] = {
        "package": "python3-psycopg2",
        "version": "2.9.5-1",
        "field": "Depends",
        "relation": "libpq5 (>= 10)",
        "reason": "missing",
        "installed": None,
        "detail": "libpq5 is not installed",
    }  # as reports before schema 1.3 wrote it: no ecosystem
    document["inventory"]["os_packages"]["broken_dependencies"] = [dependency]
    report = Report.from_json(document)
    assert report.to_json() == document
    typed = next(c for c in report.file_changes if c.path_hex)
    assert typed.after is not None
    assert typed.after.xattrs == (("security.capability", "0100000200200000"), ("user.a", "00"))
    assert report.inventory.os_packages.broken_dependencies == (BrokenDependency(**dependency),)
    plain = next(c for c in report.file_changes if c.path_hex is None)
    assert "path_hex" not in plain.to_json()


def test_shared_values_are_one_object(documents: dict[str, dict[str, Any]]) -> None:
    report = Report.from_json(documents["example.json"])
    states = [s for c in report.file_changes for s in (c.before, c.after) if isinstance(s, EntryState)]
    modes = {s.mode: s.mode for s in states}
    assert all(s.mode is modes[s.mode] for s in states)
    assert len({id(c.kind) for c in report.file_changes}) == len({c.kind for c in report.file_changes})


def test_free_form_values_are_not_shared_with_the_input(documents: dict[str, dict[str, Any]]) -> None:
    document = copy.deepcopy(documents["example.json"])
    report = Report.from_json(document)
    document["findings"][0]["evidence"]["added"] = "later"
    assert "added" not in report.findings[0].evidence
    written = report.to_json()
    written["findings"][0]["evidence"]["added"] = "later"
    assert "added" not in report.findings[0].evidence


def test_package_changes_are_the_sboms_then_what_only_the_inventory_found(
    documents: dict[str, dict[str, Any]],
) -> None:
    # purge: syft and dpkg both report libpq5 removed, named debian/libpq5 and libpq5: one change
    purge = Report.from_json(documents["purge.json"])
    (only,) = purge.package_changes()
    assert (only.type, only.name, only.kind, only.before, only.after) == (
        "deb",
        "debian/libpq5",
        "removed",
        "15.18-0+deb12u1",
        None,
    )
    assert only.from_sbom and only.origin is purge.packages.changes[0]

    # example: syft lists requests and urllib3, which the Python environment found too; a package the SBOM
    # missed is added after them, with where it was found
    document = copy.deepcopy(documents["example.json"])
    libpq5 = documents["purge.json"]["inventory"]["os_packages"]["changes"][0]
    document["inventory"]["os_packages"]["changes"].append(libpq5 | {"name": "libssl3"})
    distribution = copy.deepcopy(document["inventory"]["python"]["distribution_changes"][0])
    document["inventory"]["python"]["distribution_changes"].append(distribution | {"name": "Flask_Login"})
    changes = Report.from_json(document).package_changes()
    assert [(c.type, c.name, c.from_sbom) for c in changes] == [
        ("pypi", "requests", True),
        ("pypi", "urllib3", True),
        ("deb", "libssl3", False),
        ("pypi", "Flask_Login", False),
    ]
    assert [c.qualifier for c in changes] == [None, None, "amd64", "/usr/bin/python3.11"]
    assert changes[0].layer == 3 and changes[2].layer is None

    # without an SBOM: the package database's and the Python environments' changes
    document["packages"] = {"sbom_tool": None, "changes": []}
    names = [(c.type, c.name) for c in Report.from_json(document).package_changes()]
    assert names == [("deb", "libssl3"), ("pypi", "requests"), ("pypi", "urllib3"), ("pypi", "Flask_Login")]
