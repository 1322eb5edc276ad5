"""The PEM blocks of a key file, told apart by their labels before any of them is decoded, so that a refused
kind of key (a cosign key, an RSA key, a certificate) gets a message saying what it is and what works
instead. Decoding the blocks is left to ``cryptography``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from layerdiff.errors import SignatureError

MAX_KEY_FILE_BYTES = 64 * 1024  # a P-256 or Ed25519 key in PEM is a few hundred bytes
MAX_BLOCKS = 16

_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----(.*?)-----END \1-----", re.DOTALL)
_LEGACY_ENCRYPTION = re.compile(rb"^Proc-Type:\s*4,\s*ENCRYPTED\s*$", re.MULTILINE)


@dataclass(frozen=True)
class PemBlock:
    label: str
    text: bytes  # the whole block, BEGIN and END lines included

    @property
    def is_encrypted(self) -> bool:
        """PKCS#8's encrypted form, or the legacy one (``openssl ec -aes256``) whose headers say so."""
        if self.label == "ENCRYPTED PRIVATE KEY":
            return True
        return self.label.endswith("PRIVATE KEY") and _LEGACY_ENCRYPTION.search(self.text) is not None


def pem_blocks(pem: bytes, source: str) -> list[PemBlock]:
    """The blocks of a PEM file, at most ``MAX_BLOCKS``; a file with none, or too large to be a key, is
    refused in one line naming ``source``."""
    if len(pem) > MAX_KEY_FILE_BYTES:
        raise SignatureError(f"{source}: {len(pem)} bytes is too large for a key file (at most 64 KiB)")
    if pem.count(b"-----BEGIN ") > MAX_BLOCKS:  # counted first: each unended BEGIN would rescan the rest
        raise SignatureError(f"{source}: more than {MAX_BLOCKS} PEM blocks: not a key file")
    blocks = [PemBlock(match.group(1).decode("ascii"), match.group(0)) for match in _BLOCK.finditer(pem)]
    if not blocks:
        raise SignatureError(f"{source}: not a PEM key file (no -----BEGIN ...----- block)")
    return blocks
