"""Key pairs made with the openssl command line, the way the docs tell users to make them, so that the tests
read exactly the files users have (and not keys this project's own code wrote)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

PASSWORD = "correct horse battery staple 7f3a"

# The private key's kind -> the openssl arguments that make it (PASS is replaced by the password).
_GENERATE: dict[str, list[str]] = {
    "p256-sec1": ["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
    "p256-sec1-params": ["ecparam", "-name", "prime256v1", "-genkey"],  # EC PARAMETERS block first
    "p256-pkcs8": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "p256-pkcs8-encrypted": [
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes256", "-pass", "pass:PASS",
    ],
    "ed25519": ["genpkey", "-algorithm", "ed25519"],
    "ed25519-encrypted": ["genpkey", "-algorithm", "ed25519", "-aes256", "-pass", "pass:PASS"],
    "p384": ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
    "rsa": ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}  # fmt: skip
ENCRYPTED = frozenset({"p256-pkcs8-encrypted", "ed25519-encrypted", "p256-sec1-encrypted"})
ACCEPTED_KINDS = (
    "p256-sec1", "p256-sec1-params", "p256-sec1-encrypted", "p256-pkcs8", "p256-pkcs8-encrypted",
    "ed25519", "ed25519-encrypted",
)  # fmt: skip


@dataclass(frozen=True)
class KeyPair:
    kind: str
    private: Path
    public: Path  # SubjectPublicKeyInfo PEM, from `openssl pkey -pubout`

    @property
    def password(self) -> bytes | None:
        return PASSWORD.encode() if self.kind in ENCRYPTED else None

    @property
    def is_ed25519(self) -> bool:
        return self.kind.startswith("ed25519")


def openssl(*args: str, input: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *args], input=input, capture_output=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def make_key_pair(directory: Path, kind: str, name: str | None = None) -> KeyPair:
    """A private key of ``kind`` and its public key, as ``NAME.pem`` and ``NAME.pub`` in ``directory``."""
    name = name or kind
    private, public = directory / f"{name}.pem", directory / f"{name}.pub"
    if kind == "p256-sec1-encrypted":  # the legacy encrypted SEC1 form (Proc-Type/DEK-Info headers)
        plain = make_key_pair(directory, "p256-sec1", f"{name}-plain")
        openssl(
            "ec", "-in", str(plain.private), "-aes256", "-passout", f"pass:{PASSWORD}", "-out", str(private)
        )
    else:
        args = [arg.replace("PASS", PASSWORD) for arg in _GENERATE[kind]]
        openssl(*args, "-out", str(private))
    passin = ["-passin", f"pass:{PASSWORD}"] if kind in ENCRYPTED else []
    openssl("pkey", "-in", str(private), *passin, "-pubout", "-out", str(public))
    return KeyPair(kind, private, public)
