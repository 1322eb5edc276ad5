"""Fitting a comment into a size budget without cutting its syntax.

A list or table is built from whole entries (a row, a finding) between an opening and a closing that are
always written together, so a table row, a code span or a ``<details>`` block is never cut; entries that do
not fit are replaced by one line saying how many are left out. Sections share the budget, and a section that
does not fit at all leaves a note of its own in its place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from layerdiff.render.markdown_text import size

Entry = TypeVar("Entry")
SEPARATOR = "\n\n"  # between sections, and before a left-out line (it ends a list or a table)


@dataclass(frozen=True)
class Fitted:
    text: str
    shown: int  # how many entries it holds; the rest are counted in its left-out line


def fit_entries(
    opening: str,
    entries: Sequence[Entry],
    render: Callable[[Entry], str],
    closing: str,
    budget: int,
    left_out: Callable[[Sequence[Entry]], str],
) -> Fitted | None:
    """``opening``, as many leading entries as fit (one a line), ``left_out(the rest)`` when some do not,
    and ``closing``, within ``budget``; None when not even one entry fits.

    ``left_out`` of a shorter tail must not be longer than of a longer one (counts only shrink), so the
    line for all the entries is room enough for the line finally written."""
    fixed = size(opening) + size(closing)
    texts: list[str] = []
    used = fixed
    for entry in entries:
        text = render(entry)
        used += size(text) + (1 if texts else 0)
        if used > budget:
            break
        texts.append(text)
    if len(texts) < len(entries):
        reserve = size(SEPARATOR) + size(left_out(entries))
        while texts and fixed + _joined_size(texts) + reserve > budget:
            texts.pop()
    if not texts and entries:
        return None
    body = "\n".join(texts)
    if len(texts) < len(entries):
        body += SEPARATOR + left_out(entries[len(texts) :])
    return Fitted(opening + body + closing, len(texts))


def _joined_size(texts: Sequence[str]) -> int:
    return sum(size(text) for text in texts) + len(texts) - 1


@dataclass(frozen=True)
class Section:
    """One part of the comment: ``render(budget)`` gives it within the budget (None when it cannot), and
    ``omitted`` is the short note written instead."""

    render: Callable[[int], str | None]
    omitted: str


def fill(sections: Sequence[Section], budget: int) -> list[str]:
    """The sections in order within ``budget``: each first gets an equal share (so that one long list
    cannot crowd out the short ones after it), then what the shares left over goes to the sections in
    order. A section that does not fit its room is replaced by its note."""
    if not sections:
        return []
    separators = size(SEPARATOR) * len(sections)
    share = max((budget - separators) // len(sections), 0)
    written = [_within(section, share) for section in sections]
    left = budget - separators - sum(size(text) for text in written)
    for index, section in enumerate(sections):
        if left <= 0:
            break
        grown = _within(section, size(written[index]) + left)
        left -= size(grown) - size(written[index])
        written[index] = grown
    return [text for text in written if text]


def _within(section: Section, room: int) -> str:
    """The section, else its note, else nothing, in at most ``room``."""
    text = section.render(room) if room > 0 else None
    if text is not None and size(text) <= room:
        return text
    return section.omitted if size(section.omitted) <= room else ""
