"""``oci:DIR[:TAG]`` and ``oci-archive:PATH[:TAG]``: OCI image layouts, as a directory or a tar of one."""

from __future__ import annotations

import json
import os
from abc import abstractmethod
from pathlib import Path
from typing import IO, Any

from layerdiff.errors import ImageError, ImageNotFound, ToolError
from layerdiff.image.refs import ImageRef
from layerdiff.sources.base import verified_json
from layerdiff.sources.blobs import MAX_JSON_BLOB, BlobImageSource, check_digest
from layerdiff.sources.platforms import select_from_index
from layerdiff.sources.tar_members import TarMembers

REF_NAME = "org.opencontainers.image.ref.name"


def select_from_layout(index: dict[str, Any], tag: str | None, what: str) -> dict[str, Any] | None:
    """The manifest descriptor the tag names; None when the layout's index itself should be resolved."""
    manifests = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
    if tag is not None:
        for descriptor in manifests:
            if (descriptor.get("annotations") or {}).get(REF_NAME) == tag:
                return descriptor
        names = sorted({str((m.get("annotations") or {}).get(REF_NAME)) for m in manifests})
        raise ImageNotFound(f"{what}: no image tagged {tag!r} (tags: {', '.join(names) or 'none'})")
    if len(manifests) == 1:
        return manifests[0]
    if not manifests:
        raise ImageNotFound(f"{what}: the layout's index.json lists no image")
    if all(m.get("platform") for m in manifests):
        return None
    names = sorted({str((m.get("annotations") or {}).get(REF_NAME)) for m in manifests})
    raise ImageError(f"{what}: the layout holds several images; name one as :TAG ({', '.join(names)})")


class _LayoutSource(BlobImageSource):
    def __init__(self, reference: str, tag: str | None, platform: str | None) -> None:
        super().__init__(reference, platform)
        self.tag = tag

    @abstractmethod
    def _read_file(self, name: str) -> bytes:
        """A file of the layout, such as index.json."""

    def root(self) -> tuple[dict[str, Any], str | None]:
        index = verified_json(self._read_file("index.json"), None, f"{self.reference}: index.json")
        descriptor = select_from_layout(index, self.tag, self.reference)
        if descriptor is None:
            return index, None
        digest = check_digest(descriptor.get("digest"), self.reference)
        return self.read_json(digest, f"{self.reference}: manifest {digest}"), digest


class OciLayoutSource(_LayoutSource):
    def __init__(self, directory: str, tag: str | None, platform: str | None) -> None:
        super().__init__(f"oci:{directory}" + (f":{tag}" if tag else ""), tag, platform)
        if not os.path.isfile(os.path.join(directory, "index.json")):
            raise ImageNotFound(f"{directory}: not an OCI image layout (no index.json)")
        self.directory = directory

    def _read_file(self, name: str) -> bytes:
        with open(os.path.join(self.directory, name), "rb") as handle:
            data = handle.read(MAX_JSON_BLOB + 1)
        if len(data) > MAX_JSON_BLOB:
            raise ImageError(f"{self.reference}: {name} is too large")
        return data

    def open_blob(self, digest: str) -> IO[bytes]:
        algorithm, _, hexdigest = check_digest(digest, self.reference).partition(":")
        path = os.path.join(self.directory, "blobs", algorithm, hexdigest)
        try:
            return open(path, "rb")
        except FileNotFoundError as exc:
            raise ImageError(f"{self.reference}: missing blob {digest}") from exc


class OciArchiveSource(_LayoutSource):
    def __init__(self, path: str, tag: str | None, platform: str | None) -> None:
        super().__init__(f"oci-archive:{path}" + (f":{tag}" if tag else ""), tag, platform)
        self.archive = TarMembers(path)
        if not self.archive.has("index.json"):
            raise ImageNotFound(f"{path}: not an OCI archive (no index.json)")

    def _read_file(self, name: str) -> bytes:
        return self.archive.read(name, MAX_JSON_BLOB)

    def open_blob(self, digest: str) -> IO[bytes]:
        algorithm, _, hexdigest = check_digest(digest, self.reference).partition(":")
        name = f"blobs/{algorithm}/{hexdigest}"
        if not self.archive.has(name):
            raise ImageError(f"{self.reference}: missing blob {digest}")
        return self.archive.open(name)

    def close(self) -> None:
        self.archive.close()


def single_image_layout(ref: ImageRef, platform: str | None, target: Path) -> Path:
    """A layout at ``target`` holding just the image ``ref`` and ``platform`` select, for tools that take a
    layout of one image (syft): its index names the selected manifest and links to the original blobs, so
    nothing is copied."""
    source = Path(ref.target)
    try:
        index = json.loads((source / "index.json").read_text())
    except (OSError, ValueError) as exc:
        raise ToolError(f"cannot read {source / 'index.json'} for syft ({exc})") from exc
    descriptor = select_from_layout(index, ref.tag, str(ref))
    if descriptor is None:
        descriptor = select_from_index(index, platform, str(ref))
    target.mkdir(parents=True)
    (target / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (target / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    (target / "blobs").symlink_to((source / "blobs").resolve())
    return target
