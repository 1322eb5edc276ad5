"""The image transports, by prefix, and the parsing of references into them (see docs/sources.md).

Each source module is imported only when its transport opens an image, so that reading an archive never
imports the docker SDK.
"""

from __future__ import annotations

import os
from pathlib import Path

from layerdiff.errors import ImageError, ImageNotFound, ToolError, UsageError
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.refs import ImageRef
from layerdiff.sources.base import ImageSource
from layerdiff.sources.interface import SyftTarget, Transport
from layerdiff.sources.schemes import FOREIGN_SCHEMES, SCHEME, is_image_name, looks_like_path


class Engine(Transport):
    name = "docker"

    def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
        from layerdiff.sources.engine import EngineSource

        return EngineSource(ref.target, platform, limits, bare=ref.bare_name)

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
    aliases = ("oci-dir",)  # syft's name
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
_ALIASES = {alias: transport for transport in TRANSPORTS.values() for alias in transport.aliases}


def transport_of(ref: ImageRef) -> Transport:
    return TRANSPORTS[ref.transport]


def open_source(ref: ImageRef, platform: str | None = None, limits: Limits = DEFAULT_LIMITS) -> ImageSource:
    return transport_of(ref).open(ref, platform, limits)


def parse_ref(text: str) -> ImageRef:
    """Parse a reference; a bare argument is a path when one exists or when it can only be one, else an
    engine image name."""
    if not text:
        raise UsageError("empty image reference")
    prefix, sep, rest = text.partition(":")
    transport = _by_prefix(prefix) if sep else None
    if transport is not None:
        if not rest:
            raise UsageError(f"image reference {text!r} names no image")
        if transport.takes_path:
            path, tag = _split_path(rest)
            return ImageRef(transport.name, path, tag)
        return ImageRef(transport.name, rest)
    if sep and prefix in FOREIGN_SCHEMES:
        raise UsageError(f"image transport {prefix!r} in {text!r} {FOREIGN_SCHEMES[prefix]} ({_known()})")
    if os.path.isdir(text):
        return ImageRef(OciLayout.name, text)
    if os.path.isfile(text):
        return ImageRef(_archive_transport(text), text)
    if os.path.lexists(text):
        raise ImageError(f"{text}: neither a regular file nor a directory")
    if sep and SCHEME.fullmatch(prefix) and not is_image_name(text):
        # not a path, and no engine could hold an image of that name: a transport spelled wrong
        raise UsageError(f"unknown image transport {prefix!r} in {text!r} ({_known()})")
    if looks_like_path(text):
        raise ImageNotFound(f"no such file: {text}")
    return ImageRef(Engine.name, text, bare_name=True)


def relative_to(text: str, directory: str) -> str:
    """``text`` with a relative path in it taken from ``directory``: a reference stored in a file (an
    approval record) means a path relative to that file. Engine and registry names are left as they are."""
    prefix, sep, rest = text.partition(":")
    transport = _by_prefix(prefix) if sep else None
    if transport is not None:
        if not transport.takes_path or not rest or os.path.isabs(rest):
            return text
        return f"{prefix}:{os.path.join(directory, rest)}"
    if os.path.isabs(text) or (sep and prefix in FOREIGN_SCHEMES):
        return text
    if looks_like_path(text) or os.path.lexists(os.path.join(directory, text)):
        return os.path.join(directory, text)
    return text


def rebased(text: str, directory: str) -> str:
    """``text`` with a relative path in it (relative to the working directory, as the command line took it)
    made relative to ``directory``, where a file will store it: ``relative_to(rebased(t, d), d)`` names the
    same file as ``t``. Engine and registry names are left as they are."""
    prefix, sep, rest = text.partition(":")
    transport = _by_prefix(prefix) if sep else None
    if transport is not None:
        if not transport.takes_path or not rest or os.path.isabs(rest):
            return text
        return f"{prefix}:{os.path.relpath(rest, directory or '.')}"
    if os.path.isabs(text) or (sep and prefix in FOREIGN_SCHEMES) or not looks_like_path(text):
        return text
    return os.path.relpath(text, directory or ".")


def _by_prefix(prefix: str) -> Transport | None:
    return TRANSPORTS.get(prefix) or _ALIASES.get(prefix)


def _known() -> str:
    names = [name for transport in TRANSPORTS.values() for name in (transport.name, *transport.aliases)]
    return f"known: {', '.join(names)}"


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
