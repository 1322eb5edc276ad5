"""Which file each DT_NEEDED entry of an ELF object loads, decided as glibc's ld.so decides it, in an image.

Search order for a name without "/" needed by object O (ld.so(8); glibc elf/dl-load.c, _dl_map_object):

1. DT_RPATH, unless O has DT_RUNPATH: O's, then that of the object that loaded O, and so on up to the
   executable (an object's RPATH counts only when it has no RUNPATH of its own);
2. LD_LIBRARY_PATH;
3. O's DT_RUNPATH;
4. the image's /etc/ld.so.cache (``ldcache``): the path it gives for the name, when that file is there and
   loadable; otherwise the search goes on, as ld.so's does. An image without a cache file gets, instead,
   the directories ldconfig would scan (/etc/ld.so.conf and its includes) probed in order, as if ldconfig
   had run after the last library was installed, and a warning saying so; a file ld.so would not read as a
   cache is skipped, as ld.so skips it;
5. the trusted directories of the architecture (``loader_abi``: Debian's multiarch ones, /lib, /usr/lib;
   never /usr/local/lib).

A candidate is taken only if it is an ELF object of the requester's class and machine; otherwise the
search goes on, as ld.so does. Not modelled: the glibc-hwcaps and legacy hwcap entries of the cache (they
depend on the CPU at run time: the answer is the one for a CPU with none), DF_1_NODEFLIB, LD_PRELOAD, and
secure-execution mode (whether a set-user-ID program runs "secure" depends on the user who runs it).

The work is bounded (``layerdiff.image.limits``): directory probes per object resolved
(``library-search-steps``), the cache's entries (``ldso-cache-entries``), and the ld.so.conf bounds of
``ldsoconf``; going over one is an error.
"""

from __future__ import annotations

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
from layerdiff.inventory import ldsoconf
from layerdiff.inventory.ldcache import LD_SO_CACHE, ImageCache, read_image_cache
from layerdiff.inventory.ldconfig import looks_like_dso
from layerdiff.inventory.ldsoconf import read_ld_so_conf
from layerdiff.inventory.loader_abi import abi_of, trusted_directories

CAPTURE = ldsoconf.CAPTURE  # the files the cache is read with are ldcache.CAPTURE

# $PLATFORM is the kernel's AT_PLATFORM string; only the common machines are known here.
_PLATFORMS = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64", "EM_386": "i686"}

# $NAME counts only when followed by "/" or the end; ${NAME} anywhere. Other "$" are literal, as in ld.so.
_DYNAMIC_STRING_TOKEN = re.compile(r"\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?=/|$))")


