"""``docker-archive:PATH[:NAME:TAG]``: the output of ``docker save`` (legacy and OCI-style)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from layerdiff.errors import ImageError, ImageNotFound
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.model import ImageSnapshot, LayerDescriptor
from layerdiff.image.streams import DigestReader, decompressed
from layerdiff.sources.base import BlobRef, ImageSource, LayerStream, build_snapshot, verified_json
from layerdiff.sources.shapes import ARCHIVE_MANIFEST, checked
from layerdiff.sources.tar_members import TarMembers


class DockerArchiveSource(ImageSource):
    def __init__(self, path: str, tag: str | None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.reference = f"docker-archive:{path}" + (f":{tag}" if tag else "")
        self.archive = TarMembers(path, limits)
        if not self.archive.has("manifest.json"):
            self.archive.close()
            raise ImageNotFound(f"{path}: not a docker save archive (no manifest.json)")
        self.tag = tag
        self.limits = limits
        self.warnings: list[str] = []
        self._layer_files: dict[int, str] = {}

    def _entry(self) -> dict[str, Any]:
        what = f"{self.reference}: manifest.json"
        data = self.archive.read("manifest.json", self.limits.json_bytes)
        document = verified_json(data, None, what, self.limits, self.warnings)
        manifest: list[dict[str, Any]] = checked(document, ARCHIVE_MANIFEST, what, self.warnings)
        if not manifest:
            raise ImageError(f"{self.reference}: manifest.json lists no image")
        if self.tag is None:
            if len(manifest) > 1:
                tags = ", ".join(t for m in manifest for t in m.get("RepoTags") or [])
                raise ImageError(f"{self.reference}: the archive holds several images; name one ({tags})")
            return manifest[0]
        for item in manifest:
            if self.tag in (item.get("RepoTags") or []):
                return item
        raise ImageNotFound(f"{self.reference}: no image tagged {self.tag!r} in the archive")

    def snapshot(self) -> ImageSnapshot:
        entry = self._entry()
        config_name = entry.get("Config")
        if not config_name:
            raise ImageError(f"{self.reference}: manifest.json names no config")
        config_bytes = self.archive.read(config_name, self.limits.json_bytes)
        image_id = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        # OCI-style archives name the config by its digest, so the name must match the content.
        expected = (
            "sha256:" + config_name.rsplit("/", 1)[-1] if config_name.startswith("blobs/sha256/") else None
        )
        what = f"{self.reference}: config"
        config = verified_json(config_bytes, expected, what, self.limits, self.warnings)
        layer_files: list[str] = entry.get("Layers") or []
        self._layer_files = dict(enumerate(layer_files))
        blobs = [
            BlobRef("sha256:" + n.rsplit("/", 1)[-1] if n.startswith("blobs/sha256/") else None, None, None)
            for n in layer_files
        ]
        return build_snapshot(
            self.reference, config, image_id, None, blobs, entry.get("RepoTags"), self.warnings
        )

    def layer_streams(
        self, wanted: Sequence[LayerDescriptor], cached_sizes: Mapping[str, int]
    ) -> Iterator[LayerStream]:
        for layer in wanted:
            name = self._layer_files[layer.position]
            what = f"{self.reference}: layer {layer.position} ({name})"
            with self.archive.open(name) as raw:
                verified = DigestReader(raw, layer.blob_digest, what)
                yield LayerStream(layer, decompressed(verified, what))

    def close(self) -> None:
        self.archive.close()
