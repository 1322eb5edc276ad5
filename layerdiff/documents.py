"""The documents a review reads besides images — saved reports, approval records, policies, SBOMs — read
from their files. Any problem is a one-line usage error naming the file."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from layerdiff.errors import UsageError
from layerdiff.image.refs import ImageArgument
from layerdiff.policy import POLICY_FILENAME
from layerdiff.review import DockerfileText, PolicyText

if TYPE_CHECKING:
    from layerdiff.approval import Approval
    from layerdiff.report.wire import Report
    from layerdiff.signing import ApprovalSigner, TrustedKey


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


def read_approval_file(path: str, trusted: Sequence[TrustedKey] = ()) -> Approval:
    from layerdiff.approval import read_approval

    return read_approval(_bounded_text(path, "approval record", MAX_RECORD_BYTES), path, trusted)


# An approval record is a few kilobytes; a directory of them is a handful.
MAX_RECORD_BYTES = 4 * 1024 * 1024
MAX_RECORDS = 256
MAX_KEY_BYTES = 64 * 1024


def read_approvals(values: Sequence[str], trusted: Sequence[TrustedKey]) -> tuple[list[Approval], list[str]]:
    """The records ``--approval`` names (files, or directories of ``*.json`` records), and one line for
    each that no trusted key verifies: the gate fails on those rather than skipping them."""
    from layerdiff.signing import SignatureError

    approvals, rejected = [], []
    for path in _record_paths(values):
        try:
            approvals.append(read_approval_file(path, trusted))
        except SignatureError as exc:
            rejected.append(str(exc))
    return approvals, rejected


def _record_paths(values: Sequence[str]) -> list[str]:
    paths: list[str] = []
    for value in values:
        if Path(value).is_dir():
            found = sorted(str(p) for p in Path(value).glob("*.json") if p.is_file())
            if not found:
                raise UsageError(f"--approval {value}: a directory with no *.json approval record")
            paths += found
        else:
            paths.append(value)
        if len(paths) > MAX_RECORDS:
            raise UsageError(f"more than {MAX_RECORDS} approval records; give the ones that apply")
    return list(dict.fromkeys(paths))


def trusted_keys(
    options: Sequence[str], policy: PolicyText | None, reviewers: Mapping[str, str]
) -> list[TrustedKey]:
    """The public keys approvals are verified with: ``--key [NAME=]PUBLIC.pem`` (NAME defaults to the file's
    name without its ending) and the policy's ``[reviewers]``, whose paths are taken from the policy file's
    directory. Each key's owner is the reviewer a record it verifies counts for."""
    from layerdiff.signing import load_public_key

    named: list[tuple[str, str, str]] = []
    for option in options:
        name, separator, path = option.partition("=")
        if not separator:
            name, path = Path(option).name.split(".")[0], option
        if not name or not path:
            raise UsageError(f"--key {option!r}: expected [NAME=]PUBLIC-KEY.pem")
        named.append((name, path, f"--key {option}"))
    if reviewers:
        directory = Path(policy.source).parent if policy is not None else Path()
        named += [(name, str(directory / path), f"[reviewers] {name}") for name, path in reviewers.items()]
    keys = [
        load_public_key(_bounded_bytes(path, "public key", MAX_KEY_BYTES), name, origin)
        for name, path, origin in named
    ]
    owners: dict[str, str] = {}
    for key in keys:
        if owners.setdefault(key.keyid, key.owner) != key.owner:
            raise UsageError(f"the key {key.keyid} is given for both {owners[key.keyid]} and {key.owner}")
    return keys


def approval_signer(path: str) -> ApprovalSigner:
    """``approve --key PRIVATE.pem``: an encrypted key's password comes from LAYERDIFF_KEY_PASSWORD (or
    COSIGN_PASSWORD), else from a prompt on the terminal; it is never echoed, logged or stored."""
    from layerdiff.signing import key_needs_password, load_signer, password_from_environment

    pem = _bounded_bytes(path, "private key", MAX_KEY_BYTES)
    password = None
    if key_needs_password(pem):
        password = password_from_environment(os.environ)
        if password is None:
            if not sys.stdin.isatty():
                raise UsageError(f"{path} is encrypted: set LAYERDIFF_KEY_PASSWORD, or run on a terminal")
            import getpass

            password = getpass.getpass(f"password for {path}: ").encode()
    return load_signer(pem, password, path)


def _bounded_bytes(path: str, what: str, limit: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if len(data) > limit:
        raise UsageError(f"{path}: larger than {limit} bytes, not a {what}")
    return data


def _bounded_text(path: str, what: str, limit: int) -> str:
    try:
        return _bounded_bytes(path, what, limit).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text") from exc


def approved_base(approvals: Sequence[Approval], given: Sequence[str]) -> ImageArgument:
    """The base image the approval records name, a relative path in it taken from the record's directory
    (not from wherever ``gate`` runs); its errors name the record. Records that name different bases need
    ``--base``."""
    from layerdiff.sources.transports import relative_to

    if not approvals:
        raise UsageError(f"no approval record could be read from {', '.join(given)}; give --base")
    named = {relative_to(a.base_reference, os.path.dirname(a.source)): a.source for a in approvals}
    if len(named) > 1:
        raise UsageError(f"the approval records name {len(named)} different base images; give --base")
    ((reference, source),) = named.items()
    return ImageArgument(reference, f"base image from {source}")


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