class Via(StrEnum):
    """The rule that found a library."""

    RPATH = "rpath"
    LD_LIBRARY_PATH = "LD_LIBRARY_PATH"
    RUNPATH = "runpath"
    CACHE = "ld.so.cache"
    LD_SO_CONF = "ld.so.conf"  # no cache file: ld.so.conf's directories stand in for it
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
    """Resolves libraries in one image; reads ld.so.conf and the cache once and caches lookups, so reuse it
    per image.

    ``ld_library_path`` is LD_LIBRARY_PATH from the image's environment, or None. ``ld_so_conf_dirs`` are
    the directories ldconfig scans, in order; ``cache`` is the image's /etc/ld.so.cache as read.
    """

    def __init__(
        self, files: ImageFiles, ld_library_path: str | None, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self._files = files
        self._resolved: dict[str, str | None] = {}
        self._elf: dict[str, ElfInfo | None] = {}
        self._trusted: dict[tuple[str, int], tuple[str, ...]] = {}
        # ld.so splits LD_LIBRARY_PATH on ";" as well as ":", and drops a directory it already has
        entries = re.split("[:;]", ld_library_path) if ld_library_path else []
        self._ld_library_path = tuple(dict.fromkeys(entries))
        self.ld_so_conf_dirs = read_ld_so_conf(files, limits)
        self.cache: ImageCache = read_image_cache(files, limits)
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

    def walk(self, object_path: str, info: ElfInfo, name: str) -> tuple[str, ...]:
        """Each place ld.so tries for ``name``, needed by the object at ``object_path``, in order, with what
        it finds there (what ``LD_DEBUG=libs`` prints as ``trying file=``): ``"RUNPATH /opt/lib/libx.so.1:
        no such file"``, ``"ld.so.cache: no entry"``. Bounded as ``resolve`` is; it stops where ld.so does."""
        self._start(object_path)
        subject = _LoadedObject(object_path, info, self._real_dir(object_path))
        if "/" in name:
            path = _expand(name, subject)
            tried = path if path is not None and path.startswith("/") else name
            return (f"{Via.PATH} {tried}: {self._outcome(tried, info)}",)
        steps: list[str] = []
        cache_lookup = self.cache.cache is not None
        for via, candidate in self._candidates(name, subject, subject):
            if cache_lookup and via in (Via.CACHE, Via.DEFAULT):
                if via is Via.DEFAULT:
                    steps.append(f"{LD_SO_CACHE}: no entry")
                cache_lookup = False
            outcome = self._outcome(candidate, info)
            label = f"{LD_SO_CACHE} entry" if via is Via.CACHE else _WALK_LABELS.get(via, str(via))
            steps.append(f"{label} {candidate}: {outcome}")
            if outcome.startswith("loads"):
                return tuple(steps)
        if cache_lookup:  # nothing after the cache to try: its lookup was the last step
            steps.append(f"{LD_SO_CACHE}: no entry")
        return tuple(steps)

    def _outcome(self, path: str, requester: ElfInfo) -> str:
        found = self._probe(path, requester)
        if found is not None:
            return f"loads {found}"
        return "no such file" if self._resolve(path) is None else "not an ELF object it can load"

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
        for via, candidate in self._candidates(name, requester, program):
            found = self._probe(candidate, requester.info)
            if found is not None:
                return NeededResolution(name, candidate, via, found)
        return NeededResolution(name, None, Via.NOT_FOUND)

    def _by_path(self, name: str, requester: _LoadedObject) -> NeededResolution:
        path = _expand(name, requester)
        # A relative path would be opened relative to the working directory, which is not known here.
        found = self._probe(path, requester.info) if path is not None and path.startswith("/") else None
        if found is None:
            return NeededResolution(name, None, Via.NOT_FOUND)
        return NeededResolution(name, path, Via.PATH, found)

    def _candidates(
        self, name: str, requester: _LoadedObject, program: _LoadedObject
    ) -> Iterator[tuple[Via, str]]:
        """Paths to try in ld.so's order; a generator, so a hit in RPATH expands nothing else."""
        if not requester.info.runpath:
            chain: _LoadedObject | None = requester
            while chain is not None:
                self._step()
                if not chain.info.runpath:  # ld.so drops DT_RPATH of objects that also have DT_RUNPATH
                    yield from _in(name, _expanded(Via.RPATH, chain.info.rpath, chain))
                chain = chain.loader
        # $ORIGIN in LD_LIBRARY_PATH refers to the program.
        yield from _in(name, _expanded(Via.LD_LIBRARY_PATH, self._ld_library_path, program))
        yield from _in(name, _expanded(Via.RUNPATH, requester.info.runpath, requester))
        yield from self._from_cache(name, requester.info)
        yield from ((Via.DEFAULT, posixpath.join(d, name)) for d in self._trusted_dirs(requester.info))

    def _from_cache(self, name: str, requester: ElfInfo) -> Iterator[tuple[Via, str]]:
        cache = self.cache
        if cache.cache is not None:
            abi = abi_of(requester)
            entry = cache.cache.lookup(name, abi.accepted_flags, abi.cache_flags)
            if entry is not None:
                yield Via.CACHE, entry.path
        elif cache.emulated and looks_like_dso(name):  # ldconfig puts no other file names in a cache
            yield from ((Via.LD_SO_CONF, posixpath.join(d, name)) for d in self.ld_so_conf_dirs)

    def _trusted_dirs(self, info: ElfInfo) -> tuple[str, ...]:
        key = (info.machine, info.elf_class)
        if key not in self._trusted:
            self._trusted[key] = trusted_directories(self._files, info)
        return self._trusted[key]

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


_WALK_LABELS = {
    Via.RPATH: "RPATH",
    Via.RUNPATH: "RUNPATH",
    Via.LD_SO_CONF: "ld.so.conf directory",
    Via.DEFAULT: "default directory",
}


def _in(name: str, directories: Iterator[tuple[Via, str]]) -> Iterator[tuple[Via, str]]:
    return ((via, posixpath.join(directory, name)) for via, directory in directories)


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


def cache_warnings(cache: ImageCache, ld_so_conf_dirs: tuple[str, ...]) -> tuple[str, ...]:
    """What the report says when the image's cache is not what ld.so will use, or could not be used."""
    if cache.state == "absent" and ld_so_conf_dirs:
        return (
            f"{LD_SO_CACHE} is not in the image: libraries are resolved as if ldconfig had run after the "
            "last library was installed (the directories /etc/ld.so.conf names stand in for the cache); "
            "without a cache, ld.so itself searches only the trusted directories",
        )
    if cache.state == "unusable":
        return (
            f"{LD_SO_CACHE} is not a cache ld.so reads ({cache.problem}): libraries are resolved without it, "
            "as ld.so resolves them",
        )
    if cache.cache is not None and cache.cache.dropped:
        return (
            f"{LD_SO_CACHE}: {cache.cache.dropped} entries name strings outside the file and are ignored",
        )
    return ()
