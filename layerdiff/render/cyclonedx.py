"""A report's package changes as a CycloneDX 1.6 BOM of the derived image.

The BOM describes the derived image (a ``container`` component named by its reference, versioned by its
image id) and lists every package that changed relative to the base, with the change as properties:
``layerdiff:change`` (added, removed, upgraded, downgraded, changed), ``layerdiff:version-before``,
``layerdiff:version-after`` and ``layerdiff:layer``. Removed packages are listed too, so the BOM carries the
whole change set, but only the packages still present are dependencies of the image. The packages are the
report's package changes (``Report.package_changes``): the SBOM comparison's, then those only the OS package
database or the Python environments of the inventory found (all of them with ``--sbom none``).

Reproducible: the serial number is a UUID5 of both image ids, the timestamp the library would stamp is left
out, bom-refs are derived from package URLs, and the library sorts components and properties.
"""

from __future__ import annotations

import json
import uuid
import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from layerdiff.report.package_view import ChangedPackage
from layerdiff.report.wire import ImageSummary, Report
from layerdiff.report.wire_inventory import OsPackageChange, PackageChange

SERIAL_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://layerdiff.dev/cyclonedx")
PROPERTY_PREFIX = "layerdiff:"
# The purl namespace of an OS package when the distribution is unknown (the report does not carry it);
# the same defaults as layerdiff.inventory.ospkg.
OS_PURL_NAMESPACE: dict[str, str | None] = {"deb": "debian", "apk": "alpine", "rpm": None}


@dataclass(frozen=True)
class BomPackage:
    """One package change as a BOM component."""

    name: str
    version: str | None
    purl: PackageURL | None
    change: str
    properties: tuple[tuple[str, str], ...]

    @property
    def present(self) -> bool:
        return self.change != "removed"


def render_cyclonedx(report: Report) -> str:
    bom = build_bom(report)
    with warnings.catch_warnings():
        # The library warns when the image depends on nothing: true when every change is a removal.
        warnings.filterwarnings("ignore", message=".*has no defined dependencies.*", category=UserWarning)
        text = JsonV1Dot6(bom).output_as_string(indent=2)
    document = json.loads(text)
    # The library stamps the current time; a report rendered twice must give the same bytes.
    document["metadata"].pop("timestamp", None)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def build_bom(report: Report) -> Bom:
    base, derived = report.base, report.derived
    image = image_component(derived, base, report.comparison.shared_layers)
    packages = [bom_package(change) for change in report.package_changes()]
    components = [
        package_component(package, ref) for package, ref in zip(packages, _bom_refs(packages), strict=True)
    ]
    metadata = BomMetaData(component=image)
    metadata.tools.components.add(
        Component(
            type=ComponentType.APPLICATION,
            name=report.tool.name,
            version=report.tool.version,
            bom_ref=f"tool:{report.tool.name}",
        )
    )
    bom = Bom(serial_number=serial_number(base, derived), metadata=metadata, components=components)
    present = [c for c, p in zip(components, packages, strict=True) if p.present]
    bom.register_dependency(image, present)
    for component in components:
        bom.register_dependency(component)
    return bom


def serial_number(base: ImageSummary, derived: ImageSummary) -> uuid.UUID:
    return uuid.uuid5(SERIAL_NAMESPACE, f"{base.image_id}\0{derived.image_id}")


def image_component(derived: ImageSummary, base: ImageSummary, shared_layers: int) -> Component:
    properties = [
        Property(name=f"{PROPERTY_PREFIX}base-reference", value=base.reference),
        Property(name=f"{PROPERTY_PREFIX}base-image-id", value=base.image_id or ""),
        Property(name=f"{PROPERTY_PREFIX}shared-layers", value=str(shared_layers)),
    ]
    if derived.manifest_digest:
        properties.append(Property(name=f"{PROPERTY_PREFIX}manifest-digest", value=derived.manifest_digest))
    return Component(
        type=ComponentType.CONTAINER,
        name=derived.reference,
        version=derived.image_id or "",
        bom_ref=f"image:{derived.image_id or derived.reference}",
        properties=properties,
    )


def bom_package(change: ChangedPackage) -> BomPackage:
    """The component of one of the report's package changes, with what its source knows about it."""
    properties = _change_properties(change.kind, change.before, change.after)
    version: str | None
    origin = change.origin
    if isinstance(origin, PackageChange):
        package = origin.after or origin.before
        assert package is not None, "a package change has a before or an after"
        if change.layer is not None:
            properties.append(("layer", str(change.layer)))
        properties += [("path", path) for path in package.paths]
        version, purl = package.version, _parse_purl(package.purl)
    elif isinstance(origin, OsPackageChange):
        version = change.after or change.before
        purl = PackageURL(
            type=origin.ecosystem,
            namespace=OS_PURL_NAMESPACE.get(origin.ecosystem),
            name=origin.name,
            version=version,
            qualifiers={"arch": origin.architecture} if origin.architecture else None,
        )
    else:
        distribution = origin.after or origin.before
        assert distribution is not None, "a distribution change has a before or an after"
        properties.append(("python-environment", origin.environment))
        if distribution.location:
            properties.append(("path", distribution.location))
        version = distribution.version
        purl = PackageURL(type="pypi", name=origin.name, version=version)
    return BomPackage(change.name, version, purl, change.kind, tuple(properties))


def _change_properties(kind: str, before: str | None, after: str | None) -> list[tuple[str, str]]:
    properties = [("change", kind)]
    if before is not None:
        properties.append(("version-before", before))
    if after is not None:
        properties.append(("version-after", after))
    return properties


def _parse_purl(text: str | None) -> PackageURL | None:
    if not text:
        return None
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None  # a malformed purl from the SBOM tool: keep the component, without the purl


def _bom_refs(packages: Iterable[BomPackage]) -> list[str]:
    """A unique bom-ref per package: its purl (or type-less name@version), numbered when it repeats (the
    same package in two Python environments)."""
    seen: Counter[str] = Counter()
    refs = []
    for package in packages:
        ref = package.purl.to_string() if package.purl else f"{package.name}@{package.version or ''}"
        seen[ref] += 1
        refs.append(ref if seen[ref] == 1 else f"{ref}#{seen[ref]}")
    return refs


def package_component(package: BomPackage, bom_ref: str) -> Component:
    return Component(
        type=ComponentType.LIBRARY,
        name=package.name,
        version=package.version,
        purl=package.purl,
        bom_ref=bom_ref,
        properties=[Property(name=PROPERTY_PREFIX + name, value=value) for name, value in package.properties],
    )
