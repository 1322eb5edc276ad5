"""Error types, each bound to the exit code documented in docs/exit-codes.md."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1
    USAGE = 2
    IMAGE = 3
    TOOL = 4
    INTERNAL = 5  # a bug: one line on stderr, the traceback in a file
    INTERRUPTED = 130


class LayerdiffError(Exception):
    """An expected failure: reported as one line on stderr, never as a traceback."""

    exit_code: ExitCode = ExitCode.IMAGE


class UsageError(LayerdiffError):
    exit_code = ExitCode.USAGE


class SignatureError(UsageError):
    """A key or a signed approval record that cannot be used: unreadable, of a refused type, or a signature
    that does not verify with a trusted key. Bad input like any other, so it exits as a usage error."""


class ImageError(LayerdiffError):
    """The image cannot be found, read or trusted (missing, corrupt, hostile, digest mismatch)."""

    exit_code = ExitCode.IMAGE


class ImageNotFound(ImageError):
    pass


class EngineUnavailable(ImageError):
    pass


class DigestMismatch(ImageError):
    pass


class CorruptLayer(ImageError):
    pass


class HostileLayer(ImageError):
    """A layer whose tar would escape the image root or exhaust resources if applied."""


class ToolError(LayerdiffError):
    exit_code = ExitCode.TOOL


class AttributedError(LayerdiffError):
    """An error said of where its input came from (``base image from approval.json: no such file: …``); it
    exits as the error it wraps does."""

    def __init__(self, origin: str, error: LayerdiffError) -> None:
        super().__init__(f"{origin}: {error}")
        self.exit_code = error.exit_code
        self.error = error


@contextmanager
def attributed_to(origin: str | None) -> Iterator[None]:
    """Errors raised inside are said of ``origin`` (nothing changes when it is None)."""
    try:
        yield
    except LayerdiffError as exc:
        if origin is None:
            raise
        raise AttributedError(origin, exc) from exc
