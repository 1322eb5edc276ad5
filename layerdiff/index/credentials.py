"""Credential files reduced, as they stream past the indexer, to where their credentials are: for each, the
line, the kind and the setting that holds it (``CredentialScan``), never the value, so that neither the
report nor the layer cache can hold one. The files are those ``layerdiff.text.credential_files`` names
(pip.conf, .npmrc, .netrc, docker's config.json, kubeconfig, .pgpass, keys, ...); each format is read as
its own tool reads it, line by line, and every file is also searched for private key blocks, passwords
and tokens in URLs, and well-known token formats. A value that only stands for a credential
(``${NPM_TOKEN}``, an empty ``auth``) is none.

A change to what is recognised here changes what the cache holds: bump ``cache.INDEX_FORMAT``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

from layerdiff.image.model import CredentialHit, CredentialScan
from layerdiff.text import credential_files as formats
from layerdiff.text.credential_forms import (
    PRIVATE_KEY,
    PRIVATE_KEY_BLOCK,
    PUTTY_KEY,
    TOKEN_FORMATS,
    disjoint,
    is_placeholder,
    is_secret_name,
    url_userinfos,
)

MAX_CREDENTIAL_FILE_BYTES = 1 << 20  # credential files are a few lines; a larger one is not read
MAX_HITS = 100  # credentials kept per file; the rest are counted
_SETTING_CHARS = 200
_REDACTED = b"<redacted>"


@dataclass(frozen=True)
class _Found:
    start: int  # the value's span in the decoded text
    end: int
    kind: str
    setting: str


def scan_credentials(path: str, data: bytes) -> CredentialScan | None:
    """Where the credentials of the file at ``path`` are; None when its path names no credential file."""
    credential_format = formats.credential_format(path)
    if credential_format is None:
        return None
    text = data.decode("utf-8", "surrogateescape")
    found = _credentials(credential_format, text)
    lines = _line_starts(text)
    hits = tuple(
        CredentialHit(bisect.bisect_right(lines, item.start), item.kind, item.setting[:_SETTING_CHARS])
        for item in found[:MAX_HITS]
    )
    return CredentialScan(credential_format, hits, max(0, len(found) - MAX_HITS))


def without_credentials(path: str, data: bytes) -> bytes:
    """``data`` with each credential's value replaced, for a credential file another collector keeps."""
    credential_format = formats.credential_format(path)
    if credential_format is None:
        return data
    text = data.decode("utf-8", "surrogateescape")
    pieces, position = [], 0
    for item in _credentials(credential_format, text):
        pieces += [text[position : item.start].encode("utf-8", "surrogateescape"), _REDACTED]
        position = item.end
    pieces.append(text[position:].encode("utf-8", "surrogateescape"))
    return b"".join(pieces)


def _line_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in re.finditer("\n", text))]


def _credentials(credential_format: str, text: str) -> list[_Found]:
    """Each credential once (the first reading of a span wins), in the order of the file."""
    settings: dict[int, str] = {}  # line start offset -> the setting on it, for the searches of every format
    candidates = [
        *_FORMAT_READERS.get(credential_format, _no_reader)(text, settings),
        *_anywhere(text, settings),
    ]
    return disjoint(candidates, lambda item: (item.start, item.end))


