from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from layerdiff.image.model import ImageSnapshot, LayerDescriptor
from layerdiff.index.cache import IndexCache
from layerdiff.index.capture import Capture, CaptureSpec
from layerdiff.inventory.collect import CAPTURE
from layerdiff.pipeline import compare, load_image
from layerdiff.sources.base import ImageSource, LayerStream
from layerdiff.sources.transports import open_source, parse_ref
from tests.support import pairs
from tests.support.imagebuilder import write_oci_layout


class CountingSource(ImageSource):
    """Wraps a real source and records which layers were actually read."""

    def __init__(self, inner: ImageSource) -> None:
        self.inner = inner
        self.read: list[int] = []

    def snapshot(self) -> ImageSnapshot:
        return self.inner.snapshot()

    def layer_streams(
        self, wanted: Sequence[LayerDescriptor], cached_sizes: Mapping[str, int]
    ) -> Iterator[LayerStream]:
        for item in self.inner.layer_streams(wanted, cached_sizes):
            assert item.layer is not None
            self.read.append(item.layer.position)
            yield item


def test_second_run_reads_no_base_layer(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "l", {"base": pairs.base_image(), "pin": pairs.pinned_requests()})
    cache_dir = tmp_path / "cache"

    def run_once() -> tuple[list[int], list[int], IndexCache]:
        cache = IndexCache(cache_dir)
        base = CountingSource(open_source(parse_ref(f"oci:{layout}:base")))
        derived = CountingSource(open_source(parse_ref(f"oci:{layout}:pin")))
        compare(load_image(base, cache), load_image(derived, cache))
        cache.close()
        return base.read, derived.read, cache

    base_read, derived_read, cold = run_once()
    assert base_read == [0, 1] and derived_read == [2]  # the shared layers are read once, for the base
    assert cold.hits == 2 and cold.misses == 3
    base_read, derived_read, warm = run_once()
    assert base_read == [] and derived_read == []
    assert warm.hits == 5 and warm.misses == 0


def test_concurrent_writers_leave_a_readable_cache(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "l", {"base": pairs.base_image()})
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                cache = IndexCache(tmp_path / "cache")
                load_image(open_source(parse_ref(f"oci:{layout}:base")), cache)
                cache.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    cache = IndexCache(tmp_path / "cache")
    image = load_image(open_source(parse_ref(f"oci:{layout}:base")), cache)
    assert cache.hits == 2 and len(image.indexes) == 2


def test_a_table_left_by_an_older_layout_is_replaced(tmp_path: Path) -> None:
    import sqlite3

    directory = tmp_path / "cache"
    directory.mkdir()
    old = sqlite3.connect(directory / "layers.sqlite3")
    old.execute("CREATE TABLE layer_index (diff_id TEXT, format INTEGER, tar_size INTEGER, payload BLOB)")
    old.execute("INSERT INTO layer_index VALUES ('sha256:x', 2, 1, x'00')")
    old.commit()
    old.close()
    cache = IndexCache(directory)
    assert cache.get("sha256:x", CAPTURE) is None
    cache.close()


def test_indexes_made_under_another_capture_declaration_are_not_reused(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "l", {"base": pairs.base_image()})
    cache = IndexCache(tmp_path / "cache")
    load_image(open_source(parse_ref(f"oci:{layout}:base")), cache)
    fewer = CaptureSpec([Capture(paths=("/etc/passwd",))])
    image = load_image(open_source(parse_ref(f"oci:{layout}:base")), cache, capture=fewer)
    assert cache.hits == 0 and cache.misses == 4  # both layers indexed again, under the other declaration
    assert {path for index in image.indexes for path in index.contents} <= {"/etc/passwd"}
    load_image(open_source(parse_ref(f"oci:{layout}:base")), cache)
    assert cache.hits == 2


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    directory = tmp_path / "cache"
    directory.mkdir()
    (directory / "layers.sqlite3").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(OSError, match="not a usable layerdiff cache"):
        IndexCache(directory)
