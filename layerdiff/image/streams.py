"""Readers that verify digests while bytes stream past, and transparent layer decompression."""

from __future__ import annotations

import hashlib
import io
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, Protocol, cast

import zstandard

from layerdiff.errors import CorruptLayer, DigestMismatch
from layerdiff.image.limits import LimitExceeded, format_amount
from layerdiff.image.zstdframes import ZstdFrames

CHUNK = 1 << 20


class ByteStream(Protocol):
    """Anything with ``read``: files, HTTP responses, decompressors, our verifying wrappers."""

    def read(self, size: int = -1, /) -> bytes: ...


GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class ReadStream(io.RawIOBase):
    """A read-only raw stream whose subclasses implement ``read``; ``readinto`` (what BufferedReader and
    tarfile call) is derived from it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


class DigestReader(ReadStream):
    """Passes bytes through and, at end of stream, checks them against an expected ``sha256:`` digest.

    A mismatch raises DigestMismatch, so a consumer that reads to the end can never return a result for
    bytes that are not the ones the manifest or config promised.
    """

    def __init__(
        self, inner: ByteStream, expected: str | None, what: str, expected_size: int | None = None
    ) -> None:
        super().__init__()
        self._inner = inner
        self._expected = expected
        self._expected_size = expected_size
        self._what = what
        self._hash = hashlib.sha256()
        self.bytes_read = 0
        self._finished = False

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size is not None and size >= 0 else CHUNK)
        if not data:
            self._finish()
            return b""
        self._hash.update(data)
        self.bytes_read += len(data)
        if self._expected_size is not None and self.bytes_read > self._expected_size:
            # stop here: a blob that runs on past its descriptor's size (an endless HTTP body) is not read
            raise DigestMismatch(
                f"{self._what}: the blob is longer than the {self._expected_size} bytes its descriptor gives"
            )
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
        if self._expected_size is not None and self.bytes_read != self._expected_size:
            raise DigestMismatch(
                f"{self._what}: the blob has {self.bytes_read} bytes, not the {self._expected_size} "
                "its descriptor gives"
            )
        if self._expected is not None and self.digest != self._expected:
            raise DigestMismatch(
                f"{self._what}: content digest {self.digest} does not match {self._expected}"
            )


class ByteBudget:
    """Decompressed bytes that may still be read, against one limit (``layer-bytes`` for one layer,
    ``image-bytes`` shared by all of an image's layers). Charged as bytes are produced, so a decompression
    bomb stops at the budget, not at the end of its stream."""

    def __init__(self, limit_name: str, limit: int, detail: str) -> None:
        self.limit_name = limit_name  # the Limits field, e.g. "layer_bytes"
        self.limit = limit
        self.used = 0
        self._detail = detail  # what was too large, e.g. "the layer decompresses to"

    def charge(self, amount: int, what: str) -> None:
        self.used += amount
        if self.used > self.limit:
            raise LimitExceeded(
                what, self.limit_name, self.limit, f"{self._detail} more than {format_amount(self.limit)}"
            )


class BudgetedReader(ReadStream):
    """Passes bytes through, charging each to every budget."""

    def __init__(self, inner: ByteStream, budgets: Sequence[ByteBudget], what: str) -> None:
        super().__init__()
        self._inner = inner
        self._budgets = tuple(budgets)
        self._what = what

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size is not None and size >= 0 else CHUNK)
        for budget in self._budgets:
            budget.charge(len(data), self._what)
        return data


class IterStream(ReadStream):
    """A file-like view of an iterator of byte chunks (an HTTP body, the engine's export). A read that
    takes the rest of a chunk gets the chunk itself, uncopied: passing over a large member of an export
    costs no copy of its bytes."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = b""
        self._offset = 0  # where the unread part of ``_pending`` starts

    def read(self, size: int = -1) -> bytes:
        while self._offset >= len(self._pending):
            try:
                self._pending, self._offset = next(self._chunks), 0
            except StopIteration:
                self._pending, self._offset = b"", 0
                return b""
        start = self._offset
        end = len(self._pending) if size is None or size < 0 else min(len(self._pending), start + size)
        self._offset = end
        if start == 0 and end == len(self._pending):
            return self._pending
        return self._pending[start:end]

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


def decompressed(raw: ByteStream, what: str) -> ByteStream:
    """Sniff gzip/zstd magic (media types lie, docker-archive has none) and return the tar stream."""
    buffered = io.BufferedReader(cast(io.RawIOBase, raw), CHUNK)
    magic = buffered.peek(4)[:4]
    # Buffered on top so that small reads (tar headers) do not each become a decompressor call.
    if magic.startswith(GZIP_MAGIC):
        return io.BufferedReader(_GzipReader(buffered, what), CHUNK)
    if magic == ZSTD_MAGIC:
        frames = ZstdFrames(what)
        watched = _Watched(buffered, frames.feed)
        reader = zstandard.ZstdDecompressor().stream_reader(cast(IO[bytes], watched), read_across_frames=True)
        return io.BufferedReader(_Guarded(reader, what, frames), CHUNK)
    return buffered


class _Watched(ReadStream):
    """Shows every byte read to ``watch`` on its way through."""

    def __init__(self, inner: ByteStream, watch: Callable[[bytes], None]) -> None:
        super().__init__()
        self._inner = inner
        self._watch = watch

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size is not None and size >= 0 else CHUNK)
        self._watch(data)
        return data


class _GzipReader(ReadStream):
    """gzip (RFC 1952, multi-member) straight through zlib with large input chunks: GzipFile feeds zlib
    8 KiB at a time, which costs more than the decompression itself on a layer of small files."""

    def __init__(self, inner: ByteStream, what: str) -> None:
        super().__init__()
        self._inner = inner
        self._what = what
        self._decompressor = zlib.decompressobj(wbits=31)
        self._input_done = False

    def read(self, size: int = -1) -> bytes:
        limit = size if size is not None and size > 0 else CHUNK
        try:
            while True:
                pending = self._decompressor.unconsumed_tail
                if not pending and not self._decompressor.eof and not self._input_done:
                    pending = self._inner.read(CHUNK)
                    self._input_done = not pending
                if self._decompressor.eof:
                    rest = self._decompressor.unused_data or self._inner.read(CHUNK)
                    if not rest.strip(b"\0"):  # end of input, or the zero padding some tools append
                        self._drain_padding()
                        return b""
                    self._decompressor = zlib.decompressobj(wbits=31)  # the next gzip member
                    pending = rest
                if not pending:
                    raise CorruptLayer(f"{self._what}: gzip stream ends before its end marker (truncated)")
                out = self._decompressor.decompress(pending, limit)
                if out:
                    return out
        except zlib.error as exc:
            raise CorruptLayer(f"{self._what}: corrupt gzip stream ({exc})") from exc

    def _drain_padding(self) -> None:
        # Read the blob to its end so that its digest is checked.
        while self._inner.read(CHUNK):
            pass


class _Guarded(ReadStream):
    """Turns a zstd decompressor's own exceptions into CorruptLayer, and its quiet stop at the end of input
    in the middle of a frame into one too."""

    def __init__(self, inner: ByteStream, what: str, frames: ZstdFrames) -> None:
        super().__init__()
        self._inner = inner
        self._what = what
        self._frames = frames

    def read(self, size: int = -1) -> bytes:
        try:
            data = self._inner.read(size if size is not None and size >= 0 else CHUNK)
        except (DigestMismatch, CorruptLayer):
            raise
        except (EOFError, OSError, zlib.error, zstandard.ZstdError) as exc:
            raise CorruptLayer(f"{self._what}: corrupt or truncated compressed stream ({exc})") from exc
        if not data and not self._frames.complete():
            raise CorruptLayer(f"{self._what}: zstd stream ends inside a frame (truncated)")
        return data


def forget_members(archive: tarfile.TarFile) -> None:
    """tarfile keeps every member read so far for random access we never use; drop them to bound memory."""
    archive.members = []  # type: ignore[attr-defined]
