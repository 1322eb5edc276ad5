"""The report's ``inventory`` and ``packages`` sections as typed values (see layerdiff.report.wire)."""

from dataclasses import dataclass

from layerdiff.report.codec import Wire

# --- runtime user -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuntimeUser(Wire):
    user: str  # USER as the config gives it; empty means root
    name: str | None
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


@dataclass(frozen=True, slots=True)
class RuntimeUsers(Wire):
    base: RuntimeUser
    derived: RuntimeUser


# --- Python environments ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PythonEnvironment(Wire):
    key: str
    interpreter: str
    version: str
    venv: str | None
    user_site: str | None
    sys_path: tuple[str, ...]
    distributions: int
    on_path_as: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Distribution(Wire):
    name: str
    version: str
    location: str  # the sys.path entry it is found in


@dataclass(frozen=True, slots=True)
class DistributionChange(Wire):
    environment: str
    name: str
    kind: str  # added | removed | upgraded | downgraded | changed
    before: Distribution | None
    after: Distribution | None


@dataclass(frozen=True, slots=True)
class UnsatisfiedRequirement(Wire):
    """A ``pip check`` line new in the derived image."""

    environment: str
    distribution: str
    version: str
    requirement: str
    installed: str | None
    message: str


@dataclass(frozen=True, slots=True)
class ShadowedDistribution(Wire):
    environment: str
    name: str
    winner: Distribution
    hidden: tuple[Distribution, ...]


@dataclass(frozen=True, slots=True)
class LostDistribution(Wire):
    environment: str
    name: str
    version: str
    location: str
    cause: str  # removed | hidden
    via: str | None


@dataclass(frozen=True, slots=True)
class PythonInventory(Wire):
    environments: tuple[PythonEnvironment, ...]
    distribution_changes: tuple[DistributionChange, ...]
    unsatisfied: tuple[UnsatisfiedRequirement, ...]
    shadowed: tuple[ShadowedDistribution, ...]
    lost: tuple[LostDistribution, ...]


# --- commands and libraries ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Command(Wire):
    path: str  # where PATH finds it
    target: str  # the file that runs, symlinks followed
    interpreter: str | None  # the #! line of a script


@dataclass(frozen=True, slots=True)
class CommandChange(Wire):
    name: str
    before: Command | None
    after: Command | None
    used_by: str | None  # Entrypoint | Cmd | Healthcheck


@dataclass(frozen=True, slots=True)
class Resolution(Wire):
    path: str | None  # what ldd prints; None when not found
    real_path: str | None
    via: str
    sha256: str | None


@dataclass(frozen=True, slots=True)
class LibraryChange(Wire):
    object: str
    soname: str
    kind: str  # unresolved | moved | replaced
    before: Resolution | None
    after: Resolution


# --- OS packages --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OsPackageChange(Wire):
    ecosystem: str  # deb | apk | rpm
    name: str
    architecture: str
    kind: str  # added | removed | upgraded | downgraded | changed
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class BrokenDependency(Wire):
    package: str
    version: str
    field: str
    relation: str
    reason: str  # missing | version
    installed: str | None
    detail: str
    ecosystem: str | None = None  # written since schema 1.3


@dataclass(frozen=True, slots=True)
class ModifiedFile(Wire):
    """A ``dpkg --verify`` line new in the derived image."""

    package: str
    path: str
    conffile: bool
    missing: bool
    expected_md5: str | None
    actual_md5: str | None
    dpkg_verify: str


@dataclass(frozen=True, slots=True)
class OsPackages(Wire):
    changes: tuple[OsPackageChange, ...]
    broken_dependencies: tuple[BrokenDependency, ...]
    modified_files: tuple[ModifiedFile, ...]


@dataclass(frozen=True, slots=True)
class Inventory(Wire):
    runtime_user: RuntimeUsers
    python: PythonInventory
    commands: tuple[CommandChange, ...]
    libraries: tuple[LibraryChange, ...]
    os_packages: OsPackages


# --- SBOM packages ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SbomPackage(Wire):
    version: str
    purl: str
    paths: tuple[str, ...]  # where the SBOM found it (at most five)


@dataclass(frozen=True, slots=True)
class PackageChange(Wire):
    type: str  # the package-URL type: deb, pypi, npm, ...
    name: str
    kind: str  # added | removed | upgraded | downgraded | changed | rebuilt
    before: SbomPackage | None
    after: SbomPackage | None
    layer: int | None  # the derived layer that holds the package now


@dataclass(frozen=True, slots=True)
class Packages(Wire):
    sbom_tool: str | None  # the SBOM tool and version; None with --sbom none
    changes: tuple[PackageChange, ...]
