"""Keys: public keys a gate trusts, and the private key an approval is signed with.

Only ECDSA P-256 (with SHA-256) and Ed25519 are accepted, the key types ``cosign generate-key-pair`` and
openssl make and every DSSE verifier understands. A key is read from PEM: a public key as
SubjectPublicKeyInfo (``openssl pkey -pubout``, ``cosign.pub``), a private key as PKCS#8 or SEC1 (``EC
PRIVATE KEY``), encrypted or not. ``cryptography`` decodes and decrypts them; this module only tells the
kinds of PEM apart to say what went wrong. Nothing here reads a file, the environment or a terminal: the
caller passes bytes, and names their ``source`` for the messages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from securesystemslib.signer import CryptoSigner, SSlibKey

from layerdiff.errors import SignatureError
from layerdiff.signing.pem import PemBlock, pem_blocks

PASSWORD_VARIABLE = "LAYERDIFF_KEY_PASSWORD"
COSIGN_PASSWORD_VARIABLE = "COSIGN_PASSWORD"  # read when ours is unset, so one CI secret serves both tools
PASSWORD_VARIABLES = (PASSWORD_VARIABLE, COSIGN_PASSWORD_VARIABLE)

ECDSA_P256 = "ecdsa-p256"
ED25519 = "ed25519"
_SSLIB_SCHEMES = {ECDSA_P256: "ecdsa-sha2-nistp256", ED25519: "ed25519"}
ACCEPTED = "layerdiff signs and verifies with ECDSA P-256 or Ed25519 keys only"

PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

_PRIVATE_LABELS = ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "EC PRIVATE KEY")
_COSIGN_LABELS = ("ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY")
_COSIGN_KEY = (
    "a cosign private key (cosign's own encrypted format, which only cosign reads and cannot export): "
    "make the key pair with openssl instead (docs/approval.md) and give cosign a copy with "
    "`cosign import-key-pair`"
)


@dataclass(frozen=True)
class TrustedKey:
    """A public key a gate trusts, and whose approvals it counts for ``owner``."""

    owner: str
    keyid: str  # "sha256:" + the hex SHA-256 of the key's DER SubjectPublicKeyInfo
    public_key: PublicKey = field(repr=False, compare=False)
    _sslib: SSlibKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.keyid != keyid_of(self.public_key):
            raise ValueError(f"keyid {self.keyid!r} is not the keyid of the key it is given with")
        scheme = _SSLIB_SCHEMES[self.algorithm]
        object.__setattr__(self, "_sslib", SSlibKey.from_crypto(self.public_key, self.keyid, scheme))

    @property
    def algorithm(self) -> str:
        return ED25519 if isinstance(self.public_key, ed25519.Ed25519PublicKey) else ECDSA_P256

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)

    def sslib_key(self) -> SSlibKey:
        """The key as securesystemslib verifies with it."""
        return self._sslib


class ApprovalSigner:
    """A private key ready to sign approvals. It shows only its keyid: no repr, str or pickle carries the
    private key, and the password it was decrypted with is not kept."""

    __slots__ = ("_public", "_signer")

    def __init__(self, private_key: PrivateKey) -> None:
        public = _trusted("", private_key.public_key(), "the private key")
        self._public = public
        self._signer = CryptoSigner(private_key, public.sslib_key())

    @property
    def keyid(self) -> str:
        return self._public.keyid

    @property
    def algorithm(self) -> str:
        return self._public.algorithm

    def public_key(self, owner: str = "") -> TrustedKey:
        """The matching public key, as a gate would trust it for ``owner``."""
        return TrustedKey(owner, self._public.keyid, self._public.public_key)

    def public_pem(self) -> bytes:
        return self._public.public_pem()

    @property
    def sslib_signer(self) -> CryptoSigner:
        """What securesystemslib's ``Envelope.sign`` signs with."""
        return self._signer

    def __repr__(self) -> str:
        return f"ApprovalSigner(keyid={self.keyid!r})"

    __str__ = __repr__

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("an ApprovalSigner holds a private key and is never pickled or copied")


def keyid_of(public_key: PublicKeyTypes) -> str:
    der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest()


def load_public_key(pem: bytes, owner: str, source: str) -> TrustedKey:
    """The public key in ``pem`` (SubjectPublicKeyInfo: ``openssl pkey -pubout``, ``cosign.pub``), trusted
    for ``owner``. Anything else is refused in one line naming ``source``."""
    blocks = pem_blocks(pem, source)
    public = [block for block in blocks if block.label == "PUBLIC KEY"]
    if len(public) > 1:
        raise SignatureError(f"{source}: {len(public)} public keys in one file: give each key its own file")
    if not public:
        _refuse_as_public(blocks, source)
    try:
        key = load_pem_public_key(public[0].text)
    except (ValueError, UnsupportedAlgorithm):
        raise SignatureError(f"{source}: the PUBLIC KEY block does not decode as a public key") from None
    return _trusted(owner, key, source)


