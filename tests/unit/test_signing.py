"""Signing and verifying approval records: every accepted kind of key round-trips, and every way an envelope
or a key can be wrong is refused in one line naming its source, never showing a password."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import pytest

from layerdiff.errors import ExitCode, UsageError
from layerdiff.signing import (
    MAX_SIGNATURES,
    PAYLOAD_TYPE,
    ApprovalSigner,
    SignatureError,
    TrustedKey,
    is_envelope,
    key_needs_password,
    load_public_key,
    load_signer,
    password_from_environment,
    sign_envelope,
    verify_envelope,
)
from tests.support.keys import ACCEPTED_KINDS, PASSWORD, KeyPair, make_key_pair, needs_openssl, openssl

pytestmark = needs_openssl

STATEMENT = json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicate": {}}).encode()
TAMPERED = "the signature does not verify (the payload was changed after signing, or another key made it)"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    directory = tmp_path_factory.mktemp("keys")
    made = {kind: make_key_pair(directory, kind) for kind in (*ACCEPTED_KINDS, "p384", "rsa")}
    made["other-p256"] = make_key_pair(directory, "p256-pkcs8", "other-p256")
    made["other-ed25519"] = make_key_pair(directory, "ed25519", "other-ed25519")
    return made


def signer_of(pair: KeyPair) -> ApprovalSigner:
    return load_signer(pair.private.read_bytes(), pair.password, pair.private.name)


def trusted_of(pair: KeyPair, owner: str = "alice") -> TrustedKey:
    return load_public_key(pair.public.read_bytes(), owner, pair.public.name)


def refused(call: Any, *args: Any) -> str:
    with pytest.raises(SignatureError) as caught:
        call(*args)
    message = str(caught.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize("kind", ACCEPTED_KINDS)
def test_each_accepted_key_signs_an_envelope_its_public_key_verifies(
    keys: dict[str, KeyPair], kind: str
) -> None:
    pair = keys[kind]
    assert key_needs_password(pair.private.read_bytes()) is (pair.password is not None)
    signer = signer_of(pair)
    trusted = trusted_of(pair)
    # the keyid is the SHA-256 of the DER SubjectPublicKeyInfo, as openssl writes it
    der = openssl("pkey", "-pubin", "-in", str(pair.public), "-outform", "DER")
    assert trusted.keyid == signer.keyid == "sha256:" + hashlib.sha256(der).hexdigest()
    assert signer.public_key("alice") == trusted
    assert signer.public_pem() == pair.public.read_bytes()
    assert trusted.algorithm == signer.algorithm == ("ed25519" if pair.is_ed25519 else "ecdsa-p256")

    envelope = sign_envelope(STATEMENT, signer)
    assert set(envelope) == {"payloadType", "payload", "signatures"}
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert base64.b64decode(envelope["payload"]) == STATEMENT
    assert [signature["keyid"] for signature in envelope["signatures"]] == [signer.keyid]
    assert is_envelope(envelope)

    other = trusted_of(keys["other-ed25519"], "bob")
    verified = verify_envelope(json.loads(json.dumps(envelope)), [other, trusted], "approval.json")
    assert verified.payload == STATEMENT
    assert verified.payload_type == PAYLOAD_TYPE
    assert verified.key == trusted and verified.key.owner == "alice"


def test_a_payload_changed_after_signing_does_not_verify(keys: dict[str, KeyPair]) -> None:
    pair = keys["p256-sec1"]
    envelope = sign_envelope(STATEMENT, signer_of(pair))
    envelope["payload"] = base64.b64encode(STATEMENT.replace(b"{}", b'{"x": 1}')).decode()
    assert (
        refused(verify_envelope, envelope, [trusted_of(pair)], "approval.json")
        == f"approval.json: {TAMPERED}"
    )


def test_a_changed_payload_type_does_not_verify_even_when_allowed(keys: dict[str, KeyPair]) -> None:
    # the type is part of what is signed: the same bytes signed as another type are another signature
    pair = keys["ed25519"]
    envelope = sign_envelope(STATEMENT, signer_of(pair))
    envelope["payloadType"] = "application/json"
    assert "payload type application/json, expected application/vnd.in-toto+json" in refused(
        verify_envelope, envelope, [trusted_of(pair)], "approval.json"
    )


def test_a_signature_by_another_key_under_a_trusted_keyid_does_not_verify(keys: dict[str, KeyPair]) -> None:
    trusted, forger = keys["p256-pkcs8"], keys["other-p256"]
    envelope = sign_envelope(STATEMENT, signer_of(forger))
    envelope["signatures"][0]["keyid"] = trusted_of(trusted).keyid
    assert refused(verify_envelope, envelope, [trusted_of(trusted)], "a.json") == f"a.json: {TAMPERED}"


def test_a_key_that_is_not_trusted_is_named_by_its_keyid(keys: dict[str, KeyPair]) -> None:
    stranger = signer_of(keys["other-ed25519"])
    envelope = sign_envelope(STATEMENT, stranger)
    message = refused(verify_envelope, envelope, [trusted_of(keys["ed25519"])], "a.json")
    assert message == f"a.json: signed by a key that is not trusted (keyid {stranger.keyid})"


def test_a_signature_without_keyid_is_checked_with_every_trusted_key(keys: dict[str, KeyPair]) -> None:
    # cosign writes an empty keyid: the signature alone decides which key made it
    pair = keys["p256-sec1"]
    envelope = sign_envelope(STATEMENT, signer_of(pair))
    envelope["signatures"][0]["keyid"] = ""
    candidates = [trusted_of(keys["ed25519"], "bob"), trusted_of(pair, "carol")]
    assert verify_envelope(envelope, candidates, "a.json").key.owner == "carol"
    del envelope["signatures"][0]["keyid"]
    assert verify_envelope(envelope, candidates, "a.json").key.owner == "carol"
    message = refused(verify_envelope, envelope, candidates[:1], "a.json")
    assert message.startswith("a.json: the signature does not verify with any trusted key")


def test_an_envelope_counts_when_any_of_its_signatures_verifies(keys: dict[str, KeyPair]) -> None:
    stranger, reviewer = signer_of(keys["other-p256"]), signer_of(keys["ed25519"])
    first = sign_envelope(STATEMENT, stranger)
    second = sign_envelope(STATEMENT, reviewer)
    both = {**first, "signatures": [*first["signatures"], *second["signatures"]]}
    verified = verify_envelope(both, [trusted_of(keys["ed25519"], "dana")], "a.json")
    assert verified.key.owner == "dana" and verified.key.keyid == reviewer.keyid
    assert verified.keys == (verified.key,)


def test_an_envelope_two_reviewers_signed_names_both(keys: dict[str, KeyPair]) -> None:
    first, second = signer_of(keys["p256-sec1"]), signer_of(keys["ed25519"])
    signatures = [
        *sign_envelope(STATEMENT, first)["signatures"],
        *sign_envelope(STATEMENT, second)["signatures"],
    ]
    envelope = {**sign_envelope(STATEMENT, first), "signatures": [*signatures, signatures[0]]}
    trusted = [first.public_key("erin"), second.public_key("frank")]
    verified = verify_envelope(envelope, trusted, "a.json")
    assert verified.key.owner == "erin"
    assert [key.owner for key in verified.keys] == ["erin", "frank"]  # each once, in signature order


def test_only_the_first_signatures_are_examined(keys: dict[str, KeyPair]) -> None:
    pair = keys["ed25519"]
    good = sign_envelope(STATEMENT, signer_of(pair))
    junk = sign_envelope(STATEMENT, signer_of(keys["other-ed25519"]))["signatures"][0]
    envelope = {**good, "signatures": [junk] * MAX_SIGNATURES + good["signatures"]}
    message = refused(verify_envelope, envelope, [trusted_of(pair)], "a.json")
    assert message.endswith(
        f"(only the first {MAX_SIGNATURES} of {MAX_SIGNATURES + 1} signatures were examined)"
    )
    envelope["signatures"] = [junk] * (MAX_SIGNATURES - 1) + good["signatures"]
    assert verify_envelope(envelope, [trusted_of(pair)], "a.json").key.keyid == signer_of(pair).keyid


def valid_envelope(keys: dict[str, KeyPair]) -> tuple[dict[str, Any], list[TrustedKey]]:
    pair = keys["ed25519"]
    return sign_envelope(STATEMENT, signer_of(pair)), [trusted_of(pair)]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda e: e.update(signatures=[]), "no signature"),
        (lambda e: e.pop("signatures"), "not a DSSE envelope (signatures is not a list)"),
        (lambda e: e.update(signatures={"sig": "x"}), "not a DSSE envelope (signatures is not a list)"),
        (lambda e: e.pop("payloadType"), "not a DSSE envelope (payloadType is not a string)"),
        (lambda e: e.update(payloadType="text/plain\x1b[2J"), "payload type 'text/plain\\x1b[2J', expected"),
        (lambda e: e.update(payload=42), "not a DSSE envelope (payload is not a base64 string)"),
        (lambda e: e.update(payload="not base64!"), "malformed base64 in the payload"),
        (lambda e: e.update(payload="é"), "malformed base64 in the payload"),
        (lambda e: e["signatures"][0].update(sig="***"), "malformed signature"),
        (lambda e: e["signatures"][0].update(sig=""), "malformed signature"),
        (lambda e: e["signatures"][0].update(sig="A" * 4000), "malformed signature"),
        (lambda e: e["signatures"][0].pop("sig"), "malformed signature"),
        (lambda e: e["signatures"][0].update(keyid=7), "malformed signature"),
        (lambda e: e.update(signatures=["sig"]), "malformed signature"),
    ],
)
def test_a_malformed_envelope_is_refused_saying_why(keys: dict[str, KeyPair], change: Any, why: str) -> None:
    envelope, trusted = valid_envelope(keys)
    change(envelope)
    message = refused(verify_envelope, envelope, trusted, "records/a.json")
    assert message.startswith("records/a.json: ") and why in message, message


def test_an_unsigned_record_is_not_an_envelope(keys: dict[str, KeyPair]) -> None:
    statement = json.loads(STATEMENT)
    assert not is_envelope(statement)
    assert not is_envelope([1, 2])
    assert is_envelope({"payload": "e30="})  # half an envelope is one, for verify_envelope to refuse
    message = refused(verify_envelope, statement, valid_envelope(keys)[1], "a.json")
    assert message == "a.json: not a DSSE envelope (no payloadType, payload and signatures)"


def test_a_payload_over_the_bound_is_refused_before_decoding(keys: dict[str, KeyPair]) -> None:
    envelope, trusted = valid_envelope(keys)
    envelope["payload"] = "A" * (16 * 1024 * 1024 // 3 * 4 + 8)
    assert (
        refused(verify_envelope, envelope, trusted, "a.json") == "a.json: the payload is larger than 16 MiB"
    )


def test_url_safe_and_unpadded_base64_are_read(keys: dict[str, KeyPair]) -> None:
    envelope, trusted = valid_envelope(keys)
    for field in ("payload", "sig"):
        holder = envelope if field == "payload" else envelope["signatures"][0]
        holder[field] = base64.urlsafe_b64encode(base64.b64decode(holder[field])).decode().rstrip("=")
    assert verify_envelope(envelope, trusted, "a.json").payload == STATEMENT


def test_without_trusted_keys_nothing_verifies(keys: dict[str, KeyPair]) -> None:
    envelope, _ = valid_envelope(keys)
    assert (
        refused(verify_envelope, envelope, [], "a.json")
        == "a.json: no trusted key to verify the signature with"
    )


@pytest.mark.parametrize("kind", ["rsa", "p384"])
def test_other_key_types_are_refused(keys: dict[str, KeyPair], kind: str) -> None:
    pair = keys[kind]
    what = "an RSA key" if kind == "rsa" else "an ECDSA key on curve secp384r1"
    accepted = "layerdiff signs and verifies with ECDSA P-256 or Ed25519 keys only"
    assert refused(load_signer, pair.private.read_bytes(), None, "k.pem") == f"k.pem: {what}: {accepted}"
    assert refused(load_public_key, pair.public.read_bytes(), "a", "k.pub") == f"k.pub: {what}: {accepted}"
    if kind == "rsa":  # the traditional PKCS#1 forms name the type in the label
        traditional = openssl("rsa", "-in", str(pair.private), "-traditional")
        assert refused(load_signer, traditional, None, "k.pem") == f"k.pem: {what}: {accepted}"
        pkcs1 = openssl("rsa", "-in", str(pair.private), "-RSAPublicKey_out")
        assert refused(load_public_key, pkcs1, "a", "k.pub") == f"k.pub: {what}: {accepted}"


def test_a_wrong_or_missing_password_is_refused_without_showing_it(keys: dict[str, KeyPair]) -> None:
    for kind in ("p256-pkcs8-encrypted", "p256-sec1-encrypted", "ed25519-encrypted"):
        pem = keys[kind].private.read_bytes()
        wrong = refused(load_signer, pem, b"hunter2-wrong", "key.pem")
        assert wrong == "key.pem: cannot decrypt the key: wrong password, or a damaged file"
        missing = refused(load_signer, pem, None, "key.pem")
        assert (
            missing == "key.pem: the key is encrypted and no password was given (set LAYERDIFF_KEY_PASSWORD)"
        )
    signer = signer_of(keys["p256-pkcs8-encrypted"])
    shown = [repr(signer), str(signer), repr(signer.public_key("a")), f"{signer}"]
    assert all(PASSWORD not in text and "PRIVATE" not in text for text in shown)
    assert repr(signer) == f"ApprovalSigner(keyid={signer.keyid!r})"


def test_a_signer_is_never_pickled_or_copied(keys: dict[str, KeyPair]) -> None:
    signer = signer_of(keys["ed25519"])
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(signer)
    with pytest.raises(TypeError, match="never pickled"):
        copy.copy(signer)


def test_a_password_for_a_plain_key_is_not_needed(keys: dict[str, KeyPair]) -> None:
    # COSIGN_PASSWORD may be set in CI for cosign's key while layerdiff's key is plain
    pair = keys["ed25519"]
    assert load_signer(pair.private.read_bytes(), b"unused", "k.pem").keyid == signer_of(pair).keyid


def test_a_cosign_key_is_refused_saying_what_works(tmp_path: Path) -> None:
    body = base64.encodebytes(json.dumps({"kdf": {"name": "scrypt"}, "cipher": {}}).encode()).decode()
    for label in ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"):
        pem = f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode()
        assert not key_needs_password(pem)  # so nobody is asked for a password for a key that cannot work
        message = refused(load_signer, pem, b"pw", "cosign.key")
        assert message.startswith("cosign.key: a cosign private key") and "openssl" in message
        assert "cosign import-key-pair" in message


def test_public_and_private_keys_in_each_others_place_are_refused(
    keys: dict[str, KeyPair], tmp_path: Path
) -> None:
    pair = keys["p256-pkcs8"]
    public, private = pair.public.read_bytes(), pair.private.read_bytes()
    assert (
        refused(load_signer, public, None, "k.pub")
        == "k.pub: a public key, where the private key is needed to sign"
    )
    message = refused(load_public_key, private, "a", "k.pem")
    assert message.startswith("k.pem: a private key, where a public key is needed: give the public key")
    certificate = openssl(
        "req", "-x509", "-new", "-key", str(pair.private), "-subj", "/CN=reviewer", "-days", "1"
    )
    assert "openssl x509 -in CERT -pubkey -noout" in refused(load_public_key, certificate, "a", "k.crt")
    assert refused(load_public_key, public + public, "a", "k.pub").startswith(
        "k.pub: 2 public keys in one file"
    )
    assert refused(load_signer, private + private, None, "k.pem").startswith(
        "k.pem: 2 private keys in one file"
    )


NOT_PEM = [(b"", "not a PEM key file"), (b"ssh-ed25519 AAAAC3Nza alice@example", "not a PEM key file")]
TOO_LARGE = [
    (b"x" * (64 * 1024 + 1), "too large for a key file (at most 64 KiB)"),
    (b"-----BEGIN PUBLIC KEY-----\n" * 2000, "more than 16 PEM blocks: not a key file"),
]


@pytest.mark.parametrize(
    ("pem", "why"),
    [
        *NOT_PEM,
        *TOO_LARGE,
        (
            b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
            "the PRIVATE KEY block does not decode",
        ),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n", "an OpenSSH key"),
        (
            b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
            "no private key block (found X509 CRL)",
        ),
    ],
)
def test_what_is_no_usable_private_key_is_refused(pem: bytes, why: str) -> None:
    assert why in refused(load_signer, pem, None, "k.pem")
    assert not key_needs_password(pem)


@pytest.mark.parametrize(
    ("pem", "why"),
    [
        *NOT_PEM,
        *TOO_LARGE,
        (
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
            "the PUBLIC KEY block does not decode",
        ),
        (b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n", "no PUBLIC KEY block (found X509 CRL)"),
    ],
)
def test_what_is_no_usable_public_key_is_refused(pem: bytes, why: str) -> None:
    assert why in refused(load_public_key, pem, "alice", "k.pub")


def test_the_password_comes_from_layerdiffs_variable_else_cosigns() -> None:
    assert password_from_environment({}) is None
    assert password_from_environment({"COSIGN_PASSWORD": "c"}) == b"c"
    assert password_from_environment({"LAYERDIFF_KEY_PASSWORD": "l", "COSIGN_PASSWORD": "c"}) == b"l"
    assert password_from_environment({"LAYERDIFF_KEY_PASSWORD": "", "COSIGN_PASSWORD": "c"}) == b"c"
    assert password_from_environment({"LAYERDIFF_KEY_PASSWORD": "pässword"}) == "pässword".encode()


def test_a_trusted_key_carries_its_own_keyid(keys: dict[str, KeyPair]) -> None:
    trusted = trusted_of(keys["ed25519"])
    assert dataclasses.replace(trusted, owner="bob").keyid == trusted.keyid
    with pytest.raises(ValueError, match="is not the keyid of the key"):
        TrustedKey("bob", trusted_of(keys["p256-sec1"]).keyid, trusted.public_key)


def test_a_signature_error_is_a_usage_error() -> None:
    assert issubclass(SignatureError, UsageError)
    assert SignatureError.exit_code is ExitCode.USAGE
