"""Where output goes: stdout, or a file replaced atomically. The new content goes to a temporary file beside
the target, which is then renamed over it, so a crash or a kill never leaves a truncated report or approval
in place of a good one. What is not a file — a device (``-o json=/dev/null``), a FIFO, ``/dev/stdout`` — is
written to as it is, never replaced."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from layerdiff.errors import UsageError


def write_atomically(path: Path, text: str | Iterable[str]) -> None:
    """``text`` (or its pieces, written as they come) in place of the file at ``path``."""
    if _not_a_file(path):
        _write_in_place(path, text)
        return
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            _write(handle, text)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # what open() would have given, not mkstemp's 0600
        os.replace(temporary, path)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
        raise


def _not_a_file(path: Path) -> bool:
    """Whether ``path`` (its links followed) exists and is neither a regular file nor a directory."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _write(handle: TextIO, text: str | Iterable[str]) -> None:
    for piece in (text,) if isinstance(text, str) else text:
        handle.write(piece)


def _write_in_place(path: Path, text: str | Iterable[str]) -> None:
    try:
        with path.open("w", encoding="utf-8") as handle:
            _write(handle, text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


def write_output(output: str | None, text: str | Iterable[str]) -> None:
    """``text`` (or its pieces) to stdout (``output`` None or ``-``) or to the file ``output``."""
    if output is None or output == "-":
        _write(sys.stdout, text)
        sys.stdout.flush()
    else:
        write_atomically(Path(output), text)
