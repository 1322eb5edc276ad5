"""Signing and verifying approval records as DSSE envelopes, with ECDSA P-256 or Ed25519 keys in PEM.

Pure: it takes bytes and returns values or raises ``SignatureError`` (a usage error, exit 2) in one line
naming the input's source. Reading key files, the password variable or a prompt is the CLI's job.
"""

from layerdiff.errors import SignatureError
from layerdiff.signing.envelope import (
    MAX_PAYLOAD_BYTES,
    MAX_SIGNATURES,
    PAYLOAD_TYPE,
    Verified,
    is_envelope,
    sign_envelope,
    unverified_payload,
    verify_envelope,
)
from layerdiff.signing.keys import (
    COSIGN_PASSWORD_VARIABLE,
    ECDSA_P256,
    ED25519,
    PASSWORD_VARIABLE,
    PASSWORD_VARIABLES,
    ApprovalSigner,
    TrustedKey,
    key_needs_password,
    keyid_of,
    load_public_key,
    load_signer,
    password_from_environment,
)

__all__ = [
    "COSIGN_PASSWORD_VARIABLE",
    "ECDSA_P256",
    "ED25519",
    "MAX_PAYLOAD_BYTES",
    "MAX_SIGNATURES",
    "PASSWORD_VARIABLE",
    "PASSWORD_VARIABLES",
    "PAYLOAD_TYPE",
    "ApprovalSigner",
    "SignatureError",
    "TrustedKey",
    "Verified",
    "is_envelope",
    "key_needs_password",
    "keyid_of",
    "load_public_key",
    "load_signer",
    "password_from_environment",
    "sign_envelope",
    "unverified_payload",
    "verify_envelope",
]
