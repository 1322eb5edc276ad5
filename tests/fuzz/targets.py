"""Every fuzz target, by name."""

from __future__ import annotations

from tests.fuzz import targets_dockerfile, targets_inventory, targets_sources
from tests.fuzz.target import Target

TARGETS: dict[str, Target] = {
    t.name: t for t in (*targets_sources.TARGETS, *targets_inventory.TARGETS, *targets_dockerfile.TARGETS)
}
