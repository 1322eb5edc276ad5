"""The interface every image source implements, and the helpers they share."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from layerdiff.errors import DigestMismatch, ImageError
from layerdiff.image.limits import Limits
from layerdiff.image.model import HistoryEntry, ImageSnapshot, LayerDescriptor
from layerdiff.image.streams import ByteStream
from layerdiff.sources.json_docs import parse_json
from layerdiff.sources.shapes import IMAGE_CONFIG, ListOf, Str, checked

if TYPE_CHECKING:
    from layerdiff.sources.export_copy import ExportCopy


@dataclass(frozen=True)
class LayerStream:
    """An uncompressed layer tar to be read to the end before the next one is requested.

    ``layer`` is None when a streaming source cannot tell which layer this is before it has been read:
    the indexer's digest of the stream then identifies it.
    """

    layer: LayerDescriptor | None
    stream: ByteStream


@dataclass(frozen=True)
class BlobRef:
    """A layer blob as a manifest lists it."""

    digest: str | None
    media_type: str | None
    size: int | None


class ImageSource(ABC):
    """Reads one image. Only sources (and the syft runner) touch the outside world."""

    @abstractmethod
    def snapshot(self) -> ImageSnapshot:
        """The image's config, identity and layer list, without reading any layer."""

    @abstractmethod
    def layer_streams(
        self, wanted: Sequence[LayerDescriptor], cached_sizes: Mapping[str, int]
    ) -> Iterator[LayerStream]:
        """Yield the wanted layers' tar streams, each verified against its digest as it is read.

        ``cached_sizes`` (diff_id -> tar size of layers already indexed) lets a source that can only
        stream the whole image skip layers it recognises.
        """

    def prefetch(self, wanted: Sequence[LayerDescriptor]) -> None:  # noqa: B027 - optional hook
        """``wanted`` will be asked for next: a source whose answer takes long to start may ask now."""

    def copy_export(self, copy: ExportCopy) -> bool:
        """Copy the whole-image export this source streams to ``copy`` as it is read, for syft to scan;
        False when the source has no such export (it reads blobs that syft can read as well)."""
        return False

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and file handles."""


def verified_json(data: bytes, digest: str | None, what: str, limits: Limits, warnings: list[str]) -> Any:
    """A JSON document checked against its digest (when known) and bounded by ``limits``; its shape is
    the caller's to check (``sources/shapes.py``)."""
    if digest is not None:
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise DigestMismatch(f"{what}: content digest {actual} does not match {digest}")
    return parse_json(data, what, limits, warnings)


def platform_of(config: Mapping[str, Any]) -> str:
    parts = [str(config.get("os") or "unknown"), str(config.get("architecture") or "unknown")]
    if config.get("variant"):
        parts.append(str(config["variant"]))
    return "/".join(parts)


def build_snapshot(
    reference: str,
    config: Any,
    image_id: str,
    manifest_digest: str | None,
    blobs: Sequence[BlobRef] | None,
    repo_tags: Any = None,
    warnings: list[str] | None = None,
) -> ImageSnapshot:
    """Tie the config's diff_ids, the manifest's blobs and the history together into a snapshot, once the
    config's fields (and the tags) have the types docker gives them. ``warnings`` are those the source's
    documents gave; they reach the report."""
    from layerdiff.image.history import layer_history

    notes = warnings if warnings is not None else []
    config = checked(config, IMAGE_CONFIG, f"{reference}: config", notes)
    tags = checked(list(repo_tags or ()), ListOf(Str()), f"{reference}: RepoTags", notes)
    rootfs = config.get("rootfs") or {}
    diff_ids = rootfs.get("diff_ids")
    if diff_ids is None:
        raise ImageError(f"{reference}: image config has no rootfs.diff_ids")
    if blobs is not None and len(blobs) != len(diff_ids):
        raise ImageError(
            f"{reference}: manifest lists {len(blobs)} layers but the config has {len(diff_ids)} diff_ids"
        )
    history = tuple(
        HistoryEntry(
            created_by=h.get("created_by") or "",
            created=h.get("created"),
            comment=h.get("comment"),
            empty_layer=bool(h.get("empty_layer")),
        )
        for h in config.get("history") or []
    )
    per_layer = layer_history(history, len(diff_ids))
    layers = tuple(
        LayerDescriptor(
            position=i,
            diff_id=diff_id,
            blob_digest=blobs[i].digest if blobs else None,
            media_type=blobs[i].media_type if blobs else None,
            blob_size=blobs[i].size if blobs else None,
            history=per_layer[i],
        )
        for i, diff_id in enumerate(diff_ids)
    )
    return ImageSnapshot(
        reference=reference,
        image_id=image_id,
        manifest_digest=manifest_digest,
        platform=platform_of(config),
        config=config,
        layers=layers,
        history=history,
        repo_tags=tuple(tags),
        warnings=tuple(dict.fromkeys(notes)),
    )
