"""The markdown, SARIF, JUnit and CycloneDX renderers on real reports of the bundled example pair.

The SARIF log is validated against the official SARIF 2.1.0 JSON Schema and GitHub code scanning's upload
constraints (tests/support/sarif_checks.py; more SARIF cases in test_sarif.py). The CycloneDX BOM is
validated by cyclonedx-python-lib's own strict validator.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from layerdiff.render.cyclonedx import render_cyclonedx
from layerdiff.render.junit import render_junit
from layerdiff.render.markdown import cell, render_markdown
from layerdiff.render.sarif import render_sarif
from layerdiff.report.wire import Report
from layerdiff.rules.documentation import rule_doc_url
from layerdiff.rules.registry import all_rules
from tests.support.cli import run
from tests.support.example import TARGET
from tests.support.sarif_checks import uploadable_sarif

Renderer = Callable[[Report], str]
RENDERERS: list[Renderer] = [render_markdown, render_sarif, render_junit, render_cyclonedx]
# Relative to the repository, so that the image references in the reports are the same on every machine.
REPOSITORY = TARGET.parents[1]
BASE = str((TARGET / "airflow-base.tar").relative_to(REPOSITORY))
EXTENDED = str((TARGET / "airflow-extended.tar").relative_to(REPOSITORY))
EXPECTED_HIGH_RULES = {"python-distribution-lost", "python-requirement-broken", "runtime-user-lost-write"}


def _diff(base: str, derived: str, *options: str) -> Report:
    result = run("diff", base, derived, "--format", "json", "--no-cache", *options, cwd=REPOSITORY)
    assert result.code in (0, 1), result.stderr
    return Report.from_json(json.loads(result.stdout))


@pytest.fixture(scope="module")
def report() -> Report:
    return _diff(BASE, EXTENDED, "--sbom", "none")


@pytest.fixture(scope="module")
def syft_report() -> Report:
    return _diff(BASE, EXTENDED, "--sbom", "syft")


@pytest.fixture(scope="module")
def failing_report() -> Report:
    return _diff(BASE, EXTENDED, "--sbom", "none", "--fail-on", "low")


@pytest.fixture(scope="module")
def empty_report() -> Report:
    """The base against itself: no findings, no changes."""
    return _diff(BASE, BASE, "--sbom", "none")


def _validate_sarif(text: str) -> dict[str, Any]:
    return uploadable_sarif(text)


def _validate_cyclonedx(text: str) -> dict[str, Any]:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    bom: dict[str, Any] = json.loads(text)
    return bom


def _properties(component: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for item in component.get("properties", []):
        found.setdefault(item["name"], []).append(item["value"])
    return found


# --- every renderer ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("render", RENDERERS, ids=lambda r: r.__name__)
def test_renders_are_byte_identical_and_leave_the_report_alone(render: Renderer, syft_report: Report) -> None:
    before = syft_report.to_json()
    first = render(syft_report)
    assert render(Report.from_json(before)) == first
    assert syft_report.to_json() == before
    assert first.endswith("\n")


def test_renders_do_not_depend_on_the_process(syft_report: Report, tmp_path: Path) -> None:
    """Set and dict iteration order changes with the hash seed; none of it may leak into the output."""
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(syft_report.to_json()))
    script = (
        "import json, sys\n"
        "from layerdiff.render import cyclonedx, junit, markdown, sarif\n"
        "from layerdiff.report.wire import Report\n"
        "report = Report.from_json(json.loads(open(sys.argv[1]).read()))\n"
        "renderers = [markdown.render_markdown, sarif.render_sarif, junit.render_junit,"
        " cyclonedx.render_cyclonedx]\n"
        "print(json.dumps([render(report) for render in renderers]))\n"
    )
    expected = [render(syft_report) for render in RENDERERS]
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", script, str(saved)],
            capture_output=True,
            text=True,
            cwd=REPOSITORY,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        assert json.loads(done.stdout) == expected


def test_waived_findings_are_shown_as_waived_and_never_fail(report: Report) -> None:
    crafted = report.to_json()
    waiver = {
        "rule": "runtime-user-lost-write",
        "subject": "/opt/airflow/logs",
        "reason": "logs go to stdout",
    }
    waived = next(f for f in crafted["findings"] if f["rule"] == "runtime-user-lost-write")
    waived["waived"] = waiver | {"expires": None}
    crafted["verdict"]["waived"] = 1
    waived_report = Report.from_json(crafted)

    assert "- **high** (waived: logs go to stdout) · [runtime-user-lost-write](" in render_markdown(
        waived_report
    )
    assert ", 1 waived)" in render_markdown(waived_report)
    results = _validate_sarif(render_sarif(waived_report))["runs"][0]["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert [r["ruleId"] for r in suppressed] == ["runtime-user-lost-write"]
    assert suppressed[0]["suppressions"][0]["justification"] == "logs go to stdout"
    suite = _suite(render_junit(waived_report))
    assert "runtime-user-lost-write" not in _failed(suite)
    case = next(c for c in suite.findall("testcase") if c.get("name") == "runtime-user-lost-write")
    assert "waived: logs go to stdout" in (case.findtext("system-out") or "")


# --- markdown ---------------------------------------------------------------------------------------------


def test_markdown_puts_verdict_first_and_high_findings_before_the_rest(report: Report) -> None:
    text = render_markdown(report)
    lines = text.splitlines()
    assert lines[0] == "### layerdiff: ❌ FAIL"
    assert "**7 findings** (3 at or above **high**): 0 critical · 3 high · 3 medium · 1 low · 0 info" in text
    assert "sha256:0317cb7acf8b" in text and "docker-archive:fixtures/example/airflow-extended.tar" in text

    high = text.index("#### Findings at or above high (3)")
    first_details = text.index("<details>")
    assert high < first_details
    high_rules = re.findall(
        r"^- \*\*high\*\* · \[([a-z-]+)\]\(", text[high:first_details], flags=re.MULTILINE
    )
    assert set(high_rules) == EXPECTED_HIGH_RULES
    lower = text[first_details:]
    assert "<summary>Findings below high (4)</summary>" in lower
    doc = rule_doc_url("path-command-shadowed")
    shadowed = f"- **medium** · [path-command-shadowed]({doc}) · /opt/airflow/venv/bin\n"
    assert shadowed + "  - where: image config: ENV PATH=/opt/airflow/venv/bin:" in lower


def test_markdown_shows_packages_python_problems_and_file_summary(
    report: Report, syft_report: Report
) -> None:
    text = render_markdown(report)
    # without an SBOM, the Python environments tell what changed
    assert "<summary>Package changes (2)</summary>" in text
    assert "| downgraded | pypi | requests | 2.31.0 | 2.28.1 | /usr/bin/python3.11 |" in text
    assert (
        "| pip check | responses 0.25.0 | /usr/bin/python3.11 | responses 0.25.0 has requirement"
        " requests&lt;3.0,&gt;=2.30.0, but you have requests 2.28.1. |"
    ) in text
    assert "| cannot be imported | responses 0.25.0 | /usr/bin/python3.11 | hidden: python3 on PATH |" in text
    assert "<summary>File changes (17: 12 added, 4 removed, 0 modified, 1 metadata)</summary>" in text
    assert "| 5 | RUN mkdir \\-p /opt/airflow/logs | 0 | 0 | 0 | 1 |" not in text
    assert "| 5 | RUN mkdir -p /opt/airflow/logs | 0 | 0 | 0 | 1 |" in text

    with_sbom = render_markdown(syft_report)
    assert "<summary>Package changes (2, from syft 1.18.1)</summary>" in with_sbom
    assert "| downgraded | pypi | urllib3 | 2.0.7 | 1.26.18 | 3 |" in with_sbom


def test_markdown_lists_package_changes_the_sbom_missed_after_its_own(syft_report: Report) -> None:
    crafted = syft_report.to_json()
    crafted["inventory"]["os_packages"]["changes"].append(
        {
            "ecosystem": "deb",
            "name": "libssl3",
            "architecture": "amd64",
            "kind": "removed",
            "before": "3.0.11-1",
            "after": None,
        }
    )
    text = render_markdown(Report.from_json(crafted))
    assert "<summary>Package changes (3, from syft 1.18.1)</summary>" in text
    urllib3 = text.index("| downgraded | pypi | urllib3 | 2.0.7 | 1.26.18 | 3 |")
    assert text.index("| removed | deb | libssl3 | 3.0.11-1 | — | — |") > urllib3


def test_markdown_verdict_names_the_threshold(failing_report: Report) -> None:
    text = render_markdown(failing_report)
    assert text.startswith("### layerdiff: ❌ FAIL\n\n**7 findings** (7 at or above **low**)")


def test_markdown_of_a_report_without_findings(empty_report: Report) -> None:
    text = render_markdown(empty_report)
    assert text.startswith("### layerdiff: ✅ PASS\n\n**0 findings** (0 at or above **high**)")
    assert text.endswith("\n\nNo findings.\n")
    assert "<details>" not in text


def test_markdown_text_cannot_break_the_comment(report: Report) -> None:
    crafted = report.to_json()
    finding = crafted["findings"][0]
    finding["subject"] = "/opt/a|b`c`"
    finding["message"] = "line one\nline | two with `code` and <script> & *stars*"
    text = render_markdown(Report.from_json(crafted))
    lines = text.splitlines()
    subject = next(index for index, line in enumerate(lines) if "/opt/a" in line)
    assert lines[subject].endswith(" · /opt/a\\|b\\`c\\`")
    assert lines[subject + 2] == (
        "  - consequence: line one line \\| two with \\`code\\` and &lt;script&gt; &amp; \\*stars\\*"
    )
    assert cell(None) == "—"


# --- SARIF ------------------------------------------------------------------------------------------------


def test_sarif_validates_and_describes_the_catalog(syft_report: Report) -> None:
    log = _validate_sarif(render_sarif(syft_report))
    assert log["version"] == "2.1.0"
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "layerdiff"
    catalog = all_rules()
    assert [rule["id"] for rule in driver["rules"]] == [rule.id for rule in catalog]
    by_id = {rule["id"]: rule for rule in driver["rules"]}
    lost_write = by_id["runtime-user-lost-write"]
    assert lost_write["defaultConfiguration"]["level"] == "error"
    assert lost_write["properties"]["security-severity"] == "8.0"
    assert lost_write["helpUri"] == rule_doc_url("runtime-user-lost-write")
    assert lost_write["help"]["text"].endswith(f"Documentation: {rule_doc_url('runtime-user-lost-write')}")
    assert by_id["package-downgraded"]["defaultConfiguration"]["level"] == "warning"
    assert by_id["ownership-changed"]["defaultConfiguration"]["level"] == "note"
    assert by_id["package-added"]["properties"]["security-severity"] == "0.0"
    for rule in catalog:
        assert by_id[rule.id]["shortDescription"]["text"] == rule.title


def test_sarif_results_carry_fingerprints_paths_and_layers(syft_report: Report) -> None:
    run_ = _validate_sarif(render_sarif(syft_report))["runs"][0]
    results = run_["results"]
    assert len(results) == len(syft_report.findings)
    rules = run_["tool"]["driver"]["rules"]
    for result, finding in zip(results, syft_report.findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule
        assert result["partialFingerprints"]["layerdiffFingerprint/v1"] == finding.fingerprint
        # no --dockerfile: the derived image's stand-in file, never a docker-archive: URI
        assert result["locations"][0]["physicalLocation"] == {
            "artifactLocation": {"uri": "airflow-extended.tar", "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 1},
        }
    by_rule = {result["ruleId"]: result for result in results}

    lost_write = by_rule["runtime-user-lost-write"]
    assert lost_write["level"] == "error"
    assert lost_write["locations"][0]["logicalLocations"] == [
        {
            "name": "/opt/airflow/logs",
            "fullyQualifiedName": "docker-archive:fixtures/example/airflow-extended.tar:/opt/airflow/logs",
        },
        {"name": "layer 5", "fullyQualifiedName": "layer 5: RUN mkdir -p /opt/airflow/logs"},
    ]
    assert lost_write["message"]["text"].endswith(
        "\n\nIn docker-archive:fixtures/example/airflow-extended.tar at /opt/airflow/logs, "
        "layer 5 (RUN mkdir -p /opt/airflow/logs)."
    )
    # commands a PATH directory now wins for are about that directory, caused by an ENV change (no layer)
    shadowed = by_rule["path-command-shadowed"]["locations"][0]["logicalLocations"]
    assert [location["name"] for location in shadowed] == ["/opt/airflow/venv/bin", "image config"]
    assert shadowed[1]["fullyQualifiedName"].startswith("image config: ENV PATH=")
    requirement = by_rule["python-requirement-broken"]["locations"][0]["logicalLocations"]
    assert [location["name"] for location in requirement] == ["layer 3"]
    downgraded = by_rule["package-downgraded"]["locations"][0]["logicalLocations"]
    assert downgraded[0]["name"].endswith(".dist-info/METADATA")
    run_properties = run_["properties"]
    assert (run_properties["verdict"], run_properties["fail-on"]) == ("fail", "high")
    assert run_["automationDetails"]["id"] == "layerdiff/airflow-base.tar -> airflow-extended.tar/"


def test_sarif_encodes_awkward_paths_and_keeps_unknown_rules(report: Report) -> None:
    crafted = report.to_json()
    crafted["findings"][0]["evidence"] = {"path": "/opt/my dir/#1:ä"}
    crafted["findings"][0]["dockerfile"] = {
        "path": "my dir/#1:ä",
        "line": 2,
        "end_line": 2,
        "confidence": "exact",
    }
    crafted["findings"][1]["rule"] = "rule-from-a-newer-layerdiff"
    run_ = _validate_sarif(render_sarif(Report.from_json(crafted)))["runs"][0]
    results = run_["results"]
    assert (
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "my%20dir/%231%3A%C3%A4"
    )
    assert results[0]["locations"][0]["logicalLocations"][0]["name"] == "/opt/my dir/#1:ä"
    assert results[1]["ruleId"] == "rule-from-a-newer-layerdiff"
    assert run_["tool"]["driver"]["rules"][results[1]["ruleIndex"]]["id"] == "rule-from-a-newer-layerdiff"


def test_sarif_checks_reject_what_they_should(report: Report) -> None:
    # guards the guard: a validator that accepted anything would make the tests above meaningless
    log = json.loads(render_sarif(report))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(AssertionError, match="fatal"):
        _validate_sarif(json.dumps(log))
    log = json.loads(render_sarif(report))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] = {
        "uri": "docker-archive:fixtures/example/airflow-extended.tar"
    }
    with pytest.raises(AssertionError, match="the scheme 'docker-archive'"):
        _validate_sarif(json.dumps(log))


def test_sarif_of_a_report_without_findings(empty_report: Report) -> None:
    log = _validate_sarif(render_sarif(empty_report))
    assert log["runs"][0]["results"] == []
    assert len(log["runs"][0]["tool"]["driver"]["rules"]) == len(all_rules())


# --- JUnit ------------------------------------------------------------------------------------------------


def _suite(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text)
    suites = root.findall("testsuite")
    assert root.tag == "testsuites" and len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "layerdiff"
    cases = suite.findall("testcase")
    failed = [case for case in cases if case.find("failure") is not None]
    for element in (root, suite):
        assert element.get("tests") == str(len(cases))
        assert element.get("failures") == str(len(failed))
    return suite


def _failed(suite: ET.Element) -> dict[str, ET.Element]:
    return {
        str(case.get("name")): failure
        for case in suite.findall("testcase")
        if (failure := case.find("failure")) is not None
    }


def test_junit_has_a_case_per_rule_and_fails_high_findings_without_a_threshold(report: Report) -> None:
    suite = _suite(render_junit(report))
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [rule.id for rule in all_rules()]
    assert {case.get("classname") for case in cases} == {"layerdiff.rules"}
    failed = _failed(suite)
    assert set(failed) == EXPECTED_HIGH_RULES
    failure = failed["runtime-user-lost-write"]
    assert failure.get("type") == "high"
    assert failure.get("message") == "1 finding at or above high"
    assert "/opt/airflow/logs" in (failure.text or "") and "layer 5 (RUN mkdir -p /opt/airflow/logs)" in (
        failure.text or ""
    )
    ownership = next(case for case in cases if case.get("name") == "ownership-changed")
    assert "/opt/airflow/logs changed: it is now uid 0, gid 0, mode 0755, was uid 50000" in (
        ownership.findtext("system-out") or ""
    )


def test_junit_follows_the_verdict_threshold(failing_report: Report) -> None:
    failed = _failed(_suite(render_junit(failing_report)))
    lower = {"path-command-shadowed", "package-downgraded", "ownership-changed"}
    assert set(failed) == EXPECTED_HIGH_RULES | lower
    downgraded = failed["package-downgraded"]  # requests and urllib3, which the pin downgraded
    assert downgraded.get("message") == "2 findings at or above low"
    assert downgraded.get("type") == "medium"
    assert len((downgraded.text or "").splitlines()) == 2
    assert failed["path-command-shadowed"].get("type") == "medium"


def test_junit_of_a_report_without_findings_passes_every_rule(empty_report: Report) -> None:
    suite = _suite(render_junit(empty_report))
    assert suite.get("failures") == "0"
    assert all(list(case) == [] for case in suite.findall("testcase"))


def test_junit_survives_control_characters_and_unknown_rules(report: Report) -> None:
    crafted = report.to_json()
    crafted["findings"][0]["message"] = "bad \x01 byte & <tag>"
    crafted["findings"][0]["rule"] = "rule-from-a-newer-layerdiff"
    suite = _suite(render_junit(Report.from_json(crafted)))
    failure = _failed(suite)["rule-from-a-newer-layerdiff"]
    assert "bad \ufffd byte & <tag>" in (failure.text or "")
    assert len(suite.findall("testcase")) == len(all_rules()) + 1


# --- CycloneDX --------------------------------------------------------------------------------------------


def test_cyclonedx_lists_sbom_package_changes_of_the_derived_image(syft_report: Report) -> None:
    bom = _validate_cyclonedx(render_cyclonedx(syft_report))
    assert bom["specVersion"] == "1.6"
    assert "timestamp" not in bom["metadata"]
    image = bom["metadata"]["component"]
    assert image["type"] == "container"
    assert image["name"] == "docker-archive:fixtures/example/airflow-extended.tar"
    assert image["version"] == syft_report.derived.image_id
    components = {c["purl"]: c for c in bom["components"]}
    assert set(components) == {"pkg:pypi/requests@2.28.1", "pkg:pypi/urllib3@1.26.18"}
    requests = _properties(components["pkg:pypi/requests@2.28.1"])
    assert requests["layerdiff:change"] == ["downgraded"]
    assert requests["layerdiff:version-before"] == ["2.31.0"]
    assert requests["layerdiff:version-after"] == ["2.28.1"]
    assert requests["layerdiff:layer"] == ["3"]
    image_dependencies = next(d for d in bom["dependencies"] if d["ref"] == image["bom-ref"])
    assert sorted(image_dependencies["dependsOn"]) == sorted(c["bom-ref"] for c in bom["components"])


def test_cyclonedx_serial_number_comes_from_the_image_ids(syft_report: Report, report: Report) -> None:
    serial = json.loads(render_cyclonedx(syft_report))["serialNumber"]
    assert serial == json.loads(render_cyclonedx(report))["serialNumber"]
    other = dataclasses.replace(
        report, derived=dataclasses.replace(report.derived, image_id="sha256:" + "0" * 64)
    )
    assert json.loads(render_cyclonedx(other))["serialNumber"] != serial


def test_cyclonedx_falls_back_to_the_inventory_without_an_sbom(report: Report) -> None:
    crafted = report.to_json()
    os_changes = crafted["inventory"]["os_packages"]["changes"]
    os_changes.append(
        {
            "ecosystem": "deb",
            "name": "libssl3",
            "architecture": "amd64",
            "kind": "removed",
            "before": "3.0.11-1",
        }
        | {"after": None}
    )
    # the same distribution in a second environment must not collide on its bom-ref
    distributions = crafted["inventory"]["python"]["distribution_changes"]
    twin = copy.deepcopy(distributions[0]) | {"environment": "/opt/airflow/venv"}
    distributions.append(twin)
    bom = _validate_cyclonedx(render_cyclonedx(Report.from_json(crafted)))
    by_ref = {c["bom-ref"]: c for c in bom["components"]}
    assert set(by_ref) == {
        "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64",
        "pkg:pypi/requests@2.28.1",
        "pkg:pypi/requests@2.28.1#2",
        "pkg:pypi/urllib3@1.26.18",
    }
    libssl = _properties(by_ref["pkg:deb/debian/libssl3@3.0.11-1?arch=amd64"])
    assert libssl == {"layerdiff:change": ["removed"], "layerdiff:version-before": ["3.0.11-1"]}
    requests = _properties(by_ref["pkg:pypi/requests@2.28.1"])
    assert requests["layerdiff:python-environment"] == ["/usr/bin/python3.11"]
    assert requests["layerdiff:path"] == ["/home/airflow/.local/lib/python3.11/site-packages"]
    # a removed package is in the BOM but not a dependency of the image
    image_ref = bom["metadata"]["component"]["bom-ref"]
    depends_on = next(d for d in bom["dependencies"] if d["ref"] == image_ref)["dependsOn"]
    assert "pkg:deb/debian/libssl3@3.0.11-1?arch=amd64" not in depends_on and len(depends_on) == 3


def test_cyclonedx_of_a_report_without_changes(empty_report: Report) -> None:
    bom = _validate_cyclonedx(render_cyclonedx(empty_report))
    assert bom.get("components", []) == []
    assert bom["metadata"]["component"]["type"] == "container"
