"""How a credential is recognised, in an ENV variable or by a file's path, and how free text (an
instruction, a history line, a label) is redacted.

Best effort by construction: values are recognised by well-known formats (AWS key ids, private keys,
tokens, URL passwords) and by the variable's name; contents of files are not read.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SecretMatch:
    kind: str  # what it looks like, for a reviewer: "AWS access key id", "private key", ...
    redacted: str  # never the value: at most a well-known prefix and the length


_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
# userinfo ends at "@", or at "%40" where the URL sits percent-encoded in another (a purl's repository_url)
_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^/\s@]+?(?:@|%40)")
_TOKEN_FORMATS = (
    (
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"),
        "GitHub token",
    ),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "GitLab token"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "Slack token"),
)
_SERVICE_ACCOUNT_JSON = re.compile(r'"type"\s*:\s*"service_account"')

# Words of a variable name (split on "_") that say its value is a credential. "SECRETS" (Airflow's
# secrets backend settings) and a bare "KEY" (GPG_KEY in the official python images: a public key id) don't.
_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS"}
)
_SECRET_KEY_QUALIFIERS = frozenset({"API", "ACCESS", "PRIVATE", "FERNET", "ENCRYPTION", "SIGNING", "AUTH"})
# The value names where the secret is (a file, a command, a secrets-backend key), not the secret itself.
_REFERENCE_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_CMD")
_AIRFLOW_REFERENCE_SUFFIXES = ("_SECRET",)  # AIRFLOW__X__Y_SECRET: the name of a secret in the backend
_NOT_A_SECRET = frozenset({"", "true", "false", "yes", "no", "0", "1", "none", "null"})
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)")
_NETRC_PASSWORD = re.compile(r"\b(password|passwd)(\s+)\S+", re.IGNORECASE)
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL
)
_REDACTED = "<redacted>"


def classify_env_secret(name: str, value: str) -> SecretMatch | None:
    """What credential ``name=value`` holds, if it looks like one: by the value's format, else by the name."""
    if match := _AWS_KEY_ID.search(value):
        return SecretMatch("AWS access key id", f"{match.group()[:4]}… ({len(value)} characters)")
    if _PRIVATE_KEY.search(value):
        return SecretMatch("private key", _length_only(value))
    if _SERVICE_ACCOUNT_JSON.search(value):
        return SecretMatch("GCP service account JSON", _length_only(value))
    for pattern, kind in _TOKEN_FORMATS:
        if pattern.search(value):
            return SecretMatch(kind, _length_only(value))
    if _URL_CREDENTIALS.search(value):
        return SecretMatch("password in a URL", _length_only(value))
    if is_secret_name(name) and not _is_reference(value):
        return SecretMatch("password/token variable", _length_only(value))
    return None


def _is_reference(value: str) -> bool:
    """A value that points at the credential (a file path, another variable) or is a flag, not a secret."""
    stripped = value.strip()
    return (
        stripped.lower() in _NOT_A_SECRET
        or stripped.startswith("${")
        or (stripped.startswith("/") and not any(c.isspace() for c in stripped))
    )


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    if upper.endswith(_REFERENCE_SUFFIXES):
        return False
    if upper.startswith("AIRFLOW__") and upper.endswith(_AIRFLOW_REFERENCE_SUFFIXES):
        return False
    words = [word for word in re.split(r"[_.\-]+", upper) if word]
    if any(word in _SECRET_WORDS for word in words):
        return True
    return any(
        word == "KEY" and index > 0 and words[index - 1] in _SECRET_KEY_QUALIFIERS
        for index, word in enumerate(words)
    )


def _length_only(value: str) -> str:
    return f"<redacted: {len(value)} characters>"


def redact_text(text: str | None, *values: str) -> str | None:
    """``text`` (an instruction) with the given values and anything credential-shaped replaced.

    Best effort for text we can't parse: URL passwords, AWS key ids, private key blocks, token formats,
    ``password x`` (netrc) and ``NAME=value`` where NAME names a credential.
    """
    if text is None:
        return None
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, _REDACTED)
    text = _PRIVATE_KEY_BLOCK.sub(_REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{_REDACTED}@", text)
    text = _AWS_KEY_ID.sub(lambda m: f"{m.group()[:4]}{_REDACTED}", text)
    for pattern, _ in _TOKEN_FORMATS:
        text = pattern.sub(_REDACTED, text)
    text = _NETRC_PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{_REDACTED}", text)
    return _ASSIGNMENT.sub(
        lambda m: f"{m.group(1)}={_REDACTED}" if is_secret_name(m.group(1)) else m.group(), text
    )


# --- credential files, by path ------------------------------------------------------------------------------

_SSH_IDENTITIES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity"}
)
_SECRET_FILE_SUFFIXES = (  # matched against the end of the path
    ("/.netrc", ".netrc (login credentials)"),
    ("/_netrc", ".netrc (login credentials)"),
    ("/.pypirc", ".pypirc (package index credentials)"),
    ("/.git-credentials", "git credentials"),
    ("/.docker/config.json", "docker config (registry auths)"),
    ("/.aws/credentials", "AWS credentials file"),
    ("/.kube/config", "kubeconfig"),
    ("/gcloud/application_default_credentials.json", "GCP credentials"),
    ("/gcloud/credentials.db", "GCP credentials"),
)
_SERVICE_ACCOUNT_FILE = re.compile(r".*service[-_]?account.*\.json$")
_KEY_FILE = re.compile(r".*(?:\.key|\.p12|\.pfx|priv(?:ate)?[-_]?key.*\.pem)$")
# Where key-looking file names are test fixtures or public keys, not credentials
_KEY_FIXTURE_DIRS = re.compile(
    r"/(?:site-packages|dist-packages|node_modules|keyrings|trusted\.gpg\.d)/|^/usr/share/"
)


def secret_file_kind(path: str) -> str | None:
    """What credential a file looks like by its path; contents are not kept by the indexer."""
    name = posixpath.basename(path)
    if name in _SSH_IDENTITIES and "/.ssh/" in path:
        return "private key (SSH identity)"
    for suffix, kind in _SECRET_FILE_SUFFIXES:
        if path.endswith(suffix):
            return kind
    lower = name.lower()
    if _SERVICE_ACCOUNT_FILE.match(lower) and not _KEY_FIXTURE_DIRS.search(path):
        return "GCP service account JSON"
    if _KEY_FILE.match(lower) and not _KEY_FIXTURE_DIRS.search(path):
        return "private key"
    return None
