"""The image transports, by prefix, and the parsing of references into them (see docs/sources.md).

Each source module is imported only when its transport opens an image, so that reading an archive never
imports the docker SDK.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from layerdiff.errors import ImageError, ToolError, UsageError
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.refs import ImageRef
from layerdiff.sources.base import ImageSource
from layerdiff.sources.interface import SyftTarget, Transport


class Engine(Transport):
    name = "docker"

    def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
        from layerdiff.sources.engine import EngineSource

        return EngineSource(ref.target, platform, limits)

    def syft_target(self, ref: ImageRef, platform: str | None, scratch: Path) -> SyftTarget:
        return SyftTarget(f"docker:{ref.target}")


class DockerArchive(Transport):
    name = "docker-archive"
    takes_path = True

    def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
        from layerdiff.sources.docker_archive import DockerArchiveSource

        return DockerArchiveSource(ref.target, ref.tag, limits)

    def syft_target(self, ref: ImageRef, platform: str | None, scratch: Path) -> SyftTarget:
        return SyftTarget(f"docker-archive:{ref.target}")


class OciLayout(Transport):
    name = "oci"
    takes_path = True

    def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
        from layerdiff.sources.oci_layout import OciLayoutSource

        return OciLayoutSource(ref.target, ref.tag, platform, limits)

    def syft_target(self, ref: ImageRef, platform: str | None, scratch: Path) -> SyftTarget:
        # syft's oci-dir takes a layout holding one image, and cannot pick a tag or platform itself
        from layerdiff.sources.oci_layout import single_image_layout

        return SyftTarget(f"oci-dir:{single_image_layout(ref, platform, scratch / 'layout')}")


class OciArchive(Transport):
    name = "oci-archive"
    takes_path = True

    def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
        from layerdiff.sources.oci_layout import OciArchiveSource

        return OciArchiveSource(ref.target, ref.tag, platform, limits)

    def syft_target(self, ref: ImageRef, platform: str | None, scratch: Path) -> SyftTarget:
        if ref.tag:
            raise ToolError(
                f"syft cannot pick tag {ref.tag!r} inside an OCI archive; use --sbom none, "
                "or an oci: layout directory"
            )
        return SyftTarget(f"oci-archive:{ref.target}")


class Registry(Transport):
    name = "registry"

    def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
        from layerdiff.sources.registry import RegistrySource

        return RegistrySource(ref.target, platform, limits)

    def syft_target(self, ref: ImageRef, platform: str | None, scratch: Path) -> SyftTarget:
        from layerdiff.sources.registry import insecure_registry, parse_registry_ref

        # the same hosts the source reads over plain HTTP
        insecure = insecure_registry(parse_registry_ref(ref.target).host)
        return SyftTarget(
            f"registry:{ref.target}", {"SYFT_REGISTRY_INSECURE_USE_HTTP": "true"} if insecure else {}
        )


TRANSPORTS: dict[str, Transport] = {
    transport.name: transport
    for transport in (Engine(), DockerArchive(), OciLayout(), OciArchive(), Registry())
}


def transport_of(ref: ImageRef) -> Transport:
    return TRANSPORTS[ref.transport]


def open_source(ref: ImageRef, platform: str | None = None, limits: Limits = DEFAULT_LIMITS) -> ImageSource:
    return transport_of(ref).open(ref, platform, limits)


def parse_ref(text: str) -> ImageRef:
    """Parse a reference; a bare argument is a path when one exists, else an engine image name."""
    if not text:
        raise UsageError("empty image reference")
    prefix, sep, rest = text.partition(":")
    transport = TRANSPORTS.get(prefix) if sep else None
    if transport is not None:
        if not rest:
            raise UsageError(f"image reference {text!r} names no image")
        if transport.takes_path:
            path, tag = _split_path(rest)
            return ImageRef(transport.name, path, tag)
        return ImageRef(transport.name, rest)
    if os.path.isdir(text):
        return ImageRef(OciLayout.name, text)
    if os.path.isfile(text):
        return ImageRef(_archive_transport(text), text)
    if sep and _SCHEME.fullmatch(prefix) and not _IMAGE_NAME.fullmatch(text):
        # not a path, and no engine could hold an image of that name: a transport spelled wrong
        known = ", ".join(TRANSPORTS)
        raise UsageError(f"unknown image transport {prefix!r} in {text!r} (known: {known})")
    return ImageRef(Engine.name, text)


# A URI scheme; what follows ``:`` in an image name is a port (``host:5000/app``) or a tag (``app:1.0``).
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
# docker's reference grammar (distribution/reference): [HOST[:PORT]/]PATH[:TAG][@DIGEST]
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:]+\])"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_NAME = re.compile(
    rf"(?:{_DOMAIN}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?",
    re.ASCII,
)


def _split_path(rest: str) -> tuple[str, str | None]:
    """``PATH[:TAG]``: the tag starts after the longest prefix that exists (paths may hold colons, and a
    docker-archive tag such as ``name:1.0`` does too)."""
    if os.path.exists(rest):
        return rest, None
    for position in range(len(rest) - 1, 0, -1):
        if rest[position] == ":" and os.path.exists(rest[:position]):
            return rest[:position], rest[position + 1 :] or None
    return rest, None  # a path that does not exist: the source says so


def _archive_transport(path: str) -> str:
    """An archive holding oci-layout but no manifest.json is an OCI archive; otherwise docker save."""
    from layerdiff.sources.tar_members import TarMembers

    try:
        archive = TarMembers(path)
    except ImageError:
        return DockerArchive.name  # the docker-archive reader reports what is wrong with it
    try:
        if not archive.has("manifest.json") and archive.has("oci-layout"):
            return OciArchive.name
        return DockerArchive.name
    finally:
        archive.close()
