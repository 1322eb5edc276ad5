"""Turn an image reference into the source that reads it."""

from __future__ import annotations

from layerdiff.refs import ImageRef, Transport
from layerdiff.sources.base import ImageSource


def open_source(ref: ImageRef, platform: str | None = None) -> ImageSource:
    # Imported lazily so that reading an archive never imports the docker SDK.
    if ref.transport is Transport.DOCKER:
        from layerdiff.sources.engine import EngineSource

        return EngineSource(ref.target, platform)
    if ref.transport is Transport.DOCKER_ARCHIVE:
        from layerdiff.sources.docker_archive import DockerArchiveSource

        return DockerArchiveSource(ref.target, ref.tag)
    if ref.transport is Transport.OCI:
        from layerdiff.sources.oci_layout import OciLayoutSource

        return OciLayoutSource(ref.target, ref.tag, platform)
    if ref.transport is Transport.OCI_ARCHIVE:
        from layerdiff.sources.oci_layout import OciArchiveSource

        return OciArchiveSource(ref.target, ref.tag, platform)
    from layerdiff.sources.registry import RegistrySource

    return RegistrySource(ref.target, platform)
