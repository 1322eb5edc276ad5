from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import assert_one_line_error, run
from tests.support.example import TARGET

BASE, DERIVED = str(TARGET / "airflow-base.tar"), str(TARGET / "airflow-extended.tar")


def diff(*extra: str, cwd: Path | None = None) -> tuple[int, dict[str, object], str]:
    result = run("diff", BASE, DERIVED, "--format", "json", "--no-cache", "--sbom", "none", *extra, cwd=cwd)
    return result.code, json.loads(result.stdout) if result.stdout else {}, result.stderr


def test_fail_on_exits_1_and_a_waiver_accepts_the_finding(tmp_path: Path) -> None:
    code, report, _ = diff("--fail-on", "high")
    assert code == 1
    failing = [f for f in report["findings"] if f["severity"] == "high"]  # type: ignore[attr-defined]
    assert {f["rule"] for f in failing} >= {"python-requirement-broken", "runtime-user-lost-write"}
    waivers = "".join(
        f'[[waiver]]\nrule = "{f["rule"]}"\nsubject = "{f["subject"]}"\nreason = "accepted in review"\n'
        for f in failing
    )
    policy = tmp_path / "policy.toml"
    policy.write_text('fail-on = "high"\n' + waivers)
    code, report, stderr = diff("--policy", str(policy))
    assert code == 0, stderr
    verdict = report["verdict"]
    assert verdict["status"] == "pass" and verdict["waived"] == len(failing)  # type: ignore[index]
    assert verdict["policy"]["source"] == str(policy)  # type: ignore[index]


def test_policy_in_the_working_directory_is_used(tmp_path: Path) -> None:
    (tmp_path / ".layerdiff.toml").write_text('fail-on = "info"\n')
    result = run("diff", BASE, DERIVED, "--no-cache", "--sbom", "none", "--format", "json", cwd=tmp_path)
    assert result.code == 1 and json.loads(result.stdout)["verdict"]["fail_on"] == "info"


def test_an_expired_waiver_stops_counting(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'fail-on = "high"\n[[waiver]]\nrule = "runtime-user-lost-write"\nsubject = "*"\n'
        'reason = "temporary"\nexpires = 2020-01-01\n'
    )
    code, report, _ = diff("--policy", str(policy))
    assert code == 1
    assert report["verdict"]["expired_waivers"][0]["expires"] == "2020-01-01"  # type: ignore[index]


def test_invalid_policy_names_the_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('fail-on = "high"\n[severity]\n"no-such-rule" = "low"\n')
    result = run("diff", BASE, DERIVED, "--no-cache", "--sbom", "none", "--policy", str(policy))
    assert_one_line_error(result, 2, f"{policy}:3:")


def test_every_ci_format_from_the_command_line(tmp_path: Path) -> None:
    from xml.etree import ElementTree

    outputs = {}
    for fmt in ("markdown", "sarif", "junit", "cyclonedx"):
        target = tmp_path / f"report.{fmt}"
        result = run(
            "diff",
            BASE,
            DERIVED,
            "--no-cache",
            "--sbom",
            "none",
            "--format",
            fmt,
            "-o",
            str(target),
            "--fail-on",
            "high",
        )
        assert result.code == 1 and result.stdout == "", result.stderr
        outputs[fmt] = target.read_text()
    assert (
        outputs["markdown"].startswith("### layerdiff: ")
        and "python-requirement-broken" in outputs["markdown"]
    )
    assert json.loads(outputs["sarif"])["version"] == "2.1.0"
    assert int(ElementTree.fromstring(outputs["junit"]).find("testsuite").get("failures", "0")) >= 1  # type: ignore[union-attr]
    assert json.loads(outputs["cyclonedx"])["bomFormat"] == "CycloneDX"
