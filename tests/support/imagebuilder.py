"""Assemble small OCI layouts, OCI archives and docker-save archives in Python, with exact control over
every tar header: whiteouts, hard links, xattrs, hostile names. For unit tests and the bundled example."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}


@dataclass
class F:
    """One tar entry. ``kind``: file, dir, symlink, hardlink, fifo, char, block."""

    name: str
    data: bytes = b""
    kind: str = "file"
    mode: int | None = None
    uid: int = 0
    gid: int = 0
    link: str = ""
    xattrs: dict[str, bytes] = field(default_factory=dict)


_KINDS = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "fifo": tarfile.FIFOTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
}


def layer_tar(entries: list[F], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.type = _KINDS[entry.kind]
            info.mode = entry.mode if entry.mode is not None else (0o755 if entry.kind == "dir" else 0o644)
            info.uid, info.gid = entry.uid, entry.gid
            info.mtime = 1_700_000_000
            info.linkname = entry.link
            if entry.xattrs:
                info.pax_headers = {
                    f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape") for k, v in entry.xattrs.items()
                }
            if entry.kind == "file":
                info.size = len(entry.data)
                archive.addfile(info, io.BytesIO(entry.data))
            else:
                archive.addfile(info)
    return buffer.getvalue()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, mtime=0)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


@dataclass
class Image:
    layers: list[bytes]  # uncompressed layer tars
    config: dict[str, Any] = field(default_factory=dict)  # the runtime "config" object
    history: list[dict[str, Any]] | None = None  # defaults to one entry per layer
    compression: str = "gzip"
    architecture: str = "amd64"
    os: str = "linux"
    # hostile images: blobs stored as given (a decompression bomb) with the diff_ids claimed for them, and
    # top-level fields added to the config document and the manifest
    stored: list[bytes] | None = None
    diff_ids: list[str] | None = None
    config_extra: dict[str, Any] = field(default_factory=dict)
    manifest_extra: dict[str, Any] = field(default_factory=dict)

    def config_json(self) -> bytes:
        history = self.history
        if history is None:
            history = [{"created_by": f"/bin/sh -c #(nop) ADD layer{i}"} for i in range(len(self.layers))]
        document = {
            "architecture": self.architecture,
            "os": self.os,
            "config": self.config,
            "rootfs": {
                "type": "layers",
                "diff_ids": self.diff_ids or [sha256(layer) for layer in self.layers],
            },
            "history": history,
            **self.config_extra,
        }
        return json.dumps(document, sort_keys=True).encode()

    def blobs(self) -> list[bytes]:
        if self.stored is not None:
            return self.stored
        return [compress(layer, self.compression) for layer in self.layers]

    def manifest(self) -> tuple[bytes, dict[str, bytes]]:
        """The OCI manifest and every blob it references, by digest."""
        config = self.config_json()
        blobs = {sha256(config): config}
        layers = []
        for blob in self.blobs():
            blobs[sha256(blob)] = blob
            layers.append(
                {"mediaType": LAYER_TYPES[self.compression], "digest": sha256(blob), "size": len(blob)}
            )
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": sha256(config), "size": len(config)},
            "layers": layers,
            **self.manifest_extra,
        }
        return json.dumps(manifest, sort_keys=True).encode(), blobs


def write_oci_layout(directory: Path, images: dict[str, Image], multi_platform: bool = False) -> Path:
    """Write images into an OCI layout, tagged by the dict keys (or as one multi-platform index)."""
    blobs_dir = directory / "blobs" / "sha256"
    blobs_dir.mkdir(parents=True, exist_ok=True)
    descriptors = []
    for tag, image in images.items():
        manifest, blobs = image.manifest()
        blobs[sha256(manifest)] = manifest
        for digest, blob in blobs.items():
            (blobs_dir / digest.split(":", 1)[1]).write_bytes(blob)
        descriptor: dict[str, Any] = {
            "mediaType": OCI_MANIFEST,
            "digest": sha256(manifest),
            "size": len(manifest),
        }
        if multi_platform:
            descriptor["platform"] = {"os": image.os, "architecture": image.architecture}
        else:
            descriptor["annotations"] = {"org.opencontainers.image.ref.name": tag}
        descriptors.append(descriptor)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    (directory / "index.json").write_text(json.dumps(index, sort_keys=True))
    return directory


def tar_directory(directory: Path, archive_path: Path) -> Path:
    with tarfile.open(archive_path, "w") as archive:
        for root, dirs, files in os.walk(directory):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                archive.add(full, arcname=str(full.relative_to(directory)))
    return archive_path


def write_oci_archive(path: Path, images: dict[str, Image], scratch: Path) -> Path:
    layout = write_oci_layout(scratch / (path.name + ".layout"), images)
    return tar_directory(layout, path)


def write_docker_archive(path: Path, image: Image, repo_tag: str = "example:latest") -> Path:
    """A legacy ``docker save`` archive: uncompressed ``<id>/layer.tar`` files and manifest.json."""
    config = image.config_json()
    members: dict[str, bytes] = {sha256(config).split(":", 1)[1] + ".json": config}
    layer_names = []
    for layer in image.layers:
        name = hashlib.sha256(b"v1" + layer).hexdigest() + "/layer.tar"
        members[name] = layer
        layer_names.append(name)
    manifest = [
        {"Config": sha256(config).split(":", 1)[1] + ".json", "RepoTags": [repo_tag], "Layers": layer_names}
    ]
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(path, "w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


# -- raw tar pieces, for headers tarfile would never write ---------------------------------------------

USTAR = b"ustar\x0000"
GNU = b"ustar  \x00"


def tar_header(
    name: bytes,
    size: int = 0,
    kind: bytes = b"0",
    *,
    link: bytes = b"",
    magic: bytes = USTAR,
    fields: dict[int, bytes] | None = None,
    checksum_delta: int = 0,
) -> bytes:
    """One 512-byte header block. ``fields`` overwrites bytes at their offsets (a size that is not a
    number, a sparse map) before the checksum is computed; ``checksum_delta`` then makes it wrong."""
    block = bytearray(512)
    block[0:100] = name[:100].ljust(100, b"\0")
    block[100:108] = b"%07o\0" % 0o644
    block[108:116] = block[116:124] = b"%07o\0" % 0
    block[124:136] = tar_number(size)
    block[136:148] = b"%011o\0" % 1_700_000_000
    block[156:157] = kind
    block[157:257] = link[:100].ljust(100, b"\0")
    block[257:265] = magic
    for offset, value in (fields or {}).items():
        block[offset : offset + len(value)] = value
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % (sum(block) + checksum_delta)
    return bytes(block)


def tar_number(value: int, width: int = 12) -> bytes:
    """Octal when it fits the field, else base-256 (GNU's encoding of large numbers)."""
    if value < 8 ** (width - 1):
        return b"%0*o\0" % (width - 1, value)
    return bytes([0x80]) + value.to_bytes(width - 1, "big")


def padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 512)


