"""Credentials written in a build instruction or a history line: what kind each is, what names it (a flag,
a variable, a header, a URL's host) and where its value is, so that the value can be cut out and never
shown. ``docker history`` prints these lines to anyone who can pull the image.

Recognised: passwords and tokens in URLs, ``--password``/``--token``/``--api-key`` style flags (``=value``
or the next word), ``docker login -p``, ``mysql -pVALUE``, ``sshpass -p``, ``curl -u user:password``,
``NAME=value`` where NAME names a credential (build arguments are recorded that way: ``|1 TOKEN=...``),
``config set KEY VALUE`` for a credential-named key, ``Authorization:`` and token headers, netrc lines
(``login u password p``), private key blocks and well-known token formats. A value that only stands for a
credential (``$TOKEN``, ``${TOKEN}``, ``$(cat /run/secrets/t)``, a path) is none.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from layerdiff.text.credential_forms import (
    AWS_KEY_ID,
    PRIVATE_KEY_BLOCK,
    TOKEN_FORMATS,
    disjoint,
    is_reference,
    is_secret_name,
    unquoted,
    url_userinfos,
)


@dataclass(frozen=True)
class InstructionCredential:
    kind: str  # "URL with a password", "flag with a password", ...
    name: str  # what holds it: the flag, variable, header or URL origin (never the value)
    start: int  # the value's span in the text
    end: int


# Words are quoted strings and unquoted runs glued together; separators end a command
_TOKEN = re.compile(r"""(?P<sep>[;&|()]+|\n)|(?P<word>(?:"[^"]*"|'[^']*'|[^\s"';&|()])+)""")
_SECRET_FLAG = re.compile(
    r"^(--?(?:[A-Za-z0-9]+[-_])*"
    r"(?:password|passwd|pass|passin|passout|passphrase|token|secret|api-?key|apikey|auth|credentials))"
    r"(?:=(.*))?$",
    re.IGNORECASE | re.DOTALL,
)
_FLAG_KINDS = (("pass", "flag with a password"), ("token", "flag with a token"))
_LOGIN_TOOLS = frozenset({"docker", "podman", "buildah", "skopeo", "helm", "oras", "nerdctl", "crane"})
_MYSQL = frozenset({"mysql", "mysqldump", "mysqladmin", "mysqlimport", "mariadb", "mariadb-dump"})
_USER_FLAGS = frozenset({"-u", "--user", "--proxy-user"})
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_NETRC_LINE = re.compile(
    r"\b(?:machine|login)[ \t]+[^\s\"']+[ \t]+(?:login[ \t]+[^\s\"']+[ \t]+)?password[ \t]+([^\s\"']+)"
)
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|[^\s;&|]+)")
_HEADER = re.compile(
    r"\b(authorization|proxy-authorization|private-token|job-token|x-api-key|x-auth-token|x-access-token"
    r"|api-key)[ \t]*:[ \t]*(?:(?:bearer|basic|token|digest)[ \t]+)?([^\s\"'\\]+)",
    re.IGNORECASE,
)
# Text without any of these words (in any case) holds nothing the searches here find, but for URLs (an
# "@"), assignments (an "=") and token formats, whose own markers the redaction checks (text/redaction.py)
TRIGGER_WORDS = ("pass", "token", "secret", "auth", "credential", "key", "login", "mysql", "mariadb", "curl")
_BLANK = re.compile(r"\s")
_OPENSSL_REFERENCES = ("env:", "file:", "fd:", "stdin")
_DOCKER_SECRET_SOURCES = ("id=", "src=", "source=", "env=", "type=")


def instruction_credentials(text: str) -> list[InstructionCredential]:
    """Every credential written in ``text``, in order, each value's span once."""
    return disjoint(_candidates(text), lambda credential: (credential.start, credential.end))


def _candidates(text: str) -> Iterator[InstructionCredential]:
    # each search runs only on text that has what it needs: a path of a report has neither blanks nor "="
    if "PRIVATE KEY" in text:
        for match in PRIVATE_KEY_BLOCK.finditer(text):
            yield InstructionCredential("private key", "private key block", *match.span())
    for pattern, kind in TOKEN_FORMATS:
        for match in pattern.finditer(text):
            yield InstructionCredential(kind, kind, *match.span())
    if "AKIA" in text or "ASIA" in text:
        for match in AWS_KEY_ID.finditer(text):
            yield InstructionCredential("AWS access key id", "AWS access key id", *match.span())
    for userinfo in url_userinfos(text):
        span = userinfo.secret_span(text)
        if span is not None:
            kind = "URL with a password" if userinfo.password_start is not None else "URL with a token"
            yield InstructionCredential(kind, userinfo.origin, *span)
    if ":" in text:
        for match in _HEADER.finditer(text):
            if not is_reference(match.group(2)):
                yield InstructionCredential("credential header", match.group(1), *match.span(2))
    words = _BLANK.search(text) is not None
    if words:
        for match in _NETRC_LINE.finditer(text):
            if not is_reference(match.group(1)):
                yield InstructionCredential("netrc password", "password", *match.span(1))
    if words or text.startswith("-"):
        yield from _command_words(text)
    if "=" in text:
        for match in _ASSIGNMENT.finditer(text):
            name, value = match.group(1), match.group(2)
            if is_secret_name(name) and not is_reference(value):
                yield InstructionCredential("credential variable", name, *match.span(2))


