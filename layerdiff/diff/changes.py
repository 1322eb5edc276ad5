"""The diff model: what the derived image's own layers changed, each change attributed to its layer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from layerdiff.diff.inventory import InventoryDiff
from layerdiff.diff.packages import PackageChange
from layerdiff.fs.view import TreeView
from layerdiff.image.model import Entry
from layerdiff.inventory.collect import Inventory


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"  # content, type or link target changed (metadata may have changed too)
    METADATA = "metadata"  # only mode, uid, gid or xattrs changed


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    kind: ChangeKind
    layer: int | None  # position of the layer that made the change
    before: Entry | None
    after: Entry | None
    fields: tuple[str, ...]  # which attributes differ, for modified/metadata changes


@dataclass(frozen=True)
class ConfigChange:
    field: str  # User, Env, Entrypoint, Cmd, WorkingDir, Healthcheck, ExposedPorts, Volumes, Labels, ...
    key: str | None  # the variable, label, port or volume for keyed fields
    before: Any
    after: Any
    history_index: int | None  # the derived history entry that set it, when identifiable
    instruction: str | None


@dataclass(frozen=True)
class LayerInfo:
    position: int
    diff_id: str
    blob_digest: str | None
    size: int  # uncompressed tar bytes
    created_by: str | None
    instruction: str | None
    entry_count: int


@dataclass(frozen=True)
class ImageDiff:
    shared_layers: int
    extends_base: bool
    base_layers: tuple[LayerInfo, ...]
    derived_layers: tuple[LayerInfo, ...]
    file_changes: Sequence[FileChange]  # sorted by path (layerdiff.diff.files.FileChanges)
    config_changes: tuple[ConfigChange, ...]
    warnings: tuple[str, ...]
    base_inventory: Inventory
    derived_inventory: Inventory
    inventory: InventoryDiff
    sbom_tool: str | None  # "syft 1.18.1"; None with --sbom none
    packages: tuple[PackageChange, ...]
    base_files: TreeView
    derived_files: TreeView
