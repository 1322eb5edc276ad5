"""How deeply a JSON document nests, measured on its text in linear time before it is parsed: Python's json
parser recurses once per level, so a deep enough document (an image's config, a saved report, an SBOM)
would end in a RecursionError instead of a one-line error."""

from __future__ import annotations

import itertools
import re

from layerdiff.errors import LayerdiffError
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits

# A string, possibly unterminated (which keeps the scan linear on a quote that never closes)
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH = {"[": 1, "{": 1, "]": -1, "}": -1}


def check_depth(text: str, what: str, limits: Limits) -> None:
    """Nesting of arrays and objects, outside strings, within ``json-depth``."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if len(brackets) <= limits.json_depth:
        return
    depth = max(itertools.accumulate(map(_DEPTH.__getitem__, brackets)), default=0)
    if depth > limits.json_depth:
        raise LimitExceeded(
            what, "json_depth", limits.json_depth, f"nested more than {limits.json_depth} levels deep"
        )


def check_document_depth(text: str, what: str, error: type[LayerdiffError]) -> None:
    """``check_depth`` for a document a command is given or a tool wrote (a saved report, an approval, an
    SBOM): too deep is an ``error`` of that kind (a usage error, a tool error), not an image error."""
    try:
        check_depth(text, what, DEFAULT_LIMITS)
    except LimitExceeded as exc:
        raise error(str(exc)) from exc


def nesting_exceeds(value: object, limit: int) -> bool:
    """Whether a parsed JSON value nests arrays and objects more than ``limit`` deep; iterative, so a value
    the parser accepted cannot make a recursive walk over it fail later."""
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
