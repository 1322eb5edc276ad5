"""Layer tars read as strictly as Go's archive/tar reads them, with every header and byte bounded."""

from __future__ import annotations

import dataclasses
import io
import time
import tracemalloc
import zlib
from collections.abc import Callable

import pytest
import zstandard

from layerdiff.errors import CorruptLayer
from layerdiff.image.limits import DEFAULT_LIMITS, GiB, LimitExceeded, Limits, MiB
from layerdiff.image.model import EntryType, LayerIndex
from layerdiff.image.streams import decompressed
from layerdiff.index.tar_index import image_budget, index_layer
from layerdiff.inventory.collect import CAPTURE
from tests.support.imagebuilder import (
    END_OF_ARCHIVE,
    GNU,
    F,
    compress,
    layer_tar,
    old_gnu_sparse,
    pax_member,
    pax_sparse_1_0,
    tar_header,
    tar_member,
)

GOOD = tar_member(b"etc/first", b"one")
LAST = tar_member(b"etc/last", b"two")


def index(data: bytes, limits: Limits = DEFAULT_LIMITS) -> LayerIndex:
    return index_layer(io.BytesIO(data), None, "img layer 1", CAPTURE, limits)


def paths(data: bytes) -> set[str]:
    return {entry.path for entry in index(data).entries}


def limits(**values: int) -> Limits:
    return dataclasses.replace(DEFAULT_LIMITS, **values)


@pytest.mark.parametrize(
    ("middle", "message"),
    [
        (tar_header(b"etc/bad", 3, checksum_delta=1) + b"bad".ljust(512, b"\0"), "bad header checksum"),
        (tar_header(b"etc/bad", fields={124: b"12x4567\0"}), "size is not a number"),
        (tar_header(b"etc/bad", fields={124: b"\xff" * 12}), "negative size"),
        (tar_header(b"etc/bad", fields={100: b"9999999\0"}), "mode is not a number"),
        (END_OF_ARCHIVE[:512] + tar_header(b"etc/bad"), "a zero block is followed by a header"),
        (pax_member({b"size": b"12abc"}) + tar_header(b"etc/bad"), "PAX size is not a number"),
        (pax_member({b"uid": b"root"}) + tar_header(b"etc/bad"), "PAX uid is not a number"),
        (pax_member({b"mtime": b"yesterday"}) + tar_header(b"etc/bad"), "PAX mtime is not a time"),
        (tar_member(b"PaxHeader", b"30 path=x\n", b"x") + tar_header(b"etc/bad"), "malformed PAX record"),
    ],
)
def test_a_bad_header_in_the_middle_is_an_error_not_the_end_of_the_layer(middle: bytes, message: str) -> None:
    # Python's tarfile stops at such a header without a word, hiding every entry after it
    with pytest.raises(CorruptLayer, match=rf"^img layer 1: invalid tar header at offset \d+: {message}"):
        index(GOOD + middle + LAST + END_OF_ARCHIVE)


def test_a_header_that_runs_past_the_stream_is_an_error() -> None:
    with pytest.raises(CorruptLayer, match="ends inside the header at offset 1024"):
        index(GOOD + tar_header(b"etc/last")[:300])


def test_a_truncated_entry_is_an_error() -> None:
    with pytest.raises(CorruptLayer, match="ends inside entry 'etc/last'"):
        index(GOOD + tar_header(b"etc/last", 5000) + b"x" * 1000)


def test_the_end_of_the_stream_at_an_entry_boundary_ends_the_archive_as_in_go() -> None:
    assert paths(GOOD + LAST) == {"/etc", "/etc/first", "/etc/last"} - {"/etc"}
    assert paths(GOOD + LAST + END_OF_ARCHIVE[:512]) == {"/etc/first", "/etc/last"}
    assert paths(b"") == set()


def test_bytes_after_the_end_of_archive_are_hashed_but_not_read_as_entries() -> None:
    data = GOOD + END_OF_ARCHIVE + tar_header(b"etc/hidden", checksum_delta=5)
    result = index(data)
    assert {e.path for e in result.entries} == {"/etc/first"}
    assert result.tar_size == len(data)


