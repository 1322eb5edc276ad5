"""The layer read-ahead: the same bytes as reading directly, the reader's errors raised where the consumer
reads, at most ``depth`` chunks ahead, and no thread left reading once it is closed."""

from __future__ import annotations

import io
import threading
import time

import pytest

from layerdiff.errors import CorruptLayer
from layerdiff.image.readahead import ReadAhead


class Counting(io.BytesIO):
    """A stream that counts the reads made of it, and can fail after some."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        super().__init__(data)
        self.reads = 0
        self.fail_after = fail_after

    def read(self, size: int | None = -1, /) -> bytes:
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            raise CorruptLayer("layer 1: corrupt gzip stream (invalid block type)")
        return super().read(size)


def test_the_bytes_are_those_of_the_stream_whatever_the_read_sizes() -> None:
    data = bytes(range(256)) * 5000
    with ReadAhead(io.BytesIO(data), depth=2, chunk=4096) as ahead:
        parts = [ahead.read(100), ahead.read(5000), ahead.read()]
        buffered = io.BufferedReader(ahead, 65536)
        parts.append(buffered.read())
    assert b"".join(parts) == data
    assert ahead.read(10) == b""


def test_an_error_of_the_reader_is_raised_where_the_consumer_reads() -> None:
    stream = Counting(bytes(100_000), fail_after=3)
    with ReadAhead(stream, depth=8, chunk=1000) as ahead:
        assert len(ahead.read(1000)) == 1000
        with pytest.raises(CorruptLayer, match="invalid block type"):
            while ahead.read(1000):
                pass


def test_it_reads_at_most_depth_chunks_ahead_and_stops_when_closed() -> None:
    stream = Counting(bytes(10_000_000))
    ahead = ReadAhead(stream, depth=2, chunk=1000)
    ahead.read(1)
    time.sleep(0.3)
    # one chunk handed over and read from, two queued, one read and waiting for room
    assert stream.reads <= 4
    ahead.close()
    assert not any(t.name == "layer read-ahead" and t.is_alive() for t in threading.enumerate())
    reads = stream.reads
    time.sleep(0.2)
    assert stream.reads == reads  # nothing reads the stream once closed
