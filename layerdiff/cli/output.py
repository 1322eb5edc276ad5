"""Where a command's output goes: stdout, or a file replaced atomically."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from layerdiff.atomic import write_atomically


def color_wanted(output: str | None) -> bool:
    return output in (None, "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def emit(output: str | None, text: str) -> None:
    if output is None or output == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomically(Path(output), text)
