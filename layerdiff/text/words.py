"""Wording of counts and lists in one-sentence messages."""

from __future__ import annotations

from collections.abc import Sequence

NAMES_SHOWN = 5  # names listed in a message before "and N more"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """ "1 object", "3 objects"; "1 entry", "2 entries" with ``plural="entries"``."""
    return f"{count} {noun}" if count == 1 else f"{count} {plural or noun + 's'}"


def listed(names: Sequence[str], shown: int = NAMES_SHOWN) -> str:
    """ "a, b, c" or "a, b, c, d, e and 2 more"."""
    text = ", ".join(names[:shown])
    more = len(names) - shown
    return f"{text} and {more} more" if more > 0 else text
