"""SARIF that GitHub code scanning takes, for every kind of report: each log is checked against the SARIF
2.1.0 schema, GitHub's documented upload constraints and the repository-relative locations layerdiff
promises (tests/support/sarif_checks.py), and what it says is checked against the report."""

from __future__ import annotations

import base64
import dataclasses
import json
import random
from pathlib import Path
from typing import Any

import pytest

from layerdiff.documents import read_report_file
from layerdiff.render.sarif import MAX_RESULTS, render_sarif
from layerdiff.render.sarif_locations import automation_id, file_uri, image_name
from layerdiff.report.boundary import clean_report
from layerdiff.report.wire import DockerfileMap, DockerfileStep, Finding, Report, SourceLine
from layerdiff.text.redaction import Redactor
from tests.support.example import example_report
from tests.support.sarif_checks import artifact_uris, uploadable_sarif
from tests.support.sarif_github import github_upload_problems

SAVED = sorted((Path(__file__).resolve().parents[1] / "data" / "review").glob("*.json"))
DOCKERFILE = "images/airflow/Dockerfile"
# The example's derived Dockerfile, as the history tells it: line of each instruction (first, last)
LINES = {3: (3, 3), 4: (4, 4), None: (5, 6), 5: (8, 9)}  # layer -> lines; None: the ENV PATH step


@pytest.fixture(scope="module")
def saved_example() -> Report:
    return read_report_file(str(SAVED[0]))


