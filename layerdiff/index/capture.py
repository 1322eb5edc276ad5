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
MAX_SCRIPT_IMPORTS = 64  # module names kept of one Python script
HEAD_LINES, HEAD_LINE_BYTES = 10, 200  # what is kept of a file declared in ``Capture.heads``
_PYTHON_SHEBANG = re.compile(rb"^#!.*\bpython[0-9.]*(\s|$)")
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_IMPORT = re.compile(r"^\s*import\s+([A-Za-z_][A-Za-z0-9_., \t]*)$")
_FROM_IMPORT = re.compile(r"^\s*from\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s+import\b")


@dataclass(frozen=True)
class Capture:
    """The files one collector reads."""

    paths: tuple[str, ...] = ()  # absolute paths, exactly
    patterns: tuple[str, ...] = ()  # fnmatch patterns over the absolute path (``*`` matches ``/`` too)
    scripts: bool = False  # the ``#!`` line of executable files of at most MAX_SCRIPT_BYTES
    # files scanned for credentials (fnmatch patterns, as ``patterns``) of at most MAX_CREDENTIAL_FILE_BYTES:
    # only where each credential is, and what kind, is kept
    credentials: tuple[str, ...] = ()
    heads: tuple[str, ...] = ()  # patterns of files of which only the first HEAD_LINES lines are kept


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
        self.heads = tuple(sorted({pattern for capture in captures for pattern in capture.heads}))
        self.credentials = tuple(sorted({pattern for capture in captures for pattern in capture.credentials}))
        self._compiled = _compiled(self.patterns)
        self._heads = _compiled(self.heads)
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
        if self.heads:
            declaration += [self.heads, HEAD_LINES]
        return hashlib.sha256(json.dumps(declaration).encode()).hexdigest()[:16]

    def bounded(self, max_bytes: int) -> CaptureSpec:
        """The same declaration keeping files of up to ``max_bytes``."""
        return self if max_bytes == self.max_bytes else CaptureSpec(self.captures, max_bytes)

    def wants(self, path: str) -> bool:
        """Whether the file's content (or its first lines, ``kept``) is kept."""
        return self._whole(path) or self._heads.match(path) is not None

    def kept(self, path: str, data: bytes) -> bytes:
        """What is kept of a wanted file: all of it, or its first HEAD_LINES lines."""
        return data if self._whole(path) else text_head(data)

    def _whole(self, path: str) -> bool:
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


def text_head(data: bytes) -> bytes:
    """The first HEAD_LINES lines of a file (what a reviewer reads of start-up code), at most
    HEAD_LINE_BYTES each."""
    return b"\n".join(line[:HEAD_LINE_BYTES] for line in data.split(b"\n", HEAD_LINES)[:HEAD_LINES])


def script_head(data: bytes) -> bytes:
    """What is kept of a script: its ``#!`` line, which names the interpreter, and for a Python script the
    modules it imports, one ``import NAME`` line each (``script_imports``). The rest (an entrypoint's
    ``export API_KEY=...``) is neither needed nor kept, in memory or in the cache."""
    first, _, rest = data.partition(b"\n")
    if _PYTHON_SHEBANG.search(first) is None:
        return first
    return b"\n".join([first, *(b"import " + name.encode() for name in python_imports(rest))])


def python_imports(source: bytes) -> tuple[str, ...]:
    """The absolute module names a Python source imports (``import a.b, c``, ``from a.b import x``),
    conditional imports included, at most MAX_SCRIPT_IMPORTS of them. Read line by line: no parser runs
    over image content."""
    names: dict[str, None] = {}
    for raw in source.decode("utf-8", "replace").splitlines():
        if len(names) >= MAX_SCRIPT_IMPORTS:
            break
        line = raw.split("#", 1)[0]
        if (match := _FROM_IMPORT.match(line)) is not None:
            names.setdefault(match.group(1))
        elif (match := _IMPORT.match(line)) is not None:
            for part in match.group(1).split(","):
                name = part.split(" as ", 1)[0].strip()
                if _MODULE.fullmatch(name):
                    names.setdefault(name)
    return tuple(names)[:MAX_SCRIPT_IMPORTS]


def script_imports(head: bytes | None) -> tuple[str, ...]:
    """The module names a kept script head (``script_head``) lists."""
    lines = (head or b"").decode("utf-8", "replace").split("\n")[1:]
    return tuple(line.removeprefix("import ") for line in lines if line.startswith("import "))
