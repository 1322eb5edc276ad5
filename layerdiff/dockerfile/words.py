"""Splitting one instruction's text as BuildKit's parser does (frontend/dockerfile/parser): the keyword, the
``--flag`` words before the arguments, quoted words, whitespace lists and the JSON (exec) form."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from layerdiff.dockerfile.model import DockerfileError

WHITESPACE = re.compile(r"[\t\v\f\r ]+")


@dataclass(frozen=True, slots=True)
class Split:
    keyword: str  # as written
    arguments: str  # everything after the keyword, trimmed
    flags: tuple[str, ...]  # the --flag words, quotes and escapes processed
    rest: str  # the arguments after the flags, trimmed


def split_command(line: str, escape: str) -> Split:
    parts = WHITESPACE.split(line.strip(), maxsplit=1)
    if len(parts) < 2:
        return Split(parts[0], "", (), "")
    rest, flags = _builder_flags(parts[1], escape)
    return Split(parts[0], parts[1], flags, rest.strip())


def _builder_flags(line: str, escape: str) -> tuple[str, tuple[str, ...]]:
    """The leading ``--name[=value]`` words (a bare ``--`` ends them) and the text after them."""
    flags: list[str] = []
    pos, size = 0, len(line)
    while True:
        while pos < size and line[pos].isspace():
            pos += 1
        if not line.startswith("--", pos):
            return line[pos:], tuple(flags)
        word: list[str] = []
        quote = ""
        quoted = False
        while pos < size and (quote or not line[pos].isspace()):
            char = line[pos]
            if quote and char == quote:
                quote = ""
            elif not quote and char in "'\"":
                quote, quoted = char, True
            elif char == escape:
                pos += 1
                if pos < size:
                    word.append(line[pos])
            else:
                word.append(char)
            pos += 1
        text = "".join(word)
        if text == "--":
            return line[pos:], tuple(flags)
        if text or quoted:
            flags.append(text)
        if pos >= size:
            return "", tuple(flags)


def parse_flag(word: str) -> tuple[str, str | None]:
    """``--chown=a:b`` -> (chown, a:b); ``--link`` -> (link, None)."""
    name, equals, value = word.removeprefix("--").partition("=")
    return name.lower(), value if equals else None


def quoted_words(rest: str, escape: str) -> list[str]:
    """Words split at unquoted whitespace, the quotes and escapes kept (BuildKit's parseWords)."""
    words: list[str] = []
    word: list[str] = []
    quote = ""
    quoted = False
    pos, size = 0, len(rest)
    while pos < size:
        char = rest[pos]
        if not quote and char.isspace():
            if quoted or word:
                words.append("".join(word))
            word, quoted = [], False
            pos += 1
            continue
        if quote and char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote, quoted = char, True
        elif char == escape and quote != "'":
            if pos + 1 == size:
                break  # an escape at the very end is dropped
            word.append(char)
            pos += 1
            char = rest[pos]
        word.append(char)
        pos += 1
    if quoted or word:
        words.append("".join(word))
    return words


def whitespace_words(rest: str) -> list[str]:
    return [word for word in WHITESPACE.split(rest) if word] if rest else []


def json_array(rest: str, where: str) -> list[str] | None:
    """The exec form's strings, or None when ``rest`` is not a JSON array (the shell form)."""
    text = rest.lstrip()
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return None  # not JSON: the shell form, as BuildKit reads it
    except RecursionError:
        # Python's parser gives up where Go's does not; a value this deep is no array of strings anyway
        raise DockerfileError(f"{where}: JSON array nested too deeply") from None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise DockerfileError(
            f"{where}: when using JSON array syntax, arrays must be comprised of strings only"
        )
    return value


def _reject_constant(name: str) -> object:
    raise ValueError(name)  # NaN and Infinity are not JSON to Go's decoder
