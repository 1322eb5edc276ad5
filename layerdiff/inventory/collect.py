"""Assemble one image's inventory from its merged filesystem view and config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from layerdiff.fs.view import TreeView
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.model import env_map
from layerdiff.index.capture import Capture, CaptureSpec
from layerdiff.inventory import commands as command_reader
from layerdiff.inventory import constraints as constraint_reader
from layerdiff.inventory import credentials as credential_reader
from layerdiff.inventory import ldcache as library_cache_reader
from layerdiff.inventory import libraries as library_reader
from layerdiff.inventory import python as python_reader
from layerdiff.inventory import python_startup
from layerdiff.inventory import users as user_reader
from layerdiff.inventory.commands import (
    Command,
    command_arguments,
    commands_used,
    image_path,
    resolve_commands,
)
from layerdiff.inventory.constraints import Constraints, read_constraints
from layerdiff.inventory.dpkg import package_md5sums
from layerdiff.inventory.dpkg_verify import FileProblem, verify_files
from layerdiff.inventory.ldcache import ImageCache
from layerdiff.inventory.ldconfig import StaleEntry, ldconfig_abi, stale_entries
from layerdiff.inventory.libraries import Loader, NeededResolution, cache_warnings
from layerdiff.inventory.ospkg import DATABASES, broken_dependencies, database_files, read_os_packages
from layerdiff.inventory.ospkg_interface import BrokenDependency, OsPackage
from layerdiff.inventory.owners import PackageOwners
from layerdiff.inventory.python import PythonEnvironment, environment_for, python_environments
from layerdiff.inventory.python_record import Overwrite, RecordProblem, verify_records
from layerdiff.inventory.uncaptured import uncaptured_files
from layerdiff.inventory.users import RuntimeUser, runtime_user

# The files each collector reads (declared next to its reader), and what is lost when one is too large to
# be read (``layerdiff.inventory.uncaptured``)
READERS: tuple[tuple[Capture, str], ...] = (
    (user_reader.CAPTURE, "the runtime user's name, groups and home directory are not known"),
    (library_reader.CAPTURE, "library resolution does not search the directories it lists"),
    (
        library_cache_reader.CAPTURE,
        "libraries are resolved as if ldconfig had just run (ld.so.conf's directories stand in for it)",
    ),
    (python_reader.CAPTURE, "Python sees no distribution or path it declares (pip check, shadowing, losses)"),
    (constraint_reader.CAPTURE, "distributions installed outside the pip constraints it lists are not found"),
    *(
        (
            database.capture,
            f"the {database.ecosystem} packages it records are not read (package changes, "
            "dependencies, package files)",
        )
        for database in DATABASES
    ),
)
# What the indexer keeps for the collectors: those files, the first line of scripts (the first lines of
# Python start-up modules), and where the credentials of credential files are
CAPTURE = CaptureSpec(
    [
        command_reader.CAPTURE,
        credential_reader.CAPTURE,
        python_startup.CAPTURE,
        *(capture for capture, _ in READERS),
    ]
)

PYTHON_COMMANDS = ("python", "python3")


@dataclass(frozen=True)
class Inventory:
    user: RuntimeUser
    env: Mapping[str, str]
    path: str
    commands: Mapping[str, Command]
    commands_used: Mapping[str, str]  # command word -> Entrypoint | Cmd | Healthcheck
    python: tuple[PythonEnvironment, ...]
    python_on_path: Mapping[str, str]  # python / python3 -> the key of the environment it starts
    distribution_metadata: frozenset[str]  # every .dist-info / .egg-info path in the image
    libraries: Mapping[str, tuple[NeededResolution, ...]]  # ELF object -> where each DT_NEEDED resolves
    ld_so_conf_dirs: tuple[str, ...]  # the library directories /etc/ld.so.conf names, in ldconfig's order
    ld_so_cache: ImageCache  # /etc/ld.so.cache as ld.so reads it
    stale_cache_entries: tuple[StaleEntry, ...]  # where running ldconfig would change what loads
    digests: Mapping[str, str | None]  # sha256 of every file a library resolution lands on
    os_packages: tuple[OsPackage, ...]
    broken_dependencies: tuple[BrokenDependency, ...]
    package_file_problems: tuple[FileProblem, ...]  # dpkg --verify for every installed deb package
    # every Python distribution's RECORD checked against the files: what differs, and what another overwrote
    record_problems: tuple[RecordProblem, ...]
    record_overwrites: tuple[Overwrite, ...]
    warnings: tuple[str, ...]  # what could not be read, and what that leaves out
    package_owners: PackageOwners = field(repr=False, compare=False)
    # what ENTRYPOINT, CMD and HEALTHCHECK give each command word they start (``command_arguments``)
    command_arguments: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    constraints: Constraints | None = None  # the pip constraints file in the runtime user's HOME

    def python_env(self, key: str) -> PythonEnvironment | None:
        return self._environments.get(key)

    @cached_property
    def _environments(self) -> dict[str, PythonEnvironment]:
        return {environment.key: environment for environment in self.python}

    def owner_of(self, path: str) -> OsPackage | None:
        """The OS package whose database lists ``path`` (see ``layerdiff.inventory.owners``)."""
        return self.package_owners.owner_of(path)

    def owners_of(self, path: str) -> tuple[OsPackage, ...]:
        return self.package_owners.owners_of(path)


def collect(view: TreeView, config: Mapping[str, Any], limits: Limits = DEFAULT_LIMITS) -> Inventory:
    """The inventory of the image ``view`` shows, run as ``config`` says; ``limits`` bound the work."""
    env = env_map(config.get("Env"))
    user = runtime_user(view, config.get("User"), env)
    path = image_path(env)
    commands = resolve_commands(view, path, user)
    environments = list(python_environments(view, view.tree.nodes.keys(), user, env, limits))
    on_path = {}
    for name in PYTHON_COMMANDS:
        command = commands.get(name)
        if command is None:
            continue
        environment = environment_for(view, command.path, user, env, limits)
        if environment is not None:
            on_path[name] = environment.key
            if all(e.key != environment.key for e in environments):
                environments.append(environment)
    loader = Loader(view, env.get("LD_LIBRARY_PATH"), limits)
    objects = dict(view.elf_objects())
    libraries = {path: loader.resolve(path, info) for path, info in objects.items() if info.needed}
    native = ldconfig_abi(view, objects.values())
    cache = loader.cache.cache
    stale = stale_entries(view, cache, loader.ld_so_conf_dirs, native) if cache and native else ()
    metadata = frozenset(p for p in view.tree.nodes if p.endswith((".dist-info", ".egg-info")))
    records = verify_records(view, metadata, limits)
    captured = database_files(view)
    scan = read_os_packages(captured, limits)
    packages = scan.packages
    return Inventory(
        user=user,
        env=env,
        path=path,
        commands=commands,
        commands_used=commands_used(config),
        python=tuple(sorted(environments, key=lambda e: e.key)),
        python_on_path=on_path,
        distribution_metadata=metadata,
        libraries=libraries,
        ld_so_conf_dirs=loader.ld_so_conf_dirs,
        ld_so_cache=loader.cache,
        stale_cache_entries=stale,
        digests={
            r.real_path: _digest(view, r.real_path)
            for resolutions in libraries.values()
            for r in resolutions
            if r.real_path is not None
        },
        os_packages=tuple(packages),
        broken_dependencies=tuple(broken_dependencies(packages, limits)),
        package_file_problems=tuple(
            problem
            for package in packages
            if package.ecosystem == "deb"
            for problem in verify_files(package, package_md5sums(package, captured), view.lookup)
        ),
        record_problems=records.problems,
        record_overwrites=records.overwrites,
        warnings=(
            *uncaptured_files(view, READERS, limits),
            *cache_warnings(loader.cache, loader.ld_so_conf_dirs),
            *scan.warnings,
        ),
        package_owners=PackageOwners(packages, view.resolve),
        command_arguments=command_arguments(config),
        constraints=read_constraints(view, user.home, limits),
    )


def _digest(view: TreeView, path: str) -> str | None:
    entry = view.lookup(path)
    return entry.sha256 if entry is not None else None
