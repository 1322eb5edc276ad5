"""The bits of Go's fmt and time packages the builders use to write history lines: ``%q`` of a string list
(CMD, ENTRYPOINT) and of a rune, and durations (HEALTHCHECK)."""

from __future__ import annotations

import re
import unicodedata

_ESCAPES = {"\a": r"\a", "\b": r"\b", "\f": r"\f", "\n": r"\n", "\r": r"\r", "\t": r"\t", "\v": r"\v"}
_UNIT_NS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000, "s": 10**9, "m": 60 * 10**9}
_UNIT_NS["h"] = 60 * _UNIT_NS["m"]
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?(ns|us|µs|μs|ms|s|m|h)")


def quote(text: str) -> str:
    """Go's strconv.Quote (``%q`` of a string)."""
    out = ['"']
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif _printable(char):
            out.append(char)
        elif ord(char) < 0x80:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) < 0x10000:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)


def quote_list(items: list[str] | tuple[str, ...]) -> str:
    """``%q`` of a []string: ``["a" "b"]``."""
    return "[" + " ".join(quote(item) for item in items) + "]"


def quote_rune(number: int) -> str:
    """``%q`` of an int: the rune literal, ``'\\x00'`` for 0."""
    if 0 <= number < 0x110000 and _printable(chr(number)) and chr(number) not in "'\\":
        return f"'{chr(number)}'"
    if number < 0x80:
        return f"'\\x{number:02x}'"
    return f"'\\u{number:04x}'" if number < 0x10000 else f"'\\U{number:08x}'"


def _printable(char: str) -> bool:
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def parse_duration(text: str) -> int | None:
    """Go's time.ParseDuration, in nanoseconds; None when it is not one."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    if body == "0":
        return 0
    total, pos = 0, 0
    while pos < len(body):
        match = _DURATION_PART.match(body, pos)
        if match is None or not (match.group(1) or match.group(2)):
            return None
        whole, fraction, unit = match.group(1) or "0", match.group(2) or "", match.group(3)
        scale = _UNIT_NS[unit]
        total += int(whole) * scale + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)
        pos = match.end()
    return sign * total if body else None


def format_duration(nanoseconds: int) -> str:
    """Go's Duration.String: 30s, 1m30s, 1h0m0s, 1.5s, 500ms."""
    if nanoseconds == 0:
        return "0s"
    sign = "-" if nanoseconds < 0 else ""
    value = abs(nanoseconds)
    if value < 10**9:
        for unit, scale, digits in (("ns", 1, 0), ("µs", 1_000, 3), ("ms", 1_000_000, 6)):
            if value < scale * 1000:
                return sign + _with_fraction(value, digits) + unit
    seconds, fraction = divmod(value, 10**9)
    text = _with_fraction(seconds % 60 * 10**9 + fraction, 9) + "s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m" + text
        if minutes >= 60:
            text = f"{minutes // 60}h" + text
    return sign + text


def _with_fraction(value: int, digits: int) -> str:
    if digits == 0:
        return str(value)
    whole, fraction = divmod(value, 10**digits)
    tail = f"{fraction:0{digits}d}".rstrip("0")
    return f"{whole}.{tail}" if tail else str(whole)
