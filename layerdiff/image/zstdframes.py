"""Follow the frame and block structure of a zstd stream (RFC 8878) as its bytes pass.

python-zstandard's stream reader bounds its output, which is what stops a decompression bomb, but when its
input ends in the middle of a frame it just stops producing output. Knowing where each frame and block
ends tells a stream that was cut short from one that ended, at the cost of a few bytes of parsing per
128 KiB block.
"""

from __future__ import annotations

from layerdiff.errors import CorruptLayer

_FRAME_MAGIC = b"\x28\xb5\x2f\xfd"
_DICTIONARY_ID_BYTES = (0, 1, 2, 4)
_CONTENT_SIZE_BYTES = (0, 2, 4, 8)


class ZstdFrames:
    """``feed`` every compressed byte in order; ``complete`` says whether the stream ends between frames."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._state = "magic"
        self._need = 4  # bytes of the next field
        self._field = bytearray()
        self._skip = 0  # bytes of block content (or a skippable frame) still to pass over
        self._checksum = False
        self.frames = 0

    def feed(self, data: bytes) -> None:
        position, length = 0, len(data)
        while position < length:
            if self._skip:
                step = min(self._skip, length - position)
                self._skip -= step
                position += step
                continue
            take = min(self._need - len(self._field), length - position)
            self._field += data[position : position + take]
            position += take
            if len(self._field) == self._need:
                field = bytes(self._field)
                self._field.clear()
                self._advance(field)

    def complete(self) -> bool:
        return self._state == "magic" and not self._field and not self._skip and self.frames > 0

    def _advance(self, field: bytes) -> None:
        if self._state == "magic":
            if field == _FRAME_MAGIC:
                self._expect("descriptor", 1)
            elif field[1:] == b"\x2a\x4d\x18" and field[0] & 0xF0 == 0x50:
                self._expect("skippable", 4)
            else:
                raise CorruptLayer(f"{self._what}: corrupt zstd stream (no frame where one should start)")
        elif self._state == "descriptor":
            descriptor = field[0]
            single_segment = bool(descriptor & 0x20)
            content_size = _CONTENT_SIZE_BYTES[descriptor >> 6] or (1 if single_segment else 0)
            self._checksum = bool(descriptor & 0x04)
            rest = (0 if single_segment else 1) + _DICTIONARY_ID_BYTES[descriptor & 0x03] + content_size
            self._expect("header", rest) if rest else self._expect("block", 3)
        elif self._state == "header":
            self._expect("block", 3)
        elif self._state == "block":
            header = int.from_bytes(field, "little")
            kind, size = (header >> 1) & 0x03, header >> 3
            if kind == 3:
                raise CorruptLayer(f"{self._what}: corrupt zstd stream (reserved block type)")
            self._skip = 1 if kind == 1 else size  # an RLE block stores one byte
            if not header & 1:
                self._expect("block", 3)
            elif self._checksum:
                self._expect("checksum", 4)
            else:
                self._end_frame()
        elif self._state == "checksum":
            self._end_frame()
        else:  # the size of a skippable frame
            self._skip = int.from_bytes(field, "little")
            self._end_frame()

    def _expect(self, state: str, size: int) -> None:
        self._state, self._need = state, size

    def _end_frame(self) -> None:
        self.frames += 1
        self._expect("magic", 4)
