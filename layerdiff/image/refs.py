"""An image reference such as ``docker:NAME`` or ``oci:DIR[:TAG]`` (parsed in ``sources.transports``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ImageRef:
    transport: str  # the name of a registered transport (``layerdiff.sources.transports.TRANSPORTS``)
    target: str  # engine name, path, or registry reference
    tag: str | None = None  # for oci layouts: the org.opencontainers.image.ref.name to select
    # a bare argument taken for an engine image name, which may have been meant as a path (``build/app``)
    bare_name: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        suffix = f":{self.tag}" if self.tag else ""
        return f"{self.transport}:{self.target}{suffix}"


@dataclass(frozen=True)
class ImageArgument:
    """An image reference as text, and where it came from when not from the command line."""

    text: str
    origin: str | None = None  # e.g. ``base image from approval.json``: what its errors are said of
