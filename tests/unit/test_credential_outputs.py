"""Every planted credential — each kind of credential file and of build instruction — is named by a finding
and its value is in no output: not in any format of the diff, not in the review app, not in `inspect`, not
in the layer cache. The same image without the credentials has no credential finding."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import pytest

from layerdiff.report.wire import Report
from tests.support.cli import UNFOLDED, run
from tests.support.credentials import FILES, INSTRUCTIONS, SECRETS, credential_image
from tests.support.imagebuilder import write_oci_layout
from tests.support.pairs import base_image
from tests.support.review_app import shown_by_the_review_app

FORMATS = ("json", "table", "markdown", "sarif", "junit", "cyclonedx")


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> str:
    images = {"base": base_image(), "creds": credential_image(), "clean": credential_image(clean=True)}
    return str(write_oci_layout(tmp_path_factory.mktemp("credentials") / "layout", images))


@pytest.fixture(scope="module")
def outputs(layout: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each format of one analysis, and its stderr; the cache it wrote is in ``cache``."""
    directory = tmp_path_factory.mktemp("outputs")
    targets = [f"-o{fmt}={directory / fmt}" for fmt in FORMATS]
    result = run(
        "diff", f"oci:{layout}:base", f"oci:{layout}:creds", "--sbom", "none", "--cache-dir",
        str(directory / "cache"), *targets, env=UNFOLDED,
    )  # fmt: skip
    assert result.code == 1, result.stderr
    texts = {fmt: (directory / fmt).read_text() for fmt in FORMATS}
    return {**texts, "stderr": result.stderr, "cache": str(directory / "cache")}


def leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.mark.parametrize("fmt", [*FORMATS, "stderr"])
def test_no_value_in_any_format(outputs: dict[str, str], fmt: str) -> None:
    assert leaks(outputs[fmt]) == []
    if fmt in ("json", "sarif", "cyclonedx"):  # and none once JSON escapes are undone
        assert leaks(json.dumps(json.loads(outputs[fmt]), ensure_ascii=False)) == []


def test_every_kind_is_named_where_it_is(outputs: dict[str, str]) -> None:
    report = json.loads(outputs["json"])
    files = {f["subject"]: f for f in report["findings"] if f["rule"] == "secret-in-image"}
    assert set(files) == {planted.path for planted in FILES}
    for planted in FILES:
        (credential,) = files[planted.path]["evidence"]["credentials"]
        assert (credential["line"], credential["kind"]) == (planted.line, planted.kind), planted.path
    history = [f for f in report["findings"] if f["rule"] == "secret-in-history"]
    assert sorted(c["kind"] for f in history for c in f["evidence"]["credentials"]) == sorted(
        planted.kind for planted in INSTRUCTIONS
    )
    assert {f["layer"] for f in history} == set(range(3, 3 + len(INSTRUCTIONS)))
    for layer in report["comparison"]["reviewed_layers"]:  # the history itself, redacted
        if layer["position"] >= 3:
            assert "<redacted>" in layer["created_by"] and "<redacted>" in layer["instruction"]


@pytest.mark.parametrize("fmt", ["table", "markdown", "sarif", "junit"])
def test_each_format_names_the_findings(outputs: dict[str, str], fmt: str) -> None:
    for planted in FILES:
        path = planted.path.replace("_", "\\_") if fmt == "markdown" else planted.path
        assert path in outputs[fmt], (fmt, planted.path)
    assert "secret-in-history" in outputs[fmt]


def test_the_cache_keeps_no_value(outputs: dict[str, str]) -> None:
    cache = Path(outputs["cache"])
    stored = [path.read_bytes() for path in cache.rglob("*") if path.is_file()]
    with sqlite3.connect(cache / "layers.sqlite3") as db:
        for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for row in db.execute(f"SELECT * FROM {table}"):
                stored += [_unpacked(value) for value in row if isinstance(value, bytes | str)]
    assert any(b"npm auth token" in data for data in stored)  # where the credentials are is kept
    for data in stored:
        assert [secret for secret in SECRETS if secret.encode() in data] == []


def _unpacked(value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def test_a_saved_report_renders_no_value(outputs: dict[str, str], tmp_path: Path) -> None:
    saved = tmp_path / "report.json"
    saved.write_text(outputs["json"])
    for fmt in ("table", "markdown", "sarif", "junit"):
        result = run("render", str(saved), "-o", fmt, env=UNFOLDED)
        assert result.code in (0, 1), result.stderr
        assert leaks(result.stdout) == [], fmt


def test_inspect_shows_no_value(layout: str) -> None:
    for fmt in ("json", "table"):
        result = run("inspect", f"oci:{layout}:creds", "--format", fmt, "--no-cache", env=UNFOLDED)
        assert result.code == 0, result.stderr
        assert leaks(result.stdout) == [], fmt


def test_the_review_app_shows_no_value(outputs: dict[str, str]) -> None:
    report = Report.from_json(json.loads(outputs["json"]))
    shown = shown_by_the_review_app(report)
    assert len(shown) > len(report.findings)
    assert any("npm auth token" in text.replace("\xa0", " ") for text in shown)
    assert [(index, leaks(text)) for index, text in enumerate(shown) if leaks(text)] == []


def test_the_same_image_without_credentials_has_no_credential_finding(layout: str) -> None:
    result = run(
        "diff", f"oci:{layout}:base", f"oci:{layout}:clean", "--sbom", "none", "--format", "json",
        "--no-cache",
    )  # fmt: skip
    assert result.code in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert [f["subject"] for f in report["findings"] if f["rule"].startswith("secret-")] == []
