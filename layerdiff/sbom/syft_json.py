"""Packages from syft's native JSON (``syft -o json``), keyed exactly as ``read_cyclonedx`` keys them.

syft's own format carries the same facts as its CycloneDX output (purl, location paths and layer ids), so a
package read from either format compares equal; the key rules (per-location keys for language packages)
come from the CycloneDX reader itself so the two cannot drift apart.
"""

from __future__ import annotations

import json
from typing import Any

from packageurl import PackageURL

from layerdiff.errors import ToolError
from layerdiff.image.json_depth import check_document_depth

# Shared on purpose: one definition of "the same package" for both formats.
from layerdiff.sbom.model import SbomPackage, sbom_package


def is_syft_json(document: object) -> bool:
    """A syft JSON document: an ``artifacts`` list, and syft named as its producer or schema."""
    if not isinstance(document, dict) or not isinstance(document.get("artifacts"), list):
        return False
    descriptor = document.get("descriptor")
    schema = document.get("schema")
    named = isinstance(descriptor, dict) and descriptor.get("name") == "syft"
    url = schema.get("url") if isinstance(schema, dict) else None
    return named or (isinstance(url, str) and "syft" in url)


def read_syft_json(text: str, what: str) -> list[SbomPackage]:
    check_document_depth(text, what, ToolError)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ToolError(f"{what}: not a JSON document ({exc})") from exc
    return syft_json_packages(document, what)


def syft_json_packages(document: object, what: str) -> list[SbomPackage]:
    """The packages of an already parsed document (so a caller that sniffed the format parses once)."""
    if not is_syft_json(document):
        raise ToolError(f"{what}: not a syft JSON document (no 'artifacts' list from syft)")
    assert isinstance(document, dict)
    packages = [_package(artifact, what) for artifact in document["artifacts"]]
    return sorted((p for p in packages if p is not None), key=lambda p: (p.key, p.version))


def _package(artifact: Any, what: str) -> SbomPackage | None:
    if not isinstance(artifact, dict):
        raise ToolError(f"{what}: an artifact is not an object")
    text = artifact.get("purl")
    if not text:
        return None  # as in CycloneDX: without a purl there is no ecosystem to compare versions in
    try:
        purl = PackageURL.from_string(str(text))
    except ValueError as exc:
        raise ToolError(f"{what}: artifact {artifact.get('name')!r} has an invalid purl ({exc})") from exc
    if not purl.version:
        return None
    locations = artifact.get("locations") or []
    if not isinstance(locations, list):
        raise ToolError(f"{what}: artifact {artifact.get('name')!r} has malformed locations")
    evidence: list[tuple[str, str | None]] = []
    for location in locations:
        if not isinstance(location, dict) or not isinstance(location.get("path"), str):
            continue
        layer = location.get("layerID")
        evidence.append((location["path"], layer if isinstance(layer, str) else None))
    return sbom_package(purl, evidence)