@pytest.mark.parametrize(
    ("kind", "what"), [(b"x", "PAX header"), (b"L", "GNU long name"), (b"K", "GNU long link")]
)
def test_special_headers_are_bounded_before_they_are_read(kind: bytes, what: str) -> None:
    # the header claims 8 GiB that the stream does not even hold: refused on its size, nothing read
    huge = tar_header(b"././@LongLink", 8 * GiB, kind)
    with pytest.raises(LimitExceeded, match=rf"img layer 1: a {what} of 8589934592 bytes at offset 1024 "):
        index(GOOD + huge)
    with pytest.raises(LimitExceeded) as error:
        index(GOOD + tar_member(b"L", b"a" * 5000, kind), limits(tar_header_bytes=4096))
    assert error.value.limit == "tar-header-bytes"


def test_long_names_and_pax_records_apply_to_the_next_entry_only() -> None:
    data = (
        tar_member(b"././@LongLink", b"opt/" + b"n" * 200 + b"\0", b"L")
        + tar_member(b"short", b"x")
        + pax_member({b"path": b"srv/renamed", b"SCHILY.xattr.user.k": b"\xff\x00v"})
        + tar_member(b"orig", b"y")
        + LAST
    )
    result = {e.path: e for e in index(data).entries}
    assert set(result) == {"/opt/" + "n" * 200, "/srv/renamed", "/etc/last"}
    assert result["/srv/renamed"].xattrs == (("user.k", "ff0076"),)


def test_a_global_pax_header_changes_no_entry_as_in_go_and_docker() -> None:
    data = pax_member({b"path": b"etc/evil", b"uid": b"0"}, kind=b"g") + GOOD + LAST
    assert paths(data) == {"/etc/first", "/etc/last"}


def test_a_gnu_header_with_a_ustar_prefix_in_its_time_fields_is_read_as_go_reads_it() -> None:
    data = tar_member(b"name", b"z", magic=GNU, fields={345: b"written/by/old/go\0"})
    assert paths(data) == {"/written/by/old/go/name"}


@pytest.mark.parametrize("build", [old_gnu_sparse, pax_sparse_1_0])
def test_a_sparse_file_is_read_without_its_holes(
    build: Callable[[bytes, int, list[tuple[int, bytes]]], bytes],
) -> None:
    fragments = [(0, b"head"), (1 << 20, b"middle"), ((2 << 20) - 4, b"tail")]
    result = index(build(b"var/sparse", 2 << 20, fragments) + LAST + END_OF_ARCHIVE)
    entry = {e.path: e for e in result.entries}["/var/sparse"]
    assert (entry.type, entry.size) == (EntryType.FILE, 2 << 20)
    assert entry.sha256 is not None and entry.md5 is None
    assert result.warnings == (
        "/var/sparse is a sparse file (2097152 bytes, 14 stored): its sha256 covers the stored data and "
        "where it lies, and its content is not read",
    )
    moved = index(build(b"var/sparse", 2 << 20, [(0, b"head"), (1 << 20, b"midd1e"), *fragments[2:]]))
    assert moved.entries[0].sha256 != entry.sha256


def test_a_sparse_file_of_a_terabyte_is_refused_at_once_and_its_zeros_are_never_hashed() -> None:
    bomb = old_gnu_sparse(b"var/huge", 1 << 40, [(0, b"x"), ((1 << 40) - 1, b"y")])
    started = time.process_time()
    with pytest.raises(LimitExceeded, match="the layer decompresses to more than 64GiB"):
        index(bomb)
    allowed = index(bomb, limits(layer_bytes=2 << 40, image_bytes=2 << 40))
    assert allowed.entries[0].size == 1 << 40
    assert time.process_time() - started < 2


def test_a_sparse_map_is_bounded_like_any_special_header() -> None:
    fragments = [(i * 4096, b"d") for i in range(2000)]  # 95 extension blocks
    with pytest.raises(LimitExceeded, match="a GNU sparse map of more than 16384 bytes"):
        index(old_gnu_sparse(b"var/many", 2000 * 4096, fragments), limits(tar_header_bytes=16 << 10))
    with pytest.raises(LimitExceeded, match="a GNU sparse map of more than"):
        index(pax_sparse_1_0(b"var/many", 2000 * 4096, fragments), limits(tar_header_bytes=4096))
    assert len(index(old_gnu_sparse(b"var/many", 2000 * 4096, fragments)).entries) == 1


