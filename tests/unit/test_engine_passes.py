"""How the engine's export is read: asked for ahead of time, cached layers passed over unhashed, and a wanted
layer that shares its size with a cached one still found (the stand-in engine of test_export_copy)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from layerdiff.errors import ImageError
from layerdiff.image.model import LayerIndex
from layerdiff.image.streams import DigestReader, IterStream
from layerdiff.image.tarstream import TarReader
from layerdiff.index.cache import IndexCache
from layerdiff.index.capture import CaptureSpec
from layerdiff.inventory.collect import CAPTURE
from layerdiff.pipeline import load_image, plan_image, prefetch_top, read_layers
from layerdiff.sources import engine as engine_module
from layerdiff.sources.transports import open_source, parse_ref
from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar, sha256, write_docker_archive
from tests.unit.test_export_copy import FakeApi, FakeClient


class CountingDigests(DigestReader):
    hashed: ClassVar[list[int]] = []  # bytes hashed by each reader, once it is done

    def _finish(self) -> None:
        if not self._finished:
            CountingDigests.hashed.append(self.bytes_read)
        super()._finish()


def _engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, images: dict[str, Image]) -> FakeApi:
    api = FakeApi(
        {
            tag: (image, write_docker_archive(tmp_path / f"{tag.split(':')[0]}.tar", image, tag))
            for tag, image in images.items()
        }
    )
    monkeypatch.setattr(engine_module, "connect", lambda: FakeClient(api))
    CountingDigests.hashed = []
    monkeypatch.setattr(engine_module, "DigestReader", CountingDigests)
    return api


def _distinct_sizes() -> tuple[Image, Image]:
    base_layers = [layer_tar([F("etc/", kind="dir"), F(f"etc/{n}.conf", b"a" * 700 * n)]) for n in (1, 20)]
    top_layer = layer_tar([F("srv/", kind="dir"), F("srv/data", b"c" * 40_000)])
    assert len({len(layer) for layer in [*base_layers, top_layer]}) == 3
    return Image(base_layers), Image([*base_layers, top_layer])


def _same_size_pair() -> tuple[Image, Image]:
    base_layer = layer_tar([F("etc/", kind="dir"), F("etc/a.conf", b"a" * 700)])
    top_layer = layer_tar([F("etc/", kind="dir"), F("etc/b.conf", b"b" * 700)])
    assert len(base_layer) == len(top_layer) and base_layer != top_layer
    return Image([base_layer]), Image([base_layer, top_layer])


def test_cached_layers_are_passed_over_unhashed_and_the_export_is_asked_for_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, derived = _distinct_sizes()
    api = _engine(tmp_path, monkeypatch, {"base:1": base, "derived:1": derived})
    cache = IndexCache(tmp_path / "cache")
    load_image(open_source(parse_ref("docker:base:1")), cache)
    CountingDigests.hashed = []
    loaded = load_image(open_source(parse_ref("docker:derived:1")), cache)
    assert CountingDigests.hashed == [len(derived.layers[2])]  # only the layer indexed is hashed
    assert [index.diff_id for index in loaded.indexes] == [sha256(layer) for layer in derived.layers]
    assert len(api.exports) == 2


def test_a_wanted_layer_the_size_of_a_cached_one_is_found_by_its_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, derived = _same_size_pair()
    api = _engine(tmp_path, monkeypatch, {"base:1": base, "derived:1": derived})
    cache = IndexCache(tmp_path / "cache")
    load_image(open_source(parse_ref("docker:base:1")), cache)
    loaded = load_image(open_source(parse_ref("docker:derived:1")), cache)
    assert [index.diff_id for index in loaded.indexes] == [sha256(layer) for layer in derived.layers]
    assert "/etc/b.conf" in {entry.path for entry in loaded.indexes[1].entries}
    # passed over, then both members of that size hashed, then the wanted one indexed
    assert len(api.exports) == 1 + 3
    assert cache.get(sha256(derived.layers[1]), CAPTURE) is not None


def test_the_export_is_asked_for_when_the_plan_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = _engine(tmp_path, monkeypatch, {"pin:1": pairs.pinned_requests()})
    asked: list[str] = []
    real = api.get_image

    def recorded(name: str, chunk_size: int) -> Any:
        asked.append(name)
        return real(name, chunk_size)

    monkeypatch.setattr(api, "get_image", recorded)
    source = open_source(parse_ref("docker:pin:1"))
    plan = plan_image(source, IndexCache(None))
    assert plan.missing
    source._prefetched.result(timeout=10)  # type: ignore[attr-defined]
    assert len(asked) == 1  # before any layer is read
    loaded = read_layers(plan)
    assert len(asked) == 1 and len(loaded.indexes) == len(pairs.pinned_requests().layers)


def test_an_export_that_fails_ahead_of_time_fails_where_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import docker.errors

    api = _engine(tmp_path, monkeypatch, {"pin:1": pairs.pinned_requests()})

    def refused(name: str, chunk_size: int) -> Any:
        raise docker.errors.APIError("no space left on device")

    monkeypatch.setattr(api, "get_image", refused)
    source = open_source(parse_ref("docker:pin:1"))
    plan = plan_image(source, IndexCache(None))
    with pytest.raises(ImageError, match="export failed"):
        read_layers(plan)


def test_an_image_all_in_the_cache_asks_for_no_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = _engine(tmp_path, monkeypatch, {"pin:1": pairs.pinned_requests()})
    cache = IndexCache(tmp_path / "cache")
    load_image(open_source(parse_ref("docker:pin:1")), cache)
    plan = plan_image(open_source(parse_ref("docker:pin:1")), cache)
    assert not plan.missing and len(api.exports) == 1
    read_layers(plan)
    assert len(api.exports) == 1


def test_layers_at_hand_are_not_read_from_the_cache_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, derived = _distinct_sizes()
    _engine(tmp_path, monkeypatch, {"base:1": base, "derived:1": derived})
    cache = IndexCache(tmp_path / "cache")
    loaded_base = load_image(open_source(parse_ref("docker:base:1")), cache)
    asked: list[str] = []
    real_get = cache.get

    def recorded(diff_id: str, capture: CaptureSpec) -> LayerIndex | None:
        asked.append(diff_id)
        return real_get(diff_id, capture)

    monkeypatch.setattr(cache, "get", recorded)
    known = {index.diff_id: index for index in loaded_base.indexes}
    plan = plan_image(open_source(parse_ref("docker:derived:1")), cache, known=known)
    assert asked == [sha256(derived.layers[2])]  # only the layer the base does not have
    assert [layer.diff_id for layer in plan.missing] == asked
    assert read_layers(plan).indexes[:2] == loaded_base.indexes


def test_a_chunk_read_whole_is_handed_on_uncopied_and_parts_are_read_in_order() -> None:
    chunks = [b"a" * 10, b"b" * 5, b"", b"c" * 7]
    stream = IterStream(iter(chunks))
    first = stream.read(100)
    assert first is chunks[0]  # the rest of a chunk: the chunk itself
    assert stream.read(2) == b"bb" and stream.read(100) == b"bbb"
    buffer = bytearray(4)
    assert stream.readinto(buffer) == 4 and bytes(buffer) == b"cccc"
    assert stream.read() == b"ccc" and stream.read(1) == b"" and stream.read() == b""


def test_the_tar_reader_passes_over_a_member_given_in_short_reads() -> None:
    archive = layer_tar([F("big", b"x" * 5000), F("small", b"y" * 10)])
    pieces = [archive[i : i + 700] for i in range(0, len(archive), 700)]  # never whole blocks
    reader = TarReader(IterStream(iter(pieces)), "test", 1 << 20)
    big = reader.next()
    assert big is not None and big.name == "big"
    small = reader.next()  # the big one's data passed over
    assert small is not None and small.name == "small" and reader.read(100) == b"y" * 10
    assert reader.next() is None


def test_an_image_fresh_from_a_build_asks_for_its_export_before_its_other_layers_are_looked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, derived = _distinct_sizes()
    _engine(tmp_path, monkeypatch, {"base:1": base, "derived:1": derived})
    cache = IndexCache(tmp_path / "cache")
    load_image(open_source(parse_ref("docker:base:1")), cache)
    source = open_source(parse_ref("docker:derived:1"))
    snapshot = source.snapshot()
    assert prefetch_top(source, cache, snapshot) == {}
    assert source._prefetched is not None  # type: ignore[attr-defined]
    loaded = load_image(source, cache, snapshot=snapshot)
    again = open_source(parse_ref("docker:derived:1"))
    top = prefetch_top(again, cache, again.snapshot())
    assert top == {loaded.indexes[2].diff_id: loaded.indexes[2]}  # cached now: taken, nothing asked for
    assert again._prefetched is None  # type: ignore[attr-defined]


def test_a_top_layer_the_base_gives_is_not_asked_of_the_derived_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = _distinct_sizes()
    api = _engine(tmp_path, monkeypatch, {"base:1": base, "same:1": base})
    source = open_source(parse_ref("docker:same:1"))
    snapshot = source.snapshot()
    assert prefetch_top(source, IndexCache(None), snapshot, elsewhere=set(snapshot.diff_ids)) == {}
    assert source._prefetched is None and not api.exports  # type: ignore[attr-defined]
