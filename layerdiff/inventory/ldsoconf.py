"""The directories ldconfig scans, from /etc/ld.so.conf and the files it includes, as ldconfig reads them
(glibc elf/ldconfig.c, parse_conf).

The work is bounded (``layerdiff.image.limits``): nesting of ``include`` lines (``ldso-include-depth``) and
the paths one include glob may produce (``ldso-include-matches``); going over one is an error.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.paths import display
from layerdiff.index.capture import Capture

LD_SO_CONF = "/etc/ld.so.conf"
# ld.so.conf and the directory its usual ``include`` names; an include elsewhere is not read
CAPTURE = Capture(paths=(LD_SO_CONF,), patterns=("/etc/ld.so.conf.d/*",))

_GLOB_MAGIC = re.compile(r"[*?\[]")


def read_ld_so_conf(files: ImageFiles, limits: Limits = DEFAULT_LIMITS) -> tuple[str, ...]:
    """The directories ldconfig scans from /etc/ld.so.conf, in order, as ldconfig would keep them.

    Like ldconfig: "include" lines are glob patterns (relative ones to the including file's directory),
    "hwcap" lines are ignored, "dir=type" drops the type, and a directory that does not exist or is the
    same directory as an earlier one (for instance /lib/x86_64-linux-gnu under merged /usr) is skipped.
    Includes nested deeper than ``limits.ldso_include_depth``, or a glob that names more than
    ``limits.ldso_include_matches`` paths on its way, are an error (``LimitExceeded``).
    """
    listed: list[str] = []
    _IncludeReader(files, limits, listed).parse(LD_SO_CONF, 0)
    kept: list[str] = []
    seen_real: set[str] = set()
    for directory in dict.fromkeys(listed):
        real = files.resolve(directory)
        if real is not None and real not in seen_real:
            seen_real.add(real)
            kept.append(directory)
    return tuple(kept)


_SHOWN_PATTERN = 200  # characters of an include pattern an error message repeats


class _IncludeReader:
    def __init__(self, files: ImageFiles, limits: Limits, listed: list[str]) -> None:
        self._files, self._limits, self._listed = files, limits, listed
        self._parsed: set[str] = set()

    def parse(self, conf_path: str, depth: int) -> None:
        files = self._files
        identity = files.resolve(conf_path) or conf_path
        if identity in self._parsed:
            return  # included twice, or an include cycle (on which ldconfig would recurse until it fails)
        self._parsed.add(identity)
        content = files.read(conf_path)
        if content is None:
            return
        for raw_line in content.decode("utf-8", errors="surrogateescape").split("\n"):
            line = raw_line.split("#", 1)[0].lstrip()
            if not line:
                continue
            keyword, blank, rest = line[:7], line[7:8], line[8:]
            if keyword == "include" and blank in (" ", "\t"):
                for pattern in (p for p in re.split("[ \t]", rest) if p):
                    for included in self._glob(conf_path, _relative_to(conf_path, pattern)):
                        self._nested(conf_path, depth + 1)
                        self.parse(included, depth + 1)
            elif line[:5].lower() == "hwcap" and line[5:6] in (" ", "\t"):
                continue
            else:
                directory = line.split("=", 1)[0].rstrip()
                self._listed.append(directory.rstrip("/") or "/")

    def _nested(self, conf_path: str, depth: int) -> None:
        limit = self._limits.ldso_include_depth
        if depth > limit:
            raise LimitExceeded(
                display(conf_path), "ldso_include_depth", limit, f"includes nested more than {limit} deep"
            )

    def _glob(self, conf_path: str, pattern: str) -> list[str]:
        """glob(3) over the image: wildcards in any component, dot files only when asked for, sorted.

        Every path produced on the way counts against the limit, so ``/*/../*/../*`` stops early.
        """
        files, limit = self._files, self._limits.ldso_include_matches
        produced = 0
        matches = ["/"]
        for part in (p for p in pattern.split("/") if p):
            if _GLOB_MAGIC.search(part) is None:
                matches = [posixpath.join(base, part) for base in matches]
                continue
            expanded = []
            for base in matches:
                for name in files.listdir(base):
                    if fnmatch.fnmatchcase(name, part) and (part.startswith(".") or not name.startswith(".")):
                        produced += 1
                        if produced > limit:
                            shown = (
                                pattern if len(pattern) <= _SHOWN_PATTERN else pattern[:_SHOWN_PATTERN] + "…"
                            )
                            raise LimitExceeded(
                                f"{display(conf_path)}: include {display(shown)}",
                                "ldso_include_matches",
                                limit,
                                f"names more than {limit} paths",
                            )
                        expanded.append(posixpath.join(base, name))
            matches = expanded
        return sorted(path for path in matches if files.resolve(path) is not None)


def _relative_to(conf_path: str, pattern: str) -> str:
    return pattern if pattern.startswith("/") else posixpath.join(posixpath.dirname(conf_path), pattern)
