"""Signed approval records as DSSE envelopes (https://github.com/secure-systems-lab/dsse), the format
in-toto attestations and ``cosign attest`` use: the payload is signed over DSSE's pre-authentication
encoding, which binds the payload type, so a signature cannot be moved to another kind of document.

securesystemslib builds the encoding and signs and verifies; this module checks the envelope's shape
first (an envelope is hostile input until it verifies) and says in one line why one does not count.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import UnverifiedSignatureError, VerificationError
from securesystemslib.signer import Signature

from layerdiff.errors import SignatureError
from layerdiff.signing.keys import ApprovalSigner, TrustedKey

PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
MAX_SIGNATURES = 16  # examined per envelope; a record has one or two
_MAX_SIGNATURE_TEXT = 512  # base64 of a DER ECDSA P-256 signature (at most 72 bytes) or an Ed25519 one (64)
_MAX_SHOWN = 80
_SHOWABLE_KEYID = re.compile(r"[A-Za-z0-9:._+/=-]{1,100}")
_DOES_NOT_VERIFY = (
    "the signature does not verify (the payload was changed after signing, or another key made it)"
)


@dataclass(frozen=True)
class Verified:
    """An envelope whose signature verified: its payload, and the trusted key that signed it. ``keys`` is
    every trusted key whose signature verified (``key`` first, each once), for an envelope that two
    reviewers signed."""

    payload: bytes
    payload_type: str
    key: TrustedKey
    keys: tuple[TrustedKey, ...] = ()

    def __post_init__(self) -> None:
        if self.key not in self.keys:
            object.__setattr__(self, "keys", (self.key, *self.keys))


def sign_envelope(payload: bytes, signer: ApprovalSigner) -> dict[str, Any]:
    """``payload`` (an in-toto Statement's JSON bytes) in a DSSE envelope signed by ``signer``, as JSON:
    ``{"payloadType", "payload" (base64), "signatures": [{"keyid", "sig" (base64)}]}``."""
    envelope = Envelope(payload, PAYLOAD_TYPE, {})
    envelope.sign(signer.sslib_signer)
    document: dict[str, Any] = envelope.to_dict()
    return document


def is_envelope(document: object) -> bool:
    """Whether ``document`` means to be a DSSE envelope (any of its fields is there), as opposed to an
    unsigned record; ``verify_envelope`` then says what is wrong with it, if anything."""
    return isinstance(document, Mapping) and any(
        name in document for name in ("payloadType", "payload", "signatures")
    )


def verify_envelope(document: Mapping[str, Any], trusted: Sequence[TrustedKey], source: str) -> Verified:
    """The payload of ``document`` when one of its signatures (of the first ``MAX_SIGNATURES``) verifies
    with a key in ``trusted``, and the keys that signed it; else a ``SignatureError`` in one line naming
    ``source`` and why.

    A signature's keyid is a hint (DSSE's word): a signature whose keyid names a trusted key is checked with
    that key, any other (cosign writes an empty keyid) with every trusted key."""
    if not isinstance(document, Mapping) or not is_envelope(document):
        raise SignatureError(f"{source}: not a DSSE envelope (no payloadType, payload and signatures)")
    payload_type = document.get("payloadType")
    if not isinstance(payload_type, str):
        raise SignatureError(f"{source}: not a DSSE envelope (payloadType is not a string)")
    if payload_type != PAYLOAD_TYPE:
        raise SignatureError(f"{source}: payload type {_shown(payload_type)}, expected {PAYLOAD_TYPE}")
    payload = _payload(document.get("payload"), source)
    signatures = document.get("signatures")
    if not isinstance(signatures, list | tuple):
        raise SignatureError(f"{source}: not a DSSE envelope (signatures is not a list)")
    if not signatures:
        raise SignatureError(f"{source}: no signature")
    if not trusted:
        raise SignatureError(f"{source}: no trusted key to verify the signature with")
    pae = Envelope(payload, payload_type, {}).pae()
    failures: list[_Failure] = []
    signers: list[TrustedKey] = []
    for entry in signatures[:MAX_SIGNATURES]:
        outcome = _failure(entry, pae, trusted)
        if isinstance(outcome, _Failure):
            failures.append(outcome)
        elif outcome not in signers:
            signers.append(outcome)
    if not signers:
        raise SignatureError(f"{source}: {_why(failures, len(signatures))}")
    return Verified(payload, payload_type, signers[0], tuple(signers))


def unverified_payload(document: Mapping[str, Any], source: str) -> bytes:
    """The payload of an envelope, its signatures unchecked: for a gate that was given no trusted key and
    says so. The envelope must still be well formed."""
    if document.get("payloadType") != PAYLOAD_TYPE:
        raise SignatureError(
            f"{source}: payload type {_shown(str(document.get('payloadType')))}, expected {PAYLOAD_TYPE}"
        )
    return _payload(document.get("payload"), source)


def _payload(value: object, source: str) -> bytes:
    if not isinstance(value, str):
        raise SignatureError(f"{source}: not a DSSE envelope (payload is not a base64 string)")
    if len(value) > (MAX_PAYLOAD_BYTES + 2) // 3 * 4:
        raise SignatureError(f"{source}: the payload is larger than 16 MiB")
    payload = _base64(value)
    if payload is None:
        raise SignatureError(f"{source}: malformed base64 in the payload")
    return payload


def _base64(text: str) -> bytes | None:
    """DSSE allows standard or URL-safe base64; padding is optional in what others write."""
    if not text.isascii():
        return None
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.b64decode(padded, altchars=b"-_", validate=True)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


# Why one signature did not count, most telling first.
_MISMATCH, _UNTRUSTED, _NO_MATCH, _MALFORMED = "mismatch", "untrusted", "no-match", "malformed"


@dataclass(frozen=True)
class _Failure:
    kind: str
    keyid: str = ""


def _failure(entry: object, pae: bytes, trusted: Sequence[TrustedKey]) -> TrustedKey | _Failure:
    """The trusted key that verifies ``entry``, or why none does."""
    if not isinstance(entry, Mapping):
        return _Failure(_MALFORMED)
    keyid, text = entry.get("keyid", ""), entry.get("sig")
    if not isinstance(keyid, str) or not isinstance(text, str) or len(text) > _MAX_SIGNATURE_TEXT:
        return _Failure(_MALFORMED)
    signature = _base64(text)
    if signature is None or not signature:
        return _Failure(_MALFORMED)
    named = [key for key in trusted if key.keyid == keyid]
    for key in named or trusted:
        if _verifies(key, signature, pae):
            return key
    if named:
        return _Failure(_MISMATCH, keyid)
    return _Failure(_UNTRUSTED if keyid else _NO_MATCH, keyid)


def _verifies(key: TrustedKey, signature: bytes, pae: bytes) -> bool:
    try:
        key.sslib_key().verify_signature(Signature(key.keyid, signature.hex()), pae)
    except (UnverifiedSignatureError, VerificationError):
        return False
    return True


def _why(failures: Sequence[_Failure], count: int) -> str:
    kinds = {failure.kind: failure for failure in failures}
    if _MISMATCH in kinds:
        why = _DOES_NOT_VERIFY
    elif _NO_MATCH in kinds:
        why = "the signature does not verify with any trusted key (the payload was changed after signing, "
        why += "or a key that is not trusted made it)"
    elif _UNTRUSTED in kinds:
        why = f"signed by a key that is not trusted (keyid {_shown(kinds[_UNTRUSTED].keyid)})"
    else:
        why = "malformed signature (sig is not base64 of a signature)"
    if count > MAX_SIGNATURES:
        why += f" (only the first {MAX_SIGNATURES} of {count} signatures were examined)"
    return why


def _shown(text: str) -> str:
    """Text from the envelope, shown in one line without letting it say anything of its own."""
    if _SHOWABLE_KEYID.fullmatch(text):
        return text
    shown = text[:_MAX_SHOWN].encode("unicode_escape").decode("ascii")
    return "'" + shown + ("..." if len(text) > _MAX_SHOWN else "") + "'"