def tar_member(name: bytes, data: bytes = b"", kind: bytes = b"0", **header: Any) -> bytes:
    return tar_header(name, len(data), kind, **header) + padded(data)


def pax_records(records: dict[bytes, bytes]) -> bytes:
    """``"%d %s=%s\\n"`` records, each length counting its own digits."""
    out = b""
    for key, value in records.items():
        body = b" " + key + b"=" + value + b"\n"
        length = len(body) + 1
        while len(str(length)) + len(body) != length:
            length += 1
        out += str(length).encode() + body
    return out


def pax_member(records: dict[bytes, bytes], kind: bytes = b"x") -> bytes:
    return tar_member(b"PaxHeader", pax_records(records), kind)


END_OF_ARCHIVE = bytes(1024)


def old_gnu_sparse(
    name: bytes, real_size: int, fragments: list[tuple[int, bytes]], per_extension: int = 21
) -> bytes:
    """A GNU 'S' entry: up to 4 (offset, length) pairs in the header, the rest in extension blocks."""
    stored = b"".join(data for _, data in fragments)
    pairs = [tar_number(offset) + tar_number(len(data)) for offset, data in fragments]
    head, rest = pairs[:4], pairs[4:]
    fields = {386: b"".join(head), 483: tar_number(real_size), 482: b"\1" if rest else b"\0"}
    out = tar_header(name, len(stored), b"S", magic=GNU, fields=fields)
    while rest:
        chunk, rest = rest[:per_extension], rest[per_extension:]
        extension = bytearray(512)
        extension[0 : 24 * len(chunk)] = b"".join(chunk)
        extension[504] = 1 if rest else 0
        out += bytes(extension)
    return out + padded(stored)


def pax_sparse_1_0(name: bytes, real_size: int, fragments: list[tuple[int, bytes]]) -> bytes:
    """GNU's PAX sparse format 1.0: the map as decimal lines in whole blocks before the data."""
    numbers = [len(fragments)] + [n for offset, data in fragments for n in (offset, len(data))]
    sparse_map = padded(b"".join(b"%d\n" % n for n in numbers))
    body = sparse_map + b"".join(data for _, data in fragments)
    records = {
        b"GNU.sparse.major": b"1",
        b"GNU.sparse.minor": b"0",
        b"GNU.sparse.name": name,
        b"GNU.sparse.realsize": str(real_size).encode(),
    }
    return pax_member(records) + tar_member(b"GNUSparseFile.0/" + name[-80:], body)
