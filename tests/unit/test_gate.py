from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Result, assert_one_line_error, run
from tests.support.example import base, extended
from tests.support.imagebuilder import Image, write_docker_archive

NO_SBOM = ("--no-cache", "--sbom", "none")


@pytest.fixture
def images(tmp_path: Path) -> dict[str, str]:
    riskier = extended()
    riskier = Image(
        riskier.layers,
        {**riskier.config, "User": "root"},
        [*(riskier.history or []), {"created_by": "/bin/sh -c #(nop)  USER root", "empty_layer": True}],
    )
    return {
        "base": str(write_docker_archive(tmp_path / "base.tar", base())),
        "derived": str(write_docker_archive(tmp_path / "derived.tar", extended())),
        "riskier": str(write_docker_archive(tmp_path / "riskier.tar", riskier)),
    }


def approve(images: dict[str, str], tmp_path: Path, *extra: str) -> Path:
    report = tmp_path / "report.json"
    made = run("diff", images["base"], images["derived"], "-o", f"json={report}", *NO_SBOM)
    # the example's three high findings fail the default threshold; the gate is what the approval unlocks
    assert made.code == 1 and made.stderr.startswith("layerdiff: 3 findings at or above high"), made.stderr
    approval = tmp_path / "approval.json"
    done = run(
        "approve",
        str(report),
        "--reviewer",
        "alice",
        "--reason",
        "reviewed in PR 12",
        "-o",
        str(approval),
        *extra,
    )
    assert done.code == 0, done.stderr
    return approval


def approval_path(tmp_path: Path) -> Path:
    return tmp_path / "approval.json"


def gate(images: dict[str, str], derived: str, approval: Path, *extra: str) -> tuple[Result, dict[str, Any]]:
    result = run(
        "gate",
        images[derived],
        "--base",
        images["base"],
        "--approval",
        str(approval),
        "--format",
        "json",
        *NO_SBOM,
        *extra,
    )
    return result, json.loads(result.stdout) if result.stdout else {}


