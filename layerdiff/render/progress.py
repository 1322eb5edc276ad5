"""Byte progress of layer reads on stderr, for people watching a terminal."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TextColumn, TransferSpeedColumn

from layerdiff.image.streams import ByteStream, ReadStream


class ProgressDisplay:
    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),  # the label names a user's image reference
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(stderr=True),
            transient=True,
        )

    def __enter__(self) -> ProgressDisplay:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._progress.stop()

    def wrap(self, label: str, total: int | None, stream: ByteStream) -> ByteStream:
        task = self._progress.add_task(f"indexing {label}", total=total)
        return _Counting(stream, self._progress, task)


class _Counting(ReadStream):
    def __init__(self, inner: ByteStream, progress: Progress, task: TaskID) -> None:
        super().__init__()
        self._inner, self._progress, self._task = inner, progress, task

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size)
        self._progress.advance(self._task, len(data))
        if not data:
            self._progress.remove_task(self._task)
        return data
