"""Rules about bytes the image carries for nothing: files a later layer deletes or overwrites (the merged
tree's replay in ``layerdiff.fs.waste`` finds them) and package-manager caches left behind."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from layerdiff.fs.waste import WastedFile, wasted_files
from layerdiff.rules.file_findings import EXAMPLES, file_finding, layer_instruction
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity

MIN_WASTED_BYTES = 4096  # less than one filesystem block is not worth a reviewer's time


# --- layer-waste --------------------------------------------------------------------------------------------


@rule(
    "layer-waste",
    Severity.LOW,
    "Bytes stored by one layer are deleted or overwritten by a later layer",
    "Clean up in the same RUN that creates the files (`RUN pip install ... && rm -rf /tmp/build`); use "
    "`COPY --chown`/`--chmod` instead of a later `chown -R`/`chmod -R`, which stores every file again.",
)
def LAYER_WASTE(context: RuleContext) -> Iterator[Finding]:
    groups: dict[tuple[int, int], list[WastedFile]] = defaultdict(list)
    for waste in wasted_files(context.derived_indexes, context.first_reviewed):
        groups[(waste.added, waste.removed)].append(waste)
    by_subject: dict[str, list[list[WastedFile]]] = defaultdict(list)
    for wastes in groups.values():
        paths = [w.path for w in wastes]
        by_subject[paths[0] if len(paths) == 1 else posixpath.commonpath(paths)].append(wastes)
    for subject, pairs in sorted(by_subject.items()):
        total = sum(w.size for wastes in pairs for w in wastes)
        if total < MIN_WASTED_BYTES:
            continue
        files = sum(len(wastes) for wastes in pairs)
        last = max(wastes[0].removed for wastes in pairs)
        first = min(wastes[0].added for wastes in pairs)
        yield file_finding(
            LAYER_WASTE,
            context,
            subject=subject,
            message=(
                f"Every pull downloads and stores {total} bytes nobody can use: {files} file(s) under "
                f"{subject} stored by layer {first} are deleted or overwritten by layer {last}."
            ),
            evidence={
                "path": subject,
                "bytes": total,
                "files": files,
                "wasted": [
                    _waste_evidence(context, wastes) for wastes in sorted(pairs, key=lambda w: w[0].added)
                ],
            },
            layer=last,
        )


def _waste_evidence(context: RuleContext, wastes: list[WastedFile]) -> dict[str, Any]:
    largest = sorted(wastes, key=lambda w: (-w.size, w.path))[:EXAMPLES]
    return {
        "layer_added": wastes[0].added,
        "added_by": layer_instruction(context, wastes[0].added),
        "layer_removed": wastes[0].removed,
        "removed_by": layer_instruction(context, wastes[0].removed),
        "how": sorted({w.how for w in wastes}),
        "files": len(wastes),
        "bytes": sum(w.size for w in wastes),
        "largest": [{"path": w.path, "size": w.size} for w in largest],
    }


# --- cache-left-behind --------------------------------------------------------------------------------------

_HOME_CACHES = (
    ("/.cache/pip/", "pip cache"),
    ("/.npm/_cacache/", "npm cache"),
    ("/.cache/yarn/", "yarn cache"),
)
_APT_LISTS = "/var/lib/apt/lists"


def cache_directory(path: str) -> tuple[str, str] | None:
    """The package-manager cache directory ``path`` is in, and what kind of cache it is."""
    if path.startswith(_APT_LISTS + "/"):
        rest = path[len(_APT_LISTS) + 1 :]
        if rest == "lock" or rest.startswith("partial/"):
            return None
        return _APT_LISTS, "apt package lists"
    if path.startswith("/var/cache/apt/archives/") and path.endswith(".deb"):
        return "/var/cache/apt/archives", "apt package archives"
    if posixpath.dirname(path) == "/var/cache/apt" and path.endswith(".bin"):
        return "/var/cache/apt", "apt package cache"
    for marker, kind in _HOME_CACHES:
        index = path.find(marker)
        if index >= 0:
            return path[: index + len(marker) - 1], kind
    return None


@rule(
    "cache-left-behind",
    Severity.LOW,
    "A package manager's cache was left in the image",
    "Clean up in the same RUN: `apt-get update && apt-get install -y --no-install-recommends ... && "
    "rm -rf /var/lib/apt/lists/*`, `pip install --no-cache-dir ...`, `npm ci && npm cache clean --force`.",
)
def CACHE_LEFT_BEHIND(context: RuleContext) -> Iterator[Finding]:
    caches: dict[str, tuple[str, dict[int, list[int]]]] = {}  # directory -> (kind, layer -> file sizes)
    for path, layer, size in context.diff.derived_files.tree.nodes.files():
        if layer < context.first_reviewed:
            continue
        found = cache_directory(path)
        if found is not None:
            directory, kind = found
            caches.setdefault(directory, (kind, defaultdict(list)))[1][layer].append(size)
    for directory, (kind, by_layer) in sorted(caches.items()):
        files = sum(len(sizes) for sizes in by_layer.values())
        total = sum(sum(sizes) for sizes in by_layer.values())
        biggest = max(by_layer, key=lambda layer: (sum(by_layer[layer]), layer))
        yield file_finding(
            CACHE_LEFT_BEHIND,
            context,
            subject=directory,
            message=(
                f"Every pull downloads and stores {total} bytes the image never uses: {directory} ({kind}: "
                f"{files} files) was left in the image."
            ),
            evidence={
                "path": directory,
                "kind": kind,
                "files": files,
                "bytes": total,
                "layers": [
                    {
                        "layer": layer,
                        "instruction": layer_instruction(context, layer),
                        "files": len(sizes),
                        "bytes": sum(sizes),
                    }
                    for layer, sizes in sorted(by_layer.items())
                ],
            },
            layer=biggest,
        )
