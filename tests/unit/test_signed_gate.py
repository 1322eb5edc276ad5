"""The gate with signed approvals: records count only when a trusted key verifies them, the reviewer is the
key's owner, several records and reviewers add up, and the policy can ask for more than one. Runs the real
command on the bundled example images; the keys are made with openssl, as docs/approval.md says."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Result, run
from tests.support.example import TARGET
from tests.support.keys import PASSWORD, KeyPair, make_key_pair, needs_openssl

pytestmark = needs_openssl
BASE, DERIVED = str(TARGET / "airflow-base.tar"), str(TARGET / "airflow-extended.tar")
QUICK = ("--no-cache", "--sbom", "none")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    directory = tmp_path_factory.mktemp("keys")
    return {
        "alice": make_key_pair(directory, "ed25519", "alice"),
        "bob": make_key_pair(directory, "p256-pkcs8-encrypted", "bob"),
        "mallory": make_key_pair(directory, "p256-sec1", "mallory"),
    }


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "report.json"
    assert run("diff", BASE, DERIVED, *QUICK, "-o", f"json={path}").code == 1
    return path


def approve(report: Path, output: Path, key: KeyPair | None, reviewer: str = "someone") -> Path:
    signing = ["--key", str(key.private)] if key else []
    env = {"LAYERDIFF_KEY_PASSWORD": PASSWORD} if key and key.password else {}
    done = run(
        "approve", str(report), "--reviewer", reviewer, "--reason", "ok", *signing, "-o", str(output), env=env
    )
    assert done.code == 0, done.stderr
    return output


def gate(*arguments: str, cwd: Path | None = None) -> tuple[Result, dict[str, Any]]:
    result = run("gate", DERIVED, "--base", BASE, *QUICK, "-o", "json", *arguments, cwd=cwd)
    return result, json.loads(result.stdout) if result.stdout else {}


def trust(*pairs: KeyPair) -> list[str]:
    return [argument for pair in pairs for argument in ("--key", f"{pair.public.stem}={pair.public}")]


def test_a_signed_record_counts_for_the_key_owner_not_the_name_it_gives(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    record = approve(report, tmp_path / "a.json", keys["alice"], reviewer="the CTO")
    envelope = json.loads(record.read_text())
    assert envelope["payloadType"] == "application/vnd.in-toto+json" and len(envelope["signatures"]) == 1
    result, decision = gate("--approval", str(record), *trust(keys["alice"]))
    assert result.code == 0, result.stderr
    (check,) = decision["approvals"]
    assert check["signature"] == "verified" and check["reviewer"] == "alice" and check["counts"]
    assert check["keyid"].startswith("sha256:") and check["matched_by"] == "config digest"
    assert all(f["approved_by"] == ["alice"] for f in decision["findings"])
    assert decision["notes"] == [] and result.stderr == ""


def test_a_record_changed_after_signing_fails_the_gate_naming_it(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    record = approve(report, tmp_path / "a.json", keys["alice"])
    envelope = json.loads(record.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["expires"] = "2999-12-31"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    record.write_text(json.dumps(envelope))
    result, decision = gate("--approval", str(record), *trust(keys["alice"]))
    assert result.code == 1
    assert decision["reasons"][0].startswith(f"{record}: ") and "does not verify" in decision["reasons"][0]
    assert result.stderr.startswith(f"layerdiff: gate failed: {record}: ")


@pytest.mark.parametrize("signer", ["mallory", None])
def test_with_trusted_keys_an_unknown_key_or_no_signature_does_not_count(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path, signer: str | None
) -> None:
    record = approve(report, tmp_path / "a.json", keys[signer] if signer else None)
    result, decision = gate("--approval", str(record), *trust(keys["alice"], keys["bob"]))
    assert result.code == 1
    why = "not trusted" if signer else "is unsigned, but trusted keys are configured"
    assert why in decision["reasons"][0] and decision["reasons"][0].startswith(str(record))


def test_without_keys_the_gate_says_approvals_are_unverified_and_the_policy_can_forbid_it(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    record = approve(report, tmp_path / "a.json", keys["mallory"], reviewer="mallory")
    result, decision = gate("--approval", str(record))
    assert result.code == 0
    assert decision["approvals"][0]["signature"] == "unverified"
    assert result.stderr.startswith("layerdiff: note: approvals are unverified: no trusted key was given")
    policy = tmp_path / "policy.toml"
    policy.write_text("[approvals]\nrequire-signatures = true\n")
    record = approve(report, tmp_path / "b.json", None)  # under no policy: allow the change
    failed, decision = gate("--approval", str(record), "--policy", str(policy), "--allow-policy-change")
    assert failed.code == 1 and "the policy requires signatures" in decision["reasons"][0]


def test_two_required_reviewers_need_two_keys_and_one_person_counts_once(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    shutil_copy = tmp_path / "keys"
    shutil_copy.mkdir()
    for name in ("alice", "bob"):
        (shutil_copy / f"{name}.pub").write_bytes(keys[name].public.read_bytes())
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[reviewers]\nalice = "keys/alice.pub"\nbob = "keys/bob.pub"\n\n[approvals]\nhigh = 2\n'
    )
    reviewed = tmp_path / "report.json"
    assert run("diff", BASE, DERIVED, *QUICK, "--policy", str(policy), "-o", f"json={reviewed}").code == 1
    records = tmp_path / "approvals"
    records.mkdir()
    approve(reviewed, records / "alice.json", keys["alice"])
    approve(reviewed, records / "alice-again.json", keys["alice"])
    result, decision = gate("--approval", str(records), "--policy", str(policy))
    assert result.code == 1
    missing = [r for r in decision["reasons"] if "needs 2 distinct reviewers, has 1 (alice)" in r]
    assert len(missing) == 3  # the three high findings, the ones at or above the threshold
    assert [f["needed"] for f in decision["findings"]] == [2, 2, 2]
    approve(reviewed, records / "bob.json", keys["bob"])
    passed, decision = gate("--approval", str(records), "--policy", str(policy))
    assert passed.code == 0, passed.stderr
    high = [f for f in decision["findings"] if f["needed"] == 2]
    assert high and all(f["approved_by"] == ["alice", "bob"] for f in high)


def test_a_record_given_under_another_policy_fails_unless_allowed(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    record = approve(report, tmp_path / "a.json", keys["alice"])
    policy = tmp_path / "policy.toml"
    policy.write_text('ignore-paths = ["/opt/airflow/dags/**"]\n')
    result, decision = gate("--approval", str(record), "--policy", str(policy), *trust(keys["alice"]))
    assert result.code == 1 and "the policy changed since the approval" in decision["reasons"][0]
    allowed, decision = gate(
        "--approval", str(record), "--policy", str(policy), "--allow-policy-change", *trust(keys["alice"])
    )
    assert allowed.code == 0 and "(allowed)" in decision["notes"][0]


def test_an_oci_image_is_matched_by_its_manifest_digest(keys: dict[str, KeyPair], tmp_path: Path) -> None:
    from tests.support.example import base, extended
    from tests.support.imagebuilder import write_oci_layout

    layout = write_oci_layout(tmp_path / "layout", {"base": base(), "app": extended()})
    images = (f"oci:{layout}:base", f"oci:{layout}:app")
    reviewed = tmp_path / "report.json"
    assert run("diff", *images, *QUICK, "-o", f"json={reviewed}").code == 1
    record = approve(reviewed, tmp_path / "a.json", keys["alice"])
    statement = json.loads(base64.b64decode(json.loads(record.read_text())["payload"]))
    manifest = json.loads(reviewed.read_text())["derived"]["manifest_digest"]
    assert manifest and statement["subject"][0]["digest"]["sha256"] == manifest.removeprefix("sha256:")
    result = run("gate", images[1], "--approval", str(record), *QUICK, "-o", "json", *trust(keys["alice"]))
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["approvals"][0]["matched_by"] == "manifest digest"


def test_no_private_key_or_password_is_written_anywhere(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    bob = keys["bob"]
    cache = tmp_path / "cache"
    record = approve(report, tmp_path / "a.json", bob)
    result = run(
        "gate", DERIVED, "--base", BASE, "--sbom", "none", "--cache-dir", str(cache),
        "--approval", str(record), "--key", str(bob.public), "-o", f"json={tmp_path / 'decision.json'}",
        "-o", "table",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    private_lines = [line for line in bob.private.read_text().splitlines() if not line.startswith("-----")]
    written = [record, tmp_path / "decision.json", *(p for p in cache.rglob("*") if p.is_file())]
    texts = [p.read_bytes() for p in written] + [result.stdout.encode(), result.stderr.encode()]
    for text in texts:
        assert PASSWORD.encode() not in text
        assert not any(line.encode() in text for line in private_lines)


def test_a_wrong_password_is_one_line_and_writes_no_record(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    output = tmp_path / "a.json"
    done = run(
        "approve", str(report), "--reviewer", "b", "--reason", "r", "--key", str(keys["bob"].private),
        "-o", str(output), env={"LAYERDIFF_KEY_PASSWORD": "hunter2-not-it"},
    )  # fmt: skip
    assert done.code == 2 and done.stderr.count("\n") == 1 and "hunter2" not in done.stderr
    assert "cannot decrypt the key" in done.stderr
    assert not output.exists()


def test_the_gate_verifies_an_envelope_made_without_layerdiff(
    keys: dict[str, KeyPair], report: Path, tmp_path: Path
) -> None:
    from tests.unit.test_signing_interop import openssl_sign, pae

    statement = approve(report, tmp_path / "statement.json", None).read_bytes()
    payload_type = "application/vnd.in-toto+json"
    signature = openssl_sign(keys["bob"], pae(payload_type, statement), tmp_path)
    envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(statement).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}],  # cosign leaves it empty
    }
    record = tmp_path / "openssl.json"
    record.write_text(json.dumps(envelope))
    result, decision = gate("--approval", str(record), *trust(keys["bob"]))
    assert result.code == 0, result.stderr
    assert (
        decision["approvals"][0]["reviewer"] == "bob" and decision["approvals"][0]["signature"] == "verified"
    )
