"""Core value types shared by the pipeline stages: images, layers, and indexed tar entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from layerdiff.image.entry_table import EntryTable


@dataclass(frozen=True)
class HistoryEntry:
    created_by: str
    created: str | None = None
    comment: str | None = None
    empty_layer: bool = False


@dataclass(frozen=True)
class LayerDescriptor:
    """One layer of an image, as its manifest and config describe it."""

    position: int
    diff_id: str  # sha256 of the uncompressed tar, from the config's rootfs
    blob_digest: str | None = None  # digest of the blob as stored (compressed or not)
    media_type: str | None = None
    blob_size: int | None = None
    history: HistoryEntry | None = None


@dataclass(frozen=True)
class ImageSnapshot:
    """Everything about an image except the contents of its layers."""

    reference: str
    image_id: str  # digest of the config blob: the identity every source agrees on
    manifest_digest: str | None
    platform: str
    config: dict[str, Any]  # the image config JSON
    layers: tuple[LayerDescriptor, ...]
    history: tuple[HistoryEntry, ...]
    repo_tags: tuple[str, ...] = ()
    warnings: tuple[
        str, ...
    ] = ()  # what reading its documents gave (a field docker reads under another name)

    @property
    def diff_ids(self) -> tuple[str, ...]:
        return tuple(layer.diff_id for layer in self.layers)

    @property
    def runtime_config(self) -> dict[str, Any]:
        value = self.config.get("config") or {}
        return value if isinstance(value, dict) else {}


class EntryType(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char"
    BLOCK = "block"
    FIFO = "fifo"
    WHITEOUT = "whiteout"  # removes `path` from the layers below
    OPAQUE = "opaque"  # hides everything below `path` (a directory) in the layers below


@dataclass(frozen=True, slots=True)
class Entry:
    """One tar entry of a layer, normalised: absolute path, permission bits incl. setuid/setgid/sticky."""

    path: str
    type: EntryType
    mode: int = 0
    uid: int = 0
    gid: int = 0
    size: int = 0
    link: str | None = None  # symlink target as written, or hard link target as a normalised path
    sha256: str | None = None  # content digest of regular files (and of hard links once resolved)
    xattrs: tuple[tuple[str, str], ...] = ()  # (name, hex value), sorted by name
    md5: str | None = None  # what dpkg's md5sums record, to verify package-owned files


@dataclass(frozen=True)
class ElfInfo:
    """What the dynamic loader needs to know about one ELF object, read from its headers."""

    elf_class: int  # 32 or 64
    machine: str  # e_machine as pyelftools names it, e.g. "EM_X86_64"
    elf_type: str  # "ET_EXEC", "ET_DYN", ...
    soname: str | None = None
    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()  # DT_RPATH entries, split on ":", unexpanded
    runpath: tuple[str, ...] = ()  # DT_RUNPATH entries, split on ":", unexpanded
    interpreter: str | None = None  # PT_INTERP


@dataclass(frozen=True)
class CredentialHit:
    """One credential in a file: where it is and what it is, never its value."""

    line: int  # 1-based
    kind: str  # "npm auth token", "URL with a password", ...
    setting: str  # what holds it in the file: a key, a registry, a machine, a host (never the value)


@dataclass(frozen=True)
class CredentialScan:
    """What the indexer kept of a credential file (``layerdiff.index.credentials``): its format and the
    credentials in it. The content itself is not kept."""

    format: str  # pip, npmrc, netrc, docker, ... (layerdiff.text.credential_files)
    hits: tuple[CredentialHit, ...] = ()
    omitted: int = 0  # credentials beyond the ones kept


@dataclass(frozen=True)
class LayerIndex:
    diff_id: str
    tar_size: int
    entries: Sequence[Entry]  # held as an EntryTable (layerdiff.image.entry_table), whatever it is given
    warnings: tuple[str, ...] = field(default=())
    contents: Mapping[str, bytes] = field(default_factory=dict)  # captured files, by path
    elf: Mapping[str, ElfInfo] = field(default_factory=dict)  # ELF objects, by path
    credentials: Mapping[str, CredentialScan] = field(default_factory=dict)  # credential files, by path

    def __post_init__(self) -> None:
        from layerdiff.image.entry_table import EntryTable

        object.__setattr__(self, "entries", EntryTable.of(self.entries))

    @property
    def table(self) -> EntryTable:
        return cast("EntryTable", self.entries)


def env_map(env: Sequence[str] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for item in env or ():
        name, _, value = item.partition("=")
        result[name] = value
    return result