@dataclass(frozen=True)
class _Word:
    text: str  # unquoted
    start: int  # its span in the whole text, quotes included
    end: int


def _command_words(
    text: str, start: int = 0, end: int | None = None, depth: int = 0
) -> Iterator[InstructionCredential]:
    """What the words of each command say: flags with values, logins, ``config set``. A quoted word with
    spaces (``sh -c "curl --token x"``) is read as commands too, one level down."""
    words: list[_Word] = []
    for token in _TOKEN.finditer(text, start, len(text) if end is None else end):
        if token.group("word") is None:
            yield from _command(text, words)
            words = []
            continue
        words.append(_Word(unquoted(token.group()), *token.span()))
        if depth == 0:
            for quoted in _QUOTED.finditer(text, *token.span()):
                if any(c.isspace() for c in quoted.group()):
                    yield from _command_words(text, quoted.start() + 1, quoted.end() - 1, depth + 1)
    yield from _command(text, words)


def _command(text: str, words: list[_Word]) -> Iterator[InstructionCredential]:
    plain = [word.text for word in words]
    programs = {word.rsplit("/", 1)[-1] for word in plain}
    login = "login" in plain and bool(programs & _LOGIN_TOOLS)
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        flag = _SECRET_FLAG.match(word.text)
        if flag is not None and not word.text.lower().startswith("--no-"):
            yield from _flag_value(text, flag.group(1), word, flag.group(2) is not None, following)
        elif word.text == "-p" and (login or "sshpass" in programs) and following is not None:
            yield from _value(
                text, "flag with a password", f"{_program(programs)} -p", following.start, following.end
            )
        elif word.text.startswith("-p") and len(word.text) > 2 and programs & _MYSQL:
            start = text.index("-p", word.start, word.end) + 2
            yield from _value(text, "flag with a password", "mysql -p", start, word.end)
        elif word.text in _USER_FLAGS and "curl" in programs and following is not None:
            colon = text.find(":", following.start, following.end)
            if colon >= 0:
                yield from _value(text, "curl user and password", "curl -u", colon + 1, following.end)
        elif _sets_a_secret(plain, index):
            setting = words[index + 2]
            yield from _value(text, "credential setting", plain[index + 1], setting.start, setting.end)


def _flag_value(
    text: str, flag: str, word: _Word, inline: bool, following: _Word | None
) -> Iterator[InstructionCredential]:
    kind = next((kind for part, kind in _FLAG_KINDS if part in flag.lower()), "flag with a secret")
    if inline:
        yield from _value(text, kind, flag, text.index("=", word.start, word.end) + 1, word.end)
    elif following is not None and not following.text.startswith("-"):
        yield from _value(text, kind, flag, following.start, following.end)


def _value(text: str, kind: str, name: str, start: int, end: int) -> Iterator[InstructionCredential]:
    value = unquoted(text[start:end])
    references = value.startswith(_OPENSSL_REFERENCES) or value.startswith(_DOCKER_SECRET_SOURCES)
    if value and not references and not is_reference(value):
        yield InstructionCredential(kind, name, start, end)


def _program(programs: set[str]) -> str:
    return next((name for name in sorted(programs) if name in _LOGIN_TOOLS), "sshpass")


def _sets_a_secret(plain: list[str], index: int) -> bool:
    """``... config set KEY VALUE`` (or ``configure set``) at ``index``, KEY naming a credential."""
    return (
        plain[index] == "set"
        and 1 <= index < len(plain) - 2
        and plain[index - 1] in ("config", "configure")
        and _is_secret_setting(plain[index + 1])
    )


def _is_secret_setting(key: str) -> bool:
    """``npm config set //host/:_authToken``, ``aws configure set aws_secret_access_key``, ``pip config
    set global.password``, ``yarn config set npmAuthToken``."""
    return is_secret_name(key) or key.lower().endswith(("_auth", "authtoken", "password", "token", "secret"))
