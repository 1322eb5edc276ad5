"""Read one layer's tar stream once: every entry's header, content digests, and what the inventory needs."""

from __future__ import annotations

import hashlib
import io
import posixpath

from layerdiff.errors import CorruptLayer
from layerdiff.image.entry_table import EntryTable
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits, utf8_size_over
from layerdiff.image.model import CredentialScan, ElfInfo, Entry, EntryType, LayerIndex
from layerdiff.image.paths import OPAQUE_MARKER, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX, display, normalize
from layerdiff.image.readahead import ReadAhead
from layerdiff.image.streams import CHUNK, BudgetedReader, ByteBudget, ByteStream, DigestReader
from layerdiff.image.tarstream import TarEntry, TarReader
from layerdiff.index.capture import CaptureSpec, script_head
from layerdiff.index.credentials import scan_credentials, without_credentials
from layerdiff.index.elf import is_elf_magic, parse_elf

_MARKERS = (EntryType.WHITEOUT, EntryType.OPAQUE)
_TYPES = {
    "0": EntryType.FILE,
    "7": EntryType.FILE,  # contiguous file: a regular file to every reader but a few old Unixes
    "S": EntryType.FILE,  # GNU sparse file
    "5": EntryType.DIR,
    "2": EntryType.SYMLINK,
    "1": EntryType.HARDLINK,
    "3": EntryType.CHAR,
    "4": EntryType.BLOCK,
    "6": EntryType.FIFO,
}


def layer_budget(limits: Limits) -> ByteBudget:
    return ByteBudget("layer_bytes", limits.layer_bytes, "the layer decompresses to")


def image_budget(limits: Limits) -> ByteBudget:
    return ByteBudget("image_bytes", limits.image_bytes, "the image's layers decompress to")


def index_layer(
    stream: ByteStream,
    expected_diff_id: str | None,
    what: str,
    capture: CaptureSpec,
    limits: Limits = DEFAULT_LIMITS,
    image: ByteBudget | None = None,
) -> LayerIndex:
    """Index an uncompressed layer tar, verifying it hashes to ``expected_diff_id`` when one is given.

    The tar is read as strictly as Go's archive/tar (``image.tarstream``); its decompressed bytes are
    charged to ``layer-bytes`` and to the ``image`` budget its image shares, as they are read. Duplicate
    paths keep the last entry (what extraction would leave). A hard link's digest is taken from its target
    when the target is earlier in this layer; otherwise it is resolved against lower layers when layers
    are merged. The contents ``capture`` declares are kept, ELF objects are reduced to their loader facts
    and credential files to where their credentials are, in the same pass.
    """
    budgets = [layer_budget(limits), *([image] if image is not None else [])]
    hashed = DigestReader(BudgetedReader(stream, budgets, what), expected_diff_id, what)
    layer = _LayerReader(what, capture, budgets)
    # read, decompressed and hashed in a thread beside this one, which parses and hashes the files
    with ReadAhead(hashed) as ahead:
        reader = TarReader(io.BufferedReader(ahead, CHUNK), what, limits.tar_header_bytes)
        count = 0
        while (entry := reader.next()) is not None:
            count += 1
            if count > limits.layer_entries:
                raise LimitExceeded(
                    what, "layer_entries", limits.layer_entries, f"more than {limits.layer_entries} entries"
                )
            _check_names(entry, what, limits.entry_path_bytes)
            layer.add(reader, entry)
        while ahead.read(CHUNK):  # to the end, where the digest is checked
            pass
    return LayerIndex(
        diff_id=hashed.digest,
        tar_size=hashed.bytes_read,
        entries=layer.entries,
        warnings=tuple(layer.warnings),
        contents=layer.contents,
        elf=layer.elf,
        credentials=layer.credentials,
    )


# Where no package manager installs files (Debian policy 9.1.2, the FHS): the user's and admin's own, and
# scratch space. Their md5 (which only dpkg --verify reads) is not computed: md5 is the costliest hash here,
# and these hold much of a Python image's bytes (/home/airflow/.local, /usr/local/lib/python3.X).
_UNPACKAGED_PREFIXES = ("/home/", "/root/", "/usr/local/", "/tmp/", "/var/tmp/", "/run/", "/proc/", "/sys/")


def packaged_location(path: str) -> bool:
    """Whether a package manager may own ``path``, so that its md5 is worth computing."""
    return not path.startswith(_UNPACKAGED_PREFIXES)


def _check_names(member: TarEntry, what: str, limit: int) -> None:
    """A name longer than PATH_MAX is one no runtime can create, and each of its directories would be a path
    of the merged tree (a megabyte of ``a/a/a/...`` is half a million paths, each a long string)."""
    for name in (member.name, member.linkname if member.type == "1" else ""):  # 1: a hard link
        if size := utf8_size_over(name, limit):
            shown = display(name[:64]) + "..."
            raise LimitExceeded(
                f"{what}: entry {shown}", "entry_path_bytes", limit, f"a name of {size} bytes"
            )