def _results(log: dict[str, Any]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = log["runs"][0]["results"]
    return results


def _physical(result: dict[str, Any]) -> dict[str, Any]:
    physical: dict[str, Any] = result["locations"][0]["physicalLocation"]
    return physical


def _located(report: Report, path: str = DOCKERFILE) -> Report:
    """``report`` as a review with ``--dockerfile path`` would write it: each finding on its instruction's
    lines (the example's base-file-deleted findings left without one, to be anchored at FROM)."""
    findings = tuple(
        f
        if f.rule == "base-file-deleted"
        else dataclasses.replace(f, dockerfile=SourceLine(path, *LINES[f.layer], "exact"))
        for f in report.findings
    )
    steps = tuple(
        DockerfileStep(index, layer, None, first, last, "exact")
        for index, (layer, (first, last)) in enumerate(LINES.items(), start=5)
    )
    dockerfile = DockerfileMap(path, "sha256:" + "ab" * 32, None, 1, steps)
    return dataclasses.replace(report, findings=findings, dockerfile=dockerfile)


def _odd_finding(report: Report, path: str, subject: str) -> Finding:
    finding = next(f for f in report.findings if f.rule == "runtime-user-lost-write")
    return dataclasses.replace(
        finding, subject=subject, evidence={"path": subject}, dockerfile=SourceLine(path, 8, 9, "likely")
    )


# --- reports layerdiff writes -----------------------------------------------------------------------------


def test_the_example_report_is_uploadable_and_names_no_image_uri() -> None:
    report = Report.from_json(example_report())
    log = uploadable_sarif(render_sarif(report))
    results = _results(log)
    assert len(results) == len(report.findings)
    # no Dockerfile: each result names the derived image's stand-in file, line 1, and no docker-archive: URI
    assert set(artifact_uris(log)) == {"airflow-extended.tar"}
    assert all(_physical(r)["region"] == {"startLine": 1} for r in results)
    assert all(_physical(r)["artifactLocation"]["uriBaseId"] == "%SRCROOT%" for r in results)
    lost_write = next(r for r in results if r["ruleId"] == "runtime-user-lost-write")
    names = [logical["name"] for logical in lost_write["locations"][0]["logicalLocations"]]
    assert names == ["/opt/airflow/logs", "layer 5"]
    assert lost_write["message"]["text"].endswith(
        "at /opt/airflow/logs, layer 5 (RUN mkdir -p /opt/airflow/logs)."
    )
    shadowed = next(r for r in results if r["ruleId"] == "path-command-shadowed")
    assert "image config (ENV PATH=/opt/airflow/venv/bin:" in shadowed["message"]["text"]


@pytest.mark.parametrize("saved", SAVED, ids=lambda path: path.stem)
def test_saved_reports_are_uploadable(saved: Path) -> None:
    report = read_report_file(str(saved))
    log = uploadable_sarif(render_sarif(report))
    run = log["runs"][0]
    assert len(run["results"]) == len(report.findings)
    assert run["automationDetails"]["id"] == automation_id(report.base.reference, report.derived.reference)
    assert run["properties"]["verdict"] == report.verdict.status == "fail"
    assert run["properties"]["fail-on"] == report.verdict.fail_on == "high"


def test_the_purge_scenario_is_named_by_its_images_not_their_tags() -> None:
    report = read_report_file(str(next(path for path in SAVED if path.stem == "purge")))
    run = uploadable_sarif(render_sarif(report))["runs"][0]
    # docker:layerdiff-fixture/derived-purge:266c1c5058a8 -> a path without the tag, which changes per build
    assert set(artifact_uris({"runs": [run]})) == {"layerdiff-fixture/derived-purge"}
    assert run["automationDetails"]["id"] == (
        "layerdiff/layerdiff-fixture/airflow-base -> layerdiff-fixture/derived-purge/"
    )


# --- Dockerfile locations ---------------------------------------------------------------------------------


def test_findings_point_at_their_dockerfile_lines(saved_example: Report) -> None:
    report = _located(saved_example)
    results = _results(uploadable_sarif(render_sarif(report)))
    for result, finding in zip(results, report.findings, strict=True):
        physical = _physical(result)
        assert physical["artifactLocation"] == {"uri": DOCKERFILE, "uriBaseId": "%SRCROOT%"}
        if finding.dockerfile is None:  # anchored at the final stage's FROM, and says so
            assert physical["region"] == {"startLine": 1}
            assert result["properties"]["dockerfile-confidence"] == "none"
            assert (
                "no instruction matched: the final stage's FROM" in result["locations"][0]["message"]["text"]
            )
            continue
        first, last = LINES[finding.layer]
        expected = {"startLine": first} if first == last else {"startLine": first, "endLine": last}
        assert physical["region"] == expected
        assert result["properties"]["dockerfile-confidence"] == "exact"
        assert f"{DOCKERFILE}:{first}" in result["message"]["text"]
    lost_write = next(r for r in results if r["ruleId"] == "runtime-user-lost-write")
    assert (
        lost_write["locations"][0]["message"]["text"] == f"{DOCKERFILE}:8-9 (the instruction that wrote it)"
    )


def test_dockerfile_paths_are_repository_relative_or_file_uris() -> None:
    assert file_uri("./docker//Dockerfile") == ("docker/Dockerfile", True)
    assert file_uri("Dockerfile") == ("Dockerfile", True)
    # absolute: GitHub turns a file: URI under the checkout into the repository path
    assert file_uri("/srv/checkout/app/Dockerfile") == (
        "file:///srv/checkout/app/Dockerfile",
        False,
    )
    assert file_uri("//srv/Dockerfile") == ("file:///srv/Dockerfile", False)
    # outside the working directory, or no file at all: no repository path
    assert file_uri("../other/Dockerfile") is None
    assert file_uri("a/../../Dockerfile") is None
    assert file_uri(".") is None and file_uri("") is None


def test_an_absolute_dockerfile_path_is_a_file_uri_without_a_base(saved_example: Report) -> None:
    report = _located(saved_example, "/srv/checkout/app/Dockerfile")
    results = _results(uploadable_sarif(render_sarif(report)))
    assert {json.dumps(_physical(r)["artifactLocation"]) for r in results} == {
        json.dumps({"uri": "file:///srv/checkout/app/Dockerfile"})
    }


def test_a_dockerfile_outside_the_repository_falls_back_to_the_image(saved_example: Report) -> None:
    report = _located(saved_example, "../elsewhere/Dockerfile")
    results = _results(uploadable_sarif(render_sarif(report)))
    assert {_physical(r)["artifactLocation"]["uri"] for r in results} == {"airflow-extended.tar"}
    # the line is still said, in words
    lost_write = next(r for r in results if r["ruleId"] == "runtime-user-lost-write")
    assert "../elsewhere/Dockerfile:8-9" in lost_write["message"]["text"]


# --- odd names --------------------------------------------------------------------------------------------

ODD_DOCKERFILES = {
    "build dir/Dockerfile #1 100%.ä": "build%20dir/Dockerfile%20%231%20100%25.%C3%A4",
    # a name that is not UTF-8 passes the report boundary as a \xNN escape, and is named as it reads
    "docker/caf\udce9/Dockerfile": "docker/caf%5Cxe9/Dockerfile",
    "docker/caf\\xe9/Dockerfile": "docker/caf%5Cxe9/Dockerfile",
    "a:b/Dockerfile?x=1": "a%3Ab/Dockerfile%3Fx=1",  # ':' first would read as a scheme
    "docker:app/Dockerfile": "docker%3Aapp/Dockerfile",
}


@pytest.mark.parametrize("path", sorted(ODD_DOCKERFILES))
def test_odd_dockerfile_paths_are_percent_encoded(path: str, saved_example: Report) -> None:
    odd = _odd_finding(saved_example, path, "/opt/my dir/#1:ä%\udcff")
    report = clean_report(
        dataclasses.replace(saved_example, findings=(odd, *saved_example.findings)), Redactor(())
    )
    result = _results(uploadable_sarif(render_sarif(report)))[0]
    assert _physical(result)["artifactLocation"] == {"uri": ODD_DOCKERFILES[path], "uriBaseId": "%SRCROOT%"}
    assert result["locations"][0]["logicalLocations"][0]["name"] == "/opt/my dir/#1:ä%\\xff"
    assert "at /opt/my dir/#1:ä%\\xff, layer 5" in result["message"]["text"]


@pytest.mark.parametrize(
    ("reference", "name", "stand_in"),
    [
        ("docker:my-airflow:4f2c9e1", "my-airflow", "my-airflow"),
        (
            "registry:reg.example.com:5000/team/app:1.0@sha256:" + "0" * 64,
            "reg.example.com:5000/team/app",
            "reg.example.com%3A5000/team/app",
        ),
        ("docker-archive:out/build 7/app image.tar", "app image.tar", "app%20image.tar"),
        ("oci:layouts/app/", "app", "app"),
        ("docker:sha256:" + "a" * 64, "sha256:" + "a" * 64, "sha256%3A" + "a" * 64),
        ("docker:café/ünïcode:1", "café/ünïcode", "caf%C3%A9/%C3%BCn%C3%AFcode"),
    ],
)
def test_odd_image_references_give_stable_names_and_file_stand_ins(
    reference: str, name: str, stand_in: str, saved_example: Report
) -> None:
    assert image_name(reference) == name
    derived = dataclasses.replace(saved_example.derived, reference=reference)
    log = uploadable_sarif(render_sarif(dataclasses.replace(saved_example, derived=derived)))
    assert set(artifact_uris(log)) == {stand_in}


# --- the run ----------------------------------------------------------------------------------------------


def test_the_category_is_the_image_pair_and_survives_rebuilds(saved_example: Report) -> None:
    def category(report: Report) -> str:
        identifier: str = json.loads(render_sarif(report))["runs"][0]["automationDetails"]["id"]
        assert identifier.endswith("/")  # everything is the category; there is no run id
        return identifier[:-1]

    def images(base: str, derived: str, image_id: str) -> Report:
        return dataclasses.replace(
            saved_example,
            base=dataclasses.replace(saved_example.base, reference=base),
            derived=dataclasses.replace(saved_example.derived, reference=derived, image_id=image_id),
        )

    first = images("registry:apache/airflow:2.6.0", "docker:my-airflow:abc123", "sha256:" + "1" * 64)
    rebuilt = images("registry:apache/airflow:2.6.1", "docker:my-airflow:def456", "sha256:" + "2" * 64)
    other = images("registry:apache/airflow:2.6.0", "docker:my-worker:abc123", "sha256:" + "1" * 64)
    assert category(first) == category(rebuilt) == "layerdiff/apache/airflow -> my-airflow"
    assert category(other) != category(first)


def test_the_run_states_the_verdict_and_its_one_threshold(saved_example: Report) -> None:
    unenforced = dataclasses.replace(
        saved_example,
        verdict=dataclasses.replace(saved_example.verdict, fail_on=None, status="review", failing=0),
    )
    run = uploadable_sarif(render_sarif(unenforced))["runs"][0]
    assert (run["properties"]["verdict"], run["properties"]["fail-on"]) == ("review", "none")
    assert not any(r["properties"]["fails-verdict"] for r in run["results"])
    enforced = uploadable_sarif(render_sarif(saved_example))["runs"][0]
    failing = [r["ruleId"] for r in enforced["results"] if r["properties"]["fails-verdict"]]
    assert failing == [f.rule for f in saved_example.failing_findings()] and len(failing) == 3


def test_rules_carry_their_documentation(saved_example: Report) -> None:
    rules = uploadable_sarif(render_sarif(saved_example))["runs"][0]["tool"]["driver"]["rules"]
    for rule in rules:
        assert rule["helpUri"].startswith("https://") and rule["helpUri"].endswith(f"/{rule['id']}.md")
        assert f"[{rule['id']}]({rule['helpUri']})" in rule["help"]["markdown"]
    by_id = {rule["id"]: rule for rule in rules}
    assert by_id["setuid-added"]["fullDescription"]["text"].startswith("A regular file that a derived layer")
    # a section that only leads into a list gives way to the title
    assert by_id["secret-in-image"]["fullDescription"] == by_id["secret-in-image"]["shortDescription"]


def test_a_rule_of_another_version_is_described_by_its_finding(saved_example: Report) -> None:
    newer = dataclasses.replace(
        saved_example.findings[0], rule="rule-from-a-newer-layerdiff", doc="docs/x.md"
    )
    report = dataclasses.replace(saved_example, findings=(newer, *saved_example.findings[1:]))
    run = uploadable_sarif(render_sarif(report))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    result = run["results"][0]
    assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == "rule-from-a-newer-layerdiff"
    assert rules[result["ruleIndex"]]["shortDescription"]["text"] == newer.title
    assert "helpUri" not in rules[result["ruleIndex"]]  # a relative doc is no URI to send anyone to


def test_fingerprints_are_the_findings_for_layerdiff_and_for_github(saved_example: Report) -> None:
    located = _located(saved_example)
    results = _results(uploadable_sarif(render_sarif(located)))
    for result, finding in zip(results, located.findings, strict=True):
        assert result["partialFingerprints"] == {
            "layerdiffFingerprint/v1": finding.fingerprint,
            "primaryLocationLineHash": f"{finding.fingerprint}:1",
        }
    # two findings of one rule on one line stay two alerts
    lines = [(r["ruleId"], json.dumps(_physical(r))) for r in results]
    hashes = {r["partialFingerprints"]["primaryLocationLineHash"] for r in results}
    assert len(set(lines)) < len(results) and len(hashes) == len(results)


# --- large reports ----------------------------------------------------------------------------------------


def _many(
    report: Report, count: int, severity: str = "high", message: str | None = None
) -> tuple[Finding, ...]:
    template = next(f for f in report.findings if f.rule == "runtime-user-lost-write")
    return tuple(
        dataclasses.replace(
            template,
            severity=severity,
            subject=f"/opt/airflow/logs/{severity}/{n}",
            evidence={"path": f"/opt/airflow/logs/{severity}/{n}"},
            fingerprint=f"{severity[0]}{n:031x}",
            message=message or template.message,
            dockerfile=SourceLine(DOCKERFILE, 1 + n % 500, 1 + n % 500 + n % 3, "exact"),
        )
        for n in range(count)
    )


def test_many_findings_are_uploadable(saved_example: Report) -> None:
    report = dataclasses.replace(_located(saved_example), findings=_many(saved_example, 5_000))
    run = uploadable_sarif(render_sarif(report))["runs"][0]
    assert len(run["results"]) == 5_000 and "results-omitted" not in run["properties"]


def test_more_findings_than_github_takes_keep_the_most_severe(saved_example: Report) -> None:
    findings = _many(saved_example, MAX_RESULTS - 10) + _many(saved_example, 1_010, severity="info")
    report = dataclasses.replace(saved_example, findings=findings)
    text = render_sarif(report)
    # The schema is checked on 5,000 results above (the same shapes); on 25,000 it takes a quarter minute.
    log = json.loads(text)
    assert github_upload_problems(log, text=text) == []
    run = log["runs"][0]
    assert len(run["results"]) == MAX_RESULTS
    assert sum(r["properties"]["severity"] == "info" for r in run["results"]) == 10
    assert run["properties"]["results-omitted"] == 1_000
    note = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert note.startswith("1000 of 26000 findings are left out (the least severe)")


def test_a_log_too_big_for_github_when_compressed_is_cut(saved_example: Report) -> None:
    # messages that do not compress: 4,000 results of 4 KB are about 12 MB gzip-compressed
    noise = random.Random(0)
    findings = tuple(
        dataclasses.replace(f, message=base64.b64encode(noise.randbytes(3_000)).decode())
        for f in _many(saved_example, 4_000)
    )
    run = uploadable_sarif(render_sarif(dataclasses.replace(saved_example, findings=findings)))["runs"][0]
    assert 0 < run["properties"]["results-omitted"] < 4_000
    assert len(run["results"]) + run["properties"]["results-omitted"] == 4_000
