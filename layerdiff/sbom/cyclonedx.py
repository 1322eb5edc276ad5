"""Packages from a CycloneDX document (syft's or anyone's), through cyclonedx-python-lib.

A document syft made is first read as plain JSON, which takes a tenth of the library's time: its packages
are the library's whenever their order cannot differ (no two share a key and version, so sorting decides
it) and nothing in them is unusual; otherwise, and for every other producer, the library reads it.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packageurl import PackageURL

from layerdiff.errors import ToolError
from layerdiff.image.json_depth import check_document_depth
from layerdiff.sbom.model import SbomPackage, sbom_package

if TYPE_CHECKING:
    from cyclonedx.model import Property
    from cyclonedx.model.component import Component

_LAYER = "syft:location:{}:layerID"
_PATH = "syft:location:{}:path"


def read_cyclonedx(text: str, what: str) -> list[SbomPackage]:
    check_document_depth(text, what, ToolError)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ToolError(f"{what}: not a CycloneDX JSON document ({exc})") from exc
    plain = _syft_packages(document)
    return plain if plain is not None else _library_packages(document, what)


def _library_packages(document: Any, what: str) -> list[SbomPackage]:
    from cyclonedx.model.bom import Bom  # imported when a document needs it: not before a review's export

    try:
        with warnings.catch_warnings():
            # deprecations in the document (syft writes CycloneDX 1.6's deprecated `author`) are not ours
            warnings.simplefilter("ignore")
            bom = Bom.from_json(document)  # type: ignore[attr-defined]
    except Exception as exc:
        raise ToolError(f"{what}: not a CycloneDX JSON document ({exc})") from exc
    packages = [_package(component.purl, component.properties) for component in _components(bom.components)]
    return _sorted(p for p in packages if p is not None)


def _sorted(packages: Iterable[SbomPackage]) -> list[SbomPackage]:
    return sorted(packages, key=lambda p: (p.key, p.version))


def _syft_packages(document: Any) -> list[SbomPackage] | None:
    """The packages of a document syft made, read as plain JSON; None when the library must read it."""
    if not isinstance(document, dict) or not _made_by_syft(document.get("metadata")):
        return None
    pending: list[Any] = []  # a copy: the document is left as it is for the library
    if not _extend(pending, document.get("components")):
        return None
    packages: list[SbomPackage] = []
    while pending:  # each component once: the document's size bounds them, its depth was checked
        component = pending.pop()
        if not isinstance(component, dict) or not _extend(pending, component.get("components")):
            return None
        purl, properties = component.get("purl"), component.get("properties") or []
        if purl is None:
            continue
        if not isinstance(purl, str) or not isinstance(properties, list):
            return None
        if not all(isinstance(p, dict) for p in properties):
            return None
        pairs = {(p.get("name"), p.get("value")) for p in properties}
        named = {(name, value) for name, value in pairs if isinstance(name, str) and isinstance(value, str)}
        if len(named) != len(pairs):
            return None
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            return None  # the library says what is wrong with it
        package = _package(parsed, [_Property(name, value) for name, value in sorted(named)])
        if package is not None:
            packages.append(package)
    ordered = _sorted(packages)
    if any((a.key, a.version) == (b.key, b.version) for a, b in itertools.pairwise(ordered)):
        return None  # which comes first is the library's order of components
    return ordered


def _extend(pending: list[Any], components: Any) -> bool:
    if components is None:
        return True
    if not isinstance(components, list):
        return False
    pending.extend(components)
    return True


def _made_by_syft(metadata: Any) -> bool:
    tools = metadata.get("tools") if isinstance(metadata, dict) else None
    listed = tools.get("components") if isinstance(tools, dict) else tools  # CycloneDX 1.5 on, or before
    return isinstance(listed, list) and any(isinstance(t, dict) and t.get("name") == "syft" for t in listed)


@dataclass(frozen=True)
class _Property:
    name: str
    value: str


def _components(components: Any) -> list[Component]:
    flat: list[Component] = []
    for component in components:
        flat.append(component)
        flat.extend(_components(component.components))
    return flat


def _package(purl: PackageURL | None, properties: Iterable[_Property | Property]) -> SbomPackage | None:
    """``properties`` in the library's order (by name, then value): the last of a name is its value."""
    if purl is None or not purl.version:
        return None
    values = {p.name: p.value for p in properties}
    locations: list[tuple[str, str | None]] = []
    for i in range(1000):
        path = values.get(_PATH.format(i))
        if path is None:
            break
        locations.append((path, values.get(_LAYER.format(i))))
    return sbom_package(purl, locations)
