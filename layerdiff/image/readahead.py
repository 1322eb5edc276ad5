"""Reading a layer's bytes a few chunks ahead, in a thread of its own.

Decompression (zlib, zstd) and the layer digests (sha256) release the GIL, so while one thread reads,
decompresses and hashes the layer, the indexing thread parses its tar headers and hashes its files: on two
cores, the read no longer waits for the parse, nor the parse for the read. At most ``depth`` chunks are
buffered (4 MiB by default), so memory stays bounded whatever the layer's size.

What the reading thread raises (a corrupt stream, a digest mismatch, a limit exceeded) is raised again in
the consumer where it next reads, as if it had read itself. ``close`` stops the thread and waits for it:
once it returns, nothing reads the inner stream any more, so its owner may go on (a docker-archive's next
member).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from layerdiff.image.streams import CHUNK, ByteStream, ReadStream

_END = b""
_POLL = 0.1  # seconds between checks for close while the consumer is not reading


class ReadAhead(ReadStream):
    """``inner`` read in a thread, ``depth`` chunks of ``chunk`` bytes ahead; use it as a context manager."""

    def __init__(self, inner: ByteStream, depth: int = 4, chunk: int = CHUNK) -> None:
        super().__init__()
        self._inner = inner
        self._chunk = chunk
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._pending = b""
        self._offset = 0
        self._done = False
        self._thread = threading.Thread(target=self._produce, name="layer read-ahead", daemon=True)
        self._thread.start()

    def _produce(self) -> None:
        try:
            while not self._stop.is_set():
                data = self._inner.read(self._chunk)
                self._hand_over(data)
                if not data:
                    return
        except BaseException as exc:  # handed to the consumer, who raises it as its own
            self._hand_over(exc)

    def _hand_over(self, item: bytes | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._offset >= len(self._pending):
            if self._done:
                return 0
            item = self._queue.get()
            if isinstance(item, BaseException):
                self._done = True
                raise item
            if item == _END:
                self._done = True
                return 0
            self._pending, self._offset = item, 0
        count = min(len(view), len(self._pending) - self._offset)
        view[:count] = self._pending[self._offset : self._offset + count]
        self._offset += count
        return count

    def read(self, size: int = -1) -> bytes:
        buffer = bytearray(size if size is not None and size >= 0 else self._chunk)
        count = self.readinto(buffer)
        return bytes(buffer[:count])

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        super().close()

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
