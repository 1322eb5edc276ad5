"""Envelopes layerdiff signs verify with an independent implementation, and envelopes it made verify with
layerdiff: openssl over DSSE's pre-authentication encoding, computed here from the spec
(https://github.com/secure-systems-lab/dsse/blob/master/protocol.md), not by the code under test.

securesystemslib's own ``Envelope.verify`` (what in-toto tooling calls) is checked too; it is the library
layerdiff signs with, so it shows the envelopes fit the in-toto ecosystem rather than proving them
independently."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from securesystemslib.dsse import Envelope

from layerdiff.signing import (
    PAYLOAD_TYPE,
    SignatureError,
    load_public_key,
    load_signer,
    sign_envelope,
    verify_envelope,
)
from tests.support.keys import KeyPair, make_key_pair, needs_openssl, openssl

pytestmark = needs_openssl

STATEMENT = json.dumps(
    {"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://layerdiff.dev/approval/v1"},
    separators=(",", ":"),
).encode()
KINDS = ("p256-sec1", "p256-pkcs8-encrypted", "ed25519", "ed25519-encrypted")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSEv1 SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal (the spec's own words)."""
    kind = payload_type.encode()
    return b" ".join([b"DSSEv1", str(len(kind)).encode(), kind, str(len(payload)).encode(), payload])


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KeyPair]:
    directory = tmp_path_factory.mktemp("interop")
    return {kind: make_key_pair(directory, kind) for kind in KINDS}


def openssl_verifies(pair: KeyPair, message: bytes, signature: bytes, work: Path) -> bool:
    (work / "pae.bin").write_bytes(message)
    (work / "sig.bin").write_bytes(signature)
    if pair.is_ed25519:  # Ed25519 signs the message itself (no pre-hash)
        args = [
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(pair.public),
            "-rawin",
            "-in",
            str(work / "pae.bin"),
        ]
        args += ["-sigfile", str(work / "sig.bin")]
    else:  # ECDSA with SHA-256, the signature DER-encoded (as cosign and sigstore write it)
        args = ["dgst", "-sha256", "-verify", str(pair.public), "-signature", str(work / "sig.bin")]
        args.append(str(work / "pae.bin"))
    done = subprocess.run(["openssl", *args], capture_output=True, check=False, timeout=60)
    return done.returncode == 0


def openssl_sign(pair: KeyPair, message: bytes, work: Path) -> bytes:
    (work / "pae.bin").write_bytes(message)
    passin = ["-passin", f"pass:{pair.password.decode()}"] if pair.password else []
    message_file, signature_file = str(work / "pae.bin"), str(work / "sig.bin")
    if pair.is_ed25519:
        openssl("pkeyutl", "-sign", "-inkey", str(pair.private), *passin, "-rawin", "-in", message_file,
                "-out", signature_file)  # fmt: skip
    else:
        openssl("dgst", "-sha256", "-sign", str(pair.private), *passin, "-out", signature_file, message_file)
    return (work / "sig.bin").read_bytes()


@pytest.mark.parametrize("kind", KINDS)
def test_openssl_verifies_what_layerdiff_signs(pairs: dict[str, KeyPair], kind: str, tmp_path: Path) -> None:
    pair = pairs[kind]
    envelope = sign_envelope(STATEMENT, load_signer(pair.private.read_bytes(), pair.password, "k"))
    payload = base64.b64decode(envelope["payload"], validate=True)
    (signature,) = envelope["signatures"]
    sig = base64.b64decode(signature["sig"], validate=True)
    if not pair.is_ed25519:
        assert sig[0] == 0x30  # an ASN.1 SEQUENCE: DER, not the raw r||s form
    assert openssl_verifies(pair, pae(envelope["payloadType"], payload), sig, tmp_path)
    # the check is not vacuous: openssl refuses the same signature over another payload or payload type
    assert not openssl_verifies(pair, pae(envelope["payloadType"], payload + b" "), sig, tmp_path)
    assert not openssl_verifies(pair, pae("application/json", payload), sig, tmp_path)


@pytest.mark.parametrize("kind", KINDS)
def test_layerdiff_verifies_what_openssl_signs(pairs: dict[str, KeyPair], kind: str, tmp_path: Path) -> None:
    pair = pairs[kind]
    sig = openssl_sign(pair, pae(PAYLOAD_TYPE, STATEMENT), tmp_path)
    trusted = load_public_key(pair.public.read_bytes(), "erin", "erin.pub")
    # as cosign writes an attestation's envelope: an empty keyid, standard base64
    envelope: dict[str, Any] = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(STATEMENT).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}],
    }
    verified = verify_envelope(envelope, [trusted], "attestation.json")
    assert verified.payload == STATEMENT and verified.key.owner == "erin"
    envelope["payload"] = base64.b64encode(STATEMENT + b"\n").decode()
    with pytest.raises(SignatureError, match="does not verify"):
        verify_envelope(envelope, [trusted], "attestation.json")


@pytest.mark.parametrize("kind", KINDS)
def test_securesystemslib_verifies_what_layerdiff_signs(pairs: dict[str, KeyPair], kind: str) -> None:
    pair = pairs[kind]
    envelope = sign_envelope(STATEMENT, load_signer(pair.private.read_bytes(), pair.password, "k"))
    trusted = load_public_key(pair.public.read_bytes(), "frank", "frank.pub")
    parsed = Envelope.from_dict(json.loads(json.dumps(envelope)))
    assert parsed.pae() == pae(PAYLOAD_TYPE, STATEMENT)
    assert list(parsed.verify([trusted.sslib_key()], 1)) == [trusted.keyid]
