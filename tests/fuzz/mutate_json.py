"""Mutations of JSON documents (manifests, indexes, configs): a value replaced by one of another type, a
key dropped or added, a list or object grown to a huge count, a value nested very deeply, lone surrogates
and non-UTF-8 text; the result is the document's bytes."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

NEST = "\u0000nest\u0000"  # replaced, in the text, by a deeply nested value
HOSTILE_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    1 << 63,
    (1 << 64) + 1,
    10**400,
    1.5,
    -0.0,
    1e308,
    float("nan"),
    float("inf"),
    "",
    "x",
    "\udc80",
    "caf\u00e9",
    "\u0000",
    "\x1b]0;title\x07",
    "a" * 10000,
    "sha256:" + "0" * 64,
    "../../../etc/passwd",
    "/",
    [],
    {},
    [None],
    [1, 2, 3],
    ["x", 1, None],
    {"": None},
    {"a": []},
)
DEPTHS = (100, 1000, 100_000)
COUNTS = (2, 100, 10_000)
MAX_NODES = 5000
MAX_BYTES = 4 << 20  # what growing a count may make of a document, at most


def _nodes(document: Any) -> list[tuple[Any, Any]]:
    """(container, key) of every value below the root, breadth first, at most MAX_NODES."""
    found: list[tuple[Any, Any]] = []
    queue = [document]
    while queue and len(found) < MAX_NODES:
        node = queue.pop(0)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for key, value in items:
            found.append((node, key))
            queue.append(value)
    return found


@st.composite
def _hostile(draw: st.DrawFn) -> Any:
    # a copy: later edits of the document must not change the constants
    return copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))


def _keys(document: Any) -> list[str]:
    return sorted({key for container, key in _nodes(document) if isinstance(key, str)}) or ["key"]


@st.composite
def mutated_json(draw: st.DrawFn, document: Any, max_ops: int = 3) -> bytes:
    """The bytes of ``document`` (not changed itself) after a few edits."""
    document = json.loads(json.dumps(document))
    keys = _keys(document)
    nested = None
    for _ in range(draw(st.integers(1, max_ops))):
        nodes = _nodes(document)
        operation = draw(st.sampled_from(("type", "type", "drop", "add", "count", "nest", "root")))
        if operation == "root":
            document = draw(_hostile())
            continue
        if not nodes:
            continue
        container, key = draw(st.sampled_from(nodes))
        if operation == "type":
            container[key] = draw(_hostile())
        elif operation == "drop":
            del container[key]
        elif operation == "add":
            target = container[key] if isinstance(container[key], dict) else container
            if isinstance(target, dict):
                target[draw(st.sampled_from(keys))] = draw(_hostile())
            else:
                target.append(draw(_hostile()))
        elif operation == "count":
            value, count = container[key], draw(st.sampled_from(COUNTS))
            count = max(1, min(count, MAX_BYTES // len(json.dumps(value))))
            if isinstance(value, dict):
                container[key] = {f"{name}{i}": item for i in range(count) for name, item in value.items()}
            else:
                container[key] = [value] * count
        elif operation == "nest" and nested is None:
            container[key] = NEST
            nested = draw(st.sampled_from(DEPTHS)), draw(st.booleans())
    ascii_only = draw(st.booleans())
    text = json.dumps(document, ensure_ascii=ascii_only)
    if nested is not None:
        depth, as_objects = nested
        deep = '{"a":' * depth + "1" + "}" * depth if as_objects else "[" * depth + "]" * depth
        text = text.replace(json.dumps(NEST), deep, 1)
    return text.encode("utf-8", "surrogatepass")
