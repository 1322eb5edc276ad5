"""Credential files in an image's layers: which files the indexer scans for credentials (``CAPTURE``), and,
over a range of layers, every file that holds one in some layer's blob (``stored_credentials``) — a file a
later layer deletes or rewrites is still in the blob of the layer that wrote it.

A file is recognised by its content when the indexer read it (each credential's line and kind,
``layerdiff.index.credentials``), and by its path alone when it is a file whose only purpose is to hold
credentials but its content was not read (too large, a binary key store, a hard link to an unread file).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from layerdiff.image.limits import format_amount
from layerdiff.image.model import CredentialHit, Entry, EntryType, LayerIndex
from layerdiff.index.capture import Capture
from layerdiff.index.credentials import MAX_CREDENTIAL_FILE_BYTES
from layerdiff.text.credential_files import (
    CREDENTIAL_PATTERNS,
    credential_format,
    file_kind,
    secret_file_kind,
)

CAPTURE = Capture(credentials=CREDENTIAL_PATTERNS)
_FILE_TYPES = (EntryType.FILE, EntryType.HARDLINK)
NAMED_BY_ENV = "GCP credentials (GOOGLE_APPLICATION_CREDENTIALS)"


@dataclass
class StoredCredential:
    path: str
    kind: str  # what the file is: ".npmrc (npm configuration)", "private key (SSH identity)", ...
    layer: int  # the first layer whose blob holds a credential at this path
    entry: Entry  # that layer's entry
    layers: list[int] = field(default_factory=list)  # every layer whose blob holds one there
    hits: list[tuple[int, CredentialHit]] = field(default_factory=list)  # (layer, credential), in order
    omitted: int = 0  # credentials the indexer counted but did not keep
    unread: str | None = None  # why the content was not read, when the path alone says what it is


def stored_credentials(
    indexes: Sequence[LayerIndex], layers: range, named: str | None = None
) -> dict[str, StoredCredential]:
    """The files of ``layers`` that hold a credential in their layer's blob, by path; ``named``: the file
    GOOGLE_APPLICATION_CREDENTIALS names (resolved)."""
    found: dict[str, StoredCredential] = {}
    for position in layers:
        index = indexes[position]
        for entry in index.entries:
            if entry.type not in _FILE_TYPES:
                continue
            # a hard link's content is its target's, when the target is in the same layer
            source = entry.link if entry.type is EntryType.HARDLINK and entry.link else entry.path
            scan = index.credentials.get(source)
            if scan is not None:
                if scan.hits:
                    stored = _stored(found, entry, position, file_kind(entry.path, scan.format))
                    stored.hits += [(position, hit) for hit in scan.hits]
                    stored.omitted += scan.omitted
                continue
            kind = secret_file_kind(entry.path) or (NAMED_BY_ENV if entry.path == named else None)
            if kind is not None:
                _stored(found, entry, position, kind).unread = _why_unread(entry)
    return found


def _stored(found: dict[str, StoredCredential], entry: Entry, position: int, kind: str) -> StoredCredential:
    stored = found.setdefault(entry.path, StoredCredential(entry.path, kind, position, entry))
    stored.layers.append(position)
    return stored


def _why_unread(entry: Entry) -> str:
    if credential_format(entry.path) is not None and entry.size > MAX_CREDENTIAL_FILE_BYTES:
        return (
            f"not read: {entry.size} bytes, more than the {format_amount(MAX_CREDENTIAL_FILE_BYTES)} a "
            "credential file is read up to (recognised by its path)"
        )
    return "not read (recognised by its path)"
