"""The interface of an image transport: the ``PREFIX:`` of a reference, the source that reads it, and how
syft is pointed at the same image. Transports are registered in ``layerdiff.sources.transports``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from layerdiff.image.limits import Limits
from layerdiff.image.refs import ImageRef
from layerdiff.sources.base import ImageSource


@dataclass(frozen=True)
class SyftTarget:
    """What syft is given to scan the image a source reads."""

    source: str  # syft's SOURCE argument, ``scheme:target``
    env: Mapping[str, str] = field(default_factory=dict)  # variables syft needs on top of the usual ones


class Transport(ABC):
    """One kind of image reference. Both methods are required, so no transport can leave syft out."""

    name: ClassVar[str]  # the prefix before ``:``, e.g. ``oci``
    aliases: ClassVar[tuple[str, ...]] = ()  # other prefixes that mean the same (syft's ``oci-dir``)
    # ``PATH[:TAG]`` references: the tag starts after the longest prefix that exists on disk
    takes_path: ClassVar[bool] = False

    @abstractmethod
    def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
        """The source that reads ``ref``; ``platform`` selects from a multi-platform index; ``limits``
        bound what its documents and archives may hold."""

    @abstractmethod
    def syft_target(self, ref: ImageRef, platform: str | None, scratch: Path) -> SyftTarget:
        """How syft reads the same image; ``scratch`` is a private directory that outlives the scan."""
