"""The engine's export is read once: the indexer's read is copied to disk for syft to scan as docker-archive.

The engine here is a stand-in at the docker SDK's boundary serving real ``docker save`` bytes; the real
engine is in tests/integration/test_engine_export.py.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layerdiff.errors import ToolError
from layerdiff.image.limits import LimitExceeded, Limits
from layerdiff.image.model import ImageSnapshot
from layerdiff.image.refs import ImageRef
from layerdiff.image.streams import ReadStream
from layerdiff.index.cache import IndexCache
from layerdiff.report.model import dumps
from layerdiff.review import ReviewOptions, review
from layerdiff.sbom import jobs as jobs_module
from layerdiff.sbom.jobs import SbomJobs
from layerdiff.sbom.syft import Syft
from layerdiff.sources import engine as engine_module
from layerdiff.sources.export_copy import ExportCopy
from layerdiff.sources.transports import open_source, parse_ref
from tests.support import pairs
from tests.support.imagebuilder import Image, sha256, write_docker_archive


def _chunks(data: bytes, size: int = 1000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _read_all(stream: ReadStream) -> bytes:
    parts = []
    while part := stream.read(777):
        parts.append(part)
    return b"".join(parts)


def test_the_reader_sees_every_byte_and_syft_may_start_once_all_are_on_disk(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40
    copy = ExportCopy(tmp_path / "image.tar", Limits(), 1, "export")
    on_disk: list[bytes] = []
    copy.when_complete(lambda: on_disk.append(copy.path.read_bytes()))
    assert _read_all(copy.fill(_chunks(data))) == data
    assert copy.complete and on_disk == [data]  # the callback ran before the reader saw the end
    copy.discard()
    assert not copy.path.exists()


def test_an_export_over_the_image_limit_is_refused_while_copying(tmp_path: Path) -> None:
    copy = ExportCopy(
        tmp_path / "image.tar", Limits(image_bytes=1000, json_bytes=10), 1, "docker:big: export"
    )
    started: list[bool] = []
    copy.when_complete(lambda: started.append(True))
    with pytest.raises(LimitExceeded, match="limit image-bytes"):
        _read_all(copy.fill(_chunks(b"x" * 2000)))
    assert not copy.complete and not started  # syft never sees it


def test_the_engine_failing_mid_export_reaches_the_reader(tmp_path: Path) -> None:
    def failing() -> Iterator[bytes]:
        yield b"x" * 100
        raise ConnectionError("engine went away")

    copy = ExportCopy(tmp_path / "image.tar", Limits(), 1, "export")
    with pytest.raises(ConnectionError, match="went away"):
        _read_all(copy.fill(failing()))
    assert not copy.complete


def test_a_copy_that_cannot_be_written_is_a_tool_error(tmp_path: Path) -> None:
    copy = ExportCopy(tmp_path / "missing-directory" / "image.tar", Limits(), 1, "export")
    with pytest.raises(ToolError, match="cannot copy the export for syft"):
        copy.fill(_chunks(b"x" * 5000))


def test_a_reader_that_gives_up_stops_the_export(tmp_path: Path) -> None:
    asked = []
    gate = threading.Event()

    def endless() -> Iterator[bytes]:
        while True:
            asked.append(1)
            gate.wait()
            yield b"x" * 1000

    copy = ExportCopy(tmp_path / "image.tar", Limits(), 1, "export")
    reader = copy.fill(endless())
    copy.stop()
    gate.set()
    ended: list[bytes] = []
    waiting = threading.Thread(target=lambda: ended.append(reader.read(10)), daemon=True)
    waiting.start()
    waiting.join(timeout=10)
    assert ended == [b""] and len(asked) == 1 and not copy.complete  # no chunk asked for after stopping


class FakeApi:
    """The docker SDK's low-level API for saved images: inspect, history and export of real archives."""

    def __init__(self, images: dict[str, tuple[Image, Path]]) -> None:
        self.images = images
        self.exports: list[str] = []

    def _find(self, name: str) -> tuple[Image, Path]:
        for tag, (image, archive) in self.images.items():
            if name in (tag, sha256(image.config_json())):
                return image, archive
        raise AssertionError(f"no image {name}")

    def inspect_image(self, name: str) -> dict[str, Any]:
        image, _ = self._find(name)
        tags = [tag for tag, (other, _) in self.images.items() if other is image]
        return {
            "Id": sha256(image.config_json()),
            "Architecture": image.architecture,
            "Os": image.os,
            "Config": image.config,
            "RootFS": {"Type": "layers", "Layers": [sha256(layer) for layer in image.layers]},
            "RepoTags": tags,
            "RepoDigests": [],
        }

    def history(self, name: str) -> list[dict[str, Any]]:
        image, _ = self._find(name)
        entries = image.history or [
            {"created_by": f"/bin/sh -c #(nop) ADD layer{i}"} for i in range(len(image.layers))
        ]
        layers = iter(image.layers)
        oldest_first = [
            {
                "CreatedBy": entry.get("created_by", ""),
                "Created": 0,
                "Size": 0 if entry.get("empty_layer") else len(next(layers)),
            }
            for entry in entries
        ]
        return oldest_first[::-1]  # the engine lists the newest first

    def get_image(self, name: str, chunk_size: int) -> Iterator[bytes]:
        _, archive = self._find(name)
        self.exports.append(name)
        with archive.open("rb") as stream:
            while chunk := stream.read(chunk_size):
                yield chunk


