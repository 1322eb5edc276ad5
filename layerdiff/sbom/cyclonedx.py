"""Packages from a CycloneDX document (syft's or anyone's), through cyclonedx-python-lib."""

from __future__ import annotations

import json
import posixpath
import warnings
from typing import Any

from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component
from packageurl import PackageURL

from layerdiff.errors import ToolError
from layerdiff.sbom.model import SbomPackage

_LAYER = "syft:location:{}:layerID"
_PATH = "syft:location:{}:path"
# Language packages whose copies in two places are two installations (a venv and the system, say).
_PER_LOCATION = {"pypi", "npm", "gem"}


def read_cyclonedx(text: str, what: str) -> list[SbomPackage]:
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
    layers, paths = [], []
    for i in range(1000):
        path = properties.get(_PATH.format(i))
        if path is None:
            break
        paths.append(path)
        if (layer := properties.get(_LAYER.format(i))) is not None:
            layers.append(layer)
    name = f"{purl.namespace}/{purl.name}" if purl.namespace else purl.name
    arch = str((purl.qualifiers or {}).get("arch", "")) if isinstance(purl.qualifiers, dict) else ""
    where = _install_root(paths) if purl.type in _PER_LOCATION else ""
    return SbomPackage(
        purl=purl.to_string(),
        type=purl.type,
        name=name,
        version=purl.version,
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
