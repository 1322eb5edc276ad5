"""Compare two SBOM files directly (``layerdiff sbom-diff A B``), whatever mix of CycloneDX and syft JSON.

Without the images there are no layer positions, so a package whose version is unchanged is never reported
as "rebuilt": ``diff_packages`` skips unchanged packages whose layer it cannot place.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from layerdiff.diff.packages import diff_packages
from layerdiff.errors import ToolError
from layerdiff.image.json_depth import check_document_depth
from layerdiff.sbom.cyclonedx import read_cyclonedx
from layerdiff.sbom.model import SbomPackage
from layerdiff.sbom.syft_json import is_syft_json, syft_json_packages

SCHEMA_VERSION = "1.0.0"


def read_sbom(text: str, what: str) -> list[SbomPackage]:
    """Packages from a CycloneDX JSON or syft JSON document; ToolError for anything else."""
    check_document_depth(text, what, ToolError)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ToolError(f"{what}: not a JSON document ({exc})") from exc
    if isinstance(document, dict) and document.get("bomFormat") == "CycloneDX":
        return read_cyclonedx(text, what)
    if is_syft_json(document):
        return syft_json_packages(document, what)
    raise ToolError(f"{what}: neither a CycloneDX JSON nor a syft JSON document")


def sbom_diff_report(
    a_name: str, b_name: str, a_packages: Sequence[SbomPackage], b_packages: Sequence[SbomPackage]
) -> dict[str, Any]:
    """A small versioned report: A is the "before" side, B the "after"."""
    changes = diff_packages(a_packages, b_packages, {}, 0)
    return {
        "schema_version": SCHEMA_VERSION,
        "a": a_name,
        "b": b_name,
        "changes": [
            {
                "type": c.type,
                "name": c.name,
                "kind": c.kind,
                "before": _side(c.before),
                "after": _side(c.after),
            }
            for c in changes
        ],
    }


def _side(package: SbomPackage | None) -> dict[str, str] | None:
    if package is None:
        return None
    return {"version": package.version, "purl": package.purl}
