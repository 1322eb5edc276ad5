"""Sources that address content by digest: OCI layouts, OCI archives and registries share this logic."""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from layerdiff.errors import ImageError
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.model import ImageSnapshot, LayerDescriptor
from layerdiff.image.streams import DigestReader, decompressed
from layerdiff.sources.base import BlobRef, ImageSource, LayerStream, build_snapshot, verified_json
from layerdiff.sources.json_docs import read_bounded
from layerdiff.sources.platforms import select_from_index
from layerdiff.sources.shapes import MANIFEST_OR_INDEX, checked

DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}


def check_digest(digest: Any, what: str) -> str:
    if not isinstance(digest, str) or not DIGEST.match(digest):
        raise ImageError(f"{what}: unsupported or malformed digest {digest!r}")
    return digest


class BlobImageSource(ImageSource):
    def __init__(self, reference: str, platform: str | None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.reference = reference
        self.platform = platform
        self.limits = limits
        self.warnings: list[str] = []  # what reading the documents gave, for the snapshot

    @abstractmethod
    def open_blob(self, digest: str) -> IO[bytes]:
        """The raw bytes of a blob; verification is the caller's job."""

    @abstractmethod
    def root(self) -> tuple[Any, str | None]:
        """The top-level manifest or index, and its digest when known."""

    def read_json(self, digest: str, what: str) -> Any:
        check_digest(digest, what)
        with self.open_blob(digest) as blob:
            data = read_bounded(blob, what, self.limits)
        return verified_json(data, digest, what, self.limits, self.warnings)

    def shaped(self, document: Any, what: str) -> dict[str, Any]:
        """A manifest or index with the field types docker reads it with."""
        value: dict[str, Any] = checked(document, MANIFEST_OR_INDEX, what, self.warnings)
        return value

    def snapshot(self) -> ImageSnapshot:
        root, digest = self.root()
        document = self.shaped(root, f"{self.reference}: manifest")
        # Nested indexes are legal; three levels is already more than any real image uses.
        for _ in range(3):
            if not _is_index(document):
                break
            descriptor = select_from_index(document, self.platform, self.reference)
            digest = check_digest(descriptor.get("digest"), self.reference)
            what = f"{self.reference}: manifest {digest}"
            document = self.shaped(self.read_json(digest, what), what)
        if _is_index(document):
            raise ImageError(f"{self.reference}: image indexes nested too deeply")
        config_descriptor = document.get("config") or {}
        config_digest = check_digest(config_descriptor.get("digest"), f"{self.reference}: config")
        config = self.read_json(config_digest, f"{self.reference}: config {config_digest}")
        blobs = [
            BlobRef(
                check_digest(layer.get("digest"), f"{self.reference}: layer"),
                layer.get("mediaType"),
                layer.get("size"),
            )
            for layer in document.get("layers") or []
        ]
        return build_snapshot(self.reference, config, config_digest, digest, blobs, warnings=self.warnings)

    def layer_streams(
        self, wanted: Sequence[LayerDescriptor], cached_sizes: Mapping[str, int]
    ) -> Iterator[LayerStream]:
        for layer in wanted:
            assert layer.blob_digest is not None
            what = f"{self.reference}: layer {layer.position} ({layer.blob_digest})"
            with self.open_blob(layer.blob_digest) as raw:
                verified = DigestReader(raw, layer.blob_digest, what, layer.blob_size)
                yield LayerStream(layer, decompressed(verified, what))


def _is_index(document: dict[str, Any]) -> bool:
    return document.get("mediaType") in INDEX_TYPES or ("manifests" in document and "layers" not in document)
