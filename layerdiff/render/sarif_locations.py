"""Where a SARIF result is: file URIs GitHub code scanning accepts, Dockerfile regions, the image location
in words, and the run's category.

GitHub reads a relative ``artifactLocation.uri`` as a path from the repository root (it does not read
``originalUriBaseIds``), converts a ``file:`` URI under the checkout to such a path, and rejects the whole
upload for any other scheme (an image reference such as ``debian:12`` parses as the scheme ``debian``).
So every URI here is either a percent-encoded relative path with no ``:`` before its first ``/`` and no
``..`` climbing out of the repository, or a ``file://`` URI for an absolute path.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any
from urllib.parse import quote

from layerdiff.report.wire import DockerfileMap, Finding, SourceLine
from layerdiff.sources.transports import TRANSPORTS

# The base of every relative URI: the repository root, which is the working directory layerdiff ran in.
SRCROOT = "%SRCROOT%"
# Characters a path keeps as they are (RFC 3986 pchar without ':', which in a relative reference's first
# segment would read as a scheme); everything else (spaces, '#', '?', '%', ':', non-ASCII) is
# percent-encoded as UTF-8.
_PATH_SAFE = "/-._~!$&'()*+,;=@"
_PATH_TRANSPORTS = frozenset(name for name, transport in TRANSPORTS.items() if transport.takes_path)
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")
# Where an image has nothing else to point at: the stand-in file a result names when no Dockerfile is known.
_NO_NAME = "image"


def encode_path(path: str) -> str:
    # A name that is not UTF-8 reaches here as text with \xNN escapes (the report boundary's), which are
    # encoded as they read: the URI names the file as the report shows it.
    return quote(path, safe=_PATH_SAFE)


def file_uri(path: str) -> tuple[str, bool] | None:
    """The URI of a file named on the command line, and whether it is relative (to ``%SRCROOT%``).

    A relative path is cleaned (``./a//b`` is ``a/b``) and percent-encoded; an absolute one becomes a
    ``file://`` URI, which GitHub turns into a repository path when it lies under the checkout. A path
    that climbs above the working directory, or names it, has no repository-relative form: None.
    Backslashes are characters of the name, as on every POSIX system, not separators."""
    if not path:
        return None
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("/"):
        # normpath keeps a leading '//' (POSIX leaves its meaning to the system); a file URI has one '/'
        return "file://" + encode_path("/" + cleaned.lstrip("/")), False
    if cleaned in {".", ".."} or cleaned.startswith("../"):
        return None
    return encode_path(cleaned), True


def image_name(reference: str) -> str:
    """What stays the same when an image is rebuilt: the name in its reference, without the transport, a
    tag or a digest (``docker:my-app:${GITHUB_SHA}`` is ``my-app``), or an archive's or layout's file name
    (``docker-archive:build/app.tar`` is ``app.tar``). An image id is kept whole: it names nothing else."""
    transport, sep, target = reference.partition(":")
    if not sep or transport not in TRANSPORTS:
        transport, target = "", reference
    if transport in _PATH_TRANSPORTS:
        return target.rstrip("/").rsplit("/", 1)[-1] or target
    if _IMAGE_ID.fullmatch(target):
        return target
    name = target.partition("@")[0]
    head, slash, last = name.rpartition("/")
    return head + slash + last.partition(":")[0]


def automation_id(base_reference: str, derived_reference: str) -> str:
    """``runAutomationDetails.id``: GitHub's category (everything up to the last ``/``; none follows) is
    the image pair by name, so the uploads for one pair replace each other and two pairs never do."""
    return f"layerdiff/{image_name(base_reference)} -> {image_name(derived_reference)}/"


def image_stand_in_uri(derived_reference: str) -> str:
    """The relative URI a result names when no Dockerfile is known: the derived image's name as a path.
    GitHub requires a file location on every result; this one matches no file in a repository, so the alert
    is listed (under the image's name) without a source annotation."""
    segments = [s for s in image_name(derived_reference).split("/") if s not in ("", ".", "..")]
    return "/".join(quote(s, safe=_PATH_SAFE.replace("/", "")) for s in segments) or _NO_NAME


def source_line(finding: Finding, dockerfile: DockerfileMap | None) -> SourceLine | None:
    """The Dockerfile line a finding is anchored at: its own, else the final stage's FROM line."""
    if finding.dockerfile is not None:
        return finding.dockerfile
    if dockerfile is None:
        return None
    return SourceLine(dockerfile.path, dockerfile.from_line, dockerfile.from_line, "none")


def physical_location(source: SourceLine | None, derived_reference: str) -> dict[str, Any]:
    """At the Dockerfile's lines when the finding has them and the Dockerfile has a repository URI, else
    at line 1 of the image's stand-in."""
    uri = file_uri(source.path) if source is not None else None
    if source is None or uri is None:
        return _located(image_stand_in_uri(derived_reference), True, 1, 1)
    start = max(1, source.line)
    return _located(uri[0], uri[1], start, max(start, source.end_line))


def _located(uri: str, relative: bool, start: int, end: int) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = SRCROOT  # SARIF: a relative URI names its base; an absolute one must not
    region = {"startLine": start} if start == end else {"startLine": start, "endLine": end}
    return {"artifactLocation": artifact, "region": region}


def line_text(source: SourceLine) -> str:
    """``Dockerfile:12`` or ``Dockerfile:12-14``, and how sure the match is."""
    lines = f"{source.line}" if source.end_line <= source.line else f"{source.line}-{source.end_line}"
    how = {
        "exact": "the instruction that wrote it",
        "likely": "the instruction at its place in the history, whose text differs",
        "none": "no instruction matched: the final stage's FROM",
    }.get(source.confidence, source.confidence)
    return f"{source.path}:{lines} ({how})"


def image_path(finding: Finding) -> str | None:
    """The absolute path in the image a finding is about: its evidence's path, else the first of its
    evidence's paths (a package's files), else its subject when that is a path. Subjects such as
    ``/usr/bin/python3.11:responses:requests`` (an environment, a distribution and a requirement) start
    with a slash too, so a subject with a colon counts as a composite key, not a path."""
    evidence = finding.evidence
    paths = evidence.get("paths")
    candidates = [evidence.get("path"), paths[0] if isinstance(paths, list | tuple) and paths else None]
    if ":" not in finding.subject:
        candidates.append(finding.subject)
    return next((str(c) for c in candidates if _is_absolute_path(c)), None)


def _is_absolute_path(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/") and value != "/"


def layer_name(finding: Finding) -> str:
    if finding.layer is not None:
        return f"layer {finding.layer}"
    # no layer: the finding comes from the image config (ENV, USER, ...) or from the image as a whole
    return "image config" if finding.instruction else "image"


def logical_locations(finding: Finding, derived_reference: str) -> list[dict[str, Any]]:
    """The path in the image (when there is one), then the layer or config with its instruction. No
    ``kind``: none of SARIF's well-known kinds (function, module, namespace, ...) is a layer."""
    found: list[dict[str, Any]] = []
    path = image_path(finding)
    if path is not None:
        found.append({"name": path, "fullyQualifiedName": f"{derived_reference}:{path}"})
    name = layer_name(finding)
    layer: dict[str, Any] = {"name": name}
    if finding.instruction:
        layer["fullyQualifiedName"] = f"{name}: {finding.instruction}"
    found.append(layer)
    return found


def where_text(finding: Finding, derived_reference: str, source: SourceLine | None) -> str:
    """One sentence on where the finding is, for the result's message: the image and the path in it, the
    layer and its instruction, and the Dockerfile line when known."""
    path = image_path(finding)
    parts = [f"In {derived_reference}" + (f" at {path}" if path else "")]
    parts.append(layer_name(finding) + (f" ({finding.instruction})" if finding.instruction else ""))
    if source is not None:
        parts.append(line_text(source))
    return ", ".join(parts) + "."
