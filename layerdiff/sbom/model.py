"""A package as an SBOM lists it, independent of the SBOM format."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packageurl import PackageURL


@dataclass(frozen=True)
class SbomPackage:
    purl: str
    type: str  # the purl type: deb, pypi, npm, ...
    name: str  # namespace/name as the purl gives it
    version: str
    key: tuple[str, ...]  # what makes two packages "the same" across images, whatever their version
    layers: tuple[str, ...]  # diff_ids of the layers holding its evidence (syft's location layerIDs)
    paths: tuple[str, ...]


# Language packages whose copies in two places are two installations (a venv and the system, say).
_PER_LOCATION = {"pypi", "npm", "gem"}


# Databases every package of an ecosystem shares: rewritten whenever any package is installed or removed, so
# the layer holding them says nothing about when this package was written.
_SHARED_DATABASE_FILES = frozenset({"/var/lib/dpkg/status", "/lib/apk/db/installed"})
_SHARED_DATABASE_DIRS = ("/var/lib/rpm/", "/usr/lib/sysimage/rpm/")


def sbom_package(purl: PackageURL, locations: list[tuple[str, str | None]]) -> SbomPackage:
    """The package as layerdiff compares it, whichever SBOM format listed it. ``locations``: (path, layer
    diff_id) of each piece of evidence."""
    paths = [path for path, _ in locations]
    layers = [
        layer
        for path, layer in locations
        if layer and path not in _SHARED_DATABASE_FILES and not path.startswith(_SHARED_DATABASE_DIRS)
    ]
    name = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
    arch = str((purl.qualifiers or {}).get("arch", "")) if isinstance(purl.qualifiers, dict) else ""
    where = _install_root(paths) if purl.type in _PER_LOCATION else ""
    return SbomPackage(
        purl=purl.to_string(),
        type=purl.type,
        name=name,
        version=str(purl.version),
        key=(purl.type, name, arch, where),
        layers=tuple(dict.fromkeys(layers)),
        paths=tuple(paths),
    )


def _install_root(paths: list[str]) -> str:
    """The directory a language package is installed in: the site dir holding its .dist-info, etc."""
    for path in paths:
        for marker in (".dist-info/", ".egg-info", "/node_modules/", "/specifications/"):
            if marker in path:
                head = path.split(marker, 1)[0]
                return posixpath.dirname(head) if marker.startswith(".") else head
    return posixpath.dirname(paths[0]) if paths else ""
