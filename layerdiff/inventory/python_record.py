"""``dpkg --verify`` for Python: every installed distribution's ``RECORD`` checked against the files.

A ``.dist-info/RECORD`` lists each file the installer wrote with its sha256 (urlsafe base64, no padding)
and size. A listed file that is gone or has another digest was changed outside pip; a file that two
distributions' RECORDs list was written twice, and the digest says which install won: the one it matches
overwrote the others (``pip check`` never notices, since both distributions are still "installed").

The index already holds every file's sha256, so nothing is read again. Entries without a sha256 (the
RECORD itself, ``__pycache__`` files, entries of installers that hash otherwise) cannot be verified and are
passed over, as pip itself passes over them.
"""

from __future__ import annotations

import base64
import csv
import io
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.model import EntryType
from layerdiff.image.paths import display
from layerdiff.inventory.python import Distribution, read_distribution

_SHA256 = "sha256="


class FileState(StrEnum):
    MISSING = "missing"  # listed, and nothing is at the path
    MODIFIED = "modified"  # a regular file whose sha256 is not the recorded one
    NOT_A_FILE = "not-a-file"  # a directory, device or dangling link where a file was recorded


@dataclass(frozen=True)
class RecordedFile:
    path: str  # absolute, normalised
    digest: str  # ``sha256=...`` as RECORD writes it


@dataclass(frozen=True)
class RecordProblem:
    """One recorded file of one distribution that is not what its installer wrote."""

    distribution: Distribution
    path: str
    state: FileState
    expected: str  # ``sha256=...`` from RECORD
    actual: str | None  # ``sha256=...`` of the file there now; None when there is no regular file

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.distribution.metadata, self.path, self.state.value)


@dataclass(frozen=True)
class Overwrite:
    """A file two distributions' RECORDs list, whose content is that of ``by``: ``overwritten``'s copy is
    gone."""

    path: str
    overwritten: Distribution
    by: Distribution
    expected: str  # what ``overwritten`` recorded
    actual: str  # what is there, as ``by`` recorded it

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.path, self.overwritten.metadata, self.by.metadata)


@dataclass(frozen=True)
class RecordCheck:
    problems: tuple[RecordProblem, ...]
    overwrites: tuple[Overwrite, ...]


def record_digest(sha256_hex: str) -> str:
    """The index's hex sha256 as RECORD writes it: ``sha256=`` and urlsafe base64 without padding."""
    encoded = base64.urlsafe_b64encode(bytes.fromhex(sha256_hex)).rstrip(b"=").decode()
    return _SHA256 + encoded


def read_record(data: bytes, site_dir: str, what: str, limits: Limits = DEFAULT_LIMITS) -> list[RecordedFile]:
    """The entries of a RECORD (CSV: path, hash, size) that carry a sha256, their paths made absolute
    against ``site_dir``. More than ``record-entries`` rows is an error naming ``what``."""
    recorded = []
    reader = csv.reader(io.StringIO(data.decode("utf-8", "replace"), newline=""))
    try:
        for count, row in enumerate(reader, 1):
            if count > limits.record_entries:
                detail = f"more than {limits.record_entries} entries"
                raise LimitExceeded(display(what), "record_entries", limits.record_entries, detail)
            if len(row) < 2 or not row[0] or not row[1].startswith(_SHA256):
                continue
            recorded.append(RecordedFile(posixpath.normpath(posixpath.join(site_dir, row[0])), row[1]))
    except csv.Error:
        pass  # a malformed line ends the list, as it ends pip's reading of it
    return recorded


def top_level_name(site_dir: str, path: str) -> str | None:
    """The name ``import`` finds in ``site_dir`` for an installed file: ``pkg`` for ``pkg/x.py``, ``mod``
    for ``mod.py`` or ``mod.cpython-311-x86_64-linux-gnu.so``; None for metadata, scripts and .pth files."""
    prefix = site_dir.rstrip("/") + "/"
    if not path.startswith(prefix):
        return None
    first, _, rest = path[len(prefix) :].partition("/")
    if first.endswith((".dist-info", ".egg-info", ".pth")) or first == "__pycache__":
        return None
    if rest:
        return first
    return first.split(".", 1)[0] if first.endswith((".py", ".so", ".pyc")) else None


def verify_records(
    files: ImageFiles, metadata_paths: Iterable[str], limits: Limits = DEFAULT_LIMITS
) -> RecordCheck:
    """Check the RECORD of every ``.dist-info`` among ``metadata_paths`` against the image's files."""
    owners: dict[str, list[tuple[Distribution, str]]] = {}
    for metadata in sorted(metadata_paths):
        if not metadata.endswith(".dist-info"):
            continue  # egg-info lists files without digests (installed-files.txt), when at all
        site_dir, name = posixpath.split(metadata)
        record_path = posixpath.join(metadata, "RECORD")
        data = files.read(record_path)
        distribution = read_distribution(files, site_dir, name, limits) if data is not None else None
        if data is None or distribution is None:
            continue
        recorded = read_record(data, site_dir, record_path, limits)
        for item in recorded:
            owners.setdefault(item.path, []).append((distribution, item.digest))
    problems: list[RecordProblem] = []
    overwrites: list[Overwrite] = []
    for path, listed in sorted(owners.items()):
        state, actual = _state(files, path)
        if state is not None:
            problems += [RecordProblem(d, path, state, digest, None) for d, digest in listed]
            continue
        if actual is None:
            continue
        winners = [d for d, digest in listed if digest == actual]
        losers = [(d, digest) for d, digest in listed if digest != actual]
        if not winners:
            problems += [RecordProblem(d, path, FileState.MODIFIED, digest, actual) for d, digest in losers]
        else:
            overwrites += [Overwrite(path, d, winners[0], digest, actual) for d, digest in losers]
    return RecordCheck(tuple(problems), tuple(overwrites))


def _state(files: ImageFiles, path: str) -> tuple[FileState | None, str | None]:
    """(problem, None) when there is no regular file with a digest at ``path``; else (None, its digest)."""
    real = files.resolve(path)
    entry = files.lookup(real) if real is not None else None
    if entry is None:
        return (FileState.MISSING if files.lookup(path) is None else FileState.NOT_A_FILE), None
    if entry.type not in (EntryType.FILE, EntryType.HARDLINK):
        return FileState.NOT_A_FILE, None
    if entry.sha256 is None:
        return None, None  # not hashed while indexing: nothing to compare, which is not a finding
    return None, record_digest(entry.sha256)
