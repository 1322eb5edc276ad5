"""Parsing of image references such as ``docker:NAME``, ``oci:DIR`` or a bare path."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

from layerdiff.errors import UsageError


class Transport(StrEnum):
    DOCKER = "docker"
    DOCKER_ARCHIVE = "docker-archive"
    OCI = "oci"
    OCI_ARCHIVE = "oci-archive"
    REGISTRY = "registry"


@dataclass(frozen=True)
class ImageRef:
    transport: Transport
    target: str  # engine name, path, or registry reference
    tag: str | None = None  # for oci layouts: the org.opencontainers.image.ref.name to select

    def __str__(self) -> str:
        suffix = f":{self.tag}" if self.tag else ""
        return f"{self.transport}:{self.target}{suffix}"


def parse_ref(text: str) -> ImageRef:
    """Parse a reference; a bare argument is a path when one exists, else an engine image name."""
    if not text:
        raise UsageError("empty image reference")
    prefix, sep, rest = text.partition(":")
    if sep and prefix in {t.value for t in Transport}:
        if not rest:
            raise UsageError(f"image reference {text!r} names no image")
        transport = Transport(prefix)
        if transport in _PATH_TRANSPORTS:
            path, tag = _split_path(rest)
            return ImageRef(transport, path, tag)
        return ImageRef(transport, rest)
    if os.path.isdir(text):
        return ImageRef(Transport.OCI, text)
    if os.path.isfile(text):
        return ImageRef(_archive_transport(text), text)
    return ImageRef(Transport.DOCKER, text)


_PATH_TRANSPORTS = {Transport.OCI, Transport.OCI_ARCHIVE, Transport.DOCKER_ARCHIVE}


def _split_path(rest: str) -> tuple[str, str | None]:
    """``PATH[:TAG]``: the tag starts after the longest prefix that exists (paths may hold colons, and a
    docker-archive tag such as ``name:1.0`` does too)."""
    if os.path.exists(rest):
        return rest, None
    for position in range(len(rest) - 1, 0, -1):
        if rest[position] == ":" and os.path.exists(rest[:position]):
            return rest[:position], rest[position + 1 :] or None
    return rest, None  # a path that does not exist: the source says so


def _archive_transport(path: str) -> Transport:
    """An archive holding oci-layout but no manifest.json is an OCI archive; otherwise docker save."""
    import tarfile

    try:
        with tarfile.open(path) as archive:
            names = set(archive.getnames())
    except (tarfile.TarError, OSError):
        return Transport.DOCKER_ARCHIVE  # the docker-archive reader reports what is wrong with it
    if "manifest.json" not in names and "oci-layout" in names:
        return Transport.OCI_ARCHIVE
    return Transport.DOCKER_ARCHIVE