class _LayerReader:
    """Accumulates one layer's entries, captured contents and ELF facts as its members stream past."""

    def __init__(self, what: str, capture: CaptureSpec, budgets: list[ByteBudget]) -> None:
        self.what = what
        self.capture = capture
        self.budgets = budgets
        self.entries = EntryTable()
        # the row of each path, and of each path a whiteout or opaque marker names (kept apart)
        self._rows: dict[str, int] = {}
        self._marker_rows: dict[str, int] = {}
        self.contents: dict[str, bytes] = {}
        self.elf: dict[str, ElfInfo] = {}
        self.credentials: dict[str, CredentialScan] = {}
        self.warnings: list[str] = []

    def add(self, reader: TarReader, member: TarEntry) -> None:
        entry = self._entry(reader, member)
        if entry is None:
            return
        rows = self._marker_rows if entry.type in _MARKERS else self._rows
        row = rows.get(entry.path)
        if row is not None and entry.type is not EntryType.DIR:
            self.warnings.append(f"{display(entry.path)} appears more than once; the last entry wins")
        if entry.type is not EntryType.FILE:
            # a later non-file entry for the same path replaces whatever content was kept for it
            self.contents.pop(entry.path, None)
            self.elf.pop(entry.path, None)
            self.credentials.pop(entry.path, None)
        if row is None:
            rows[entry.path] = self.entries.append(entry)
        else:
            self.entries.replace(row, entry)

    def _entry(self, reader: TarReader, member: TarEntry) -> Entry | None:
        path = normalize(member.name, self.what)
        base = posixpath.basename(path)
        if base == OPAQUE_MARKER:
            if path == "/" + OPAQUE_MARKER:
                self._refuse_root(member, "an opaque marker", "hide")
                return None
            return Entry(path=posixpath.dirname(path), type=EntryType.OPAQUE)
        if f"/{WHITEOUT_META_PREFIX}" in path:
            return None  # aufs bookkeeping, not part of the image's filesystem
        if base.startswith(WHITEOUT_PREFIX):
            removed = base[len(WHITEOUT_PREFIX) :]
            if removed in ("", ".", ".."):
                # names its own directory or the one above (docker removes it, containerd refuses the layer)
                if posixpath.normpath(posixpath.join(posixpath.dirname(path), removed)) == "/":
                    self._refuse_root(member, "a whiteout", "remove")
                else:
                    self.warnings.append(
                        f"{display(member.name)} is a whiteout that names no file in its directory; "
                        "it is ignored"
                    )
                return None
            return Entry(path=posixpath.join(posixpath.dirname(path), removed), type=EntryType.WHITEOUT)
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
            target_row = self._rows.get(link)
            target = self.entries.entry(target_row) if target_row is not None else None
            if target is not None and target.type is EntryType.FILE:
                sha256, md5, size = target.sha256, target.md5, target.size
                self._share_facts(link, path)
        elif member.sparse is not None:
            sha256 = self._read_sparse(reader, member, path)
        elif kind is EntryType.FILE:
            sha256, md5 = self._read_file(reader, member, path)
        return Entry(
            path=path,
            type=kind,
            mode=member.mode & 0o7777,
            uid=member.uid,
            gid=member.gid,
            size=size,
            link=link,
            sha256=sha256,
            xattrs=tuple(sorted((name, value.hex()) for name, value in member.xattrs.items())),
            md5=md5,
        )

    def _refuse_root(self, member: TarEntry, marker: str, verb: str) -> None:
        self.warnings.append(
            f"{marker} of the image root ({display(member.name)}) would {verb} every file of the layers "
            "below; it is ignored"
        )

    def _read_file(self, reader: TarReader, member: TarEntry, path: str) -> tuple[str, str | None]:
        """Hash the content; keep it when the inventory parses it, reduce it when it is an ELF object or a
        credential file."""
        sha256 = hashlib.sha256()
        md5 = hashlib.md5(usedforsecurity=False) if packaged_location(path) else None
        kept: list[bytes] | None = None
        first = True
        credentials = self.capture.wants_credentials(path, member.size)
        while chunk := reader.read(CHUNK):
            if first:
                first = False
                script = self.capture.wants_script(member.size, member.mode, chunk)
                if member.size <= self.capture.max_bytes and (
                    script or credentials or self.capture.wants(path) or is_elf_magic(chunk)
                ):
                    kept = []
            if kept is not None:
                kept.append(chunk)
            sha256.update(chunk)
            if md5 is not None:
                md5.update(chunk)
        if kept is not None:
            data = b"".join(kept)
            if is_elf_magic(data):
                info = parse_elf(data)
                if info is not None:
                    self.elf[path] = info
            scan = scan_credentials(path, data) if credentials else None
            if scan is not None:
                self.credentials[path] = scan
            if self.capture.wants(path):
                # another collector reads this credential file: it keeps the file, not the credentials
                plain = without_credentials(path, data) if scan and scan.hits else data
                self.contents[path] = self.capture.kept(path, plain)
            elif self.capture.wants_script(member.size, member.mode, data):
                self.contents[path] = script_head(data)
        return sha256.hexdigest(), md5.hexdigest() if md5 is not None else None

    def _read_sparse(self, reader: TarReader, member: TarEntry, path: str) -> str:
        """A sparse file's holes are never produced: its real size is charged to the byte budgets (what
        extracting it would write), and its digest covers the stored fragments and where they lie."""
        assert member.sparse is not None
        for budget in self.budgets:
            budget.charge(member.size - member.stored, self.what)
        digest = hashlib.sha256(f"sparse {member.size}\n".encode())
        for offset, length in member.sparse:
            digest.update(f"{offset} {length}\n".encode())
            remaining = length
            while remaining > 0:
                chunk = reader.read(min(remaining, CHUNK))
                digest.update(chunk)
                remaining -= len(chunk)
        self.warnings.append(
            f"{display(path)} is a sparse file ({member.size} bytes, {member.stored} stored): its sha256 "
            "covers the stored data and where it lies, and its content is not read"
        )
        return digest.hexdigest()

    def _share_facts(self, target: str, path: str) -> None:
        if target in self.contents:
            self.contents[path] = self.contents[target]
        if target in self.elf:
            self.elf[path] = self.elf[target]
