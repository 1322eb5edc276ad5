"""Packages from a CycloneDX document (syft's or anyone's), through cyclonedx-python-lib."""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

from packageurl import PackageURL

from layerdiff.errors import ToolError
from layerdiff.image.json_depth import check_document_depth
from layerdiff.sbom.model import SbomPackage, sbom_package

if TYPE_CHECKING:
    from cyclonedx.model.component import Component

_LAYER = "syft:location:{}:layerID"
_PATH = "syft:location:{}:path"


def read_cyclonedx(text: str, what: str) -> list[SbomPackage]:
    from cyclonedx.model.bom import Bom  # imported when a document is read: not before a review's export

    check_document_depth(text, what, ToolError)
    try:
        with warnings.catch_warnings():
            # deprecations in the document (syft writes CycloneDX 1.6's deprecated `author`) are not ours
            warnings.simplefilter("ignore")
            bom = Bom.from_json(json.loads(text))  # type: ignore[attr-defined]
    except Exception as exc:
        raise ToolError(f"{what}: not a CycloneDX JSON document ({exc})") from exc
    packages = [_package(component) for component in _components(bom.components)]
    return sorted((p for p in packages if p is not None), key=lambda p: (p.key, p.version))


def _components(components: Any) -> list[Component]:
    flat: list[Component] = []
    for component in components:
        flat.append(component)
        flat.extend(_components(component.components))
    return flat


def _package(component: Component) -> SbomPackage | None:
    purl: PackageURL | None = component.purl
    if purl is None or not purl.version:
        return None
    properties = {p.name: p.value for p in component.properties}
    locations: list[tuple[str, str | None]] = []
    for i in range(1000):
        path = properties.get(_PATH.format(i))
        if path is None:
            break
        locations.append((path, properties.get(_LAYER.format(i))))
    return sbom_package(purl, locations)
