"""Which file contents the indexer keeps, so that collectors never read an image a second time.

Only small, structured files that the inventory parses are kept; ELF objects are reduced to ElfInfo.
"""

from __future__ import annotations

import fnmatch
import re

MAX_CAPTURED_BYTES = 64 << 20  # an rpmdb.sqlite can be tens of MB; anything larger is not a database we read
MAX_SCRIPT_BYTES = (
    64 << 10
)  # console scripts and entrypoints are small; their first line names the interpreter

_EXACT = {
    "/etc/passwd",
    "/etc/group",
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/ld.so.conf",
    "/var/lib/dpkg/status",
    "/lib/apk/db/installed",
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
}
_PATTERNS = [
    "/etc/ld.so.conf.d/*",
    "/var/lib/dpkg/status.d/*",
    "/var/lib/dpkg/info/*.list",
    "/var/lib/dpkg/info/*.md5sums",
    "/var/lib/dpkg/info/*.conffiles",
    # Python: distribution metadata, path configuration, virtualenv markers
    "*.dist-info/METADATA",
    "*.dist-info/RECORD",
    "*.dist-info/top_level.txt",
    "*.dist-info/entry_points.txt",
    "*.egg-info/PKG-INFO",
    "*.egg-info/requires.txt",
    "*.egg-info/top_level.txt",
    "*.egg-info",  # a single-file egg-info is PKG-INFO itself
    "*/site-packages/*.pth",
    "*/dist-packages/*.pth",
    "*/pyvenv.cfg",
    "*/python3*/_sysconfigdata_*.py",
]
_COMPILED = re.compile("|".join(fnmatch.translate(p) for p in _PATTERNS))


def is_captured(path: str) -> bool:
    return path in _EXACT or _COMPILED.match(path) is not None


def is_captured_script(size: int, mode: int, first_bytes: bytes) -> bool:
    """Small executable scripts (console scripts, entrypoints): their first line names the interpreter."""
    return size <= MAX_SCRIPT_BYTES and mode & 0o111 != 0 and first_bytes.startswith(b"#!")
