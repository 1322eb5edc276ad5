"""The rule about code Python runs at start-up, before any program: ``.pth`` lines that are code,
``sitecustomize`` and ``usercustomize``, found as ``site`` finds them for each interpreter and for each way
the image's ENTRYPOINT, CMD and HEALTHCHECK start one (flags such as ``-s`` and ``-I`` applied).

The code's first lines are evidence, with credentials cut out (``layerdiff.text.secrets``): a reviewer reads
what runs without opening the image.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from layerdiff.inventory.launches import PythonLaunch, launch_environment, python_launches
from layerdiff.inventory.python import METADATA_SUFFIXES
from layerdiff.inventory.python_record import read_record
from layerdiff.inventory.python_startup import PTH, StartupCode
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.secrets import redact_text
from layerdiff.text.words import listed

_MAIN_PROCESS = ("Entrypoint", "Cmd")  # the container's own process; HEALTHCHECK runs beside it
_SHOWN_CHARACTERS = 80  # of the first line, in the message


@dataclass
class _NewCode:
    code: StartupCode
    environments: list[str] = field(default_factory=list)


@rule(
    "python-startup-code",
    Severity.MEDIUM,
    "Python runs new start-up code before every program",
    "Put the code in the program (or its entry point) instead of a .pth file, sitecustomize or "
    "usercustomize; if a distribution installs it, make sure that distribution is meant to run in every "
    "Python process of the image.",
)
def python_startup_code(context: RuleContext) -> Iterator[Finding]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    ran_before = {(e.key, c.key) for e in base.python for c in e.startup}
    # the same code already running in the base (a venv's copy of setuptools' .pth) is not new to the image
    known = {c.digest for e in base.python for c in e.startup}
    found: dict[str, _NewCode] = {}
    for environment in derived.python:
        for code in environment.startup:
            if (environment.key, code.key) not in ran_before and code.digest not in known:
                found.setdefault(code.path, _NewCode(code)).environments.append(environment.key)
    if not found:
        return
    loads = _launch_startup(context, python_launches(derived, context.diff.derived_files))
    for path, new in sorted(found.items()):
        reached = [launch for launch, paths in loads if path in paths]
        severity = Severity.HIGH if any(launch.used_by in _MAIN_PROCESS for launch in reached) else None
        status, before = _status(context, new.code)
        lines = _redacted(new.code.lines)
        yield python_startup_code.finding(
            context,
            subject=f"startup:{path}",
            message=_message(new, reached, status, lines),
            evidence={
                "kind": new.code.kind,
                "path": path,
                "status": status,
                "lines": lines,
                "sha256": new.code.digest,
                "sha256_in_base": before,
                "installed_by": _installed_by(context, path),
                "environments": new.environments,
                "reached_by": [launch.describe() for launch in reached],
            },
            layer=context.layer_that_changed(path),
            severity=severity,
        )


def _launch_startup(
    context: RuleContext, launches: Sequence[PythonLaunch]
) -> list[tuple[PythonLaunch, set[str]]]:
    """Each of the image's own Python starts, and the start-up code its interpreter runs as it starts it."""
    inventory, files = context.diff.derived_inventory, context.diff.derived_files
    found = []
    for launch in launches:
        environment = launch_environment(inventory, files, launch, context.limits)
        found.append((launch, {c.path for c in environment.startup} if environment else set()))
    return found


def _status(context: RuleContext, code: StartupCode) -> tuple[str, str | None]:
    """new | changed | now-loaded (the file is the base's, but did not run there), and the digest the
    base's copy had."""
    before = next(
        (c for e in context.diff.base_inventory.python for c in e.startup if c.path == code.path), None
    )
    if before is not None:
        return "changed", before.digest
    entry = context.diff.base_files.lookup(code.path)
    if entry is None:
        return "new", None
    unchanged = context.layer_that_changed(code.path) is None
    return ("now-loaded" if unchanged else "changed"), entry.sha256 if code.kind != PTH else None


def _redacted(lines: Sequence[str]) -> list[str]:
    # joined first, so that a private key block spanning lines is cut as a whole
    text = redact_text("\n".join(lines)) or ""
    return text.split("\n") if lines else []


def _installed_by(context: RuleContext, path: str) -> str | None:
    """The distribution whose RECORD lists the file, when one in its directory does."""
    files = context.diff.derived_files
    directory = posixpath.dirname(path)
    for name in files.listdir(directory):
        if not name.endswith(METADATA_SUFFIXES[0]):
            continue
        record_path = posixpath.join(directory, name, "RECORD")
        record = files.read(record_path)
        if record is not None and any(
            r.path == path for r in read_record(record, directory, record_path, context.limits)
        ):
            return name.removesuffix(METADATA_SUFFIXES[0])
    return None


def _message(new: _NewCode, reached: Sequence[PythonLaunch], status: str, lines: Sequence[str]) -> str:
    if reached:
        labels = [launch.label() for launch in reached]
        who = " and ".join(labels) if len(labels) == 2 else listed(labels)
        runs, own = ("run", "their") if len(reached) > 1 else ("runs", "its")
    else:
        who, runs, own = f"Every start of {listed(new.environments)}", "runs", "its"
    what = {"pth": "the code in", "sitecustomize": "the module", "usercustomize": "the module"}[new.code.kind]
    first = next((line.strip() for line in lines if line.strip()), "")
    shown = first if len(first) <= _SHOWN_CHARACTERS else first[:_SHOWN_CHARACTERS] + "…"
    why = {
        "new": "new in the derived image",
        "changed": "changed since the base",
        "now-loaded": "in the base too, where it did not run",
    }[status]
    code = f": `{shown}`" if shown else ""
    return f"{who} now {runs} {what} {new.code.path} before {own} own code ({why}){code}."
