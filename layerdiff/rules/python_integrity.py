"""Rules about the files Python distributions installed, checked against their RECORD (``dpkg --verify``
for Python): files changed or deleted outside pip, and files one distribution's install overwrote in
another's.

Only what the derived layers broke is reported: a RECORD check that already fails in the base is the
baseline (Debian's pip lists ``../scripts/pip``, which Debian never installs). Evidence gives each file's
recorded and actual digest in RECORD's own form (``sha256=`` urlsafe base64), so a reviewer can check it
with ``python3 -c`` or ``openssl dgst -sha256 -binary FILE | basenc --base64url``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from typing import Any

from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.evidence import distribution_evidence
from layerdiff.inventory.launches import PythonLaunch, launch_environment, python_launches
from layerdiff.inventory.python import Distribution, required_names
from layerdiff.inventory.python_record import FileState, Overwrite, RecordProblem, top_level_name
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.words import counted, listed

# Deleting these from a site dir is how images are slimmed; nothing imports them.
_SLIMMING_DIRS = frozenset({"tests", "test"})
_SLIMMING_SUFFIXES = (".pyi", ".md", ".rst", ".txt", ".html", "py.typed", ".c", ".h", ".pyx", ".pxd")


def _relative(distribution: Distribution, path: str) -> str:
    prefix = distribution.location.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def _slimmed(distribution: Distribution, path: str) -> bool:
    parts = _relative(distribution, path).split("/")
    return bool(_SLIMMING_DIRS.intersection(parts[:-1])) or parts[-1].endswith(_SLIMMING_SUFFIXES)


def _required_by(inventory: Inventory, distribution: Distribution) -> list[str]:
    """The distributions, in every environment that imports from its site dir, that require it."""
    found: set[str] = set()
    for environment in inventory.python:
        if distribution.location not in environment.sys_path:
            continue
        for other in environment.distributions:
            if other.name != distribution.name and distribution.name in required_names(
                other, environment.version
            ):
                found.add(f"{other.display_name} {other.version}")
    return sorted(found)


def _imported_by(
    context: RuleContext, launches: Sequence[PythonLaunch], distribution: Distribution, paths: Sequence[str]
) -> list[tuple[PythonLaunch, list[str]]]:
    """The image's own Python programs (ENTRYPOINT, CMD, HEALTHCHECK) that import a module these files are
    part of, from an environment that reads the distribution's site dir (as they start it), with those
    modules."""
    modules = {name for path in paths if (name := top_level_name(distribution.location, path)) is not None}
    reached = []
    inventory, files = context.diff.derived_inventory, context.diff.derived_files
    for launch in launches:
        environment = launch_environment(inventory, files, launch, context.limits)
        if environment is None or distribution.location not in environment.sys_path:
            continue
        imported = sorted({name.split(".", 1)[0] for name in launch.imports} & modules)
        if imported:
            reached.append((launch, imported))
    return reached


def _reliance(
    context: RuleContext, launches: Sequence[PythonLaunch], distribution: Distribution, paths: Sequence[str]
) -> tuple[list[str], list[tuple[PythonLaunch, list[str]]]]:
    required_by = _required_by(context.diff.derived_inventory, distribution)
    return required_by, _imported_by(context, launches, distribution, paths)


def _who_relies(required_by: list[str], imported_by: list[tuple[PythonLaunch, list[str]]]) -> str:
    """``airflow (HEALTHCHECK) imports it; consumer 1.0 requires it``."""
    parts = [f"{launch.label()} imports it" for launch, _ in imported_by[:1]]
    if required_by:
        parts.append(f"{listed(required_by)} {'requires' if len(required_by) == 1 else 'require'} it")
    return "; ".join(parts)


def _imports_evidence(imported_by: list[tuple[PythonLaunch, list[str]]]) -> list[str]:
    return [f"{launch.describe()}, which imports {listed(modules)}" for launch, modules in imported_by]


def _modules(distribution: Distribution, paths: Sequence[str]) -> list[str]:
    return sorted({m for p in paths if (m := top_level_name(distribution.location, p)) is not None})


def _imports(distribution: Distribution, paths: Sequence[str]) -> str:
    """``import common`` (in backquotes) for the modules these files belong to; else the files."""
    modules = _modules(distribution, paths)
    return (
        f"`import {', '.join(modules)}`" if modules else listed([_relative(distribution, p) for p in paths])
    )


def _label(distribution: Distribution) -> str:
    return f"{distribution.display_name} {distribution.version}"


# --- python-file-modified -----------------------------------------------------------------------------------


@rule(
    "python-file-modified",
    Severity.HIGH,
    "A file a Python distribution installed was changed or deleted outside pip",
    "Change installed distributions with pip: install the version you need (pip install NAME==VERSION), or "
    "build and install a patched wheel; never edit or delete files in site-packages by hand.",
)
def python_file_modified(context: RuleContext) -> Iterator[Finding]:
    groups: dict[str, list[RecordProblem]] = {}
    for problem in context.diff.inventory.record_problems:
        groups.setdefault(problem.distribution.metadata, []).append(problem)
    launches = python_launches(context.diff.derived_inventory, context.diff.derived_files)
    for _, problems in sorted(groups.items()):
        distribution = problems[0].distribution
        paths = [p.path for p in problems]
        required_by, imported_by = _reliance(context, launches, distribution, paths)
        missing = [p for p in problems if p.state is not FileState.MODIFIED]
        changed = len(problems) - len(missing)
        if len(missing) == len(problems) and all(_slimmed(distribution, p.path) for p in problems):
            severity = Severity.LOW  # tests and documentation deleted to slim the image
        elif required_by or imported_by:
            severity = Severity.HIGH
        else:
            severity = Severity.MEDIUM
        what = listed([_relative(distribution, p) for p in paths])
        counts = " and ".join(t for t in (_count(changed, "changed"), _count(len(missing), "deleted")) if t)
        relies = f" ({_who_relies(required_by, imported_by)})" if required_by or imported_by else ""
        yield python_file_modified.finding(
            context,
            subject=f"{distribution.location}:{distribution.name}",
            message=(
                f"{_imports(distribution, paths)} no longer loads what pip installed for "
                f"{_label(distribution)}{relies}: {counts} outside pip ({what}), so its RECORD no longer "
                "matches."
            ),
            evidence={
                "distribution": distribution_evidence(distribution),
                "record": posixpath.join(distribution.metadata, "RECORD"),
                "files_changed": changed,
                "files_deleted": len(missing),
                "files": [_problem_evidence(p) for p in problems],
                "required_by": required_by,
                "imported_by": _imports_evidence(imported_by),
            },
            layer=context.layer_that_changed(*paths),
            severity=severity,
        )


def _count(count: int, verb: str) -> str:
    return f"{counted(count, 'file')} {verb}" if count else ""


def _problem_evidence(problem: RecordProblem) -> dict[str, Any]:
    return {
        "path": problem.path,
        "state": problem.state.value,
        "recorded": problem.expected,
        "actual": problem.actual,
    }


# --- python-file-overwritten --------------------------------------------------------------------------------


@rule(
    "python-file-overwritten",
    Severity.HIGH,
    "A distribution's install overwrote files another Python distribution installed",
    "Install only one of two distributions that ship the same module (uninstall the other first: "
    "pip uninstall NAME), or install them into separate environments.",
)
def python_file_overwritten(context: RuleContext) -> Iterator[Finding]:
    groups: dict[tuple[str, str], list[Overwrite]] = {}
    for overwrite in context.diff.inventory.record_overwrites:
        groups.setdefault((overwrite.overwritten.metadata, overwrite.by.metadata), []).append(overwrite)
    launches = python_launches(context.diff.derived_inventory, context.diff.derived_files)
    for _, overwrites in sorted(groups.items()):
        old, new = overwrites[0].overwritten, overwrites[0].by
        paths = [o.path for o in overwrites]
        required_by, imported_by = _reliance(context, launches, old, paths)
        modules = _modules(old, paths)
        relies = _who_relies(required_by, imported_by)
        yield python_file_overwritten.finding(
            context,
            subject=f"{old.location}:{old.name}:overwritten-by:{new.name}",
            message=(
                f"{_imports(old, paths)} now loads {_label(new)}'s code instead of {_label(old)}'s"
                f"{f' ({relies})' if relies else ''}: installing {new.display_name} overwrote "
                f"{counted(len(paths), 'file')} of {old.display_name}, and pip check does not notice."
            ),
            evidence={
                "overwritten": distribution_evidence(old),
                "by": distribution_evidence(new),
                "files_overwritten": len(paths),
                "files": [{"path": o.path, "recorded": o.expected, "actual": o.actual} for o in overwrites],
                "modules": modules,
                "required_by": required_by,
                "imported_by": _imports_evidence(imported_by),
            },
            layer=context.layer_that_changed(*paths),
            severity=Severity.HIGH if required_by or imported_by else Severity.MEDIUM,
        )
