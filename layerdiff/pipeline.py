"""Run the stages: read each image, index its layers (once, via the cache), merge, and compare."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from layerdiff.diff.changes import ImageDiff, LayerInfo
from layerdiff.diff.config import diff_config
from layerdiff.diff.files import diff_trees
from layerdiff.diff.inventory import diff_inventories
from layerdiff.diff.packages import diff_packages
from layerdiff.errors import ImageError
from layerdiff.fs.tree import Tree, build_tree
from layerdiff.fs.view import TreeView
from layerdiff.heap import return_freed_memory
from layerdiff.image.history import derived_history_start, instruction
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.model import ImageSnapshot, LayerDescriptor, LayerIndex
from layerdiff.image.streams import ByteBudget, ByteStream
from layerdiff.index.cache import IndexCache
from layerdiff.index.capture import CaptureSpec
from layerdiff.index.tar_index import image_budget, index_layer, layer_budget
from layerdiff.inventory.collect import CAPTURE, Inventory, collect
from layerdiff.sbom.model import SbomPackage
from layerdiff.sources.base import ImageSource

# Wraps a layer stream to report progress; receives a label and the expected size when known.
ProgressHook = Callable[[str, int | None, ByteStream], ByteStream]


@dataclass(frozen=True)
class LoadedImage:
    snapshot: ImageSnapshot
    indexes: tuple[LayerIndex, ...]


def load_image(
    source: ImageSource,
    cache: IndexCache,
    progress: ProgressHook | None = None,
    limits: Limits = DEFAULT_LIMITS,
    snapshot: ImageSnapshot | None = None,
    capture: CaptureSpec = CAPTURE,
) -> LoadedImage:
    """Every layer's index, from the cache or else from the source; ``capture`` says which file contents
    the indexes keep (by default, what the inventory's collectors read)."""
    return read_layers(plan_image(source, cache, limits, snapshot, capture), progress)


@dataclass(frozen=True)
class ImagePlan:
    """An image's layers found in the cache and those its source is still to give (``load_image`` in two
    steps, so that other work may proceed while a source prepares the missing ones)."""

    source: ImageSource
    cache: IndexCache
    snapshot: ImageSnapshot
    capture: CaptureSpec
    limits: Limits
    budget: ByteBudget
    found: dict[str, LayerIndex]
    missing: tuple[LayerDescriptor, ...]


def plan_image(
    source: ImageSource,
    cache: IndexCache,
    limits: Limits = DEFAULT_LIMITS,
    snapshot: ImageSnapshot | None = None,
    capture: CaptureSpec = CAPTURE,
    known: Mapping[str, LayerIndex] | None = None,
) -> ImagePlan:
    """The layers the cache holds; the source is told which it will be asked for. ``known``: indexes
    already at hand under the same capture (the base's, for the layers a derived image shares with it)."""
    snapshot = snapshot or source.snapshot()
    capture = capture.bounded(limits.captured_file_bytes)
    found: dict[str, LayerIndex] = {}
    missing: list[LayerDescriptor] = []
    # A layer indexed earlier (perhaps under higher limits) counts as if it were read again, so the cache
    # never changes whether an image is within its limits.
    budget = image_budget(limits)
    for layer in snapshot.layers:
        if layer.diff_id in found or any(m.diff_id == layer.diff_id for m in missing):
            continue
        cached = (known or {}).get(layer.diff_id) or cache.get(layer.diff_id, capture)
        if cached is not None:
            what = f"{snapshot.reference} layer {layer.position}"
            layer_budget(limits).charge(cached.tar_size, what)
            budget.charge(cached.tar_size, what)
            found[layer.diff_id] = cached
        else:
            missing.append(layer)
    if missing:
        source.prefetch(missing)
    return ImagePlan(source, cache, snapshot, capture, limits, budget, found, tuple(missing))


def prefetch_top(
    source: ImageSource,
    cache: IndexCache,
    snapshot: ImageSnapshot,
    limits: Limits = DEFAULT_LIMITS,
    capture: CaptureSpec = CAPTURE,
    elsewhere: Collection[str] = (),
) -> dict[str, LayerIndex]:
    """Tell ``source`` at once when the image's top layer is not cached (an image fresh from a build), so
    that it may start preparing before the layers under it are looked up; the top layer's index, when it
    is cached, for ``plan_image`` to take. ``elsewhere``: diff_ids another image read first gives (a top
    layer among them is not asked of this source)."""
    if not snapshot.layers or snapshot.layers[-1].diff_id in elsewhere:
        return {}
    top = snapshot.layers[-1]
    cached = cache.get(top.diff_id, capture.bounded(limits.captured_file_bytes))
    if cached is None:
        source.prefetch([top])
        return {}
    return {top.diff_id: cached}


def read_layers(plan: ImagePlan, progress: ProgressHook | None = None) -> LoadedImage:
    """The image once the source gave the layers the cache did not hold."""
    snapshot, found, limits = plan.snapshot, dict(plan.found), plan.limits
    if plan.missing:
        wanted = {layer.diff_id for layer in plan.missing}
        cached_sizes = {diff_id: index.tar_size for diff_id, index in found.items()}
        for item in plan.source.layer_streams(plan.missing, cached_sizes):
            label = f"{snapshot.reference} layer {item.layer.position}" if item.layer else snapshot.reference
            stream = (
                progress(label, item.layer.blob_size if item.layer else None, item.stream)
                if progress
                else item.stream
            )
            index = index_layer(
                stream, item.layer.diff_id if item.layer else None, label, plan.capture, limits, plan.budget
            )
            if index.diff_id in wanted:
                found[index.diff_id] = index
                plan.cache.put(index, plan.capture)
            del index
            return_freed_memory()  # what indexing the layer needed and freed, interleaved with its rows
        absent = [layer for layer in plan.missing if layer.diff_id not in found]
        if absent:
            raise ImageError(
                f"{snapshot.reference}: layer {absent[0].position} ({absent[0].diff_id}) was not found"
            )
    return LoadedImage(snapshot, tuple(found[layer.diff_id] for layer in snapshot.layers))


def shared_prefix(base: ImageSnapshot, derived: ImageSnapshot) -> int:
    count = 0
    for a, b in zip(base.diff_ids, derived.diff_ids, strict=False):
        if a != b:
            break
        count += 1
    return count


@dataclass(frozen=True)
class Sboms:
    tool: str
    base: Sequence[SbomPackage]
    derived: Sequence[SbomPackage]


@dataclass(frozen=True)
class BaseSide:
    """What a diff needs of the base image alone: its merged tree, the view over it and its inventory
    (made while the derived image is still being read, when it must wait for its source)."""

    image: LoadedImage
    tree: Tree
    files: TreeView
    inventory: Inventory


def base_side(base: LoadedImage, limits: Limits = DEFAULT_LIMITS, early: bool = False) -> BaseSide:
    """``early``: made while waiting for the derived image, so the base's package owners (which the rules
    ask for the programs the image runs) are indexed now too."""
    tree = _tree(base, base.indexes, limits)
    files = TreeView(tree, base.indexes, limits)
    side = BaseSide(base, tree, files, _collect(base, files, limits))
    if early:
        side.inventory.package_owners.prepare()
    return side


def compare(
    base: LoadedImage | BaseSide,
    derived: LoadedImage,
    sboms: Sboms | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ImageDiff:
    side = base if isinstance(base, BaseSide) else base_side(base, limits)
    image = side.image
    shared = shared_prefix(image.snapshot, derived.snapshot)
    extends = shared == len(image.indexes) and shared > 0
    if extends:
        derived_tree = _tree(derived, derived.indexes[shared:], limits, start=side.tree)
        first_reviewed = shared
    else:
        derived_tree = _tree(derived, derived.indexes, limits)
        first_reviewed = 0
    warnings = [*image.snapshot.warnings, *derived.snapshot.warnings]
    warnings += [
        f"layer {layer}: {message}" for layer, message in derived_tree.warnings if layer >= first_reviewed
    ]
    if not extends:
        warnings.insert(
            0,
            f"{derived.snapshot.reference} does not extend {image.snapshot.reference} "
            f"(shared layers: {shared} of {len(image.indexes)}); the squashed filesystems are compared",
        )
    derived_files = TreeView(derived_tree, derived.indexes, limits)
    derived_inventory = _collect(derived, derived_files, limits)
    warnings += _inventory_warnings((image, side.inventory), (derived, derived_inventory))
    start = derived_history_start(image.snapshot.history, derived.snapshot.history, shared)
    derived_history = list(enumerate(derived.snapshot.history))[start:]
    diff = ImageDiff(
        shared_layers=shared,
        extends_base=extends,
        base_layers=layer_infos(image),
        derived_layers=layer_infos(derived),
        file_changes=diff_trees(side.tree, derived_tree, first_reviewed),
        config_changes=tuple(
            diff_config(image.snapshot.runtime_config, derived.snapshot.runtime_config, derived_history)
        ),
        warnings=tuple(warnings),
        base_inventory=side.inventory,
        derived_inventory=derived_inventory,
        inventory=diff_inventories(side.inventory, derived_inventory),
        sbom_tool=None,
        base_files=side.files,
        derived_files=derived_files,
        packages=(),
    )
    return with_packages(diff, derived, sboms) if sboms else diff


def with_packages(diff: ImageDiff, derived: LoadedImage, sboms: Sboms) -> ImageDiff:
    """``diff`` with the package changes the SBOMs give: the rest of a diff does not wait for syft."""
    first_reviewed = diff.shared_layers if diff.extends_base else 0
    packages = diff_packages(
        sboms.base,
        sboms.derived,
        {layer.diff_id: layer.position for layer in derived.snapshot.layers},
        first_reviewed,
    )
    return dataclasses.replace(diff, sbom_tool=sboms.tool, packages=tuple(packages))


def layer_infos(image: LoadedImage) -> tuple[LayerInfo, ...]:
    return tuple(
        LayerInfo(
            position=layer.position,
            diff_id=layer.diff_id,
            blob_digest=layer.blob_digest,
            size=index.tar_size,
            created_by=layer.history.created_by if layer.history else None,
            instruction=instruction(layer.history.created_by) if layer.history else None,
            entry_count=len(index.entries),
        )
        for layer, index in zip(image.snapshot.layers, image.indexes, strict=True)
    )


def inventory(image: LoadedImage, limits: Limits = DEFAULT_LIMITS) -> Inventory:
    """One image's inventory on its own (``inspect``, and oracle tests)."""
    return _collect(image, TreeView(_tree(image, image.indexes, limits), image.indexes, limits), limits)


def _tree(
    image: LoadedImage, indexes: Sequence[LayerIndex], limits: Limits, start: Tree | None = None
) -> Tree:
    try:
        return build_tree(indexes, start, limits)
    except LimitExceeded as exc:
        raise exc.within(image.snapshot.reference) from None


def _inventory_warnings(*images: tuple[LoadedImage, Inventory]) -> list[str]:
    """Each image's inventory warnings under its reference; one said of both images once, naming both."""
    by_warning: dict[str, list[str]] = {}
    for image, collected in images:
        for warning in collected.warnings:
            by_warning.setdefault(warning, []).append(image.snapshot.reference)
    return [f"{' and '.join(references)}: {warning}" for warning, references in by_warning.items()]


def _collect(image: LoadedImage, files: TreeView, limits: Limits) -> Inventory:
    try:
        return collect(files, image.snapshot.runtime_config, limits)
    except LimitExceeded as exc:
        raise exc.within(image.snapshot.reference) from None
