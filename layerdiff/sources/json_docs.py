"""Manifests, indexes and configs are JSON an attacker wrote: bounded in size (``json-bytes``) and nesting
(``json-depth``) before they are parsed, and decoded as Go's encoding/json decodes them for docker.

Python's json parser recurses once per nesting level, so a deep enough document would end in a
RecursionError; the depth is measured on the text first, in linear time. Go replaces invalid UTF-8 and
lone UTF-16 surrogates (``"\\ud800"``) with U+FFFD; so does this, with a warning, so that no string that
cannot be written out reaches the report.
"""

from __future__ import annotations

import json
import re
from typing import Any

from layerdiff.errors import ImageError
from layerdiff.image.json_depth import check_depth
from layerdiff.image.limits import LimitExceeded, Limits, format_amount
from layerdiff.image.streams import ByteStream

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_bounded(handle: ByteStream, what: str, limits: Limits) -> bytes:
    """A JSON blob, read no further than ``json-bytes`` allows."""
    return check_size(handle.read(limits.json_bytes + 1), what, limits)


def check_size(data: bytes, what: str, limits: Limits) -> bytes:
    if len(data) > limits.json_bytes:
        raise LimitExceeded(
            what, "json_bytes", limits.json_bytes, f"larger than {format_amount(limits.json_bytes)}"
        )
    return data


def parse_json(data: bytes, what: str, limits: Limits, warnings: list[str]) -> Any:
    """The JSON value of ``data``; what Go would have replaced is replaced, and named in ``warnings``."""
    check_size(data, what, limits)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", "replace")
        warnings.append(
            f"{what}: holds bytes that are not UTF-8; they are read as U+FFFD, as docker reads them"
        )
    check_depth(text, what, limits)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ImageError(f"{what}: not valid JSON ({exc})") from exc
    if _SURROGATE_ESCAPE.search(text):
        value = replace_surrogates(value, what, warnings)
    return value


def replace_surrogates(value: Any, what: str, warnings: list[str]) -> Any:
    """``value`` with every lone surrogate, in keys and strings, replaced by U+FFFD. Iterative: the depth
    is bounded, but by a limit that may be raised."""
    found: list[str] = []
    if isinstance(value, str):
        value = _clean(value, "the document", found)
    stack: list[tuple[Any, str]] = [(value, "")] if isinstance(value, dict | list) else []
    while stack:
        container, where = stack.pop()
        if isinstance(container, dict):
            if any(_SURROGATE.search(key) for key in container):
                items = list(container.items())
                container.clear()
                container.update((_clean(key, _member(where, key), found), item) for key, item in items)
            places = [(key, _member(where, key)) for key in container]
        else:
            places = [(index, f"{where}[{index}]") for index in range(len(container))]
        for key, place in places:
            item = container[key]
            if isinstance(item, str):
                container[key] = _clean(item, place, found)
            elif isinstance(item, dict | list):
                stack.append((item, place))
    if found:
        more = f" and {len(found) - 1} more strings hold" if len(found) > 1 else " holds"
        warnings.append(
            f"{what}: {_SURROGATE.sub(chr(0xFFFD), found[0])}{more} lone UTF-16 surrogates; "
            "they are read as U+FFFD, as docker reads them"
        )
    return value


def _member(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _clean(text: str, where: str, found: list[str]) -> str:
    if _SURROGATE.search(text) is None:
        return text
    found.append(where)
    return _SURROGATE.sub("\ufffd", text)
