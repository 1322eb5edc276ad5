"""Bytes stored by one layer and deleted or overwritten by a later one, found by replaying the layers."""

from __future__ import annotations

import io

from layerdiff.fs.waste import WastedFile, wasted_files
from layerdiff.image.model import LayerIndex
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from tests.support.imagebuilder import F, layer_tar


def idx(*entries: F) -> LayerIndex:
    return index_layer(io.BytesIO(layer_tar(list(entries))), None, "layer", CAPTURE)


def test_deleted_overwritten_and_hidden_files_are_wasted() -> None:
    layers = [
        idx(F("tmp/build/a.o", b"a" * 10), F("etc/conf", b"c" * 5), F("opt/app/old", b"o" * 7)),
        idx(F("tmp/.wh.build"), F("etc/conf", b"C" * 6)),
        idx(F("opt/app/", kind="dir"), F("opt/app/.wh..wh..opq"), F("opt/app/new", b"n")),
    ]
    assert sorted(wasted_files(layers), key=lambda w: w.path) == [
        WastedFile("/etc/conf", 5, 0, 1, "overwritten"),
        WastedFile("/opt/app/old", 7, 0, 2, "deleted"),
        WastedFile("/tmp/build/a.o", 10, 0, 1, "deleted"),
    ]


def test_a_directory_replaced_by_a_file_wastes_what_was_below_it() -> None:
    layers = [idx(F("opt/data/blob", b"b" * 9)), idx(F("opt/data", b"now a file"))]
    assert list(wasted_files(layers)) == [WastedFile("/opt/data/blob", 9, 0, 1, "deleted")]


def test_layers_below_first_are_not_counted_and_empty_files_waste_nothing() -> None:
    layers = [
        idx(F("base/file", b"x" * 4)),
        idx(F("tmp/empty", b""), F("tmp/kept", b"k" * 3)),
        idx(F("base/.wh.file"), F("tmp/.wh.empty")),
    ]
    assert list(wasted_files(layers, first=1)) == []
