"""Which file each DT_NEEDED entry of an ELF object loads, decided as glibc's ld.so decides it, in an image.

Search order for a name without "/" needed by object O (ld.so(8); glibc elf/dl-load.c, _dl_map_object):

1. DT_RPATH, unless O has DT_RUNPATH: O's, then that of the object that loaded O, and so on up to the
   executable (an object's RPATH counts only when it has no RUNPATH of its own);
2. LD_LIBRARY_PATH;
3. O's DT_RUNPATH;
4. the ld.so.cache. The image's cache is not captured, so it is emulated by probing, in order, the
   directories ldconfig would have scanned (/etc/ld.so.conf and its includes): this assumes ldconfig ran
   after the last library was installed;
5. the built-in default directories.

A candidate is taken only if it is an ELF object of the requester's class and machine; otherwise the
search goes on, as ld.so does. Not modelled: glibc-hwcaps/ and legacy hwcap subdirectories (they depend
on the CPU at run time), DF_1_NODEFLIB, LD_PRELOAD, and secure-execution mode (whether a set-user-ID
program runs "secure" depends on the user who runs it).

The work is bounded (``layerdiff.image.limits``): directory probes per object resolved
(``library-search-steps``), nesting of ld.so.conf ``include`` lines (``ldso-include-depth``) and the paths
one include glob may produce (``ldso-include-matches``); going over one is an error.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.model import ElfInfo
from layerdiff.image.paths import display
from layerdiff.index.capture import Capture

LD_SO_CONF = "/etc/ld.so.conf"
# ld.so.conf and the directory its usual ``include`` names; an include elsewhere is not read
CAPTURE = Capture(paths=(LD_SO_CONF,), patterns=("/etc/ld.so.conf.d/*",))

# glibc's built-in search directories are fixed when glibc is built: upstream x86_64 uses /lib64 and
# /usr/lib64, most 32-bit builds /lib and /usr/lib, and Debian/Ubuntu /lib/<triplet>, /usr/lib/<triplet>,
# /lib, /usr/lib. The image does not tell which glibc build it has, so 64-bit objects try the union of the
# non-multiarch ones; Debian's multiarch directories are in its ld.so.conf.d anyway.
DEFAULT_DIRS_64 = ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
DEFAULT_DIRS_32 = ("/lib", "/usr/lib")

# $PLATFORM is the kernel's AT_PLATFORM string; only the common machines are known here.
_PLATFORMS = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i686"}

# $NAME counts only when followed by "/" or the end; ${NAME} anywhere. Other "$" are literal, as in ld.so.
_DYNAMIC_STRING_TOKEN = re.compile(r"\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?=/|$))")
_GLOB_MAGIC = re.compile(r"[*?\[]")


class Via(StrEnum):
    """The rule that found a library."""

    RPATH = "rpath"
    LD_LIBRARY_PATH = "LD_LIBRARY_PATH"
    RUNPATH = "runpath"
    LD_SO_CONF = "ld.so.conf"
    DEFAULT = "default"
    PATH = "path"  # the DT_NEEDED entry is itself a path
    INTERPRETER = "interpreter"  # Loader.closure only: the program interpreter, which ld.so maps first
    NOT_FOUND = "not found"


@dataclass(frozen=True)
class NeededResolution:
    soname: str  # the DT_NEEDED entry as written
    path: str | None  # the path ld.so opens, as ldd prints it; None when not found
    via: Via
    real_path: str | None = None  # ``path`` with every symlink followed: the file that is loaded


@dataclass(frozen=True)
class _LoadedObject:
    path: str
    info: ElfInfo
    origin: str | None  # what $ORIGIN expands to in this object's paths; None when unknown
    loader: _LoadedObject | None = None  # the object whose DT_NEEDED brought this one in (l_loader)


def resolve_needed(
    files: ImageFiles,
    object_path: str,
    info: ElfInfo,
    ld_library_path: str | None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[NeededResolution, ...]:
    """One-off form of ``Loader(files, ld_library_path, limits).resolve(object_path, info)``."""
    return Loader(files, ld_library_path, limits).resolve(object_path, info)


class Loader:
    """Resolves libraries in one image; reads ld.so.conf once and caches lookups, so reuse it per image.

    ``ld_library_path`` is LD_LIBRARY_PATH from the image's environment, or None. ``ld_so_conf_dirs`` are
    the directories standing in for the ld.so.cache, in order.
    """

    def __init__(
        self, files: ImageFiles, ld_library_path: str | None, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self._files = files
        self._resolved: dict[str, str | None] = {}
        self._elf: dict[str, ElfInfo | None] = {}
        # ld.so splits LD_LIBRARY_PATH on ";" as well as ":", and drops a directory it already has
        entries = re.split("[:;]", ld_library_path) if ld_library_path else []
        self._ld_library_path = tuple(dict.fromkeys(entries))
        self.ld_so_conf_dirs = read_ld_so_conf(files, limits)
        self._max_steps = limits.library_search_steps
        self._steps = 0  # directory probes (and loading-chain links walked) for the object being resolved
        self._subject = ""

    def resolve(self, object_path: str, info: ElfInfo) -> tuple[NeededResolution, ...]:
        """Where each of ``info.needed`` is found for the object at ``object_path``, in order.

        The object is taken on its own, as if it were the program: no RPATH is inherited from a loader.
        $ORIGIN is the directory of its real path (the kernel reports a program's real path to ld.so).
        """
        self._start(object_path)
        subject = _LoadedObject(object_path, info, self._real_dir(object_path))
        return tuple(self._search(name, subject, subject) for name in info.needed)

    def closure(self, executable_path: str, info: ElfInfo) -> tuple[NeededResolution, ...]:
        """Every library the program at ``executable_path`` loads, in ld.so's breadth-first order, as ldd.

        Unlike ``resolve``, this follows glibc across the dependency tree: RPATHs are inherited along the
        loading chain, a name that an already loaded object answers to (the name it was loaded as, or its
        SONAME) is not searched again, and a library's $ORIGIN is the directory of the path it was found
        at. One entry per distinct DT_NEEDED name, in the order first needed; names not found are reported
        and skipped, as ldd does.
        """
        self._start(executable_path)
        program = _LoadedObject(executable_path, info, self._real_dir(executable_path))
        known: dict[str, NeededResolution] = {}  # every name a loaded object answers to
        loaded_files: set[str | None] = {self._resolve(executable_path)}
        interpreter = self._interpreter(info)
        if interpreter is not None and interpreter.path is not None:
            loaded_files.add(interpreter.real_path)
            known[interpreter.soname] = known[interpreter.path] = interpreter
        results: dict[str, NeededResolution] = {}
        queue = deque([program])
        while queue:
            requester = queue.popleft()
            for name in requester.info.needed:
                if name in results:
                    continue
                if name in known:
                    results[name] = known[name]
                    continue
                found = self._search(name, requester, program)
                known[name] = results[name] = found
                if found.path is None or found.real_path is None or found.real_path in loaded_files:
                    continue  # glibc maps a file once, whatever name it is reached by
                loaded_files.add(found.real_path)
                dependency = self._elf_at(found.real_path)
                if dependency is None:
                    continue
                if dependency.soname is not None:
                    known.setdefault(dependency.soname, found)
                origin = posixpath.dirname(found.path)
                queue.append(_LoadedObject(found.path, dependency, origin, loader=requester))
        return tuple(results.values())

    # -- search ---------------------------------------------------------------------------------------

    def _start(self, object_path: str) -> None:
        self._steps, self._subject = 0, object_path

    def _step(self) -> None:
        self._steps += 1
        if self._steps > self._max_steps:
            raise LimitExceeded(
                display(self._subject),
                "library_search_steps",
                self._max_steps,
                f"resolving its libraries takes more than {self._max_steps} directory probes",
            )

    def _search(self, name: str, requester: _LoadedObject, program: _LoadedObject) -> NeededResolution:
        if "/" in name:
            return self._by_path(name, requester)
        for via, directory in self._search_dirs(name, requester, program):
            found = self._probe(posixpath.join(directory, name), requester.info)
            if found is not None:
                return NeededResolution(name, posixpath.join(directory, name), via, found)
        return NeededResolution(name, None, Via.NOT_FOUND)

    def _by_path(self, name: str, requester: _LoadedObject) -> NeededResolution:
        path = _expand(name, requester)
        # A relative path would be opened relative to the working directory, which is not known here.
        found = self._probe(path, requester.info) if path is not None and path.startswith("/") else None
        if found is None:
            return NeededResolution(name, None, Via.NOT_FOUND)
        return NeededResolution(name, path, Via.PATH, found)

    def _search_dirs(
        self, name: str, requester: _LoadedObject, program: _LoadedObject
    ) -> Iterator[tuple[Via, str]]:
        """Candidate directories in ld.so's order; a generator, so a hit in RPATH expands nothing else."""
        if not requester.info.runpath:
            chain: _LoadedObject | None = requester
            while chain is not None:
                self._step()
                if not chain.info.runpath:  # ld.so drops DT_RPATH of objects that also have DT_RUNPATH
                    yield from _expanded(Via.RPATH, chain.info.rpath, chain)
                chain = chain.loader
        # $ORIGIN in LD_LIBRARY_PATH refers to the program.
        yield from _expanded(Via.LD_LIBRARY_PATH, self._ld_library_path, program)
        yield from _expanded(Via.RUNPATH, requester.info.runpath, requester)
        if _looks_like_dso(name):  # ldconfig puts no other file names in the cache
            yield from ((Via.LD_SO_CONF, directory) for directory in self.ld_so_conf_dirs)
        defaults = DEFAULT_DIRS_64 if requester.info.elf_class == 64 else DEFAULT_DIRS_32
        yield from ((Via.DEFAULT, directory) for directory in defaults)

    def _probe(self, path: str, requester: ElfInfo) -> str | None:
        """The real path of ``path`` if it is an ELF object ``requester`` can load (same class, machine)."""
        self._step()
        real = self._resolve(path)
        if real is None:
            return None
        candidate = self._elf_at(real)
        if candidate is None or (candidate.elf_class, candidate.machine) != (
            requester.elf_class,
            requester.machine,
        ):
            return None
        return real

    def _interpreter(self, program: ElfInfo) -> NeededResolution | None:
        """PT_INTERP as a loaded object: ld.so maps itself first, so libc's "ld-linux-x86-64.so.2" is it."""
        if program.interpreter is None:
            return None
        real = self._resolve(program.interpreter)
        interpreter = self._elf_at(real) if real is not None else None
        if interpreter is None or interpreter.soname is None:
            return None
        return NeededResolution(interpreter.soname, program.interpreter, Via.INTERPRETER, real)

    # -- cached image access --------------------------------------------------------------------------

    def _resolve(self, path: str) -> str | None:
        if path not in self._resolved:
            self._resolved[path] = self._files.resolve(path)
        return self._resolved[path]

    def _elf_at(self, real_path: str) -> ElfInfo | None:
        if real_path not in self._elf:
            self._elf[real_path] = self._files.elf(real_path)
        return self._elf[real_path]

    def _real_dir(self, path: str) -> str | None:
        real = self._resolve(path)
        return posixpath.dirname(real) if real is not None else None


def _looks_like_dso(name: str) -> bool:
    """glibc's _dl_is_dso: lib*.so*, ld-*.so*, ld.so.*, ld64.so.*."""
    return (name.startswith(("lib", "ld-")) and ".so" in name) or name.startswith(("ld.so.", "ld64.so."))


def _expanded(via: Via, entries: tuple[str, ...], owner: _LoadedObject) -> Iterator[tuple[Via, str]]:
    for entry in entries:
        directory = _expand(entry, owner)
        # Empty and relative entries name the working directory, which is not known for an image.
        if directory is not None and directory.startswith("/"):
            yield via, directory


def _expand(text: str, owner: _LoadedObject) -> str | None:
    """``text`` with $ORIGIN, $LIB and $PLATFORM replaced for ``owner``; None if one cannot be."""
    unresolvable = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolvable
        value = _token_value(match.group(1) or match.group(2), owner)
        if value is None:
            unresolvable = True
            return ""
        return value

    expanded = _DYNAMIC_STRING_TOKEN.sub(substitute, text) if "$" in text else text
    return None if unresolvable or not expanded else expanded


def _token_value(token: str, owner: _LoadedObject) -> str | None:
    if token == "ORIGIN":
        return owner.origin
    if token == "LIB":
        # Distribution-specific like the default directories: Debian's glibc says "lib/<triplet>".
        return "lib64" if owner.info.elf_class == 64 else "lib"
    return _PLATFORMS.get(owner.info.machine)


# -- ld.so.conf -----------------------------------------------------------------------------------------


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
