"""A package as an SBOM lists it, independent of the SBOM format."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SbomPackage:
    purl: str
    type: str  # the purl type: deb, pypi, npm, ...
    name: str  # namespace/name as the purl gives it
    version: str
    key: tuple[str, ...]  # what makes two packages "the same" across images, whatever their version
    layers: tuple[str, ...]  # diff_ids of the layers holding its evidence (syft's location layerIDs)
    paths: tuple[str, ...]
