"""Python environments: for each interpreter in an image, the sys.path its runtime user gets at start-up,
the distributions it can import (and which copy wins), and ``pip check`` done offline."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.parser import HeaderParser
from functools import cached_property

from packaging.markers import Marker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.model import EntryType
from layerdiff.image.paths import display
from layerdiff.index.capture import Capture
from layerdiff.inventory.package_bounds import check_count, check_fields
from layerdiff.inventory.python_startup import (
    DEFAULT_START,
    StartOptions,
    StartupCode,
    pth_files,
    startup_code,
)
from layerdiff.inventory.users import RuntimeUser

# Distribution metadata (RECORD: the files a distribution installed), path configuration, venv markers.
CAPTURE = Capture(
    patterns=(
        "*.dist-info/METADATA",
        "*.dist-info/RECORD",
        "*.egg-info/PKG-INFO",
        "*.egg-info/requires.txt",
        "*.egg-info",  # a single-file egg-info is PKG-INFO itself
        "*/site-packages/*.pth",
        "*/dist-packages/*.pth",
        "*/pyvenv.cfg",
    )
)

_INTERPRETER_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")
_VERSIONED_NAME = re.compile(r"^python(\d+\.\d+)$")
_STDLIB_DIR = re.compile(r"^python(\d+\.\d+)$")
METADATA_SUFFIXES = (".dist-info", ".egg-info")


@dataclass(frozen=True)
class Distribution:
    name: str  # canonical (PEP 503) name
    display_name: str
    version: str
    location: str  # the sys.path entry it was found in
    metadata: str  # its .dist-info / .egg-info path
    requires: tuple[str, ...]  # Requires-Dist as written


@dataclass(frozen=True)
class Shadowing:
    name: str
    winner: Distribution
    hidden: tuple[Distribution, ...]


@dataclass(frozen=True)
class Unsatisfied:
    """One line of ``pip check``."""

    distribution: Distribution
    requirement: str
    installed: str | None  # the version found, None when not installed

    @property
    def needed(self) -> str:
        """The canonical name of the distribution the requirement asks for."""
        return canonicalize_name(Requirement(self.requirement).name)

    def message(self) -> str:
        """The line ``pip check`` prints: canonical names and the requirement in its normal form."""
        requirement = Requirement(self.requirement)
        who = f"{self.distribution.name} {self.distribution.version}"
        needed = self.needed
        if self.installed is None:
            return f"{who} requires {needed}, which is not installed."
        return f"{who} has requirement {requirement}, but you have {needed} {self.installed}."


@dataclass(frozen=True)
class PythonEnvironment:
    key: str  # the venv root, or the interpreter's real path: how environments are matched across images
    interpreter: str  # the interpreter binary, symlinks followed
    version: str  # "3.11"
    venv: str | None
    sys_path: tuple[str, ...]  # existing entries, in order
    user_site: str | None  # the runtime user's site dir when enabled and present
    distributions: tuple[Distribution, ...]  # the copy of each name that imports, by name
    shadowed: tuple[Shadowing, ...]
    unsatisfied: tuple[Unsatisfied, ...]
    startup: tuple[StartupCode, ...] = ()  # what site runs before the program (.pth code, *customize)
    options: StartOptions = DEFAULT_START  # the flags it was started with

    def get(self, name: str) -> Distribution | None:
        return self._by_name.get(canonicalize_name(name))

    @cached_property
    def _by_name(self) -> dict[str, Distribution]:
        # asked once per distribution of the other image: a scan each time would be quadratic
        return {distribution.name: distribution for distribution in self.distributions}


def python_environments(
    files: ImageFiles,
    paths: Iterable[str],
    user: RuntimeUser,
    env: Mapping[str, str],
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[PythonEnvironment, ...]:
    """Every interpreter and virtualenv among ``paths`` (all paths of the image), as ``user`` runs it."""
    found: dict[str, PythonEnvironment] = {}
    for path in sorted(paths):
        base = posixpath.basename(path)
        if base == "pyvenv.cfg":
            environment = _venv(files, posixpath.dirname(path), user, env, limits, Start())
        elif is_interpreter_name(base) and posixpath.basename(posixpath.dirname(path)) == "bin":
            environment = _system(files, path, user, env, limits, Start())
        else:
            continue
        if environment is not None and environment.key not in found:
            found[environment.key] = environment
    return tuple(found[key] for key in sorted(found))


def is_interpreter_name(name: str) -> bool:
    """``python``, ``python3``, ``python3.11``: a file name that is a Python interpreter."""
    return _INTERPRETER_NAME.match(name) is not None


def environment_for(
    files: ImageFiles,
    interpreter_path: str,
    user: RuntimeUser,
    env: Mapping[str, str],
    limits: Limits = DEFAULT_LIMITS,
    start: Start | None = None,
) -> PythonEnvironment | None:
    """The environment an interpreter path (e.g. what ``python3`` resolves to on PATH) runs in; ``start``:
    how one command starts it (its flags, its script), when not as plain ``python3``."""
    root = posixpath.dirname(posixpath.dirname(interpreter_path))
    if files.read(posixpath.join(root, "pyvenv.cfg")) is not None:
        return _venv(files, root, user, env, limits, start or Start())
    return _system(files, interpreter_path, user, env, limits, start or Start())


@dataclass(frozen=True)
class Start:
    """How a command starts an interpreter: its flags, and the script it runs (whose directory Python puts
    first on sys.path, unless -P, -I or PYTHONSAFEPATH)."""

    options: StartOptions = DEFAULT_START
    script: str | None = None


def _python_env(env: Mapping[str, str], options: StartOptions) -> Mapping[str, str]:
    """The variables the interpreter reads: none of PYTHON* with -E or -I."""
    if not options.ignore_environment:
        return env
    return {name: value for name, value in env.items() if not name.startswith("PYTHON")}


def _prefix(env: Mapping[str, str], installed: str) -> str:
    """PYTHONHOME (its prefix part) replaces where the interpreter finds its library."""
    home = env.get("PYTHONHOME", "").split(":", 1)[0]
    return posixpath.normpath(home) if home.startswith("/") else installed


def _system(
    files: ImageFiles, path: str, user: RuntimeUser, env: Mapping[str, str], limits: Limits, start: Start
) -> PythonEnvironment | None:
    real = files.resolve(path)
    entry = files.lookup(real) if real else None
    if real is None or entry is None or entry.type not in (EntryType.FILE, EntryType.HARDLINK):
        return None
    if files.read(posixpath.join(posixpath.dirname(posixpath.dirname(path)), "pyvenv.cfg")) is not None:
        return None  # a venv's bin/python: described by its pyvenv.cfg
    installed = posixpath.dirname(posixpath.dirname(real))
    version = _version(files, real, installed)
    if version is None:
        return None
    env = _python_env(env, start.options)
    prefix = _prefix(env, installed)
    site_dirs = _system_site_dirs(files, prefix, version)
    return _environment(files, real, real, version, None, prefix, site_dirs, True, user, env, limits, start)


def _venv(
    files: ImageFiles, root: str, user: RuntimeUser, env: Mapping[str, str], limits: Limits, start: Start
) -> PythonEnvironment | None:
    config = _pyvenv_cfg(files.read(posixpath.join(root, "pyvenv.cfg")))
    interpreter = files.resolve(posixpath.join(root, "bin", "python")) or files.resolve(
        posixpath.join(config.get("home", "/usr/bin"), "python3")
    )
    if interpreter is None:
        return None
    installed = posixpath.dirname(posixpath.dirname(interpreter))
    version = _version(files, interpreter, installed) or ".".join(config.get("version", "").split(".")[:2])
    if not version:
        return None
    env = _python_env(env, start.options)
    base_prefix = _prefix(env, installed)
    system_site = config.get("include-system-site-packages", "false").lower() == "true"
    site_dirs = [posixpath.join(root, "lib", f"python{version}", "site-packages")]
    if system_site:
        site_dirs += _system_site_dirs(files, base_prefix, version)
    return _environment(
        files, root, interpreter, version, root, base_prefix, site_dirs, system_site, user, env, limits, start
    )


def _environment(
    files: ImageFiles,
    key: str,
    interpreter: str,
    version: str,
    venv: str | None,
    base_prefix: str,
    site_dirs: list[str],
    user_site_allowed: bool,
    user: RuntimeUser,
    env: Mapping[str, str],
    limits: Limits,
    start: Start,
) -> PythonEnvironment:
    """``env``: the variables the interpreter reads (``_python_env``)."""
    options = start.options
    stdlib = posixpath.join(base_prefix, "lib", f"python{version}")
    sys_path = [p for p in env.get("PYTHONPATH", "").split(":") if p.startswith("/")]
    sys_path += [stdlib, posixpath.join(stdlib, "lib-dynload")]
    # site.ENABLE_USER_SITE: usercustomize is imported when it holds, whether or not the user site exists
    user_site_enabled = user_site_allowed and not options.no_site and not options.no_user_site
    user_site_enabled = user_site_enabled and not env.get("PYTHONNOUSERSITE")
    user_site = None
    if user_site_enabled:
        user_base = env.get("PYTHONUSERBASE") or posixpath.join(user.home, ".local")
        candidate = posixpath.join(user_base, "lib", f"python{version}", "site-packages")
        if _is_dir(files, candidate):
            user_site = candidate
    processed = []
    for site_dir in [] if options.no_site else ([user_site] if user_site else []) + site_dirs:
        if _is_dir(files, site_dir):
            processed.append(site_dir)
            sys_path.append(site_dir)
            sys_path.extend(directory for pth in pth_files(files, site_dir) for directory in pth.directories)
    at_startup = tuple(dict.fromkeys(p for p in sys_path if _is_dir(files, p)))
    startup = (
        () if options.no_site else startup_code(files, at_startup, processed, user_site_enabled, version)
    )
    existing = at_startup
    if start.script is not None and not (options.safe_path or env.get("PYTHONSAFEPATH")):
        script_dir = posixpath.dirname(files.resolve(start.script) or start.script)
        existing = tuple(dict.fromkeys((script_dir, *at_startup)))
    distributions, shadowed = _distributions(files, existing, limits)
    return PythonEnvironment(
        key=key,
        interpreter=interpreter,
        version=version,
        venv=venv,
        sys_path=existing,
        user_site=user_site,
        distributions=distributions,
        shadowed=shadowed,
        unsatisfied=_unsatisfied(distributions, version),
        startup=startup,
        options=options,
    )


def _system_site_dirs(files: ImageFiles, prefix: str, version: str) -> list[str]:
    # Debian's patched site.py: dist-packages under /usr/local and /usr;
    # upstream Python: prefix/lib/pythonX.Y/site-packages
    if _is_dir(files, posixpath.join(prefix, "lib", "python3", "dist-packages")):
        return [
            posixpath.join("/usr/local/lib", f"python{version}", "dist-packages"),
            posixpath.join(prefix, "lib", "python3", "dist-packages"),
            posixpath.join(prefix, "lib", f"python{version}", "dist-packages"),
        ]
    return [posixpath.join(prefix, "lib", f"python{version}", "site-packages")]


def _version(files: ImageFiles, real: str, prefix: str) -> str | None:
    match = _VERSIONED_NAME.match(posixpath.basename(real))
    if match:
        return match.group(1)
    candidates = [
        m.group(1)
        for name in files.listdir(posixpath.join(prefix, "lib"))
        if (m := _STDLIB_DIR.match(name)) and files.lookup(posixpath.join(prefix, "lib", name, "os.py"))
    ]
    return candidates[-1] if len(candidates) == 1 else None


def _pyvenv_cfg(data: bytes | None) -> dict[str, str]:
    values = {}
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _is_dir(files: ImageFiles, path: str) -> bool:
    real = files.resolve(path)
    entry = files.lookup(real) if real else None
    return entry is not None and entry.type is EntryType.DIR


def _distributions(
    files: ImageFiles, sys_path: tuple[str, ...], limits: Limits
) -> tuple[tuple[Distribution, ...], tuple[Shadowing, ...]]:
    copies: dict[str, list[Distribution]] = {}
    for directory in sys_path:
        for distribution in site_distributions(files, directory, limits):
            copies.setdefault(distribution.name, []).append(distribution)
    winners = tuple(found[0] for _, found in sorted(copies.items()))
    shadowed = tuple(
        Shadowing(n, found[0], tuple(found[1:])) for n, found in sorted(copies.items()) if len(found) > 1
    )
    return winners, shadowed


def site_distributions(
    files: ImageFiles, directory: str, limits: Limits = DEFAULT_LIMITS
) -> tuple[Distribution, ...]:
    """The distributions whose metadata is in ``directory`` (a site dir), in the order of their folders."""
    return tuple(
        distribution
        for name in files.listdir(directory)
        if name.endswith(METADATA_SUFFIXES)
        and (distribution := read_distribution(files, directory, name, limits)) is not None
    )


def read_distribution(
    files: ImageFiles, directory: str, name: str, limits: Limits = DEFAULT_LIMITS
) -> Distribution | None:
    """The distribution whose ``.dist-info`` / ``.egg-info`` is ``name`` in ``directory``; its name and
    version come from the metadata, never from the folder's name.

    At most ``package-relations`` requirements, each (and the name and version) at most
    ``package-field-bytes``: more is an error (``LimitExceeded``) naming the metadata."""
    path = posixpath.join(directory, name)
    if name.endswith(".dist-info"):
        data = files.read(posixpath.join(path, "METADATA"))
    else:
        data = files.read(posixpath.join(path, "PKG-INFO")) or files.read(path)
    if data is None:
        return None
    # Core metadata is UTF-8. Decoded here, so that every header is a str: the bytes parser hands a
    # non-ASCII header back as an email Header object, which no string function accepts.
    headers = HeaderParser().parsestr(data.decode("utf-8", "replace"))
    display_name, version = headers.get("Name"), headers.get("Version")
    if not display_name or not version:
        return None
    requires = tuple(headers.get_all("Requires-Dist") or ())
    if not requires and name.endswith(".egg-info"):
        requires = _egg_requires(files.read(posixpath.join(path, "requires.txt")))
    try:
        check_count(display_name, len(requires), limits)
        check_fields(display_name, (version, *requires), limits)
    except LimitExceeded as exc:
        raise exc.within(display(path)) from None
    return Distribution(canonicalize_name(display_name), display_name, version, directory, path, requires)


def _egg_requires(data: bytes | None) -> tuple[str, ...]:
    requires, section = [], ""
    for raw in (data or b"").decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif line and not section:  # extras and marker sections are not unconditional requirements
            requires.append(line)
    return tuple(requires)


def _unsatisfied(distributions: tuple[Distribution, ...], version: str) -> tuple[Unsatisfied, ...]:
    """``pip check``: every requirement (markers evaluated for this interpreter, no extras) is installed
    in a version its specifier allows (pre-releases allowed, as pip allows them here)."""
    installed = {d.name: d for d in distributions}
    environment = _marker_environment(version)
    problems = []
    for distribution in distributions:
        for text, requirement in _applicable(distribution, environment):
            found = installed.get(canonicalize_name(requirement.name))
            if found is None:
                problems.append(Unsatisfied(distribution, text, None))
            elif not _allowed(requirement, found.version):
                problems.append(Unsatisfied(distribution, text, found.version))
    return tuple(problems)


def required_names(distribution: Distribution, version: str) -> frozenset[str]:
    """The canonical names ``distribution`` requires under Python ``version`` (what ``pip check`` checks)."""
    environment = _marker_environment(version)
    return frozenset(canonicalize_name(r.name) for _, r in _applicable(distribution, environment))


def marker_holds(marker: Marker, version: str) -> bool:
    """Whether an environment marker holds for Python ``version``, as ``pip check`` evaluates it here."""
    return _evaluate(marker, _marker_environment(version))


def _applicable(distribution: Distribution, environment: dict[str, str]) -> Iterator[tuple[str, Requirement]]:
    """Each Requires-Dist (as written, and parsed) whose marker holds in ``environment``; no extras."""
    for text in distribution.requires:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is None or _evaluate(requirement.marker, environment):
            yield text, requirement


def _marker_environment(version: str) -> dict[str, str]:
    environment: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    environment.update(
        {
            "python_version": version,
            "python_full_version": f"{version}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "os_name": "posix",
            "extra": "",
        }
    )
    return environment


def _evaluate(marker: Marker, environment: dict[str, str]) -> bool:
    try:
        return marker.evaluate(dict(environment))
    except Exception:
        return False


def _allowed(requirement: Requirement, version: str) -> bool:
    try:
        return requirement.specifier.contains(Version(version), prereleases=True)
    except ValueError:  # InvalidVersion, or a number of more digits than int() converts
        return True  # pip check cannot compare a non-PEP 440 version either
