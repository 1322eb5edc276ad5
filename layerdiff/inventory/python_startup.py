"""What a Python interpreter runs before the program, as ``site`` runs it: the ``.pth`` lines of each site
dir that are code (``import …``), then the first ``sitecustomize`` module on ``sys.path``, then (when the user
site is enabled) the first ``usercustomize``. Also the start-up flags a command line or ``#!`` line gives
(``-E``, ``-s``, ``-S``, ``-I``, ``-P``). Nothing found here is run."""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from layerdiff.fs.view import ImageFiles
from layerdiff.image.model import EntryType
from layerdiff.index.capture import HEAD_LINES, Capture

# The start-up modules, of which only the first lines are kept: what a reviewer reads in a finding.
CAPTURE = Capture(
    heads=(
        "*/sitecustomize.py",
        "*/sitecustomize/__init__.py",
        "*/usercustomize.py",
        "*/usercustomize/__init__.py",
    )
)

PTH, SITECUSTOMIZE, USERCUSTOMIZE = "pth", "sitecustomize", "usercustomize"
# How the import system finds a module in one directory, in its order: a package, an extension, source,
# then byte-code (CPython's FileFinder)
_MODULE_FORMS = ("/__init__.py", ".cpython-{abi}-x86_64-linux-gnu.so", ".abi3.so", ".so", ".py", ".pyc")


@dataclass(frozen=True)
class StartOptions:
    """The interpreter flags that change start-up."""

    ignore_environment: bool = False  # -E (and -I): PYTHON* variables are ignored
    no_user_site: bool = False  # -s (and -I): no user site, no usercustomize
    no_site: bool = False  # -S: no site dirs, no .pth, no sitecustomize
    safe_path: bool = False  # -P (and -I, PYTHONSAFEPATH): the script's directory is not put first

    @classmethod
    def parse(cls, words: Iterable[str]) -> StartOptions:
        """The flags of an interpreter's own arguments (``-sE``, ``-I``), up to the first that is not one."""
        flags = ""
        for word in words:
            if not word.startswith("-") or word.startswith("--") or word == "-":
                break
            for flag in word[1:]:
                if flag in "cmWX":  # the rest of the word, or the next word, is its argument
                    return cls._of(flags)
                flags += flag
        return cls._of(flags)

    @classmethod
    def _of(cls, flags: str) -> StartOptions:
        isolated = "I" in flags
        return cls(isolated or "E" in flags, isolated or "s" in flags, "S" in flags, isolated or "P" in flags)

    @property
    def flags(self) -> str:
        """``-E -s``: as a reviewer reads them; "" when none apply."""
        chosen = (("-E", self.ignore_environment), ("-s", self.no_user_site), ("-S", self.no_site))
        return " ".join([flag for flag, on in chosen if on] + (["-P"] if self.safe_path else []))


DEFAULT_START = StartOptions()


@dataclass(frozen=True)
class StartupCode:
    """Code the interpreter runs at every start, before the program."""

    kind: str  # pth | sitecustomize | usercustomize
    path: str  # the .pth file or the module's file, as found on sys.path
    digest: str  # the module's sha256; for a .pth, the sha256 of the lines that run
    lines: tuple[str, ...]  # a module's first lines (as captured), a .pth's lines that run

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.digest)


@dataclass(frozen=True)
class PthFile:
    path: str
    directories: tuple[str, ...]  # what it adds to sys.path (existing or not)
    code: tuple[str, ...]  # its ``import`` lines, which site runs


def pth_files(files: ImageFiles, site_dir: str) -> list[PthFile]:
    """The ``.pth`` files of a site dir in the order site reads them (sorted names)."""
    found = []
    for name in files.listdir(site_dir):
        if not name.endswith(".pth"):
            continue
        path = posixpath.join(site_dir, name)
        directories, code = [], []
        for raw in (files.read(path) or b"").decode("utf-8", "replace").splitlines():
            line = raw.rstrip()
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith(("import ", "import\t")):
                code.append(line)
            else:
                directories.append(posixpath.normpath(posixpath.join(site_dir, line)))
        found.append(PthFile(path, tuple(directories), tuple(code)))
    return found


def startup_code(
    files: ImageFiles,
    sys_path: Sequence[str],
    site_dirs: Sequence[str],
    user_site_enabled: bool,
    version: str,
) -> tuple[StartupCode, ...]:
    """What site runs for an interpreter whose ``sys.path`` (at start-up: before the script's directory
    is put first) and processed site dirs are these."""
    code = []
    for site_dir in site_dirs:
        for pth in pth_files(files, site_dir):
            if pth.code:
                digest = hashlib.sha256("\n".join(pth.code).encode("utf-8", "surrogatepass")).hexdigest()
                # the lines a reviewer reads, as many as a module's head; the digest covers them all
                code.append(StartupCode(PTH, pth.path, digest, pth.code[:HEAD_LINES]))
    names = (SITECUSTOMIZE, USERCUSTOMIZE) if user_site_enabled else (SITECUSTOMIZE,)
    for name in names:
        found = find_module(files, sys_path, name, version)
        if found is not None:
            code.append(found)
    return tuple(code)


def find_module(files: ImageFiles, sys_path: Sequence[str], name: str, version: str) -> StartupCode | None:
    """The module ``import name`` loads: the first form of it in the first directory of ``sys_path`` that
    has one."""
    abi = version.replace(".", "")
    for directory in sys_path:
        for form in _MODULE_FORMS:
            path = posixpath.join(directory, name + form.format(abi=abi))
            real = files.resolve(path)
            entry = files.lookup(real) if real is not None else None
            if entry is None or entry.type not in (EntryType.FILE, EntryType.HARDLINK):
                continue
            head = files.read(path) if path.endswith(".py") else None
            lines = tuple((head or b"").decode("utf-8", "replace").splitlines())
            return StartupCode(name, path, entry.sha256 or f"unhashed:{path}", lines)
    return None
