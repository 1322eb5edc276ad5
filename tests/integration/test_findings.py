"""Rules on the real scenario images: the control has nothing to say, each seed scenario its key finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from layerdiff.report.model import load_schema
from layerdiff.rules.documentation import packaged_rule_doc, rule_doc_url
from tests.support.cli import run
from tests.support.scenarios import base_of

pytestmark = pytest.mark.engine

# scenario -> (rule id, severity) pairs its report must contain
EXPECTED = {
    "derived-pin": {("python-requirement-broken", "high"), ("package-downgraded", "medium")},
    "derived-root": {("runtime-user-root", "high"), ("python-distribution-lost", "high")},
    # requirements.txt copied in as root is a read-only file, which the runtime user never needed to write
    "derived-venv": {("python-distribution-lost", "high"), ("path-command-shadowed", "medium")},
    # libpq5's library deleted outside dpkg: one finding, the package's side is its cause
    "derived-nolib": {("library-unresolved", "high")},
    "derived-shadowlib": {("library-shadowed", "high")},
    # moved without ldconfig: it no longer loads, and ldconfig would make it load again
    "derived-libmove-noldconfig": {("library-unresolved", "high"), ("library-cache-stale", "medium")},
    "derived-multistage": {("setuid-added", "high")},
    "derived-creds": {("secret-in-image", "high"), ("secret-in-history", "high")},
    "derived-clobber": {("python-file-overwritten", "high"), ("python-file-modified", "high")},
    "derived-startup": {("python-startup-code", "high")},
    # libpq5 purged with --force-depends: the removal and python3-psycopg2's unmet dependency are the cause
    "derived-purge": {("library-unresolved", "high")},
    # reviewed against console-base, whose HEALTHCHECK runs a console script of the distribution it downgrades
    "derived-console": {("entrypoint-provider-changed", "medium")},
}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def report(scenarios: dict[str, str], derived: str, cache: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = run(
        "diff",
        f"docker:{scenarios[base_of(derived)]}",
        f"docker:{scenarios[derived]}",
        "--format",
        "json",
        "--cache-dir",
        str(cache),
        *extra,
    )
    assert result.code in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    jsonschema.validate(document, load_schema())
    return result.code, document


def test_a_dag_only_image_has_no_medium_or_higher_finding(scenarios: dict[str, str], cache: Path) -> None:
    code, doc = report(scenarios, "derived-dag", cache, "--fail-on", "medium")
    assert [(f["rule"], f["subject"]) for f in doc["findings"] if f["severity"] not in ("info", "low")] == []
    assert code == 0 and doc["verdict"]["status"] == "pass"


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_seed_scenarios_raise_their_findings(scenario: str, scenarios: dict[str, str], cache: Path) -> None:
    # the verdict fails at the most severe finding expected (high for the seed scenarios)
    threshold = "high" if any(severity == "high" for _, severity in EXPECTED[scenario]) else "medium"
    code, doc = report(scenarios, scenario, cache, "--fail-on", threshold)
    found = {(f["rule"], f["severity"]) for f in doc["findings"]}
    assert EXPECTED[scenario] <= found, sorted(found)
    assert code == 1 and doc["verdict"]["status"] == "fail"
    for finding in doc["findings"]:
        assert finding["fingerprint"] and finding["evidence"]
        assert finding["doc"] == rule_doc_url(finding["rule"]) and packaged_rule_doc(finding["rule"])


def test_a_library_copied_without_ldconfig_shadows_nothing_yet(
    scenarios: dict[str, str], cache: Path
) -> None:
    code, doc = report(scenarios, "derived-libcopy-noldconfig", cache, "--fail-on", "high")
    found = [(f["rule"], f["severity"], f["subject"]) for f in doc["findings"]]
    assert ("library-cache-stale", "medium", "/etc/ld.so.cache") in found
    assert not [
        rule for rule, _, _ in found if rule == "library-shadowed"
    ]  # ld.so still loads the system one
    assert code == 0


@pytest.mark.parametrize(
    ("scenario", "change"),
    [("derived-purge", "removed"), ("derived-nolib", "files deleted or moved outside dpkg")],
)
def test_a_lost_library_package_is_the_cause_of_one_finding(
    scenario: str, change: str, scenarios: dict[str, str], cache: Path
) -> None:
    _, doc = report(scenarios, scenario, cache)
    (finding,) = doc["findings"]
    assert finding["rule"] == "library-unresolved"
    assert finding["message"].startswith("`import psycopg2` fails: libpq.so.5 not found")
    cause = finding["evidence"]["cause"]
    assert cause["package"] == "libpq5" and cause["change"] == change
    if change == "removed":
        # what `apt-get check` says inside the container (the oracle tests compare the two)
        assert cause["apt_get_check"] == [
            "python3-psycopg2 : Depends: libpq5 (>= 10~~) but it is not installed"
        ]
    else:
        assert sorted(cause["dpkg_verify"]) == [
            "missing     /usr/lib/x86_64-linux-gnu/libpq.so.5",
            "missing     /usr/lib/x86_64-linux-gnu/libpq.so.5.15",
        ]


def test_gate_on_real_images(scenarios: dict[str, str], cache: Path, tmp_path: Path) -> None:
    base, pin, root = (f"docker:{scenarios[n]}" for n in ("airflow-base", "derived-pin", "derived-root"))
    report = tmp_path / "report.json"
    # the pin's broken requirement is high: the verdict fails, and the approval is what lets it through
    assert run("diff", base, pin, "-o", f"json={report}", "--cache-dir", str(cache)).code == 1
    approval = tmp_path / "approval.json"
    assert (
        run("approve", str(report), "--reviewer", "bob", "--reason", "pin needed", "-o", str(approval)).code
        == 0
    )
    passed = run("gate", pin, "--approval", str(approval), "--cache-dir", str(cache))
    assert passed.code == 0, passed.stdout + passed.stderr
    failed = run("gate", root, "--approval", str(approval), "--cache-dir", str(cache))
    assert failed.code == 1 and ", not this image (sha256:" in failed.stdout
    assert "runtime-user-root on USER" in failed.stdout


GOLDEN = Path(__file__).parents[1] / "golden" / "scenario-findings.json"


@pytest.mark.parametrize("scenario", sorted(json.loads(GOLDEN.read_text())))
def test_each_scenario_produces_exactly_its_golden_findings(
    scenario: str, scenarios: dict[str, str], cache: Path
) -> None:
    """Reviewed by hand; a change here is a behaviour change to review, not a number to update blindly."""
    _, doc = report(scenarios, scenario, cache)
    found = sorted([f["severity"], f["rule"], f["subject"]] for f in doc["findings"])
    assert found == json.loads(GOLDEN.read_text())[scenario]
