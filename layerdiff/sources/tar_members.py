"""Random access to the members of an uncompressed archive file (docker save output, OCI archives).

The archive is as hostile as the layers in it: it is read with the strict tar reader, with the same bounds,
and a member the manifest names must be a regular file of the archive. Links between members are followed
(docker save stores a layer shared by two images once and links the other name to it); a link out of the
archive, a FIFO, a device or a sparse member is refused rather than read.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import stat
import zlib
from typing import IO, cast

from layerdiff.errors import HostileLayer, ImageError, ImageNotFound
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.paths import display, normalize
from layerdiff.image.streams import CHUNK, GZIP_MAGIC, BudgetedReader, ByteBudget, ByteStream, ReadStream
from layerdiff.image.tarstream import TarEntry, TarReader

_LINK_HOPS = 8
_KINDS = {
    "1": "a hard link",
    "2": "a symlink",
    "3": "a character device",
    "4": "a block device",
    "5": "a directory",
    "6": "a FIFO",
}


class TarMembers:
    def __init__(self, path: str, limits: Limits = DEFAULT_LIMITS) -> None:
        self.path = path
        try:
            handle = open(path, "rb")
        except FileNotFoundError as exc:
            raise ImageNotFound(f"{path}: no such file") from exc
        except OSError as exc:
            raise ImageError(f"{path}: not a readable tar archive ({exc})") from exc
        self._handle = handle
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            self.close()
            raise ImageError(f"{path}: not a regular file")
        # "docker save | gzip" output is read too; its members are then found by decompressing again
        self._compressed = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        self._members: dict[str, TarEntry] = {}
        try:
            self._scan(limits, info.st_size)
        except (ImageError, LimitExceeded):
            self.close()
            raise

    def _scan(self, limits: Limits, size: int) -> None:
        if self._compressed:
            budget = ByteBudget("image_bytes", limits.image_bytes, "the archive decompresses to")
            unpacked = _Gunzipped(gzip.GzipFile(fileobj=self._handle, mode="rb"), self.path)
            stream = BudgetedReader(unpacked, [budget], self.path)
            reader = TarReader(io.BufferedReader(stream, CHUNK), self.path, limits.tar_header_bytes)
        else:
            reader = TarReader(self._handle, self.path, limits.tar_header_bytes, seekable=True, length=size)
        while (entry := reader.next()) is not None:
            if len(self._members) >= limits.layer_entries:
                raise LimitExceeded(self.path, "layer_entries", limits.layer_entries)
            try:
                name = normalize(entry.name, self.path)
            except HostileLayer:
                continue  # a name outside the archive root can never be referenced by the manifest
            self._members[name] = entry

    def has(self, name: str) -> bool:
        return self._key(name) in self._members

    def open(self, name: str) -> IO[bytes]:
        member = self._regular(name)
        handle = open(self.path, "rb")  # the caller closes what it opened
        if not self._compressed:
            handle.seek(member.offset)
            return cast(IO[bytes], _Member(handle, member.stored, (handle,)))
        unpacked = gzip.GzipFile(fileobj=handle, mode="rb")
        stream = _Gunzipped(unpacked, self.path)
        stream.skip(member.offset)
        return cast(IO[bytes], _Member(stream, member.stored, (unpacked, handle)))

    def read(self, name: str, limit: int, limit_name: str = "json_bytes") -> bytes:
        with self.open(name) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise LimitExceeded(f"{self.path}: {name}", limit_name, limit, f"larger than {limit} bytes")
        return data

    def close(self) -> None:
        self._handle.close()

    def _key(self, name: str) -> str:
        try:
            return normalize(name, self.path)
        except HostileLayer as exc:
            raise ImageError(f"{self.path}: {display(name)!r} is outside the archive") from exc

    def _regular(self, name: str) -> TarEntry:
        key = self._key(name)
        member = self._members.get(key)
        for _ in range(_LINK_HOPS):
            if member is None or member.type not in ("1", "2"):
                break
            base = posixpath.dirname(key) if member.type == "2" else "/"
            try:
                key = normalize(posixpath.join(base, member.linkname), self.path)
            except HostileLayer:
                raise ImageError(f"{self.path}: {name} links outside the archive") from None
            member = self._members.get(key)
        if member is None:
            raise ImageError(f"{self.path}: missing blob {name}")
        if member.type not in ("0", "7") or member.sparse is not None:
            kind = "a sparse file" if member.sparse is not None else _KINDS.get(member.type, "not a file")
            raise ImageError(f"{self.path}: {name} is {kind}, not a regular file")
        return member


class _Member(ReadStream):
    """``size`` bytes of an archive, from where ``inner`` stands; closing it closes ``owners``."""

    def __init__(self, inner: ByteStream, size: int, owners: tuple[io.IOBase, ...]) -> None:
        super().__init__()
        self._inner = inner
        self._left = size
        self._owners = owners

    def read(self, size: int = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        data = self._inner.read(wanted) if wanted else b""
        self._left -= len(data)
        return data

    def close(self) -> None:
        for owner in self._owners:
            owner.close()
        super().close()


class _Gunzipped(ReadStream):
    """A gzip file's decompressed bytes, its errors as ImageError."""

    def __init__(self, inner: gzip.GzipFile, what: str) -> None:
        super().__init__()
        self._inner = inner
        self._what = what

    def read(self, size: int = -1) -> bytes:
        try:
            return self._inner.read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise ImageError(f"{self._what}: corrupt or truncated gzip stream ({exc})") from exc

    def skip(self, size: int) -> None:
        while size > 0:
            data = self.read(min(size, CHUNK))
            if not data:
                raise ImageError(f"{self._what}: truncated gzip stream")
            size -= len(data)
