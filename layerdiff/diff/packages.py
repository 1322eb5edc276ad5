"""Package changes between two SBOMs, with each ecosystem's own version ordering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from layerdiff.inventory.versions import change_kind
from layerdiff.sbom.model import SbomPackage


@dataclass(frozen=True)
class PackageChange:
    type: str
    name: str
    kind: str  # added | removed | upgraded | downgraded | changed | rebuilt (same version, reinstalled)
    before: SbomPackage | None
    after: SbomPackage | None
    layer: int | None  # position of the derived layer holding the package now (for removals: None)


def diff_packages(
    base: Sequence[SbomPackage],
    derived: Sequence[SbomPackage],
    derived_positions: Mapping[str, int],
    first_reviewed: int,
) -> tuple[PackageChange, ...]:
    """``derived_positions``: diff_id -> layer position in the derived image; layers from
    ``first_reviewed`` on are the derived image's own."""
    old = _by_key(base)
    new = _by_key(derived)
    changes = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        layer = _newest_layer(b, derived_positions) if b else None
        if a is None or b is None:
            kind = "added" if a is None else "removed"
        else:
            kind = change_kind(a.type, a.version, b.version)
            if kind == "unchanged":
                if layer is None or layer < first_reviewed:
                    continue
                kind = "rebuilt"  # same version, but a derived layer wrote its files again
        reference = b or a
        assert reference is not None
        changes.append(PackageChange(reference.type, reference.name, kind, a, b, layer))
    return tuple(changes)


def _by_key(packages: Sequence[SbomPackage]) -> dict[tuple[str, ...], SbomPackage]:
    found: dict[tuple[str, ...], SbomPackage] = {}
    for package in packages:
        found.setdefault(package.key, package)
    return found


def _newest_layer(package: SbomPackage, positions: Mapping[str, int]) -> int | None:
    known = [positions[layer] for layer in package.layers if layer in positions]
    return max(known) if known else None
