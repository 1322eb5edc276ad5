"""Random access to the members of an uncompressed archive file (docker save output, OCI archives).

The archive is as hostile as the layers in it: it is read with the strict tar reader, with the same bounds,
and a member the manifest names must be a regular file of the archive. Links between members are followed
(docker save stores a layer shared by two images once and links the other name to it); a link out of the
archive, a FIFO, a device or a sparse member is refused rather than read.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import posixpath
import stat
import zlib
from typing import IO, cast

from layerdiff.errors import CorruptLayer, HostileLayer, ImageError, ImageNotFound
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.paths import display, normalize
from layerdiff.image.streams import (
    CHUNK,
    GZIP_MAGIC,
    ZSTD_MAGIC,
    BudgetedReader,
    ByteBudget,
    ByteStream,
    ReadStream,
)
from layerdiff.image.tarstream import BLOCK, TarEntry, TarReader

_LINK_HOPS = 8
_ARCHIVES = "a docker save or OCI archive is a tar file"
_COMPRESSIONS = ((b"\xfd7zXZ\x00", "xz"), (b"BZh", "bzip2"), (ZSTD_MAGIC, "zstd"))
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
            raise ImageNotFound(f"no such file: {path}") from exc
        except IsADirectoryError as exc:
            raise ImageError(
                f"{path}: a directory, not an archive (for an OCI image layout: oci:DIR)"
            ) from exc
        except OSError as exc:
            raise ImageError(f"{path}: not a readable tar archive ({exc})") from exc
        self._handle = handle
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            self.close()
            raise ImageError(f"{path}: not a regular file")
        head = handle.read(BLOCK)
        if not head:
            self.close()
            raise ImageError(f"{path}: an empty file, not an image archive ({_ARCHIVES})")
        # "docker save | gzip" output is read too; its members are then found by decompressing again
        self._compressed = head.startswith(GZIP_MAGIC)
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
        try:
            entry = reader.next()
        except CorruptLayer as exc:
            plainer = self._not_an_archive()
            if plainer is None:
                raise
            raise plainer from exc
        while entry is not None:
            if len(self._members) >= limits.layer_entries:
                raise LimitExceeded(self.path, "layer_entries", limits.layer_entries)
            # a name outside the archive root can never be referenced by the manifest: passed over
            with contextlib.suppress(HostileLayer):
                self._members[normalize(entry.name, self.path)] = entry
            entry = reader.next()

    def _not_an_archive(self) -> ImageError | None:
        """What a file whose first header is no tar header is, said in a line (a README given as an image);
        None for a tar archive corrupt from its first header, which the reader's words describe."""
        self._handle.seek(0)
        head = self._handle.read(BLOCK)
        if head[257:262] == b"ustar":
            return None
        compression = next((name for magic, name in _COMPRESSIONS if head.startswith(magic)), None)
        if compression is not None:
            return ImageError(
                f"{self.path}: {compression}-compressed; an image archive is read as a tar or a gzipped "
                f"tar: decompress it first"
            )
        if self._compressed:
            return ImageError(
                f"{self.path}: a gzip file that holds no tar, not an image archive ({_ARCHIVES})"
            )
        kind = "a text file" if _is_text(head) else "not a tar file"
        return ImageError(f"{self.path}: {kind}, not an image archive ({_ARCHIVES})")

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


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut by the end of the block
    return True