def _refuse_as_public(blocks: list[PemBlock], source: str) -> NoReturn:
    labels = {block.label for block in blocks}
    if "CERTIFICATE" in labels:
        raise SignatureError(
            f"{source}: a certificate, not a public key: take its key with "
            "`openssl x509 -in CERT -pubkey -noout > KEY.pub`"
        )
    if "RSA PUBLIC KEY" in labels:
        raise SignatureError(f"{source}: an RSA key: {ACCEPTED}")
    if any(label.endswith("PRIVATE KEY") for label in labels):
        raise SignatureError(
            f"{source}: a private key, where a public key is needed: give the public key "
            "(`openssl pkey -in KEY -pubout`) and keep the private key to the reviewer"
        )
    raise SignatureError(f"{source}: no PUBLIC KEY block (found {', '.join(sorted(labels))})")


def key_needs_password(pem: bytes) -> bool:
    """Whether ``load_signer`` will need a password for ``pem``: an encrypted PKCS#8 or legacy-encrypted
    SEC1 key. False for anything it would refuse whatever the password (a cosign key, an RSA key, no key),
    so that nobody is asked for a password before being told the key cannot be used."""
    try:
        block = _private_block(pem_blocks(pem, "key"), "key")
    except SignatureError:
        return False
    return block.is_encrypted


def load_signer(pem: bytes, password: bytes | None, source: str) -> ApprovalSigner:
    """The private key in ``pem`` (PKCS#8 or SEC1, decrypted with ``password`` when encrypted; a password
    given for a plain key is not needed and not used). Refused in one line naming ``source``, which never
    holds the password."""
    block = _private_block(pem_blocks(pem, source), source)
    if block.is_encrypted and password is None:
        raise SignatureError(
            f"{source}: the key is encrypted and no password was given (set {PASSWORD_VARIABLE})"
        )
    try:
        key = load_pem_private_key(block.text, password if block.is_encrypted else None)
    except UnsupportedAlgorithm:
        raise SignatureError(f"{source}: a key type or encryption cryptography cannot read") from None
    except (ValueError, TypeError):
        if block.is_encrypted:
            raise SignatureError(
                f"{source}: cannot decrypt the key: wrong password, or a damaged file"
            ) from None
        raise SignatureError(f"{source}: the {block.label} block does not decode as a private key") from None
    return ApprovalSigner(_accepted_private(key, source))


def _private_block(blocks: list[PemBlock], source: str) -> PemBlock:
    labels = {block.label for block in blocks}
    if labels & set(_COSIGN_LABELS):
        raise SignatureError(f"{source}: {_COSIGN_KEY}")
    private = [block for block in blocks if block.label in _PRIVATE_LABELS]
    if len(private) > 1:
        raise SignatureError(f"{source}: {len(private)} private keys in one file: give one")
    if private:
        return private[0]
    if "RSA PRIVATE KEY" in labels:
        raise SignatureError(f"{source}: an RSA key: {ACCEPTED}")
    if "OPENSSH PRIVATE KEY" in labels:
        raise SignatureError(
            f"{source}: an OpenSSH key: layerdiff reads PEM keys (PKCS#8 or SEC1) from openssl"
        )
    if "PUBLIC KEY" in labels:
        raise SignatureError(f"{source}: a public key, where the private key is needed to sign")
    raise SignatureError(f"{source}: no private key block (found {', '.join(sorted(labels))})")


def _accepted_private(key: PrivateKeyTypes, source: str) -> PrivateKey:
    if isinstance(key, ed25519.Ed25519PrivateKey) or (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    ):
        return key
    _refuse_algorithm(key, source)


def _accepted_public(key: PublicKeyTypes, source: str) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PublicKey) or (
        isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1)
    ):
        return key
    _refuse_algorithm(key, source)


def _refuse_algorithm(key: PrivateKeyTypes | PublicKeyTypes, source: str) -> NoReturn:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        raise SignatureError(f"{source}: an ECDSA key on curve {key.curve.name}: {ACCEPTED}")
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        raise SignatureError(f"{source}: an RSA key: {ACCEPTED}")
    raise SignatureError(f"{source}: a {type(key).__name__.removeprefix('_')} key: {ACCEPTED}")


def _trusted(owner: str, key: PublicKeyTypes, source: str) -> TrustedKey:
    public = _accepted_public(key, source)
    return TrustedKey(owner, keyid_of(public), public)


def password_from_environment(env: Mapping[str, str]) -> bytes | None:
    """The key's password from ``LAYERDIFF_KEY_PASSWORD``, else cosign's ``COSIGN_PASSWORD``; None when
    neither is set (an empty value counts as unset: openssl makes no key with an empty password)."""
    for name in PASSWORD_VARIABLES:
        value = env.get(name)
        if value:
            return value.encode("utf-8")
    return None
