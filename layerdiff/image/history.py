"""Mapping image history to layers, and history lines to the Dockerfile instructions that wrote them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from layerdiff.image.model import HistoryEntry

_CLASSIC_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s+")
_CLASSIC_RUN = re.compile(r"^/bin/sh -c\s+")
_BUILDKIT_SUFFIX = re.compile(r"\s*# buildkit$")


def instruction(created_by: str) -> str:
    """The Dockerfile instruction behind a history line, for classic and BuildKit builders alike.

    ``/bin/sh -c #(nop)  USER root`` -> ``USER root``; ``/bin/sh -c pip install x`` -> ``RUN pip install x``;
    ``RUN /bin/sh -c pip install x # buildkit`` -> ``RUN pip install x``.
    """
    text = _BUILDKIT_SUFFIX.sub("", created_by.strip())
    if match := _CLASSIC_NOP.match(text):
        return text[match.end() :].strip()
    if text.startswith("RUN /bin/sh -c "):
        return "RUN " + text[len("RUN /bin/sh -c ") :].strip()
    if match := _CLASSIC_RUN.match(text):
        return "RUN " + text[match.end() :].strip()
    return text


def keyword(created_by: str) -> str:
    return instruction(created_by).split(" ", 1)[0].upper()


def layer_history(history: Sequence[HistoryEntry], layer_count: int) -> list[HistoryEntry | None]:
    """The history entry of each layer: non-empty entries map to layers in order."""
    layered = [h for h in history if not h.empty_layer]
    if len(layered) != layer_count:
        # Some tools write incomplete history; a guessed mapping would blame the wrong instruction.
        return [None] * layer_count
    return list(layered)


def derived_history_start(
    base: Sequence[HistoryEntry], derived: Sequence[HistoryEntry], shared_layers: int
) -> int:
    """Index of the first history entry the derived image's own Dockerfile wrote."""
    if len(derived) >= len(base) and [h.created_by for h in derived[: len(base)]] == [
        h.created_by for h in base
    ]:
        return len(base)
    seen_layers = 0
    for i, entry in enumerate(derived):
        if not entry.empty_layer:
            if seen_layers == shared_layers:
                return i
            seen_layers += 1
    return len(derived)
