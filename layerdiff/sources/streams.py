"""Readers that verify digests while bytes stream past, and transparent layer decompression."""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, cast

import zstandard

from layerdiff.errors import CorruptLayer, DigestMismatch

CHUNK = 1 << 20


class ByteStream(Protocol):
    """Anything with ``read``: files, HTTP responses, decompressors, our verifying wrappers."""

    def read(self, size: int = -1, /) -> bytes: ...


GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class DigestReader(io.RawIOBase):
    """Passes bytes through and, at end of stream, checks them against an expected ``sha256:`` digest.

    A mismatch raises DigestMismatch, so a consumer that reads to the end can never return a result for
    bytes that are not the ones the manifest or config promised.
    """

    def __init__(self, inner: ByteStream, expected: str | None, what: str) -> None:
        super().__init__()
        self._inner = inner
        self._expected = expected
        self._what = what
        self._hash = hashlib.sha256()
        self.bytes_read = 0
        self._finished = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self._inner.read(len(view))
        if not data:
            self._finish()
            return 0
        n = len(data)
        view[:n] = data
        self._hash.update(data)
        self.bytes_read += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size is not None and size >= 0 else CHUNK)
        if not data:
            self._finish()
            return b""
        self._hash.update(data)
        self.bytes_read += len(data)
        return data

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def drain(self) -> None:
        while self.read(CHUNK):
            pass

    def _finish(self) -> None:
        if self._finished:
            return
        self._finished = True
        if self._expected is not None and self.digest != self._expected:
            raise DigestMismatch(
                f"{self._what}: content digest {self.digest} does not match {self._expected}"
            )


class IterStream(io.RawIOBase):
    """A file-like view of an iterator of byte chunks (an HTTP body, the engine's export)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def decompressed(raw: ByteStream, what: str) -> ByteStream:
    """Sniff gzip/zstd magic (media types lie, docker-archive has none) and return the tar stream."""
    buffered = io.BufferedReader(cast(io.RawIOBase, raw), CHUNK)
    magic = buffered.peek(4)[:4]
    if magic.startswith(GZIP_MAGIC):
        return _Guarded(gzip.GzipFile(fileobj=buffered, mode="rb"), what)
    if magic == ZSTD_MAGIC:
        reader = zstandard.ZstdDecompressor().stream_reader(buffered, read_across_frames=True)
        return _Guarded(reader, what)
    return buffered


class _Guarded(io.RawIOBase):
    """Turns a decompressor's own exceptions (truncated or corrupt stream) into CorruptLayer."""

    def __init__(self, inner: ByteStream, what: str) -> None:
        super().__init__()
        self._inner = inner
        self._what = what

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        try:
            return self._inner.read(size if size is not None and size >= 0 else CHUNK)
        except DigestMismatch:
            raise
        except (EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
            raise CorruptLayer(f"{self._what}: corrupt or truncated compressed stream ({exc})") from exc