@pytest.mark.parametrize(
    "fragments",
    [
        [(100, b"later"), (0, b"earlier")],  # out of order
        [(0, b"overlap"), (3, b"ping")],
        [(4090, b"past the real size")],
    ],
)
def test_an_invalid_sparse_map_is_an_error(fragments: list[tuple[int, bytes]]) -> None:
    with pytest.raises(CorruptLayer, match="invalid sparse map for 'var/s'"):
        index(old_gnu_sparse(b"var/s", 4096, fragments))


def test_a_sparse_map_that_does_not_account_for_the_stored_data_is_an_error() -> None:
    entry = old_gnu_sparse(b"var/s", 4096, [(0, b"abc")])
    lying = tar_header(b"var/s", 600, b"S", magic=GNU, fields={386: entry[386:410], 483: entry[483:495]})
    with pytest.raises(CorruptLayer, match="the sparse map of 'var/s' does not match its stored data"):
        index(lying + b"a" * 1024)


@pytest.mark.parametrize(
    ("name", "warning"),
    [
        (".wh.", "a whiteout of the image root (.wh.) would remove every file of the layers below"),
        ("./.wh..", "a whiteout of the image root (./.wh..) would remove every file of the layers below"),
        ("etc/.wh...", "a whiteout of the image root (etc/.wh...) would remove every file"),
        (".wh..wh..opq", "an opaque marker of the image root (.wh..wh..opq) would hide every file of"),
        ("etc/.wh..", "etc/.wh.. is a whiteout that names no file in its directory; it is ignored"),
    ],
)
def test_a_whiteout_or_opaque_marker_of_the_root_is_a_warning_not_a_wipe(name: str, warning: str) -> None:
    result = index(layer_tar([F(name), F("etc/kept", b"k")]))
    assert [e.path for e in result.entries] == ["/etc/kept"]
    assert len(result.warnings) == 1 and result.warnings[0].startswith(warning)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_decompression_bomb_stops_at_the_layer_budget_not_at_its_end(compression: str) -> None:
    # 256 MiB of zeros in a few hundred KB; a budget of 1 MiB stops it after about that much
    zeros = tar_header(b"zeros", 256 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31) if compression == "gzip" else None
    zpacker = zstandard.ZstdCompressor().compressobj()
    pack = packer.compress if packer else zpacker.compress
    blob = pack(zeros) + b"".join(pack(bytes(1 << 20)) for _ in range(256))
    blob += packer.flush() if packer else zpacker.flush()
    assert len(blob) < 1 << 20
    started = time.process_time()
    tracemalloc.start()
    stream = decompressed(io.BytesIO(blob), "img layer 1")
    with pytest.raises(
        LimitExceeded,
        match=r"^img layer 1: the layer decompresses to more than 1MiB \(limit layer-bytes=1MiB; raise it",
    ):
        index_layer(stream, None, "img layer 1", CAPTURE, limits(layer_bytes=MiB))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.process_time() - started < 1 and peak < 16 * MiB


def test_the_image_budget_is_shared_by_its_layers() -> None:
    capped = limits(image_bytes=50 << 10)
    budget = image_budget(capped)
    layer = layer_tar([F("a", b"x" * 10_000)])  # 20 KiB: tarfile pads to 20 blocks
    for _ in range(2):
        index_layer(io.BytesIO(layer), None, "img layer 0", CAPTURE, capped, budget)
    with pytest.raises(LimitExceeded, match="the image's layers decompress to more than 50KiB"):
        index_layer(io.BytesIO(layer), None, "img layer 2", CAPTURE, capped, budget)


def test_bytes_after_the_end_of_a_plain_layer_count_against_its_budget() -> None:
    with pytest.raises(LimitExceeded, match="limit layer-bytes=4KiB"):
        index(GOOD + END_OF_ARCHIVE + bytes(8192), limits(layer_bytes=4096))


def test_compressed_layers_stay_as_they_were() -> None:
    data = layer_tar([F("a", b"hello"), F("b", bytes(100_000))])
    for compression in ("gzip", "zstd"):
        stream = decompressed(io.BytesIO(compress(data, compression)), "layer")
        assert len(index_layer(stream, None, "layer", CAPTURE).entries) == 2
