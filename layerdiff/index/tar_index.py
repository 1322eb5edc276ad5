"""Read one layer's tar stream once: every entry's header, content digests, and what the inventory needs."""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
from typing import IO, cast

from layerdiff.errors import CorruptLayer, HostileLayer
from layerdiff.image.model import ElfInfo, Entry, EntryType, LayerIndex
from layerdiff.image.paths import OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, display, normalize
from layerdiff.image.streams import CHUNK, ByteStream, DigestReader, ForwardReader, forget_members
from layerdiff.index.capture import MAX_CAPTURED_BYTES, CaptureSpec, script_head
from layerdiff.index.elf import is_elf_magic, parse_elf

DEFAULT_MAX_ENTRIES = 2_000_000
XATTR_PREFIX = "SCHILY.xattr."

_MARKERS = (EntryType.WHITEOUT, EntryType.OPAQUE)
_TYPES = {
    tarfile.REGTYPE: EntryType.FILE,
    tarfile.AREGTYPE: EntryType.FILE,
    tarfile.CONTTYPE: EntryType.FILE,
    tarfile.GNUTYPE_SPARSE: EntryType.FILE,
    tarfile.DIRTYPE: EntryType.DIR,
    tarfile.SYMTYPE: EntryType.SYMLINK,
    tarfile.LNKTYPE: EntryType.HARDLINK,
    tarfile.CHRTYPE: EntryType.CHAR,
    tarfile.BLKTYPE: EntryType.BLOCK,
    tarfile.FIFOTYPE: EntryType.FIFO,
}


def index_layer(
    stream: ByteStream,
    expected_diff_id: str | None,
    what: str,
    capture: CaptureSpec,
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> LayerIndex:
    """Index an uncompressed layer tar, verifying it hashes to ``expected_diff_id`` when one is given.

    Duplicate paths keep the last entry (what extraction would leave). A hard link's digest is taken from
    its target when the target is earlier in this layer; otherwise it is resolved against lower layers
    when layers are merged. The contents ``capture`` declares are kept, and ELF objects are reduced to their
    loader facts, in the same pass.
    """
    hashed = DigestReader(stream, expected_diff_id, what)
    layer = _LayerReader(what, capture)
    count = 0
    try:
        reader = cast(IO[bytes], ForwardReader(hashed))
        with tarfile.open(fileobj=reader, mode="r:") as archive:
            while (member := archive.next()) is not None:
                count += 1
                if count > max_entries:
                    raise HostileLayer(f"{what}: more than {max_entries} entries")
                layer.add(archive, member)
                forget_members(archive)
        hashed.drain()
    except (tarfile.TarError, EOFError) as exc:
        raise CorruptLayer(f"{what}: not a valid tar stream ({exc})") from exc
    return LayerIndex(
        diff_id=hashed.digest,
        tar_size=hashed.bytes_read,
        entries=tuple(layer.entries.values()),
        warnings=tuple(layer.warnings),
        contents=layer.contents,
        elf=layer.elf,
    )


class _LayerReader:
    """Accumulates one layer's entries, captured contents and ELF facts as its members stream past."""

    def __init__(self, what: str, capture: CaptureSpec) -> None:
        self.what = what
        self.capture = capture
        self.entries: dict[tuple[str, bool], Entry] = {}  # keyed by (path, is a whiteout/opaque marker)
        self.contents: dict[str, bytes] = {}
        self.elf: dict[str, ElfInfo] = {}
        self.warnings: list[str] = []

    def add(self, archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        entry = self._entry(archive, member)
        if entry is None:
            return
        key = (entry.path, entry.type in _MARKERS)
        if key in self.entries and entry.type is not EntryType.DIR:
            self.warnings.append(f"{display(entry.path)} appears more than once; the last entry wins")
        if entry.type is not EntryType.FILE:
            # a later non-file entry for the same path replaces whatever content was kept for it
            self.contents.pop(entry.path, None)
            self.elf.pop(entry.path, None)
        self.entries[key] = entry

    def _entry(self, archive: tarfile.TarFile, member: tarfile.TarInfo) -> Entry | None:
        path = normalize(member.name, self.what)
        base = posixpath.basename(path)
        if base == OPAQUE_MARKER:
            return Entry(path=posixpath.dirname(path), type=EntryType.OPAQUE)
        if f"/{WHITEOUT_META_PREFIX}" in path:
            return None  # aufs bookkeeping, not part of the image's filesystem
        if base.startswith(WHITEOUT_PREFIX):
            return Entry(
                path=posixpath.join(posixpath.dirname(path), base[len(WHITEOUT_PREFIX) :]),
                type=EntryType.WHITEOUT,
            )
        kind = _TYPES.get(member.type)
        if kind is None:
            raise CorruptLayer(
                f"{self.what}: entry {display(member.name)!r} has unknown tar type {member.type!r}"
            )
        link: str | None = None
        sha256 = md5 = None
        size = member.size if kind is EntryType.FILE else 0
        if kind is EntryType.SYMLINK:
            link = member.linkname
        elif kind is EntryType.HARDLINK:
            link = normalize(member.linkname, self.what)
            target = self.entries.get((link, False))
            if target is not None and target.type is EntryType.FILE:
                sha256, md5, size = target.sha256, target.md5, target.size
                self._share_facts(link, path)
        elif kind is EntryType.FILE:
            sha256, md5 = self._read_file(archive, member, path)
        return Entry(
            path=path,
            type=kind,
            mode=member.mode & 0o7777,
            uid=member.uid,
            gid=member.gid,
            size=size,
            link=link,
            sha256=sha256,
            xattrs=_xattrs(member),
            md5=md5,
        )

    def _read_file(self, archive: tarfile.TarFile, member: tarfile.TarInfo, path: str) -> tuple[str, str]:
        """Hash the content; keep it when the inventory parses it or when it is an ELF object."""
        sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        kept: list[bytes] | None = None
        content = archive.extractfile(member)
        first = True
        if content is not None:
            while chunk := content.read(CHUNK):
                if first:
                    first = False
                    script = self.capture.wants_script(member.size, member.mode, chunk)
                    if member.size <= MAX_CAPTURED_BYTES and (
                        script or self.capture.wants(path) or is_elf_magic(chunk)
                    ):
                        kept = []
                if kept is not None:
                    kept.append(chunk)
                sha256.update(chunk)
                md5.update(chunk)
        if kept is not None:
            data = b"".join(kept)
            if is_elf_magic(data):
                info = parse_elf(data)
                if info is not None:
                    self.elf[path] = info
            if self.capture.wants(path):
                self.contents[path] = data
            elif self.capture.wants_script(member.size, member.mode, data):
                self.contents[path] = script_head(data)
        return sha256.hexdigest(), md5.hexdigest()

    def _share_facts(self, target: str, path: str) -> None:
        if target in self.contents:
            self.contents[path] = self.contents[target]
        if target in self.elf:
            self.elf[path] = self.elf[target]


def _xattrs(member: tarfile.TarInfo) -> tuple[tuple[str, str], ...]:
    found = []
    for key, value in member.pax_headers.items():
        if key.startswith(XATTR_PREFIX):
            raw = value.encode("utf-8", "surrogateescape")
            found.append((key[len(XATTR_PREFIX) :], raw.hex()))
    return tuple(sorted(found))
