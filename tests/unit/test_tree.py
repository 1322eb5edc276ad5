from __future__ import annotations

import io

from layerdiff.fs.resolve import resolve
from layerdiff.fs.tree import build_tree
from layerdiff.image.model import EntryType, LayerIndex
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from tests.support.imagebuilder import F, layer_tar


def idx(*entries: F) -> LayerIndex:
    return index_layer(io.BytesIO(layer_tar(list(entries))), None, "layer", CAPTURE)


def test_whiteout_removes_path_and_subtree_and_records_the_layer() -> None:
    tree = build_tree(
        [
            idx(
                F("opt/app/", kind="dir"),
                F("opt/app/a", b"1"),
                F("opt/app/sub/b", b"2"),
                F("etc/motd", b"hi"),
            ),
            idx(F("opt/.wh.app"), F("etc/.wh.motd")),
        ]
    )
    assert "/opt/app" not in tree.nodes and "/opt/app/sub/b" not in tree.nodes
    assert tree.removed_by["/opt/app/sub/b"] == 1 and tree.removed_by["/etc/motd"] == 1
    assert "/opt" in tree.nodes


def test_opaque_directory_hides_lower_children_but_keeps_its_own() -> None:
    tree = build_tree(
        [
            idx(F("opt/app/old", b"1")),
            idx(F("opt/app/", kind="dir", mode=0o700), F("opt/app/.wh..wh..opq"), F("opt/app/new", b"2")),
        ]
    )
    assert "/opt/app/old" not in tree.nodes
    assert tree.nodes["/opt/app/new"].layer == 1
    assert tree.nodes["/opt/app"].entry.mode == 0o700


def test_file_replacing_directory_removes_its_contents() -> None:
    tree = build_tree([idx(F("data/x", b"1")), idx(F("data", b"now a file"))])
    assert tree.nodes["/data"].entry.type is EntryType.FILE
    assert "/data/x" not in tree.nodes


def test_hard_link_to_lower_layer_takes_its_digest() -> None:
    tree = build_tree([idx(F("bin/a", b"payload")), idx(F("bin/b", kind="hardlink", link="bin/a"))])
    assert tree.nodes["/bin/b"].entry.sha256 == tree.nodes["/bin/a"].entry.sha256


def test_hard_link_to_missing_target_is_kept_with_a_warning() -> None:
    tree = build_tree([idx(F("bin/b", kind="hardlink", link="bin/missing"))])
    assert tree.nodes["/bin/b"].entry.sha256 is None
    assert any("does not exist" in message for _, message in tree.warnings)


def test_implicit_parent_directories() -> None:
    tree = build_tree([idx(F("a/b/c", b"x"))])
    assert tree.nodes["/a/b"].entry.type is EntryType.DIR


def test_symlink_resolution_stays_inside_the_image() -> None:
    tree = build_tree(
        [
            idx(
                F("etc/passwd", b"root"),
                F("escape", kind="symlink", link="../../../../etc/passwd"),
                F("abs", kind="symlink", link="/etc/passwd"),
                F("dir", kind="symlink", link="etc"),
            )
        ]
    )
    assert resolve(tree, "/escape").path == "/etc/passwd"
    assert resolve(tree, "/abs").node is not None
    assert resolve(tree, "/dir/passwd").path == "/etc/passwd"


def test_symlink_loop_is_detected() -> None:
    tree = build_tree([idx(F("a", kind="symlink", link="b"), F("b", kind="symlink", link="a"))])
    result = resolve(tree, "/a")
    assert result.loop and result.node is None


def test_lookup_follows_directories_on_the_way_but_not_the_last_name() -> None:
    from layerdiff.fs.view import TreeView

    index = idx(
        F("usr/bin/bash", b"ELF", mode=0o755),
        F("usr/bin/sh", kind="symlink", link="bash"),
        F("bin", kind="symlink", link="usr/bin"),
    )
    view = TreeView(build_tree([index]), [index])
    bash, sh = view.lookup("/bin/bash"), view.lookup("/bin/sh")
    assert bash is not None and bash.type is EntryType.FILE
    assert sh is not None and sh.type is EntryType.SYMLINK
    assert view.lookup("/bin/missing") is None and view.lookup("/nowhere/bash") is None
