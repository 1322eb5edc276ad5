"""The same images read from every kind of source give the same report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from layerdiff.index.cache import IndexCache
from layerdiff.pipeline import load_image
from layerdiff.sources.transports import open_source, parse_ref
from tests.support.cli import run
from tests.support.engine import engine_client, local_registry, push, save, skopeo_copy

pytestmark = pytest.mark.engine


def normalised(stdout: str) -> dict[str, Any]:
    """The report without what names the source itself."""
    doc: dict[str, Any] = json.loads(stdout)
    for side in ("base", "derived"):
        doc[side].pop("reference")
        doc[side].pop("manifest_digest")
    return doc


def test_every_source_gives_the_same_report(scenarios: dict[str, str], tmp_path: Path) -> None:
    client = engine_client()
    for role, name in (("base", "airflow-base"), ("derived", "derived-venv")):
        archive = save(client, scenarios[name], tmp_path / f"{role}.docker.tar")
        skopeo_copy(f"docker-archive:{archive}", f"oci:{tmp_path / 'layout'}:{role}")
        skopeo_copy(f"docker-archive:{archive}", f"oci-archive:{tmp_path / role}.oci.tar")
    refs = {
        "docker": (f"docker:{scenarios['airflow-base']}", f"docker:{scenarios['derived-venv']}"),
        "docker-archive": (
            f"docker-archive:{tmp_path}/base.docker.tar",
            f"docker-archive:{tmp_path}/derived.docker.tar",
        ),
        "oci": (f"oci:{tmp_path}/layout:base", f"oci:{tmp_path}/layout:derived"),
        "oci-archive": (f"oci-archive:{tmp_path}/base.oci.tar", f"oci-archive:{tmp_path}/derived.oci.tar"),
    }
    with local_registry() as registry:
        refs["registry"] = (
            f"registry:{push(client, scenarios['airflow-base'], registry, 'airflow-base')}",
            f"registry:{push(client, scenarios['derived-venv'], registry, 'derived-venv')}",
        )
        reports = {}
        for kind, (base, derived) in refs.items():
            # a fresh cache each time, so every source really reads its layers
            result = run(
                "diff", base, derived, "--format", "json", "--cache-dir", str(tmp_path / f"cache-{kind}")
            )
            assert result.code == 1, (kind, result.stderr)  # the venv's lost distributions fail at high
            reports[kind] = normalised(result.stdout)
    expected = reports.pop("docker-archive")
    assert expected["file_changes"] and expected["config_changes"]
    assert expected["derived"]["healthcheck"] is not None
    for kind, doc in reports.items():
        if kind.startswith("oci"):
            # skopeo converts the config to OCI's, which has no Healthcheck: the copy is another image
            for side in ("base", "derived"):
                assert doc[side]["healthcheck"] is None
                for field in ("healthcheck", "image_id"):
                    doc[side][field] = expected[side][field]
        assert doc == expected, f"{kind} differs from docker-archive"


class Recording:
    def __init__(self) -> None:
        self.streams = 0

    def count(self, items: Any) -> Any:
        for item in items:
            self.streams += 1
            yield item


def test_engine_second_run_reads_no_layer_and_skips_cached_base_layers(
    scenarios: dict[str, str], tmp_path: Path
) -> None:
    cache = IndexCache(tmp_path / "cache")

    def load(tag: str) -> tuple[int, int]:
        source = open_source(parse_ref(f"docker:{tag}"))
        recording = Recording()
        original = source.layer_streams

        def counted(wanted: Any, cached_sizes: Any) -> Any:
            items: Any = original(wanted, cached_sizes)
            return recording.count(items)

        source.layer_streams = counted  # type: ignore[method-assign]
        hits = cache.hits
        load_image(source, cache)
        source.close()
        return recording.streams, cache.hits - hits

    base_layers = len(engine_client().images.get(scenarios["airflow-base"]).attrs["RootFS"]["Layers"])
    streams, _ = load(scenarios["airflow-base"])
    assert streams == base_layers  # cold: every layer indexed once
    streams, hits = load(scenarios["derived-pin"])
    assert streams == 1 and hits == base_layers  # the base's layers are recognised and skipped
    streams, hits = load(scenarios["derived-pin"])
    assert streams == 0 and hits == base_layers + 1  # warm: nothing read at all
