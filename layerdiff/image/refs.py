"""An image reference such as ``docker:NAME`` or ``oci:DIR[:TAG]`` (parsed in ``sources.transports``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageRef:
    transport: str  # the name of a registered transport (``layerdiff.sources.transports.TRANSPORTS``)
    target: str  # engine name, path, or registry reference
    tag: str | None = None  # for oci layouts: the org.opencontainers.image.ref.name to select

    def __str__(self) -> str:
        suffix = f":{self.tag}" if self.tag else ""
        return f"{self.transport}:{self.target}{suffix}"
