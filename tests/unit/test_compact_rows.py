"""Layer entries, merged trees and file changes held as rows: each reads back as the objects it replaced,
the layer cache keeps the rows exactly, and what a rule selects from the rows is what it would select from
the objects."""

from __future__ import annotations

import io
import sqlite3
import zlib
from pathlib import Path

import pytest

from layerdiff.diff.changes import ChangeKind
from layerdiff.diff.files import diff_trees, find_change, select_changes
from layerdiff.fs.tree import build_tree
from layerdiff.image.entry_table import EntryTable
from layerdiff.image.model import Entry, EntryType, LayerIndex
from layerdiff.index.cache import IndexCache
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from tests.support.imagebuilder import F, layer_tar

ENTRIES = (
    Entry("/etc", EntryType.DIR, 0o755),
    Entry("/etc/passwd", EntryType.FILE, 0o644, 0, 0, 12, sha256="ab" * 32, md5="cd" * 16),
    Entry("/usr/bin/ping", EntryType.FILE, 0o4755, 0, 0, 9, sha256="01" * 32, xattrs=(("security.x", "00"),)),
    Entry("/usr/bin/sh", EntryType.SYMLINK, 0o777, link="dash"),
    Entry("/opt/caf\udce9/n\u00e9", EntryType.FILE, 0o600, 2**40, -1, 2**50, sha256="ef" * 32),
    Entry("/opt/gone", EntryType.WHITEOUT),
    Entry("/var/run/x", EntryType.FIFO, 0o600, 5, 5),
)


def test_a_table_reads_back_the_entries_it_was_given() -> None:
    table = EntryTable.of(ENTRIES)
    assert tuple(table) == ENTRIES and table == ENTRIES and len(table) == len(ENTRIES)
    assert table[-1] == ENTRIES[-1] and table[1:3] == ENTRIES[1:3]
    with pytest.raises(IndexError):
        table[len(ENTRIES)]
    table.replace(1, ENTRIES[3])
    assert table[1] == ENTRIES[3] and table[3] == ENTRIES[3]


def test_packed_rows_unpack_to_the_same_table() -> None:
    pieces: list[bytes] = []
    EntryTable.of(ENTRIES).pack(lambda data: pieces.append(bytes(data)))
    packed = b"".join(pieces)
    reader = io.BytesIO(packed)
    assert EntryTable.unpack(reader.read) == ENTRIES
    for cut in (10, len(packed) // 2, len(packed) - 1):
        with pytest.raises(ValueError):
            EntryTable.unpack(io.BytesIO(packed[:cut]).read)


def test_a_path_with_a_nul_is_refused_when_packed() -> None:
    with pytest.raises(ValueError, match="NUL"):
        EntryTable.of([Entry("/a\0b", EntryType.FILE)]).pack(lambda data: None)


def test_the_cache_keeps_a_layer_exactly_and_reads_a_damaged_row_as_a_miss(tmp_path: Path) -> None:
    index = LayerIndex("sha256:" + "1" * 64, 4096, ENTRIES, warnings=("w",), contents={"/etc/passwd": b"x"})
    cache = IndexCache(tmp_path)
    cache.put(index, CAPTURE)
    assert cache.get(index.diff_id, CAPTURE) == index
    cache.close()
    with sqlite3.connect(tmp_path / "layers.sqlite3") as db:
        (payload,) = db.execute("SELECT payload FROM layer_index").fetchone()
        cut = zlib.compress(zlib.decompress(payload)[:-40], 1)
        db.execute("UPDATE layer_index SET payload = ?", (cut,))
    reopened = IndexCache(tmp_path)
    assert reopened.get(index.diff_id, CAPTURE) is None and reopened.misses == 1
    reopened.close()


def _layer(*entries: F) -> LayerIndex:
    return index_layer(io.BytesIO(layer_tar(list(entries))), None, "layer", CAPTURE)


def test_selected_changes_are_those_the_objects_give() -> None:
    base = build_tree([_layer(F("etc/passwd", b"root"), F("bin/ping", b"p"), F("srv/old", b"o"))])
    derived = build_tree(
        [
            _layer(
                F("etc/passwd", b"root\napp"),
                F("bin/ping", b"p", mode=0o4755),
                F("srv/.wh.old"),
                F("srv/new", b"n", mode=0o666),
                F("srv/dir/", kind="dir", mode=0o777),
            )
        ],
        start=base,
    )
    changes = diff_trees(base, derived, 1)
    objects = tuple(changes)
    assert [c.path for c in objects] == sorted(c.path for c in objects)
    for kinds, mode, xattrs in [
        ((ChangeKind.REMOVED,), 0, False),
        ((ChangeKind.ADDED, ChangeKind.MODIFIED), 0, False),
        (tuple(ChangeKind), 0o4000, False),
        (tuple(ChangeKind), 0o002, False),
        (tuple(ChangeKind), 0, True),
    ]:
        assert list(select_changes(changes, kinds, mode, xattrs)) == list(
            select_changes(objects, kinds, mode, xattrs)
        ), (kinds, mode, xattrs)
    assert [c.path for c in select_changes(changes, after_mode=0o002)] == ["/srv/dir", "/srv/new"]
    assert [c.path for c in select_changes(changes, (ChangeKind.REMOVED,))] == ["/srv/old"]
    passwd = find_change(changes, "/etc/passwd")
    assert passwd is not None and passwd == find_change(objects, "/etc/passwd")
    assert passwd.kind is ChangeKind.MODIFIED and find_change(changes, "/etc/shadow") is None


def test_a_trees_files_are_its_regular_files_with_layer_and_size() -> None:
    tree = build_tree(
        [_layer(F("a/x", b"12345"), F("a/l", kind="symlink", link="x")), _layer(F("a/y", b"1"))]
    )
    assert sorted(tree.nodes.files()) == [("/a/x", 0, 5), ("/a/y", 1, 1)]
    assert {path for path, node in tree.nodes.items() if node.entry.type is EntryType.FILE} == {
        "/a/x",
        "/a/y",
    }
