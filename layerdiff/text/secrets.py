"""How a credential is recognised in an ENV variable, and how free text (an instruction, a history line, a
label) is redacted.

Best effort by construction: values are recognised by well-known formats (AWS key ids, private keys,
tokens, URL passwords) and by the variable's name; free text by those formats and by what a build
instruction writes credentials as (``layerdiff.text.instruction_secrets``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from layerdiff.text.credential_forms import (
    AWS_KEY_ID,
    NOT_A_SECRET,
    PRIVATE_KEY,
    PRIVATE_KEY_BLOCK,
    TOKEN_FORMATS,
    UrlUserinfo,
    is_secret_name,
    url_userinfos,
)
from layerdiff.text.instruction_secrets import instruction_credentials


@dataclass(frozen=True)
class SecretMatch:
    kind: str  # what it looks like, for a reviewer: "AWS access key id", "private key", ...
    redacted: str  # never the value: at most a well-known prefix and the length


_SERVICE_ACCOUNT_JSON = re.compile(r'"type"\s*:\s*"service_account"')
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)")
_NETRC_PASSWORD = re.compile(r"\b(password|passwd)(\s+)\S+", re.IGNORECASE)
_REDACTED = "<redacted>"


def classify_env_secret(name: str, value: str) -> SecretMatch | None:
    """What credential ``name=value`` holds, if it looks like one: by the value's format, else by the name."""
    if match := AWS_KEY_ID.search(value):
        return SecretMatch("AWS access key id", f"{match.group()[:4]}… ({len(value)} characters)")
    if PRIVATE_KEY.search(value):
        return SecretMatch("private key", _length_only(value))
    if _SERVICE_ACCOUNT_JSON.search(value):
        return SecretMatch("GCP service account JSON", _length_only(value))
    for pattern, kind in TOKEN_FORMATS:
        if pattern.search(value):
            return SecretMatch(kind, _length_only(value))
    if any(_url_password(userinfo) for userinfo in url_userinfos(value)):
        return SecretMatch("URL with a password", _length_only(value))
    if is_secret_name(name) and not _is_reference(value):
        return SecretMatch("password/token variable", _length_only(value))
    return None


def _is_reference(value: str) -> bool:
    """A value that points at the credential (a file path, another variable) or is a flag, not a secret.
    (An ENV value is the value itself, expanded: only ``${`` is taken for a reference left unexpanded.)"""
    stripped = value.strip()
    return (
        stripped.lower() in NOT_A_SECRET
        or stripped.startswith("${")
        or (stripped.startswith("/") and not any(c.isspace() for c in stripped))
    )


def _length_only(value: str) -> str:
    return f"<redacted: {len(value)} characters>"


def redact_text(text: str | None, *values: str) -> str | None:
    """``text`` (an instruction) with the given values and anything credential-shaped replaced.

    Best effort for text we can't parse: what ``instruction_credentials`` finds (URL passwords and tokens,
    credential flags, logins, headers, assignments, netrc lines), then, more broadly, URL passwords, AWS
    key ids, private key blocks, token formats, ``password x`` and ``NAME=value`` where NAME names a
    credential, whatever the value.
    """
    if text is None:
        return None
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, _REDACTED)
    text = _cut(text, [(found.start, found.end) for found in instruction_credentials(text)])
    text = PRIVATE_KEY_BLOCK.sub(_REDACTED, text)
    text = _cut(text, [_url_password(userinfo) for userinfo in url_userinfos(text)], f"{_REDACTED}@")
    text = AWS_KEY_ID.sub(lambda m: f"{m.group()[:4]}{_REDACTED}", text)
    for pattern, _ in TOKEN_FORMATS:
        text = pattern.sub(_REDACTED, text)
    text = _NETRC_PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{_REDACTED}", text)
    return _ASSIGNMENT.sub(
        lambda m: f"{m.group(1)}={_REDACTED}" if is_secret_name(m.group(1)) else m.group(), text
    )


def _url_password(userinfo: UrlUserinfo) -> tuple[int, int] | None:
    """The span of a URL's password and the "@" after it, whatever the password is
    (``https://user:PASSWORD@host``); a "%40" (a URL inside another, percent-encoded) becomes "@"."""
    start = userinfo.password_start
    return (start, userinfo.host_start) if start is not None and start < userinfo.end else None


def _cut(text: str, spans: Sequence[tuple[int, int] | None], replacement: str = _REDACTED) -> str:
    """``text`` with each span (in order, not overlapping; None for none) replaced."""
    pieces, position = [], 0
    for span in spans:
        if span is not None:
            pieces += [text[position : span[0]], replacement]
            position = span[1]
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)
