"""The documents a review reads besides images — saved reports, approval records, policies, SBOMs — read
from their files. Any problem is a one-line usage error naming the file."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from layerdiff.errors import UsageError
from layerdiff.image.refs import ImageArgument
from layerdiff.policy import POLICY_FILENAME
from layerdiff.review import DockerfileText, PolicyText

if TYPE_CHECKING:
    from layerdiff.approval import Approval
    from layerdiff.report.wire import Report


def read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        kind = "not JSON (not UTF-8 text)" if what == "report" else "not UTF-8 text"
        raise UsageError(f"{path}: {kind}") from exc


def read_report_file(path: str) -> Report:
    """A saved `diff --format json` report, checked."""
    from layerdiff.report.load import parse_report

    return parse_report(read_text(path, "report"), path)


def read_approval_file(path: str) -> Approval:
    from layerdiff.approval import read_approval

    return read_approval(read_text(path, "approval"), path)


def approved_base(approval: Approval, path: str) -> ImageArgument:
    """The base image an approval record names, a relative path in it taken from the record's directory
    (not from wherever ``gate`` runs); its errors name the record."""
    from layerdiff.sources.transports import relative_to

    reference = relative_to(approval.base_reference, os.path.dirname(path))
    return ImageArgument(reference, f"base image from {path}")


# A Dockerfile is text a person wrote; a larger one is not a Dockerfile.
MAX_DOCKERFILE_BYTES = 4 * 1024 * 1024


def dockerfile_text(path: str | None, build_args: list[str], target: str | None) -> DockerfileText | None:
    """``--dockerfile PATH`` (``-`` for stdin, as ``docker build -f -``) with its ``--build-arg`` and
    ``--target``. Findings name the file relative to the working directory (the repository root in CI), as
    code scanning expects; stdin is named ``Dockerfile``."""
    if path is None:
        if build_args or target:
            raise UsageError("--build-arg and --target say how the --dockerfile was built; give --dockerfile")
        return None
    arguments = {}
    for item in build_args:
        name, separator, value = item.partition("=")
        if not name:
            raise UsageError(f"--build-arg {item!r}: expected NAME=VALUE or NAME")
        if separator:
            arguments[name] = value
        elif name in os.environ:  # `--build-arg NAME` takes the value from the environment, as docker's does
            arguments[name] = os.environ[name]
    if path == "-":
        text = sys.stdin.buffer.read(MAX_DOCKERFILE_BYTES + 1)
        if len(text) > MAX_DOCKERFILE_BYTES:
            raise UsageError(f"the Dockerfile on stdin is larger than {MAX_DOCKERFILE_BYTES} bytes")
        try:
            return DockerfileText(text.decode("utf-8"), "Dockerfile", arguments, target)
        except UnicodeDecodeError as exc:
            raise UsageError("the Dockerfile on stdin is not UTF-8 text") from exc
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise UsageError(f"cannot read Dockerfile {path}: {exc.strerror or exc}") from exc
    if size > MAX_DOCKERFILE_BYTES:
        raise UsageError(
            f"{path}: {size} bytes is too large for a Dockerfile (at most {MAX_DOCKERFILE_BYTES})"
        )
    return DockerfileText(read_text(path, "Dockerfile"), _repository_path(path), arguments, target)


def _repository_path(path: str) -> str:
    resolved, here = Path(path).resolve(), Path.cwd().resolve()
    return resolved.relative_to(here).as_posix() if resolved.is_relative_to(here) else Path(path).as_posix()


def policy_text(option: str | None) -> PolicyText | None:
    """``--policy FILE``, else ``.layerdiff.toml`` in the working directory when there is one."""
    path = option or POLICY_FILENAME
    if option is None and not Path(path).is_file():
        return None
    return PolicyText(read_text(path, "policy"), path)
