"""The signed gate on real images built by the engine: what a deploy pipeline sees when a record is signed,
edited, signed by a stranger, one reviewer short, approved for another build, or given under an old policy."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Result, run
from tests.support.engine import engine_client
from tests.support.keys import PASSWORD, KeyPair, make_key_pair, needs_openssl

pytestmark = [pytest.mark.engine, needs_openssl]


@pytest.fixture(scope="module")
def setup(scenarios: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("signed-gate")
    keys = {
        "alice": make_key_pair(work, "ed25519", "alice"),
        "bob": make_key_pair(work, "p256-pkcs8-encrypted", "bob"),
        "mallory": make_key_pair(work, "ed25519", "mallory"),
    }
    # a rebuild of the pinned image with one more risky change: USER root left at the end
    dockerfile = f"FROM {scenarios['derived-pin']}\nUSER root\n".encode()
    rebuilt, _ = engine_client().images.build(
        fileobj=io.BytesIO(dockerfile), tag="layerdiff-test/pin-rebuilt:1", rm=True
    )
    assert rebuilt.id
    policy = work / "policy.toml"
    policy.write_text('[reviewers]\nalice = "alice.pub"\nbob = "bob.pub"\n\n[approvals]\nhigh = 2\n')
    base, pin = f"docker:{scenarios['airflow-base']}", f"docker:{scenarios['derived-pin']}"
    report = work / "report.json"
    assert (
        run(
            "diff", base, pin, "--policy", str(policy), "-o", f"json={report}", "--cache-dir", str(work / "c")
        ).code
        == 1
    )
    return {
        "work": work,
        "keys": keys,
        "policy": policy,
        "base": base,
        "pin": pin,
        "rebuilt": "docker:layerdiff-test/pin-rebuilt:1",
        "report": report,
    }


def approve(setup: dict[str, Any], name: str, signer: str) -> Path:
    key: KeyPair = setup["keys"][signer]
    output: Path = setup["work"] / f"{name}.json"
    done = run(
        "approve", str(setup["report"]), "--reviewer", signer, "--reason", "the pin is needed (OPS-7)",
        "--key", str(key.private), "-o", str(output), env={"LAYERDIFF_KEY_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert done.code == 0, done.stderr
    return output


def gate(
    setup: dict[str, Any], image: str, *records: Path, policy: Path | None = None
) -> tuple[Result, dict[str, Any]]:
    approvals = [argument for record in records for argument in ("--approval", str(record))]
    result = run(
        "gate", image, "--base", setup["base"], *approvals, "--policy", str(policy or setup["policy"]),
        "-o", "json", "--cache-dir", str(setup["work"] / "c"),
    )  # fmt: skip
    return result, json.loads(result.stdout)


def test_two_signed_approvals_pass_and_one_is_a_reviewer_short(setup: dict[str, Any]) -> None:
    alice = approve(setup, "alice", "alice")
    short, decision = gate(setup, setup["pin"], alice)
    assert short.code == 1
    assert any("needs 2 distinct reviewers, has 1 (alice)" in reason for reason in decision["reasons"])
    passed, decision = gate(setup, setup["pin"], alice, approve(setup, "bob", "bob"))
    assert passed.code == 0, passed.stderr
    assert {a["reviewer"] for a in decision["approvals"]} == {"alice", "bob"}
    assert all(
        a["signature"] == "verified" and a["matched_by"] == "config digest" for a in decision["approvals"]
    )


def test_an_edited_record_and_a_strangers_record_fail_naming_the_record(setup: dict[str, Any]) -> None:
    edited = approve(setup, "edited", "alice")
    envelope = json.loads(edited.read_text())
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["reviewer"] = "bob"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    edited.write_text(json.dumps(envelope))
    stranger = approve(setup, "stranger", "mallory")
    result, decision = gate(setup, setup["pin"], edited, stranger)
    assert result.code == 1
    assert any(r.startswith(f"{edited}: ") and "does not verify" in r for r in decision["reasons"])
    assert any(r.startswith(f"{stranger}: ") and "not trusted" in r for r in decision["reasons"])


def test_a_rebuild_with_one_more_risky_finding_fails_naming_it(setup: dict[str, Any]) -> None:
    records = (approve(setup, "alice-r", "alice"), approve(setup, "bob-r", "bob"))
    result, decision = gate(setup, setup["rebuilt"], *records)
    assert result.code == 1
    assert any(", not this image (sha256:" in reason for reason in decision["reasons"])
    assert any(reason.startswith("high runtime-user-root on USER") for reason in decision["reasons"])


def test_a_changed_policy_fails_the_records_given_under_the_old_one(setup: dict[str, Any]) -> None:
    records = (approve(setup, "alice-p", "alice"), approve(setup, "bob-p", "bob"))
    changed = setup["work"] / "changed.toml"
    changed.write_text('ignore-paths = ["/tmp/**"]\n' + setup["policy"].read_text())
    result, decision = gate(setup, setup["pin"], *records, policy=changed)
    assert result.code == 1
    assert sum("the policy changed since the approval" in reason for reason in decision["reasons"]) == 2
