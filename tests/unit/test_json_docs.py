"""JSON documents of an image: nesting measured on the text, outside strings, before Python parses it."""

from __future__ import annotations

import dataclasses

import pytest

from layerdiff.errors import ImageError
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded
from layerdiff.sources.json_docs import parse_json


def parse(text: bytes, depth: int = 64) -> tuple[object, list[str]]:
    warnings: list[str] = []
    limits = dataclasses.replace(DEFAULT_LIMITS, json_depth=depth)
    return parse_json(text, "cfg", limits, warnings), warnings


def test_brackets_inside_strings_do_not_count() -> None:
    text = b'{"a": "[[[[{{{{", "b": "\\"[[[[", "c": [[["x"]]]}'
    assert parse(text, depth=4)[0] == {"a": "[[[[{{{{", "b": '"[[[[', "c": [[["x"]]]}


def test_nesting_over_the_limit_is_refused_before_parsing() -> None:
    text = b"[" * 3000 + b"]" * 3000  # Python's parser would end in a RecursionError
    with pytest.raises(LimitExceeded, match="cfg: nested more than 64 levels deep"):
        parse(text)
    assert parse(b"[" * 100 + b"]" * 100, depth=100)[0] is not None


def test_an_unterminated_string_is_invalid_json_and_quick() -> None:
    with pytest.raises(ImageError, match="not valid JSON"):
        parse(b'["' + b'\\"[' * 1_000_000)


def test_what_go_replaces_is_replaced_with_a_warning() -> None:
    value, warnings = parse(b'{"k": "caf\xe9", "s": ["\\udc80", "\\ud83d\\ude00"]}')
    assert value == {"k": "caf\ufffd", "s": ["\ufffd", "\U0001f600"]}
    assert warnings == [
        "cfg: holds bytes that are not UTF-8; they are read as U+FFFD, as docker reads them",
        "cfg: s[0] holds lone UTF-16 surrogates; they are read as U+FFFD, as docker reads them",
    ]
