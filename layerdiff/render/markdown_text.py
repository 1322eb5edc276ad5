"""Text from a report made safe for a GitHub comment, and the comment's size as GitHub may count it.

Every string of a report can come from the image (paths, instructions, messages quoting them), so none of
it may open Markdown or HTML syntax: no table cell split by ``|``, no code span, emphasis or link, no tag,
no ``@mention`` that would notify someone. Long values are shortened before they are escaped, so an
escape is never cut in half.
"""

from __future__ import annotations

import re

FIELD_LIMIT = 300  # characters of one value before it is shortened
ELLIPSIS = "…"

# Characters Markdown would read as table structure, code, emphasis or links; HTML-significant ones become
# entities so a message like "needs <module>" is not swallowed as a tag. A zero-width space after "@" keeps
# "@org/team" in an image from mentioning anyone (the entity, so that the output holds no invisible
# character).
_MARKDOWN_ESCAPES = {c: "\\" + c for c in "\\`|*_[]~"}
_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CELL_TRANSLATION = str.maketrans(
    {**_MARKDOWN_ESCAPES, **_HTML_ESCAPES, "@": "@&#8203;", "\n": " ", "\r": " "}
)
# A link destination that needs no escaping: https only, none of ( ) < > [ ] \ ` " ' or whitespace.
_SAFE_URL = re.compile(r"https://[A-Za-z0-9._~:/?#@!$&*+,;=%-]{1,500}")
_FINGERPRINT = re.compile(r"[0-9a-f]{1,64}")
_OUTSIDE_BMP = re.compile("[\U00010000-\U0010ffff]")


def cell(value: object, limit: int = FIELD_LIMIT) -> str:
    """Text safe inside a Markdown table cell or a line of prose: one line, no table, code, emphasis,
    link, HTML or mention syntax, at most ``limit`` characters of the value."""
    if value is None:
        return "—"
    return clip(str(value), limit).translate(_CELL_TRANSLATION)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + ELLIPSIS


def link(text: str, url: str | None) -> str:
    """``text`` linked to ``url`` when it is a plain https URL; otherwise the text alone."""
    if url is not None and _SAFE_URL.fullmatch(url):
        return f"[{cell(text)}]({url})"
    return cell(text)


def fingerprint_code(fingerprint: str) -> str:
    """A finding's fingerprint as a code span, to copy; anything not hex is shown escaped instead."""
    return f"`{fingerprint}`" if _FINGERPRINT.fullmatch(fingerprint) else cell(fingerprint)


def size(text: str) -> int:
    """The length of ``text`` in UTF-16 code units: never less than in characters, so a bound kept in
    this measure holds however GitHub counts."""
    return len(text) + len(_OUTSIDE_BMP.findall(text))
