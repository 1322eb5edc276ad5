"""Build a RuleContext from two images assembled in Python, through the real pipeline (and real syft)."""

from __future__ import annotations

from pathlib import Path

from layerdiff.index.cache import IndexCache
from layerdiff.pipeline import Sboms, compare, load_image
from layerdiff.rules.model import Finding, Rule, RuleContext
from layerdiff.sbom.cyclonedx import read_cyclonedx
from layerdiff.sbom.syft import find_syft, scan
from layerdiff.sources.transports import open_source, parse_ref
from tests.support.imagebuilder import Image, write_oci_layout


def diff_context(tmp_path: Path, base: Image, derived: Image, sbom: bool = False) -> RuleContext:
    """The context rules see for ``derived`` built on ``base``; with ``sbom``, syft scans both."""
    layout = write_oci_layout(tmp_path / "rule-layout", {"base": base, "derived": derived})
    refs = [parse_ref(f"oci:{layout}:base"), parse_ref(f"oci:{layout}:derived")]
    cache = IndexCache(None)
    loaded = []
    for ref in refs:
        source = open_source(ref)
        loaded.append(load_image(source, cache))
        source.close()
    sboms = None
    if sbom:
        syft = find_syft()
        documents = [read_cyclonedx(scan(syft, ref, None, None), str(ref)) for ref in refs]
        sboms = Sboms(f"syft {syft.version}", documents[0], documents[1])
    diff = compare(loaded[0], loaded[1], sboms)
    return RuleContext(diff, loaded[0].snapshot, loaded[1].snapshot, loaded[1].indexes)


def findings(rule: Rule, context: RuleContext) -> list[Finding]:
    return list(rule.check(context))
