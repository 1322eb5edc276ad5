"""``oci:DIR[:TAG]`` and ``oci-archive:PATH[:TAG]``: OCI image layouts, as a directory or a tar of one."""

from __future__ import annotations

import json
import os
import stat
from abc import abstractmethod
from pathlib import Path
from typing import IO, Any

from layerdiff.errors import ImageError, ImageNotFound
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.refs import ImageRef
from layerdiff.sources.base import verified_json
from layerdiff.sources.blobs import BlobImageSource, check_digest
from layerdiff.sources.json_docs import read_bounded
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
    def __init__(self, reference: str, tag: str | None, platform: str | None, limits: Limits) -> None:
        super().__init__(reference, platform, limits)
        self.tag = tag

    @abstractmethod
    def _read_file(self, name: str) -> bytes:
        """A file of the layout, such as index.json."""

    def index(self) -> dict[str, Any]:
        """The layout's index.json, bounded and with the types docker reads it with."""
        what = f"{self.reference}: index.json"
        data = self._read_file("index.json")
        return self.shaped(verified_json(data, None, what, self.limits, self.warnings), what)

    def root(self) -> tuple[Any, str | None]:
        index = self.index()
        descriptor = select_from_layout(index, self.tag, self.reference)
        if descriptor is None:
            return index, None
        digest = check_digest(descriptor.get("digest"), self.reference)
        return self.read_json(digest, f"{self.reference}: manifest {digest}"), digest


def _check_layout_directory(directory: str) -> None:
    """That ``directory`` is an OCI image layout, or what it is instead, in a line."""
    if not os.path.lexists(directory):
        raise ImageNotFound(f"no such directory: {directory}")
    if not os.path.isdir(directory):
        raise ImageError(
            f"{directory}: not a directory, so not an OCI image layout (for a tar of one: oci-archive:)"
        )
    if os.path.lexists(os.path.join(directory, "index.json")):
        return
    if os.path.lexists(os.path.join(directory, "manifest.json")):
        raise ImageError(
            f"{directory}: an unpacked docker save, not an OCI image layout (no index.json): "
            "pass the archive itself"
        )
    raise ImageNotFound(f"{directory}: not an OCI image layout (no index.json)")


class OciLayoutSource(_LayoutSource):
    def __init__(
        self, directory: str, tag: str | None, platform: str | None, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        super().__init__(f"oci:{directory}" + (f":{tag}" if tag else ""), tag, platform, limits)
        _check_layout_directory(directory)
        self.directory = directory
        self._root = os.path.realpath(directory)

    def _read_file(self, name: str) -> bytes:
        with self._open_inside(name, name) as handle:
            return read_bounded(handle, f"{self.reference}: {name}", self.limits)

    def open_blob(self, digest: str) -> IO[bytes]:
        algorithm, _, hexdigest = check_digest(digest, self.reference).partition(":")
        return self._open_inside(os.path.join("blobs", algorithm, hexdigest), f"blob {digest}")

    def _open_inside(self, name: str, what: str) -> IO[bytes]:
        """A file of the layout, if it is a regular file inside it: a FIFO would block the read forever, and
        a device or a link out of the layout (to /dev/zero) would read what is not the image's."""
        real = os.path.realpath(os.path.join(self._root, name))
        if os.path.commonpath([real, self._root]) != self._root:
            raise ImageError(f"{self.reference}: {what} links outside the layout ({real})")
        try:
            # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except FileNotFoundError as exc:
            raise ImageError(f"{self.reference}: missing {what}") from exc
        except OSError as exc:
            raise ImageError(f"{self.reference}: cannot read {what} ({exc.strerror})") from exc
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise ImageError(f"{self.reference}: {what} is {_file_kind(mode)}, not a regular file")
        return os.fdopen(fd, "rb")


class OciArchiveSource(_LayoutSource):
    def __init__(
        self, path: str, tag: str | None, platform: str | None, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        super().__init__(f"oci-archive:{path}" + (f":{tag}" if tag else ""), tag, platform, limits)
        self.archive = TarMembers(path, limits)
        if not self.archive.has("index.json"):
            raise ImageNotFound(f"{path}: not an OCI archive (no index.json)")

    def _read_file(self, name: str) -> bytes:
        return self.archive.read(name, self.limits.json_bytes)

    def open_blob(self, digest: str) -> IO[bytes]:
        algorithm, _, hexdigest = check_digest(digest, self.reference).partition(":")
        name = f"blobs/{algorithm}/{hexdigest}"
        if not self.archive.has(name):
            raise ImageError(f"{self.reference}: missing blob {digest}")
        return self.archive.open(name)

    def close(self) -> None:
        self.archive.close()


def _file_kind(mode: int) -> str:
    kinds = {
        "a FIFO": stat.S_ISFIFO,
        "a character device": stat.S_ISCHR,
        "a block device": stat.S_ISBLK,
        "a directory": stat.S_ISDIR,
        "a socket": stat.S_ISSOCK,
    }
    return next((name for name, test in kinds.items() if test(mode)), "not a file")


def single_image_layout(ref: ImageRef, platform: str | None, target: Path) -> Path:
    """A layout at ``target`` holding just the image ``ref`` and ``platform`` select, for tools that take a
    layout of one image (syft): its index names the selected manifest and links to the original blobs, so
    nothing is copied."""
    source = Path(ref.target)
    index = OciLayoutSource(ref.target, ref.tag, platform).index()
    descriptor = select_from_layout(index, ref.tag, str(ref))
    if descriptor is None:
        descriptor = select_from_index(index, platform, str(ref))
    target.mkdir(parents=True)
    (target / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (target / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    (target / "blobs").symlink_to((source / "blobs").resolve())
    return target
