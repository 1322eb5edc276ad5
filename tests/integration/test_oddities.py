"""Ordinary images that once crashed layerdiff: every format is produced, with a defined result."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run

pytestmark = pytest.mark.engine
FORMATS = ("json", "table", "markdown", "sarif", "junit", "cyclonedx")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def outputs(base: str, derived: str, cache: Path) -> dict[str, str]:
    """Every format, from one analysis."""
    images = (f"docker:{base}", f"docker:{derived}")
    files = {fmt: cache / f"out.{fmt}" for fmt in FORMATS}
    written = [f"-o{fmt}={path}" for fmt, path in files.items()]
    result = run("diff", *images, "--sbom", "none", *written, "--cache-dir", str(cache))
    # each pair here has high findings: the verdict fails, and stderr says so in one line
    assert result.code == 1, result.stderr
    assert result.stderr.count("\n") == 1 and " at or above high (" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return {fmt: path.read_text() for fmt, path in files.items()}


def test_a_non_utf8_name_and_a_non_utf8_requirement(scenarios: dict[str, str], cache: Path) -> None:
    found = outputs(scenarios["airflow-base"], scenarios["derived-oddnames"], cache)
    report = json.loads(found["json"])
    setuid = next(f for f in report["findings"] if f["rule"] == "setuid-added")
    assert setuid["subject"] == "/usr/local/bin/caf\\xe9"
    change = next(c for c in report["file_changes"] if c["path"] == "/usr/local/bin/caf\\xe9")
    assert bytes.fromhex(change["path_hex"]) == b"/usr/local/bin/caf\xe9"
    assert "/usr/local/bin/caf\\\\xe9" in found["markdown"]  # the backslash escaped for Markdown
    messages = [result["message"]["text"] for result in json.loads(found["sarif"])["runs"][0]["results"]]
    assert any("/usr/local/bin/caf\\xe9" in message for message in messages)


def test_an_image_that_does_not_extend_its_base(scenarios: dict[str, str], cache: Path) -> None:
    """The bookworm image shares only its one layer with airflow-base: the squashed trees are compared,
    and every file the base's own layers added shows as removed, with no derived layer to blame."""
    found = outputs(scenarios["airflow-base"], scenarios["bookworm"], cache)
    report = json.loads(found["json"])
    assert report["comparison"]["extends_base"] is False
    assert any("does not extend" in warning for warning in report["warnings"])
    removed = [c for c in report["file_changes"] if c["kind"] == "removed"]
    assert removed and all(c["layer"] is None for c in removed)
    assert "does not start with the base's layers" in found["markdown"]
    deleted = next(f for f in report["findings"] if f["rule"] == "base-file-deleted")
    assert deleted["layer"] is None and "deleted in the derived image" in deleted["message"]