def test_the_approval_record_is_an_in_toto_statement(images: dict[str, str], tmp_path: Path) -> None:
    statement = json.loads(approve(images, tmp_path).read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://layerdiff.dev/approval/v1"
    predicate = statement["predicate"]
    assert "sha256:" + statement["subject"][0]["digest"]["sha256"] == predicate["derived"]["image_id"]
    assert predicate["reviewer"] == "alice" and predicate["accepted"]
    assert {"python-requirement-broken", "runtime-user-lost-write"} <= {
        a["rule"] for a in predicate["accepted"]
    }


def test_approved_image_passes(images: dict[str, str], tmp_path: Path) -> None:
    result, outcome = gate(images, "derived", approve(images, tmp_path))
    assert result.code == 0 and outcome["status"] == "pass" and outcome["reasons"] == []


def test_a_rebuild_with_one_more_risky_change_fails_naming_it(images: dict[str, str], tmp_path: Path) -> None:
    result, outcome = gate(images, "riskier", approve(images, tmp_path))
    assert result.code == 1
    assert any(
        "approves sha256:" in reason and ", not this image (sha256:" in reason
        for reason in outcome["reasons"]
    )
    new = [reason for reason in outcome["reasons"] if "neither approved nor waived" in reason]
    # USER root is named, with its consequences (the user site leaves sys.path); nothing approved returns
    assert any(reason.startswith("high runtime-user-root on USER") for reason in new)
    accepted = json.loads(approval_path(tmp_path).read_text())["predicate"]["accepted"]
    assert not any(a["fingerprint"] in reason for a in accepted for reason in new)


def test_an_approval_for_another_base_fails(images: dict[str, str], tmp_path: Path) -> None:
    approval = approve(images, tmp_path)
    result = run(
        "gate", images["derived"], "--base", images["derived"], "--approval", str(approval), *NO_SBOM
    )
    assert result.code == 1 and "was given against the base sha256:" in result.stdout


def test_an_expired_approval_stops_counting(images: dict[str, str], tmp_path: Path) -> None:
    approval = approve(images, tmp_path, "--expires", date.today().isoformat())
    # Time passes: the record's last day is behind us.
    statement = json.loads(approval.read_text())
    statement["predicate"]["expires"] = "2020-01-01"
    approval.write_text(json.dumps(statement))
    result, outcome = gate(images, "derived", approval)
    assert result.code == 1 and "expired on 2020-01-01" in outcome["reasons"][0]


def test_an_expiry_in_the_past_is_refused(images: dict[str, str], tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    made = run("diff", images["base"], images["derived"], "--format", "json", "-o", str(report), *NO_SBOM)
    assert made.code in (0, 1), made.stderr
    result = run("approve", str(report), "--reviewer", "a", "--reason", "b", "--expires", "2020-01-01")
    assert_one_line_error(result, 2, "expires 2020-01-01 is in the past")


def test_waivers_cover_what_the_approval_does_not_until_they_expire(
    images: dict[str, str], tmp_path: Path
) -> None:
    approval = approve(images, tmp_path)
    statement = json.loads(approval.read_text())
    statement["predicate"]["accepted"] = [
        a for a in statement["predicate"]["accepted"] if a["rule"] != "python-requirement-broken"
    ]
    approval.write_text(json.dumps(statement))
    result, outcome = gate(images, "derived", approval)
    assert result.code == 1 and "python-requirement-broken" in outcome["reasons"][0]

    policy = tmp_path / "policy.toml"
    waiver = '[[waiver]]\nrule = "python-requirement-broken"\nreason = "responses is unused"\n'
    policy.write_text(waiver + "expires = 2999-12-31\n")
    # the record was given without this policy: it counts only when a policy change is allowed
    changed = gate(images, "derived", approval, "--policy", str(policy))
    assert changed[0].code == 1 and "the policy changed since the approval" in changed[1]["reasons"][0]
    allowed = ("--policy", str(policy), "--allow-policy-change")
    assert gate(images, "derived", approval, *allowed)[0].code == 0
    policy.write_text(waiver + "expires = 2020-12-31\n")
    assert gate(images, "derived", approval, *allowed)[0].code == 1


def test_malformed_approval(images: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"_type": "https://in-toto.io/Statement/v1"}')
    result = run("gate", images["derived"], "--approval", str(bad), *NO_SBOM)
    assert_one_line_error(result, 2, "invalid approval record")


def test_approving_some_findings_leaves_the_rest_to_the_gate(images: dict[str, str], tmp_path: Path) -> None:
    approve(images, tmp_path)  # writes report.json beside it
    findings = json.loads((tmp_path / "report.json").read_text())["findings"]
    high = [f for f in findings if f["severity"] == "high"]
    chosen, left = high[0], high[1:]
    approval = tmp_path / "partial.json"
    done = run(
        "approve",
        str(tmp_path / "report.json"),
        "--reviewer",
        "alice",
        "--reason",
        "only the first",
        "--finding",
        chosen["fingerprint"],
        "-o",
        str(approval),
    )
    assert done.code == 0, done.stderr
    accepted = json.loads(approval.read_text())["predicate"]["accepted"]
    assert [a["fingerprint"] for a in accepted] == [chosen["fingerprint"]]
    result, outcome = gate(images, "derived", approval)
    assert result.code == 1
    unapproved = [reason for reason in outcome["reasons"] if "neither approved nor waived" in reason]
    assert len(unapproved) == len(left) and all(f["fingerprint"] in " ".join(unapproved) for f in left)
    # the decision in one line on stderr, after the note that no key verified the records
    *notes, failed = result.stderr.splitlines()
    assert failed.startswith("layerdiff: gate failed: ") and all(
        n.startswith("layerdiff: note: ") for n in notes
    )
    # the gate takes the one threshold too: above every finding left, the partial approval is enough
    lenient, decision = gate(images, "derived", approval, "--fail-on", "Critical")
    assert lenient.code == 0 and decision["fail_on"] == "critical" and decision["reasons"] == []


def test_approving_an_unknown_fingerprint_is_a_usage_error(images: dict[str, str], tmp_path: Path) -> None:
    approve(images, tmp_path)
    done = run(
        "approve",
        str(tmp_path / "report.json"),
        "--reviewer",
        "alice",
        "--reason",
        "typo",
        "--finding",
        "0" * 16,
    )
    assert_one_line_error(done, 2, f"the report has no finding with fingerprint {'0' * 16}")


def test_the_approval_never_overwrites_the_report(images: dict[str, str], tmp_path: Path) -> None:
    approve(images, tmp_path)
    report = tmp_path / "report.json"
    before = report.read_text()
    done = run(
        "approve", str(report), "--reviewer", "a", "--reason", "b", "-o", str(tmp_path / "." / "report.json")
    )
    assert_one_line_error(done, 2, "is the report being approved")
    assert report.read_text() == before


def test_the_approved_base_is_found_beside_the_approval_wherever_gate_runs(tmp_path: Path) -> None:
    ci = tmp_path / "ci"
    ci.mkdir()
    write_docker_archive(ci / "base.tar", base())
    write_docker_archive(ci / "derived.tar", extended())
    # the diff ran beside the images, so the report (and the approval) name them by relative paths
    diffed = run(
        "diff", "base.tar", "derived.tar", "-o", "json=report.json", "--fail-on", "none", *NO_SBOM, cwd=ci
    )
    assert diffed.code == 0, diffed.stderr
    assert json.loads((ci / "report.json").read_text())["base"]["reference"] == "docker-archive:base.tar"
    approved = run(
        "approve", "report.json", "--reviewer", "a", "--reason", "r", "-o", "approval.json", cwd=ci
    )
    assert approved.code == 0, approved.stderr
    passed = run("gate", "ci/derived.tar", "--approval", "ci/approval.json", *NO_SBOM, cwd=tmp_path)
    assert passed.code == 0, passed.stderr
    (ci / "base.tar").unlink()
    result = run("gate", "ci/derived.tar", "--approval", "ci/approval.json", *NO_SBOM, cwd=tmp_path)
    assert_one_line_error(result, 3, "base image from ci/approval.json: no such file: ci/base.tar")


def test_hostile_records_are_refused_in_one_line(images: dict[str, str], tmp_path: Path) -> None:
    envelope = {"payloadType": "application/vnd.in-toto+json", "signatures": [{"keyid": "", "sig": "AAAA"}]}
    deep = "[" * 100_000 + "]" * 100_000
    cases = {
        "deep.json": {**envelope, "payload": base64.b64encode(deep.encode()).decode()},
        "binary.json": {**envelope, "payload": base64.b64encode(b"\xff\xfe").decode()},
    }
    expected = {
        "deep.json": "nested more than 64 levels",
        "binary.json": "the envelope's payload is not JSON",
    }
    for name, document in cases.items():
        record = tmp_path / name
        record.write_text(json.dumps(document))
        result = run("gate", images["derived"], "--base", images["base"], "--approval", str(record), *NO_SBOM)
        assert_one_line_error(result, 2, expected[name])
    # an envelope that is no in-toto record is no approval: the gate fails naming it, as for a bad signature
    record = tmp_path / "type.json"
    record.write_text(json.dumps({**envelope, "payloadType": "text/plain", "payload": ""}))
    result, decision = gate(images, "derived", record)
    assert result.code == 1
    assert (
        decision["reasons"][0] == f"{record}: payload type text/plain, expected application/vnd.in-toto+json"
    )
    many = tmp_path / "many"
    many.mkdir()
    for number in range(257):
        (many / f"{number}.json").write_text("{}")
    assert_one_line_error(
        run("gate", images["derived"], "--approval", str(many), *NO_SBOM), 2, "more than 256 approval records"
    )
