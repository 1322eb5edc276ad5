"""Line-level mutations of the text formats images carry (dpkg status, apk installed, METADATA,
ld.so.conf, passwd): lines dropped, repeated, swapped or rewritten with the format's own keywords and with
hostile values (huge numbers, non-UTF-8 bytes, NUL, very long words), then perhaps a few byte edits."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from tests.fuzz.mutate_bytes import MAX_BYTES, mutated_bytes

HOSTILE_VALUES = (
    b"",
    b" ",
    b"0",
    b"-1",
    b"99999999999999999999999999",
    b"\xff\xfe\x80",
    b"\xed\xb2\x80",  # a lone surrogate, as UTF-8 would spell it
    b"caf\xc3\xa9",
    b"\x00",
    b"\x1b[31m",
    b"../../../../etc/passwd",
    b"/",
    b"*",
    b"x" * 5000,
    b"(",
    b"a (>= 1",
    b"a | b | c, d (<< 2) [amd64], e:any",
    b"; python_version < '3'",
    b"\t\t",
    b"=",
    b":",
)
REPEATS = (2, 10, 1000, 20000)


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def mutated_lines(
    draw: st.DrawFn, seed: bytes, keywords: Sequence[bytes], separator: bytes = b":", max_ops: int = 4
) -> bytes:
    """``seed`` with a few line edits; ``keywords`` are lines or line starts the format gives meaning to."""
    lines = _lines(seed)
    for _ in range(draw(st.integers(1, max_ops))):
        operation = draw(st.sampled_from(("drop", "repeat", "swap", "value", "keyword", "join", "bytes")))
        position = draw(st.integers(0, max(0, len(lines) - 1)))
        if operation == "drop" and lines:
            del lines[position]
        elif operation == "repeat" and lines:
            times = min(draw(st.sampled_from(REPEATS)), MAX_BYTES // (len(lines[position]) + 1))
            block = lines[position : position + draw(st.integers(1, 8))]
            lines[position:position] = block * max(1, times // len(block))
        elif operation == "swap" and lines:
            other = draw(st.integers(0, len(lines) - 1))
            lines[position], lines[other] = lines[other], lines[position]
        elif operation == "value" and lines:
            key, sep, _ = lines[position].partition(separator)
            value = draw(st.sampled_from(HOSTILE_VALUES))
            lines[position] = key + (sep or separator) + value if draw(st.booleans()) else value
        elif operation == "keyword":
            keyword = draw(st.sampled_from(tuple(keywords)))
            value = draw(st.sampled_from(HOSTILE_VALUES)) if draw(st.booleans()) else b""
            lines.insert(position, keyword + value)
        elif operation == "join" and lines:
            lines[position] = b" " + lines[position]  # a continuation line
        elif operation == "bytes" and lines:
            lines[position] = draw(mutated_bytes(lines[position], max_ops=2))
        if sum(len(line) + 1 for line in lines) > MAX_BYTES:
            break
    return b"\n".join(lines)[:MAX_BYTES]
