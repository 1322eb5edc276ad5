"""Which file contents the indexer keeps, so that collectors never read an image a second time.

Each collector declares the files it reads as a ``Capture`` next to its reader (as syft's catalogers
declare globs); the inventory combines them into one ``CaptureSpec`` that is passed to the indexer. Only
small, structured files are kept; ELF objects are reduced to ElfInfo whatever the declaration, and
credential files to where their credentials are (``layerdiff.index.credentials``), never their content.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from layerdiff.image.limits import DEFAULT_LIMITS
from layerdiff.index.credentials import MAX_CREDENTIAL_FILE_BYTES

MAX_SCRIPT_BYTES = (
    64 << 10
)  # console scripts and entrypoints are small; their first line names the interpreter


@dataclass(frozen=True)
class Capture:
    """The files one collector reads."""

    paths: tuple[str, ...] = ()  # absolute paths, exactly
    patterns: tuple[str, ...] = ()  # fnmatch patterns over the absolute path (``*`` matches ``/`` too)
    scripts: bool = False  # the ``#!`` line of executable files of at most MAX_SCRIPT_BYTES
    # files scanned for credentials (fnmatch patterns, as ``patterns``) of at most MAX_CREDENTIAL_FILE_BYTES:
    # only where each credential is, and what kind, is kept
    credentials: tuple[str, ...] = ()


class CaptureSpec:
    """Every collector's ``Capture`` at once, compiled for the indexer."""

    def __init__(
        self, captures: Iterable[Capture], max_bytes: int = DEFAULT_LIMITS.captured_file_bytes
    ) -> None:
        """``max_bytes``: the largest file kept (the ``captured-file-bytes`` limit)."""
        captures = self.captures = tuple(captures)
        self.max_bytes = max_bytes
        self.paths = frozenset(path for capture in captures for path in capture.paths)
        self.patterns = tuple(sorted({pattern for capture in captures for pattern in capture.patterns}))
        self.scripts = any(capture.scripts for capture in captures)
        self.credentials = tuple(sorted({pattern for capture in captures for pattern in capture.credentials}))
        self._compiled = _compiled(self.patterns)
        self._credential_files = _compiled(self.credentials)

    @property
    def key(self) -> str:
        """Identifies what is captured: layer indexes made under another declaration are not reused."""
        declaration = [
            sorted(self.paths),
            self.patterns,
            self.scripts,
            self.max_bytes,
            MAX_SCRIPT_BYTES,
            self.credentials,
            MAX_CREDENTIAL_FILE_BYTES,
        ]
        return hashlib.sha256(json.dumps(declaration).encode()).hexdigest()[:16]

    def bounded(self, max_bytes: int) -> CaptureSpec:
        """The same declaration keeping files of up to ``max_bytes``."""
        return self if max_bytes == self.max_bytes else CaptureSpec(self.captures, max_bytes)

    def wants(self, path: str) -> bool:
        return path in self.paths or self._compiled.match(path) is not None

    def wants_credentials(self, path: str, size: int) -> bool:
        """A file scanned for credentials (``layerdiff.index.credentials``); its content is not kept."""
        return size <= min(self.max_bytes, MAX_CREDENTIAL_FILE_BYTES) and (
            self._credential_files.match(path) is not None
        )

    def wants_script(self, size: int, mode: int, first_bytes: bytes) -> bool:
        """Small executable scripts (console scripts, entrypoints): their first line names the interpreter."""
        return (
            self.scripts and size <= MAX_SCRIPT_BYTES and mode & 0o111 != 0 and first_bytes.startswith(b"#!")
        )


def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(fnmatch.translate(p) for p in patterns) or r"(?!)")


def script_head(data: bytes) -> bytes:
    """What is kept of a script: its ``#!`` line, which names the interpreter. The rest (an entrypoint's
    ``export API_KEY=...``) is neither needed nor kept, in memory or in the cache."""
    return data.split(b"\n", 1)[0]
