"""The shapes a credential takes, shared by every place that looks for one (ENV values, build instructions,
credential files) and by the redaction: well-known token formats, private key blocks, URL userinfo, names
that say their value is a credential, and values that only stand for one (``${TOKEN}``).

Every pattern here is linear in the text it is run on: image text is hostile, and a megabyte of
``a.a.a.a`` must not make a search quadratic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----")
PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL
)
PUTTY_KEY = re.compile(r"^PuTTY-User-Key-File-\d+:", re.MULTILINE)
TOKEN_FORMATS = (
    (
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"),
        "GitHub token",
    ),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "GitLab token"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "Slack token"),
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), "npm token"),
    (re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}"), "PyPI API token"),
)

# Words of a variable name (split on "_") that say its value is a credential. "SECRETS" (Airflow's
# secrets backend settings) and a bare "KEY" (GPG_KEY in the official python images: a public key id) don't.
_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS", "AUTHTOKEN"}
)
_SECRET_KEY_QUALIFIERS = frozenset({"API", "ACCESS", "PRIVATE", "FERNET", "ENCRYPTION", "SIGNING", "AUTH"})
# The value names where the secret is (a file, a command, a secrets-backend key), not the secret itself.
_REFERENCE_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_CMD")
_AIRFLOW_REFERENCE_SUFFIXES = ("_SECRET",)  # AIRFLOW__X__Y_SECRET: the name of a secret in the backend
NOT_A_SECRET = frozenset({"", "true", "false", "yes", "no", "0", "1", "none", "null"})
# ${TOKEN}, $TOKEN, $(cat /run/secrets/x), %(token)s, {{ token }}, <token>, ****, xxx, ...
_PLACEHOLDER = re.compile(r"^(?:\$.*|%\(.*\)s|\{\{.*\}\}|<[^<>]*>|[*xX.]{3,})$", re.DOTALL)


def is_secret_name(name: str) -> bool:
    """Whether a variable (or setting) named ``name`` holds a credential: ``DB_PASSWORD``, ``API_KEY``."""
    upper = name.upper()
    if upper.endswith(_REFERENCE_SUFFIXES):
        return False
    if upper.startswith("AIRFLOW__") and upper.endswith(_AIRFLOW_REFERENCE_SUFFIXES):
        return False
    words = [word for word in re.split(r"[_.\-:/]+", upper) if word]
    if any(word in _SECRET_WORDS for word in words):
        return True
    return any(
        word == "KEY" and index > 0 and words[index - 1] in _SECRET_KEY_QUALIFIERS
        for index, word in enumerate(words)
    )


def unquoted(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def is_placeholder(value: str) -> bool:
    """A value that only stands for a credential (a variable, a template, a mask) or is no value at all."""
    bare = unquoted(value)
    return bare.lower() in NOT_A_SECRET or _PLACEHOLDER.match(bare) is not None


def is_reference(value: str) -> bool:
    """A value that points at the credential (a file path, another variable) or is a flag, not a secret."""
    bare = unquoted(value)
    return is_placeholder(bare) or (bare.startswith("/") and not any(c.isspace() for c in bare))


# --- URLs with userinfo -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UrlUserinfo:
    start: int  # where the userinfo starts in the text
    end: int  # where it ends (before "@")
    password_start: int | None  # where the password starts, when the userinfo has one
    origin: str  # scheme://host, without the userinfo: where the credential is for
    host_start: int  # after the "@" (or "%40") that ends the userinfo

    def secret_span(self, text: str) -> tuple[int, int] | None:
        """The span that holds a credential: the password, or a user name that is a token (pip and git take
        a token as the user name: ``https://TOKEN@host``); None for ``git@host`` or a placeholder."""
        if self.password_start is not None:
            if is_placeholder(text[self.password_start : self.end]):
                return None
            return self.password_start, self.end
        user = text[self.start : self.end]
        if _TOKEN_LIKE.match(user) and not is_placeholder(user):
            return self.start, self.end
        return None


_SCHEME_BEFORE = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]{0,31}$")
# userinfo stops at "/" (every "://" holds one, so two scans never overlap), space and "@"; "%40" is an "@"
# inside a percent-encoded URL (a purl's repository_url)
_USERINFO = re.compile(r"([^/\s@]*?)(?:@|%40)")
_HOST = re.compile(r"[^/\s:'\"?#<>]{0,253}")
_TOKEN_LIKE = re.compile(r"^(?=[^:]*\d)(?=[^:]*[A-Za-z])[A-Za-z0-9_.~+/=-]{20,}$")


def url_userinfos(text: str) -> Iterator[UrlUserinfo]:
    """Each ``scheme://userinfo@`` in ``text``."""
    position = 0
    while (found := text.find("://", position)) >= 0:
        position = found + 3
        scheme = _SCHEME_BEFORE.search(text, max(0, found - 32), found)
        match = _USERINFO.match(text, position)
        if scheme is None or match is None or not match.group(1):
            continue
        start, end = match.span(1)
        colon = text.find(":", start, end)
        host = _HOST.match(text, match.end())
        origin = f"{scheme.group()}://{host.group() if host else ''}"
        yield UrlUserinfo(start, end, colon + 1 if colon >= 0 else None, origin, match.end())


def disjoint(items: Iterable[T], span: Callable[[T], tuple[int, int]]) -> list[T]:
    """``items`` in the order of their spans, leaving out each one that overlaps one kept before it: of two
    that start together, the one given first (the finder that knows more about the value) names it."""
    ordered = sorted(
        ((span(item), order, item) for order, item in enumerate(items)),
        key=lambda found: (found[0][0], found[1]),
    )
    kept: list[T] = []
    end = -1
    for (start, stop), _, item in ordered:
        if stop > start >= end:
            kept.append(item)
            end = stop
    return kept
