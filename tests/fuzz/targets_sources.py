"""Targets over whole images: the three file sources (snapshot and every layer stream, indexed), the
manifest and config parsing with what reads the config, the tar indexer with the merge, and review() end
to end with every output format."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path

from hypothesis import strategies as st

from layerdiff.diff.config import diff_config
from layerdiff.fs.tree import build_tree
from layerdiff.fs.view import TreeView
from layerdiff.index.cache import IndexCache
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE, collect
from layerdiff.pipeline import load_image
from layerdiff.render.registry import REPORT_FORMATS, render
from layerdiff.report.load import parse_report
from layerdiff.review import ReviewOptions, review
from layerdiff.sources.transports import open_source, parse_ref
from tests.fuzz.images import FORMATS, Artifact, mutated_artifact, mutated_model, written
from tests.fuzz.mutate_tar import mutated_tar
from tests.fuzz.seeds import seed_images, seed_layers, seed_pairs
from tests.fuzz.target import Target
from tests.support.imagebuilder import Image

LAYER = "layer.tar"


@st.composite
def _image_artifact(draw: st.DrawFn, fmt: str, json_only: bool = False) -> Artifact:
    _, image = draw(st.sampled_from(seed_images()))
    return draw(mutated_artifact(image, fmt, json_only))


def _load(artifact: Artifact, scratch: Path) -> None:
    source = open_source(parse_ref(artifact.write(scratch)))
    try:
        load_image(source, IndexCache(None))
    finally:
        source.close()


def source_target(fmt: str, examples: int) -> Target:
    return Target(
        fmt,
        f"the {fmt} source: snapshot, then every layer stream read and indexed",
        _image_artifact(fmt),
        _load,
        examples,
    )


@st.composite
def _config_artifact(draw: st.DrawFn) -> Artifact:
    return draw(_image_artifact(draw(st.sampled_from(FORMATS)), json_only=True))


@functools.cache
def _seed_view() -> TreeView:
    image = dict(seed_images())["packages-derived"]
    indexes = [index_layer(io.BytesIO(layer), None, "seed", CAPTURE) for layer in image.layers]
    return TreeView(build_tree(indexes), indexes)


def _configs(artifact: Artifact, scratch: Path) -> None:
    """The snapshot, and what reads the config: the config diff and the inventory's user and commands."""
    source = open_source(parse_ref(artifact.write(scratch)))
    try:
        snapshot = source.snapshot()
    finally:
        source.close()
    seed_config = json.loads(dict(seed_images())["packages-base"].config_json())["config"]
    diff_config(seed_config, snapshot.runtime_config, list(enumerate(snapshot.history)))
    collect(_seed_view(), snapshot.runtime_config)


@st.composite
def _layer_artifact(draw: st.DrawFn) -> Artifact:
    return Artifact({LAYER: draw(mutated_tar(draw(st.sampled_from(seed_layers()))))}, "")


@functools.cache
def _base_index() -> tuple[object, ...]:
    image = dict(seed_images())["packages-base"]
    return tuple(index_layer(io.BytesIO(layer), None, "seed", CAPTURE) for layer in image.layers)


def _index(artifact: Artifact, scratch: Path) -> None:
    """Index the layer, then merge it over a seed image, as a derived image's layer would be."""
    index = index_layer(io.BytesIO(artifact.files[LAYER]), None, "fuzz layer", CAPTURE)
    build_tree([*_base_index(), index])  # type: ignore[list-item]


@st.composite
def _pair_artifact(draw: st.DrawFn) -> Artifact:
    """A base and a derived image, one or both mutated, each written in some format."""
    _, base, derived = draw(st.sampled_from(seed_pairs()))
    which = draw(st.sampled_from(("derived", "derived", "base", "both")))
    images: list[Image] = [base, derived]
    for position, name in enumerate(("base", "derived")):
        if which in (name, "both"):
            images[position] = draw(mutated_model(images[position]))
    files: dict[str, bytes] = {}
    references = []
    for name, image in zip(("base", "derived"), images, strict=True):
        written_image = written(image, draw(st.sampled_from(FORMATS)))
        files |= {f"{name}/{path}": data for path, data in written_image.files.items()}
        references.append(written_image.reference.replace("{root}", "{root}/" + name))
    return Artifact(files, "\n".join(references))


def _review(artifact: Artifact, scratch: Path) -> None:
    """review() on the pair, every output format of the report, and the JSON report read back."""
    base, derived = artifact.write(scratch).split("\n")
    report = review(base, derived, ReviewOptions(sbom=False, cache_dir=None))
    for fmt in REPORT_FORMATS:
        text = render(REPORT_FORMATS, report, fmt)
        if fmt == "json":
            parse_report(text, "fuzz report")


TARGETS = (
    source_target("docker-archive", 500),
    source_target("oci", 500),
    source_target("oci-archive", 450),
    Target(
        "manifest-config",
        "manifest, index and config documents: the snapshot, the config diff, the user and commands",
        _config_artifact(),
        _configs,
        450,
    ),
    Target("tar-index", "one layer tar: the indexer, then the merge", _layer_artifact(), _index, 1200),
    Target(
        "review",
        "review() of a mutated pair, every output format, the JSON read back",
        _pair_artifact(),
        _review,
        120,
    ),
)
