"""One JSON form per fact, for findings' evidence and the report alike: a runtime user, a file entry, a
library resolution, a command, a Python environment and distribution. The shapes are the report schema's
(``report.schema.json``: ``runtime_user``, ``entry``, ``resolution``, ``command``, ``distribution``), so
a fact reads the same wherever a reviewer meets it. The package providing a program the image starts
(``provider_evidence``) is evidence only.

Also the few words messages use for the same facts (``uid 50000 (airflow)``, ``mode 0755``).
"""

from __future__ import annotations

from typing import Any

from layerdiff.image.model import Entry
from layerdiff.inventory.commands import Command
from layerdiff.inventory.libraries import NeededResolution
from layerdiff.inventory.providers import Provider
from layerdiff.inventory.python import Distribution, PythonEnvironment
from layerdiff.inventory.users import RuntimeUser


def file_mode(mode: int) -> str:
    """Permission bits with setuid, setgid and sticky as four octal digits, as chmod takes them: ``0755``."""
    return f"{mode & 0o7777:04o}"


def entry_evidence(entry: Entry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "type": entry.type.value,
        "mode": file_mode(entry.mode),
        "uid": entry.uid,
        "gid": entry.gid,
        "size": entry.size,
        "link": entry.link,
        "sha256": entry.sha256,
        "xattrs": dict(entry.xattrs),
    }


def describe_owner(entry: Entry) -> str:
    """``uid 0, gid 0, mode 0755``."""
    return f"uid {entry.uid}, gid {entry.gid}, mode {file_mode(entry.mode)}"


def user_evidence(user: RuntimeUser) -> dict[str, Any]:
    return {
        "user": user.spec,  # as written in the config; "" means the engine's default, root
        "name": user.name,
        "uid": user.uid,
        "gid": user.gid,
        "groups": sorted(user.groups),
        "home": user.home,
    }


def describe_user(user: RuntimeUser) -> str:
    """``uid 50000 (airflow)``, or ``uid 1234`` for a uid without a passwd entry."""
    return f"uid {user.uid} ({user.name})" if user.name else f"uid {user.uid}"


def resolution_evidence(resolution: NeededResolution | None, sha256: str | None) -> dict[str, Any] | None:
    """Where one DT_NEEDED resolves, and the digest of the file it loads."""
    if resolution is None:
        return None
    return {
        "path": resolution.path,
        "real_path": resolution.real_path,
        "via": resolution.via.value,
        "sha256": sha256,
    }


def command_evidence(command: Command | None) -> dict[str, Any] | None:
    if command is None:
        return None
    return {"path": command.path, "target": command.target, "interpreter": command.interpreter}


def distribution_evidence(distribution: Distribution | None) -> dict[str, Any] | None:
    if distribution is None:
        return None
    return {
        "name": distribution.display_name,
        "version": distribution.version,
        "location": distribution.location,
        "metadata": distribution.metadata,
    }


def provider_evidence(provider: Provider | None) -> dict[str, Any] | None:
    """The package a program comes from, and what lists the program's file (a RECORD, a package database)."""
    if provider is None:
        return None
    return {
        "ecosystem": provider.ecosystem,
        "name": provider.name,
        "version": provider.version,
        "where": provider.where,
        "listed_in": provider.record,
    }


def environment_evidence(environment: PythonEnvironment | None) -> dict[str, Any] | None:
    if environment is None:
        return None
    return {
        "key": environment.key,
        "interpreter": environment.interpreter,
        "venv": environment.venv,
        "user_site": environment.user_site,
    }


def describe_environment(environment: PythonEnvironment) -> str:
    """``the venv /opt/venv``, else the interpreter's path."""
    return f"the venv {environment.venv}" if environment.venv else environment.interpreter
