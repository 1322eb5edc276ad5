"""Byte-level mutations of a seed: bit flips, interesting values, truncation, deletion, repetition,
insertion and splicing from other seeds, as AFL-style fuzzers do, drawn by hypothesis so that a failing input
shrinks to few, small edits."""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from hypothesis import strategies as st

MAX_BYTES = 4 << 20  # a mutation never makes an input larger than this
INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x20, 0x0A, 0x2F, 0x2E, 0x30, 0x37, 0x39, 0x3A)
INTERESTING_INTS = (0, 1, 2, 7, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 1 << 40)

Draw = Callable[[st.SearchStrategy[object]], object]


def _flip(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    if data:
        position = draw(st.integers(0, len(data) - 1))
        data[position] ^= 1 << draw(st.integers(0, 7))


def _set_byte(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    if data:
        data[draw(st.integers(0, len(data) - 1))] = draw(st.sampled_from(INTERESTING_BYTES))


def _set_int(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    width = draw(st.sampled_from((1, 2, 4, 8)))
    if len(data) < width:
        return
    position = draw(st.integers(0, len(data) - width))
    value = draw(st.sampled_from(INTERESTING_INTS)) % (1 << (8 * width))
    if draw(st.booleans()):
        value = (1 << (8 * width)) - 1 - value  # the negative of small ones
    order = draw(st.sampled_from("<>"))
    data[position : position + width] = struct.pack(f"{order}{'BHIQ'[(1, 2, 4, 8).index(width)]}", value)


def _truncate(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    del data[draw(st.integers(0, len(data))) :]


def _delete(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    if data:
        start = draw(st.integers(0, len(data) - 1))
        del data[start : start + draw(st.integers(1, 1024))]


def _repeat(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    if not data:
        return
    start = draw(st.integers(0, len(data) - 1))
    chunk = bytes(data[start : start + draw(st.integers(1, 512))])
    times = draw(st.sampled_from((2, 3, 16, 255, 4096)))
    times = min(times, max(1, (MAX_BYTES - len(data)) // len(chunk)))
    data[start:start] = chunk * times


def _insert(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    position = draw(st.integers(0, len(data)))
    data[position:position] = draw(st.binary(min_size=1, max_size=32))


def _splice(draw: st.DrawFn, data: bytearray, donors: Sequence[bytes]) -> None:
    donor = draw(st.sampled_from(donors)) if donors else bytes(data)
    if not donor:
        return
    start = draw(st.integers(0, len(donor) - 1))
    chunk = donor[start : start + draw(st.integers(1, 4096))]
    position = draw(st.integers(0, len(data)))
    if draw(st.booleans()):
        data[position : position + len(chunk)] = chunk  # overwrite
    else:
        data[position:position] = chunk


OPERATIONS = (_flip, _set_byte, _set_int, _truncate, _delete, _repeat, _insert, _splice)


@st.composite
def mutated_bytes(
    draw: st.DrawFn, seed: bytes, donors: Sequence[bytes] = (), min_ops: int = 1, max_ops: int = 4
) -> bytes:
    """``seed`` with ``min_ops`` to ``max_ops`` edits; ``donors`` are what splices take bytes from."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(min_ops, max_ops))):
        draw(st.sampled_from(OPERATIONS))(draw, data, donors)
        del data[MAX_BYTES:]
    return bytes(data)