def _no_reader(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    return iter(())  # keys: private key blocks, as in every file (_anywhere)


def _anywhere(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    """What any credential file may hold: private keys, URL passwords and tokens, token formats."""
    for match in PRIVATE_KEY_BLOCK.finditer(text):
        label = PRIVATE_KEY.match(text, match.start())
        kind = _key_kind(label.group(1) if label else "", match.group())
        yield _Found(*match.span(), kind, f"{label.group(1) if label else ''}PRIVATE KEY block")
    for match in PUTTY_KEY.finditer(text):
        yield _Found(match.start(), len(text), "private key (PuTTY)", "PuTTY key file")
    for userinfo in url_userinfos(text):
        span = userinfo.secret_span(text)
        if span is not None:
            kind = "URL with a password" if userinfo.password_start is not None else "URL with a token"
            setting = _setting_at(text, settings, span[0])
            yield _Found(*span, kind, f"{setting} ({userinfo.origin})" if setting else userinfo.origin)
    for pattern, kind in TOKEN_FORMATS:
        for match in pattern.finditer(text):
            yield _Found(*match.span(), kind, _setting_at(text, settings, match.start()))


def _key_kind(label: str, block: str) -> str:
    if label == "OPENSSH ":
        return "private key (OpenSSH)"
    if label == "ENCRYPTED " or "Proc-Type: 4,ENCRYPTED" in block:
        return "private key (PEM, encrypted)"
    return "private key (PEM)"


def _setting_at(text: str, settings: dict[int, str], offset: int) -> str:
    return settings.get(text.rfind("\n", 0, offset) + 1, "")


# --- INI-like files: pip.conf, .pypirc, .npmrc, AWS credentials ---------------------------------------------

# key = value (or key: value, as configparser reads pip.conf and .pypirc); npm's keys hold ":" themselves
_INI_LINE = re.compile(r"[ \t]*([^=:\s\[#;][^=:\n]*?)[ \t]*[=:][ \t]*([^\n]*)")
_EQUALS_LINE = re.compile(r"[ \t]*([^=\s\[#;][^=\n]*?)[ \t]*=[ \t]*([^\n]*)")
_INI_SECTION = re.compile(r"[ \t]*\[([^\]\n]*)\]")
_NPM_KEYS = (("_authtoken", "npm auth token"), ("_auth", "npm auth (base64 user:password)"))
_NPM_KEYS_MORE = (("_password", "npm base64 password"),)
_AWS_KEYS = {
    "aws_secret_access_key": "AWS secret access key",
    "aws_session_token": "AWS session token",
    "aws_security_token": "AWS session token",
}


def _ini(text: str, settings: dict[int, str], member: re.Pattern[str]) -> Iterator[tuple[str, int, int]]:
    """(setting, value start, value end) of each ``key = value`` line, the setting named with its section;
    each line's setting is noted in ``settings`` (a continuation line's is its key's)."""
    section = ""
    current = ""
    for start, line in _lines(text):
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        if line[0] in " \t" and current:  # a continuation of the last value (pip's extra-index-url list)
            settings[start] = current
            continue
        if heading := _INI_SECTION.match(line):
            section = heading.group(1).strip()
            continue
        match = member.match(line)
        if match is None:
            current = ""
            continue
        key = match.group(1)
        current = f"[{section}] {key}" if section else key
        settings[start] = current
        value_start, value_end = _trimmed(text, start + match.start(2), start + match.end(2))
        yield current, value_start, value_end


def _lines(text: str) -> Iterator[tuple[int, str]]:
    start = 0
    for line in text.split("\n"):
        yield start, line
        start += len(line) + 1


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without surrounding blanks and quotes."""
    while end > start and text[end - 1] in " \t\r":
        end -= 1
    if end - start >= 2 and text[start] == text[end - 1] and text[start] in "\"'":
        start, end = start + 1, end - 1
    return start, end


def _value(text: str, start: int, end: int, kind: str, setting: str) -> Iterator[_Found]:
    if not is_placeholder(text[start:end]):
        yield _Found(start, end, kind, setting)


def _pip(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    for _ in _ini(text, settings, _INI_LINE):
        pass  # pip's credentials are in its URLs (index-url, extra-index-url, find-links): see _anywhere
    return iter(())


def _pypirc(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    for setting, start, end in _ini(text, settings, _INI_LINE):
        if setting.rsplit(" ", 1)[-1].lower() == "password":
            kind = "PyPI API token" if text.startswith("pypi-", start) else "package index password"
            yield from _value(text, start, end, kind, setting)


def _npmrc(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    for setting, start, end in _ini(text, settings, _EQUALS_LINE):
        key = setting.lower()
        kind = next((kind for suffix, kind in (*_NPM_KEYS, *_NPM_KEYS_MORE) if key.endswith(suffix)), None)
        if kind is None and is_secret_name(setting):
            kind = "npm credential setting"
        if kind is not None:
            yield from _value(text, start, end, kind, setting)


def _aws(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    for setting, start, end in _ini(text, settings, _EQUALS_LINE):
        kind = _AWS_KEYS.get(setting.rsplit(" ", 1)[-1].lower())
        if kind is not None:
            yield from _value(text, start, end, kind, setting)


# --- the other formats --------------------------------------------------------------------------------------

_WORD = re.compile(r"\S+")


def _netrc(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    """netrc's tokens (``machine h login u password p``, on one line or many); ``macdef`` bodies skipped."""
    machine = "default"
    words = list(_WORD.finditer(text))
    index = 0
    while index < len(words):
        token = words[index].group()
        following = words[index + 1] if index + 1 < len(words) else None
        index += 1
        if token == "machine" and following is not None:
            machine = f"machine {following.group()}"
            index += 1
        elif token == "default":
            machine = "default"
        elif token == "password" and following is not None:
            yield from _value(text, *following.span(), "netrc password", machine)
            index += 1
        elif token == "macdef":  # a macro runs to the next blank line
            end = text.find("\n\n", words[index - 1].end())
            while index < len(words) and (end < 0 or words[index].start() < end):
                index += 1


_JSON_MEMBER = re.compile(r'"((?:[^"\\\n]|\\.)*)"[ \t\r\n]*:[ \t\r\n]*(\{|"((?:[^"\\\n]|\\.)*)")')
_DOCKER_KEYS = {
    "auth": "registry auth (base64 user:password)",
    "identitytoken": "registry identity token",
    "registrytoken": "registry token",
    "password": "registry password",
}


def _docker(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    """``auths.REGISTRY.auth`` (and identity and registry tokens) of docker's config.json or .dockercfg."""
    registry = ""
    for match in _JSON_MEMBER.finditer(text):
        key = match.group(1)
        if match.group(2) == "{":
            registry = key if key != "auths" else registry
            continue
        kind = _DOCKER_KEYS.get(key.lower())
        if kind is not None and match.group(3):
            yield from _value(text, *match.span(3), kind, f"auths.{registry}.{key}" if registry else key)


_YAML_MEMBER = re.compile(r"[ \t]*(?:-[ \t]+)?([A-Za-z][A-Za-z-]*)[ \t]*:(.*)")
_KUBE_KEYS = {
    "token": "kubeconfig bearer token",
    "client-key-data": "kubeconfig client key",
    "password": "kubeconfig password",
    "id-token": "kubeconfig auth-provider token",
    "refresh-token": "kubeconfig auth-provider token",
    "access-token": "kubeconfig auth-provider token",
    "client-secret": "kubeconfig auth-provider token",
}


def _kubeconfig(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    name = ""
    for start, line in _lines(text):
        match = _YAML_MEMBER.match(line)
        if match is None:
            continue
        key = match.group(1)
        value_start, value_end = _trimmed(
            text, *_stripped_span(text, start + match.start(2), start + len(line))
        )
        if key == "name":
            name = text[value_start:value_end]
        elif (kind := _KUBE_KEYS.get(key)) is not None:
            setting = f"user {name}: {key}" if name else key
            settings[start] = setting
            yield from _value(text, value_start, value_end, kind, setting)


def _stripped_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t":
        start += 1
    return start, end


def _pgpass(text: str, settings: dict[int, str]) -> Iterator[_Found]:
    """``host:port:database:user:password`` lines, ``\\:`` and ``\\\\`` escaped."""
    for start, line in _lines(text):
        if not line.strip() or line.startswith("#"):
            continue
        colons = list(_unescaped_colons(line))
        if len(colons) < 4:
            continue
        setting = line[: colons[3]]
        value_end = start + len(line.rstrip("\r"))
        yield from _value(text, start + colons[3] + 1, value_end, "PostgreSQL password", setting)


def _unescaped_colons(line: str) -> Iterator[int]:
    escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ":":
            yield index


_FORMAT_READERS = {
    formats.PIP: _pip,
    formats.PYPIRC: _pypirc,
    formats.NPMRC: _npmrc,
    formats.AWS: _aws,
    formats.NETRC: _netrc,
    formats.DOCKER: _docker,
    formats.KUBECONFIG: _kubeconfig,
    formats.GIT: _no_reader,  # each line is a URL with userinfo: see _anywhere
    formats.PGPASS: _pgpass,
    formats.KEY: _no_reader,
}
