"""Read one layer's tar stream once: every entry's header, and the sha256 of every regular file."""

from __future__ import annotations

import hashlib
import posixpath
import tarfile
from typing import IO, cast

from layerdiff.errors import CorruptLayer, HostileLayer
from layerdiff.index.paths import OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, display, normalize
from layerdiff.model import Entry, EntryType, LayerIndex
from layerdiff.sources.streams import CHUNK, ByteStream, DigestReader, ForwardReader

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
    max_entries: int = DEFAULT_MAX_ENTRIES,
) -> LayerIndex:
    """Index an uncompressed layer tar, verifying it hashes to ``expected_diff_id`` when one is given.

    Duplicate paths keep the last entry (what extraction would leave). A hard link's digest is taken from
    its target when the target is earlier in this layer; otherwise it is resolved against lower layers
    when layers are merged.
    """
    hashed = DigestReader(stream, expected_diff_id, what)
    entries: dict[tuple[str, bool], Entry] = {}  # keyed by (path, is a whiteout/opaque marker)
    warnings: list[str] = []
    count = 0
    try:
        reader = cast(IO[bytes], ForwardReader(hashed))
        with tarfile.open(fileobj=reader, mode="r:") as archive:
            while (member := archive.next()) is not None:
                count += 1
                if count > max_entries:
                    raise HostileLayer(f"{what}: more than {max_entries} entries")
                entry = _entry(archive, member, entries, what)
                if entry is None:
                    continue
                key = (entry.path, entry.type in _MARKERS)
                if key in entries and entry.type is not EntryType.DIR:
                    warnings.append(f"{display(entry.path)} appears more than once; the last entry wins")
                entries[key] = entry
                forget_members(archive)
        hashed.drain()
    except (tarfile.TarError, EOFError) as exc:
        raise CorruptLayer(f"{what}: not a valid tar stream ({exc})") from exc
    return LayerIndex(
        diff_id=hashed.digest,
        tar_size=hashed.bytes_read,
        entries=tuple(entries.values()),
        warnings=tuple(warnings),
    )


def _entry(
    archive: tarfile.TarFile, member: tarfile.TarInfo, seen: dict[tuple[str, bool], Entry], what: str
) -> Entry | None:
    path = normalize(member.name, what)
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
        raise CorruptLayer(f"{what}: entry {display(member.name)!r} has unknown tar type {member.type!r}")
    link: str | None = None
    sha256: str | None = None
    size = member.size if kind is EntryType.FILE else 0
    if kind is EntryType.SYMLINK:
        link = member.linkname
    elif kind is EntryType.HARDLINK:
        link = normalize(member.linkname, what)
        target = seen.get((link, False))
        if target is not None and target.type is EntryType.FILE:
            sha256, size = target.sha256, target.size
    elif kind is EntryType.FILE:
        sha256 = _content_digest(archive, member)
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
    )


def _content_digest(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    digest = hashlib.sha256()
    content = archive.extractfile(member)
    if content is not None:
        while chunk := content.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _xattrs(member: tarfile.TarInfo) -> tuple[tuple[str, str], ...]:
    found = []
    for key, value in member.pax_headers.items():
        if key.startswith(XATTR_PREFIX):
            raw = value.encode("utf-8", "surrogateescape")
            found.append((key[len(XATTR_PREFIX) :], raw.hex()))
    return tuple(sorted(found))


def forget_members(archive: tarfile.TarFile) -> None:
    """tarfile keeps every member read so far for random access we never use; drop them to bound memory."""
    archive.members = []  # type: ignore[attr-defined]
