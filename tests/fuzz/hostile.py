"""Small hostile inputs for the regression tests: archives and layouts with one document replaced, layer
tars with one crafted header, image pairs with one config field of the wrong type, inventories with one
crafted file; and the one property they must all have."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from layerdiff.errors import LayerdiffError
from layerdiff.review import ReviewOptions, review
from layerdiff.sources.transports import open_source, parse_ref
from tests.fuzz.images import Artifact, FuzzImage, _members, _pack, written
from tests.fuzz.mutate_tar import header_block, pax_record
from tests.fuzz.outcome import bounded
from tests.fuzz.targets_inventory import files_artifact, read_inventory
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.pyimage import os_layer

HANG_SECONDS = 3.0  # a reproducer of a hang shows it by running past this


def contained(call: Callable[[], object], seconds: float = HANG_SECONDS) -> None:
    """What every hostile input must get: a result, or a layerdiff error (a one-line message, exit 3);
    within ``seconds``. Any other exception propagates, and so does InputTimeout."""
    try:
        with bounded(seconds):
            call()
    except LayerdiffError:
        pass


def minimal_image(config: dict[str, Any] | None = None, *layers: bytes) -> FuzzImage:
    return FuzzImage([os_layer(), *layers], {"User": "0", **(config or {})})


def deeply_nested(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def write_image(root: Path, image: Image, fmt: str) -> str:
    """``image`` written under ``root`` in ``fmt``; its reference."""
    return written(image, fmt).write(root)


def docker_archive_with_manifest(root: Path, manifest: Callable[[list[dict[str, Any]]], Any] | bytes) -> str:
    """A docker save archive of the minimal image whose manifest.json is ``manifest``: bytes, or what a
    function makes of the real one (a JSON document)."""
    artifact = written(minimal_image(), "docker-archive")
    members = _members(artifact.files["image.tar"])
    if not isinstance(manifest, bytes):
        manifest = json.dumps(manifest(json.loads(members["manifest.json"]))).encode()
    members["manifest.json"] = manifest
    return Artifact({"image.tar": _pack(members)}, artifact.reference).write(root)


def oci_with(root: Path, *, config: bytes | None = None, manifest: Any = None, **config_fields: Any) -> str:
    """An OCI layout of the minimal image with its config bytes, manifest document or config fields
    replaced; the digests that name them are right."""
    image = minimal_image()
    document = json.loads(image.config_json())
    document.update(config_fields)
    image.config_bytes = config if config is not None else json.dumps(document).encode()
    if manifest is not None:
        image.manifest_bytes = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    return write_image(root, image, "oci")


def manifest_of(image: FuzzImage) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(image.manifest()[0])
    return document


def snapshot(reference: str) -> None:
    """The source's snapshot and every layer indexed, as the pipeline reads an image."""
    from layerdiff.index.cache import IndexCache
    from layerdiff.pipeline import load_image

    source = open_source(parse_ref(reference))
    try:
        load_image(source, IndexCache(None))
    finally:
        source.close()


def pax_layer(*records: tuple[bytes, bytes], data: bytes = b"", name: bytes = b"file") -> bytes:
    """A layer tar: a PAX header of ``records``, then one regular file, then the end of the archive."""
    pax = b"".join(pax_record(key, value) for key, value in records)
    member = header_block(name, b"0", len(data))
    blocks = (
        bytes(header_block(b"././@PaxHeader", b"x", len(pax))) + _padded(pax) + bytes(member) + _padded(data)
    )
    return blocks + bytes(1024)


def _padded(data: bytes) -> bytes:
    return data + bytes(-len(data) % 512)


def review_pair(
    root: Path,
    derived_config: dict[str, Any] | None = None,
    *derived_layers: bytes,
    base_config: dict[str, Any] | None = None,
) -> None:
    """review() of the minimal image (with ``base_config``) against itself extended by ``derived_layers``
    and ``derived_config``."""
    base = write_image(root / "base", minimal_image(base_config), "docker-archive")
    derived = minimal_image(derived_config, *(derived_layers or (layer_tar([F("app/run", b"x")]),)))
    derived_reference = write_image(root / "derived", derived, "docker-archive")
    review(base, derived_reference, ReviewOptions(sbom=False, cache_dir=None))


def inventory_with(files: dict[str, bytes], user: str | None = None) -> None:
    """The whole inventory of the seed image with ``files`` (absolute path -> bytes) laid over it."""
    read_inventory(files_artifact(files, user), Path())