class FakeClient:
    def __init__(self, api: FakeApi) -> None:
        self.api = api

    def close(self) -> None:
        pass


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    images = {"base:1": pairs.base_image(), "pin:1": pairs.pinned_requests()}
    api = FakeApi(
        {
            tag: (image, write_docker_archive(tmp_path / f"{tag.split(':')[0]}.tar", image, tag))
            for tag, image in images.items()
        }
    )
    monkeypatch.setattr(engine_module, "connect", lambda: FakeClient(api))
    return api


def _report(base: str, derived: str, cache: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(dumps(review(base, derived, ReviewOptions(cache_dir=cache))))
    for side in ("base", "derived"):
        document[side].pop("reference")
    return document


def test_syft_scans_the_export_the_indexer_read(engine: FakeApi, tmp_path: Path) -> None:
    # the stand-in engine cannot serve syft's own `docker:` scan: syft succeeding means it read the copy
    from_engine = _report("docker:base:1", "docker:pin:1", tmp_path / "cache")
    assert engine.exports == [
        sha256(pairs.base_image().config_json()),
        sha256(pairs.pinned_requests().config_json()),
    ]
    assert from_engine["packages"]["changes"]  # the requests downgrade, found in the copy
    assert not list((tmp_path / "cache" / "tmp").iterdir())  # the copies are gone
    archives = {tag: archive for tag, (_, archive) in engine.images.items()}
    from_archives = _report(
        f"docker-archive:{archives['base:1']}", f"docker-archive:{archives['pin:1']}", tmp_path / "other"
    )
    assert from_engine == from_archives
    again = _report("docker:base:1", "docker:pin:1", tmp_path / "cache")
    assert again == from_engine and len(engine.exports) == 2  # warm: layers and SBOMs cached, no export


def _jobs_with_recorded_scans(
    cache: IndexCache, monkeypatch: pytest.MonkeyPatch
) -> tuple[SbomJobs, list[Path | None]]:
    scanned: list[Path | None] = []

    def recorded(syft: Syft, ref: ImageRef, *args: Any) -> str:
        archive = args[-1]
        scanned.append(archive)
        assert archive is None or archive.is_file()  # the copy is there while syft reads it
        return '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": []}'

    monkeypatch.setattr(jobs_module, "scan", recorded)
    return SbomJobs(Syft("syft", "1.0"), cache, None), scanned


def test_an_image_whose_layers_are_all_cached_is_scanned_by_syft_from_the_engine(
    engine: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from layerdiff.pipeline import load_image

    cache = IndexCache(tmp_path / "cache")
    ref = parse_ref("docker:pin:1")
    source = open_source(ref)
    snapshot: ImageSnapshot = source.snapshot()
    load_image(source, cache, snapshot=snapshot)  # every layer cached now
    jobs, scanned = _jobs_with_recorded_scans(cache, monkeypatch)
    jobs.prepare(ref, snapshot, source)
    load_image(source, cache, snapshot=snapshot)
    jobs.start(ref, snapshot)
    jobs.packages(snapshot)
    jobs.close()
    assert scanned == [None] and len(engine.exports) == 1  # nothing exported for the copy: syft asks
    assert not list((tmp_path / "cache" / "tmp").iterdir())


def test_a_source_without_a_whole_image_export_makes_no_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = write_docker_archive(tmp_path / "pin.tar", pairs.pinned_requests())
    cache = IndexCache(tmp_path / "cache")
    ref = parse_ref(f"docker-archive:{archive}")
    source = open_source(ref)
    snapshot = source.snapshot()
    jobs, scanned = _jobs_with_recorded_scans(cache, monkeypatch)
    jobs.prepare(ref, snapshot, source)
    jobs.start(ref, snapshot)
    jobs.packages(snapshot)
    jobs.close()
    assert scanned == [None]
    assert not list((tmp_path / "cache" / "tmp").iterdir())


def test_a_review_that_stops_early_leaves_no_copy(engine: FakeApi, tmp_path: Path) -> None:
    cache = IndexCache(tmp_path / "cache")
    jobs = SbomJobs(Syft("syft", "1.0"), cache, None)
    ref = parse_ref("docker:pin:1")
    source = open_source(ref)
    jobs.prepare(ref, source.snapshot(), source)
    assert len(list((tmp_path / "cache" / "tmp").iterdir())) == 1
    jobs.close()
    assert not list((tmp_path / "cache" / "tmp").iterdir())
