"""What an unexpected exception leaves behind: one line for the user, the traceback in a file to attach to a
bug report. Image text in the exception's message is made safe for the terminal like every other line."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path

from layerdiff.index.cache import default_cache_dir
from layerdiff.text.redaction import Redactor, safe_message


def report_crash(exc: BaseException, args: argparse.Namespace) -> str:
    """Write the traceback under the cache dir (else the temp dir) and say where, in one line."""
    summary = safe_message(f"{type(exc).__name__}: {exc}")
    # The file is for a bug report: credential-shaped text in a message is cut out of it too.
    text = Redactor(()).text("".join(traceback.format_exception(exc)))
    for directory in _crash_dirs(args):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            fd, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".txt", dir=directory)
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
        except OSError:
            continue
        return f"{summary} (details in {safe_message(name)})"
    return f"{summary} (the traceback could not be written)"


def _crash_dirs(args: argparse.Namespace) -> list[Path]:
    chosen = getattr(args, "cache_dir", None)
    directories = [chosen] if isinstance(chosen, Path) else []
    with contextlib.suppress(OSError):
        directories.append(default_cache_dir())
    directories.append(Path(tempfile.gettempdir()))
    return [directory / "crashes" for directory in directories]
