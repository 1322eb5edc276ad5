"""SARIF of every scenario, with and without its Dockerfile: valid SARIF 2.1.0 that GitHub code scanning
takes (tests/support/sarif_checks.py), located where the JSON report of the same analysis says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run
from tests.support.sarif_checks import artifact_uris, uploadable_sarif
from tests.support.scenarios import DERIVED, ROOT, SCENARIOS

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def _review(
    scenarios: dict[str, str], derived: str, cache: Path, out: Path, *extra: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The JSON report and the SARIF log of one analysis, run from the repository root as CI runs it."""
    report, sarif = out / "report.json", out / "report.sarif"
    result = run(
        "diff",
        f"docker:{scenarios['airflow-base']}",
        f"docker:{scenarios[derived]}",
        "-o",
        f"json={report}",
        "-o",
        f"sarif={sarif}",
        "--cache-dir",
        str(cache),
        *extra,
        cwd=ROOT,
    )
    assert result.code in (0, 1), result.stderr
    return json.loads(report.read_text()), uploadable_sarif(sarif.read_text())


@pytest.mark.parametrize("scenario", DERIVED)
def test_scenario_sarif_without_a_dockerfile(
    scenario: str, scenarios: dict[str, str], cache: Path, tmp_path: Path
) -> None:
    report, log = _review(scenarios, scenario, cache, tmp_path)
    results = log["runs"][0]["results"]
    assert [r["partialFingerprints"]["layerdiffFingerprint/v1"] for r in results] == [
        f["fingerprint"] for f in report["findings"]
    ]
    # the engine tag layerdiff-fixture/NAME:HASH changes with the inputs; the stand-in file does not
    assert set(artifact_uris(log)) <= {f"layerdiff-fixture/{scenario}"}
    assert all(r["locations"][0]["physicalLocation"]["region"] == {"startLine": 1} for r in results)
    assert log["runs"][0]["properties"]["verdict"] == report["verdict"]["status"]


@pytest.mark.parametrize("scenario", DERIVED)
def test_scenario_sarif_on_its_dockerfile(
    scenario: str, scenarios: dict[str, str], cache: Path, tmp_path: Path
) -> None:
    dockerfile = SCENARIOS / scenario / "Dockerfile"
    relative = dockerfile.relative_to(ROOT).as_posix()
    report, log = _review(scenarios, scenario, cache, tmp_path, "--dockerfile", relative)
    lines = len(dockerfile.read_text().splitlines())
    results = log["runs"][0]["results"]
    assert len(results) == len(report["findings"])
    for result, finding in zip(results, report["findings"], strict=True):
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"] == {"uri": relative, "uriBaseId": "%SRCROOT%"}
        source = finding.get("dockerfile")  # an optional key: absent when None
        assert source is not None, finding["rule"]
        assert physical["region"]["startLine"] == source["line"]
        assert physical["region"].get("endLine", source["line"]) == source["end_line"]
        assert 1 <= source["line"] <= source["end_line"] <= lines
        assert result["properties"]["dockerfile-confidence"] == source["confidence"]
