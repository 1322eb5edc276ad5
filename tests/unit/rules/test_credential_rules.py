"""secret-in-image for credential files read by their content, and secret-in-history for credentials in
build instructions, on images built in Python and run through the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerdiff.rules.credentials import SECRET_IN_HISTORY, SECRET_IN_IMAGE
from layerdiff.rules.model import Finding
from layerdiff.rules.severity import Severity
from tests.support import pairs
from tests.support.credentials import FILES, INSTRUCTIONS, SECRETS, credential_image
from tests.support.imagebuilder import F, layer_tar
from tests.support.rules import diff_context, findings


def by_subject(found: list[Finding]) -> dict[str, Finding]:
    return {finding.subject: finding for finding in found}


def assert_no_value(found: list[Finding]) -> None:
    for finding in found:
        for secret in SECRETS:
            assert secret not in str(finding), (finding.subject, secret)


def test_every_credential_file_kind_is_reported_with_its_line(tmp_path: Path) -> None:
    context = diff_context(tmp_path, pairs.base_image(), credential_image())
    found = by_subject(findings(SECRET_IN_IMAGE, context))
    assert set(found) == {planted.path for planted in FILES}
    for planted in FILES:
        finding = found[planted.path]
        assert finding.severity == Severity.HIGH and finding.layer == 2
        (credential,) = finding.evidence["credentials"]
        assert (credential["layer"], credential["line"], credential["kind"]) == (
            2,
            planted.line,
            planted.kind,
        )
        assert f"(line {planted.line}: {planted.kind})" in finding.message
        assert finding.evidence["content"] == "read: 1 credential found (values not shown)"
        assert "sha256" not in finding.evidence
    assert_no_value(list(found.values()))


def test_the_same_files_without_credentials_are_not_reported(tmp_path: Path) -> None:
    context = diff_context(tmp_path, pairs.base_image(), credential_image(clean=True))
    assert findings(SECRET_IN_IMAGE, context) == []
    assert findings(SECRET_IN_HISTORY, context) == []


def test_every_instruction_kind_is_reported_at_its_layer(tmp_path: Path) -> None:
    context = diff_context(tmp_path, pairs.base_image(), credential_image())
    found = findings(SECRET_IN_HISTORY, context)
    assert len(found) == len(INSTRUCTIONS)
    for position, (planted, finding) in enumerate(zip(INSTRUCTIONS, found_in_order(found), strict=True)):
        assert finding.severity == Severity.HIGH
        assert finding.layer == 3 + position
        assert [c["kind"] for c in finding.evidence["credentials"]] == [planted.kind]
        assert finding.evidence["history"] == [{"history_index": 5 + position, "layer": 3 + position}]
        assert finding.instruction is not None and "<redacted>" in finding.instruction
        assert finding.subject == " ".join(finding.instruction.split())
    assert_no_value(found)


def found_in_order(found: list[Finding]) -> list[Finding]:
    return sorted(found, key=lambda finding: finding.layer or 0)


def _image(entries: list[list[F]], history: list[dict[str, Any]], **config: Any) -> Any:
    return pairs.derived([layer_tar(layer) for layer in entries], history, **config)


def test_a_file_rewritten_without_its_credential_stays_in_the_earlier_blob(tmp_path: Path) -> None:
    npmrc = FILES[3]
    derived = _image(
        [[npmrc.entry()], [npmrc.entry(clean=True)]],
        [{"created_by": "/bin/sh -c #(nop) COPY npmrc"}, {"created_by": "/bin/sh -c #(nop) COPY npmrc"}],
    )
    (finding,) = findings(SECRET_IN_IMAGE, diff_context(tmp_path, pairs.base_image(), derived))
    assert finding.layer == 2 and finding.evidence["layers"] == [2]
    assert "layer 3 rewrites it without one, but it stays in layer 2's blob" in finding.message


def test_a_credential_file_too_large_to_read_is_reported_by_its_path(tmp_path: Path) -> None:
    netrc = F("root/.netrc", b"machine a login u password pw\n" + b"#" * (1 << 20), mode=0o600)
    pip = F("etc/pip.conf", b"[global]\n" + b"#" * (1 << 20))  # not a credential file by its path
    derived = _image([[netrc, pip]], [{"created_by": "/bin/sh -c #(nop) COPY dir"}])
    (finding,) = findings(SECRET_IN_IMAGE, diff_context(tmp_path, pairs.base_image(), derived))
    assert finding.subject == "/root/.netrc"
    assert finding.evidence["content"].startswith("not read: 1048606 bytes, more than the 1MiB")
    assert "credentials" not in finding.evidence


def test_a_key_store_is_reported_by_its_path(tmp_path: Path) -> None:
    derived = _image([[F("opt/app/keystore.p12", b"\x30\x82binary")]], [{"created_by": "/bin/sh -c x"}])
    (finding,) = findings(SECRET_IN_IMAGE, diff_context(tmp_path, pairs.base_image(), derived))
    assert finding.evidence["content"] == "not read (recognised by its path)"
    assert finding.message == (
        "Anyone who can pull the image can read a credential (private key) in /opt/app/keystore.p12, "
        "stored in layer 2."
    )


def test_arg_values_of_a_run_are_reported_once_per_instruction(tmp_path: Path) -> None:
    line = "|2 NPM_TOKEN=argtok-1 PIP_INDEX_URL=https://ci:argpw-2@pypi.example.com/simple /bin/sh -c npm ci"
    derived = _image([[F("tmp/a")], [F("tmp/b")]], [{"created_by": line}, {"created_by": line}])
    (finding,) = findings(SECRET_IN_HISTORY, diff_context(tmp_path, pairs.base_image(), derived))
    assert [c["kind"] for c in finding.evidence["credentials"]] == [
        "credential variable",
        "URL with a password",
    ]
    assert [entry["layer"] for entry in finding.evidence["history"]] == [2, 3]
    assert "argtok-1" not in str(finding) and "argpw-2" not in str(finding)


def test_an_env_credential_is_one_finding_unless_only_the_history_keeps_it(tmp_path: Path) -> None:
    history = [
        {"created_by": "/bin/sh -c #(nop)  ENV DB_PASSWORD=envpw-final", "empty_layer": True},
        {"created_by": "/bin/sh -c #(nop)  ENV API_TOKEN=envtok-overwritten", "empty_layer": True},
        {"created_by": "/bin/sh -c #(nop)  ENV API_TOKEN=", "empty_layer": True},
    ]
    env = ["PATH=/usr/bin:/bin", "DB_PASSWORD=envpw-final", "API_TOKEN="]
    context = diff_context(tmp_path, pairs.base_image(), pairs.derived([], history, Env=env))
    assert [f.subject for f in findings(SECRET_IN_IMAGE, context)] == ["ENV:DB_PASSWORD"]
    (history_finding,) = findings(SECRET_IN_HISTORY, context)
    assert history_finding.subject == "ENV API_TOKEN=<redacted>" and history_finding.layer is None
    assert history_finding.evidence["history"] == [{"history_index": 5, "layer": None}]
    assert "history entry 5" in history_finding.message
    assert "envtok-overwritten" not in str(history_finding)


def test_a_dag_only_image_has_no_credential(tmp_path: Path) -> None:
    context = diff_context(tmp_path, pairs.base_image(), pairs.dag_only())
    assert findings(SECRET_IN_IMAGE, context) == [] and findings(SECRET_IN_HISTORY, context) == []


def test_base_history_is_not_reviewed(tmp_path: Path) -> None:
    base = pairs.base_image()
    assert base.history is not None
    base.history[1] = {"created_by": "/bin/sh -c pip install --index-url https://u:basepw-1@h/simple x"}
    derived = pairs.derived([layer_tar([F("tmp/a")])], [{"created_by": "/bin/sh -c touch /tmp/a"}])
    derived.history = [*base.history, {"created_by": "/bin/sh -c touch /tmp/a"}]
    context = diff_context(tmp_path, base, derived)
    assert context.diff.shared_layers == 2
    assert findings(SECRET_IN_HISTORY, context) == []
