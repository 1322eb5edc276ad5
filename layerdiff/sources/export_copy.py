"""A copy of a whole-image export (the engine's ``docker save`` stream) written to disk as it streams past
the indexer, so that syft scans the same bytes as ``docker-archive:`` instead of asking the engine again.

The copy is bounded like the layers it holds: the export of an image within ``image-bytes`` is no larger
than that plus its documents and tar headers. A copy that cannot be written (a full disk) is abandoned,
not an error: syft then reads the image itself, as it would without one.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import BinaryIO

from layerdiff.image.limits import Limits
from layerdiff.image.streams import CHUNK, ByteBudget, ByteStream, ReadStream

# what an export holds besides layer tars, per layer and for the image: documents, tar headers, padding
_DOCUMENTS_PER_LAYER = 4


class ExportCopy:
    """Where one image's export is copied; ``complete`` once the whole stream was written."""

    def __init__(self, path: Path, limits: Limits, layer_count: int, what: str) -> None:
        self.path = path
        self.complete = False
        self._budget = ByteBudget(
            "image_bytes",
            limits.image_bytes + (layer_count + _DOCUMENTS_PER_LAYER) * limits.json_bytes,
            "the export copied for syft holds",
        )
        self._what = what
        self._file: BinaryIO | None = None
        self._abandoned = False

    def tee(self, stream: ByteStream) -> ReadStream:
        """``stream`` read through, each byte also written to the copy."""
        return _Tee(stream, self)

    def finish(self, rest: ByteStream) -> None:
        """After the reader is done with the export: copy what it left unread (the end-of-archive padding)
        and close the file."""
        while rest.read(CHUNK):
            pass
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                self._abandon()
        self._file = None
        self.complete = not self._abandoned

    def discard(self) -> None:
        """Remove the copy (after syft read it, or when it is not used)."""
        self._abandon()

    def write(self, data: bytes) -> None:
        if self._abandoned or not data:
            return
        self._budget.charge(len(data), self._what)
        try:
            if self._file is None:
                self._file = self.path.open("wb")
            self._file.write(data)
        except OSError:
            self._abandon()

    def _abandon(self) -> None:
        self._abandoned = True
        self.complete = False
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


class _Tee(ReadStream):
    def __init__(self, inner: ByteStream, copy: ExportCopy) -> None:
        super().__init__()
        self._inner = inner
        self._copy = copy

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size is not None and size >= 0 else CHUNK)
        self._copy.write(data)
        return data
