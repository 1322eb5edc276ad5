"""A copy of a whole-image export (the engine's ``docker save`` stream) on disk, so that syft scans the same
bytes as ``docker-archive:`` instead of asking the engine again.

A thread writes the export to the file as fast as the engine sends it, and the indexer reads the file as
it grows; once the whole export is written, syft can start on it while the indexer is still reading. The
copy is bounded like the layers it holds: the export of an image within ``image-bytes`` is no larger than
that plus its documents, and an engine export holds its layers uncompressed, so nothing in it expands when
syft unpacks it. A copy that cannot be written (a full disk) is an error, as syft's own export into the
same directory would have been.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from layerdiff.errors import ToolError
from layerdiff.image.limits import Limits
from layerdiff.image.streams import CHUNK, ByteBudget, ReadStream

# what an export holds besides layer tars, per layer and for the image: documents, tar headers, padding
_DOCUMENTS_PER_LAYER = 4


class ExportCopy:
    """Where one image's export is copied; ``complete`` once the whole stream is on disk."""

    def __init__(self, path: Path, limits: Limits, layer_count: int, what: str) -> None:
        self.path = path
        self.complete = False
        self._budget = ByteBudget(
            "image_bytes",
            limits.image_bytes + (layer_count + _DOCUMENTS_PER_LAYER) * limits.json_bytes,
            "the export copied for syft holds",
        )
        self._what = what
        self._changed = threading.Condition()
        self._written = 0
        self._done = False
        self._stopped = False
        self._error: BaseException | None = None
        self._on_complete: Callable[[], None] | None = None

    def when_complete(self, callback: Callable[[], None]) -> None:
        """``callback`` runs in the writing thread as soon as the whole export is on disk."""
        self._on_complete = callback

    def fill(self, chunks: Iterator[bytes]) -> ReadStream:
        """Write ``chunks`` to the copy in a thread; the stream returned reads the copy as it is written,
        to its end, and raises what stopped the writing (the engine's error, a limit, a full disk)."""
        try:
            target = self.path.open("wb")
            source = self.path.open("rb")
        except OSError as exc:
            raise ToolError(f"cannot copy the export for syft to {self.path}: {exc.strerror or exc}") from exc
        threading.Thread(target=self._write_all, args=(chunks, target), daemon=True).start()
        return _Follower(self, source)

    def wait(self) -> None:
        """Until the whole export is on disk (the reader need not read it to its end); raises what stopped
        the writing."""
        with self._changed:
            while not self._done:
                self._changed.wait()
            if self._error is not None:
                raise self._error

    def stop(self) -> None:
        """The reader gave up (an error): stop asking the engine for more."""
        with self._changed:
            self._stopped = True

    def discard(self) -> None:
        """Remove the copy (after syft read it, or when it is not used)."""
        self.stop()
        self.complete = False
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)

    def _write_all(self, chunks: Iterator[bytes], target: BinaryIO) -> None:
        error: BaseException | None = None
        try:
            for chunk in chunks:
                if self._stopped:
                    break
                self._budget.charge(len(chunk), self._what)
                self._append(target, chunk)
            else:
                self._append(target, b"")
                self.complete = True
        except BaseException as exc:  # the engine's error, a limit, a full disk: the reader raises it
            error = exc
        finally:
            with contextlib.suppress(OSError):
                target.close()
        if self.complete and self._on_complete is not None:
            with contextlib.suppress(Exception):  # a review stopping meanwhile refuses the scan
                self._on_complete()
        with self._changed:
            self._error = error
            self._done = True
            self._changed.notify_all()

    def _append(self, target: BinaryIO, chunk: bytes) -> None:
        try:
            if chunk:
                target.write(chunk)
                target.flush()  # visible to the reader
            else:
                target.close()
        except OSError as exc:  # the engine's errors are OSErrors too: only these are the disk's
            raise ToolError(f"cannot copy the export for syft to {self.path}: {exc.strerror or exc}") from exc
        with self._changed:
            self._written += len(chunk)
            self._changed.notify_all()

    def _available(self, position: int) -> int:
        """Bytes written past ``position``, waiting while there are none and more may come; 0 at the end."""
        with self._changed:
            while self._written <= position and not self._done:
                self._changed.wait()
            if self._error is not None:
                raise self._error
            return self._written - position


class _Follower(ReadStream):
    def __init__(self, copy: ExportCopy, source: BinaryIO) -> None:
        super().__init__()
        self._copy = copy
        self._source = source
        self._position = 0

    def read(self, size: int = -1) -> bytes:
        wanted = size if size is not None and size > 0 else CHUNK
        available = self._copy._available(self._position)
        if not available:
            return b""
        data = self._source.read(min(wanted, available))
        self._position += len(data)
        return data

    def close(self) -> None:
        self._source.close()
        super().close()


def file_chunks(opened: BinaryIO) -> Iterator[bytes]:
    """A finished copy, read again (a second pass over the export)."""
    with opened as stream:
        while chunk := stream.read(CHUNK):
            yield chunk
