"""Image text made safe to show: no control character or escape sequence survives, so nothing an image
carries can move the cursor, clear the screen, set the terminal title, reorder text (bidi overrides) or hide a
finding, in a terminal, the review app, Markdown or a CI log.

Each unsafe character becomes a visible escape (``\\x1b``, ``\\x9b``, ``\\u202e``). A byte of a non-UTF-8 name
(kept as a surrogate escape, which no output encoding accepts) is shown as ``\\xff``, as
``layerdiff.image.paths.display`` shows it; another lone surrogate as ``\\ud800``. In a text that needed
escaping, a backslash that would make the result ambiguous is doubled, so ``unescape`` gives the original
back (a non-UTF-8 byte as the character of that code); a text with nothing unsafe is returned as it is.
(Paths also keep their raw bytes in ``path_hex``.)
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, C1 controls (0x9b is a one-byte CSI), and the characters that
# reorder or hide text: bidi embeddings, overrides and isolates, marks, zero-width joiners and the BOM.
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_INVISIBLE = "\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
_SURROGATE = "\ud800-\udfff"
UNSAFE_IN_TEXT = re.compile(f"[{_CONTROL}{_INVISIBLE}{_SURROGATE}]")
_UNSAFE_IN_LINE = re.compile(f"[\t\n{_CONTROL}{_INVISIBLE}{_SURROGATE}]")
_ESCAPED_BYTES = range(0xDC80, 0xDD00)  # surrogateescape's stand-ins for the bytes 0x80-0xff
# A backslash already followed by what looks like one of our escapes must be told apart from it.
_AMBIGUOUS_BACKSLASH = re.compile(r"\\(?=x[0-9a-f]{2}|u[0-9a-f]{4}|\\)")
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code in _ESCAPED_BYTES:
        code -= 0xDC00
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _guard(text: str, unsafe: re.Pattern[str]) -> str:
    if not unsafe.search(text):
        return text  # the common case: nothing to do, no copy
    return unsafe.sub(_escape, _AMBIGUOUS_BACKSLASH.sub(r"\\\\", text))


def safe_text(text: str) -> str:
    """``text`` with every control character but tab and newline, and every invisible or reordering
    character, shown as an escape. Multi-line text stays multi-line."""
    return _guard(text, UNSAFE_IN_TEXT)


def safe_line(text: str) -> str:
    """Like ``safe_text``, and tabs and newlines escaped too: for one-line messages (errors on stderr)."""
    return _guard(text, _UNSAFE_IN_LINE)


def is_safe(text: str) -> bool:
    return UNSAFE_IN_TEXT.search(text) is None


def unescape(text: str) -> str:
    """The original of an escaped text (for a text that needed escaping)."""

    def original(match: re.Match[str]) -> str:
        token = match.group(1)
        return "\\" if token == "\\" else chr(int(token[1:], 16))

    return _ESCAPE.sub(original, text)
