"""Random access to the members of an uncompressed archive file (docker save output, OCI archives)."""

from __future__ import annotations

import posixpath
import tarfile
from typing import IO

from layerdiff.errors import ImageError, ImageNotFound
from layerdiff.image.paths import normalize


class TarMembers:
    def __init__(self, path: str) -> None:
        self.path = path
        try:
            # "r:*" also reads `docker save | gzip` output; layers are read in order, so seeks stay cheap
            self._tar = tarfile.open(path, mode="r:*")
            members = self._tar.getmembers()
        except FileNotFoundError as exc:
            raise ImageNotFound(f"{path}: no such file") from exc
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ImageError(f"{path}: not a readable tar archive ({exc})") from exc
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            try:
                name = normalize(member.name, path)
            except ImageError:
                continue  # a name outside the archive root can never be referenced by the manifest
            self._members[name] = member

    def has(self, name: str) -> bool:
        return normalize(name, self.path) in self._members

    def open(self, name: str) -> IO[bytes]:
        key = normalize(name, self.path)
        member = self._members.get(key)
        # docker save stores a layer shared by two images once and links the second name to it
        for _ in range(8):
            if member is None or not (member.issym() or member.islnk()):
                break
            base = posixpath.dirname(key) if member.issym() else "/"
            key = normalize(posixpath.join(base, member.linkname), self.path)
            member = self._members.get(key)
        if member is None or not member.isfile():
            raise ImageError(f"{self.path}: missing blob {name}")
        handle = self._tar.extractfile(member)
        if handle is None:
            raise ImageError(f"{self.path}: cannot read {name}")
        return handle

    def read(self, name: str, limit: int) -> bytes:
        with self.open(name) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise ImageError(f"{self.path}: {name} is larger than {limit} bytes")
        return data

    def close(self) -> None:
        self._tar.close()
