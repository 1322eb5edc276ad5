"""Layers as in dive: the per-layer counts of the tree model, the layer pane's rows, and the Files tab
driven with Textual's Pilot layer by layer (own changes, all up to a layer, the findings of a layer)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from textual.widgets import DataTable, Static, TabbedContent

from layerdiff.report.wire import DockerfileMap, DockerfileStep, Report
from layerdiff.tui.app import ReviewApp
from layerdiff.tui.filefacts import subtree_counts
from layerdiff.tui.files import FilesPane
from layerdiff.tui.filetree import ALL_KINDS, EXPAND_LIMIT, FileTree
from layerdiff.tui.findings import FindingsPane
from layerdiff.tui.layerpane import instruction_cell
from layerdiff.tui.layers import BASE, LAYER, UNATTRIBUTED, layer_entries, layer_text, view_title
from tests.unit.test_tui_files import CHANGES, change, paths

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "review" / "example.json"


def example() -> Report:
    return Report.from_json(json.loads(EXAMPLE.read_text()))


# The model


def test_directories_count_their_subtree_per_layer() -> None:
    files = FileTree.from_changes(CHANGES)
    root = files.root
    assert root.view_counts(None) == root.counts == [4, 1, 2, 2]
    assert root.view_counts(frozenset({2})) == [1, 1, 1, 1]
    assert root.view_counts(frozenset({3})) == [0, 0, 1, 1]
    assert root.view_counts(frozenset({3, 4})) == [3, 0, 1, 1]
    assert root.view_counts(frozenset()) == [0, 0, 0, 0]
    app = files.node("/opt/app")
    assert (
        app is not None
        and app.below("added", frozenset({4})) == 2
        and app.below("added", frozenset({2})) == 0
    )
    assert subtree_counts(files.root, ALL_KINDS, frozenset({3})) == [("modified", "~1"), ("metadata", "*1")]


def test_rows_of_one_layer_or_several() -> None:
    files = FileTree.from_changes(CHANGES)
    assert paths(files.rows(ALL_KINDS, layers=frozenset({3}))) == ["/etc", "/etc/passwd", "/etc/shadow"]
    four = paths(files.rows(ALL_KINDS, layers=frozenset({4})))
    assert four == ["/opt", "/opt/app", "/opt/app/data", "/opt/app/data/x.json", "/opt/app/main.py"]
    both = paths(files.rows(ALL_KINDS, layers=frozenset({3, 4})))
    assert both == ["/etc", "/etc/passwd", "/etc/shadow", *four]
    # kinds and layers together: layer 2's only removed path
    assert paths(files.rows(frozenset({"removed"}), layers=frozenset({2}))) == [
        "/var",
        "/var/cache",
        "/var/cache/apt",
        "/var/cache/apt/pkgcache.bin",
    ]
    assert files.rows(frozenset({"removed"}), layers=frozenset({3})) == []
    # a search stays inside the layers shown
    assert paths(files.rows(ALL_KINDS, "lib", frozenset({2}))) == [
        "/usr",
        "/usr/lib",
        "/usr/lib/libx.so",
        "/usr/lib/liby.so",
    ]
    assert files.rows(ALL_KINDS, "lib", frozenset({4})) == []


def test_a_layer_outside_the_reviewed_ones_counts_as_unattributed() -> None:
    changes = [change("/a/one", "added", 3), change("/a/two", "added", 99), change("/b", "removed", None)]
    files = FileTree.from_changes(changes, layers={3})
    assert files.root.view_counts(frozenset({None})) == [1, 1, 0, 0]
    assert paths(files.rows(ALL_KINDS, layers=frozenset({None}))) == ["/a", "/a/two", "/b"]
    assert files.is_visible(files.node("/a/one") or files.root, ALL_KINDS, frozenset({3}))


def test_a_layer_of_few_changes_opens_the_directories_leading_to_them() -> None:
    big = [change(f"/big/dir/f{n}", "added", 3) for n in range(EXPAND_LIMIT + 1)]
    files = FileTree.from_changes([*big, change("/big/dir/new.cfg", "added", 4)])
    directory = files.node("/big/dir")
    assert directory is not None and not directory.expanded
    files.open_small_view(frozenset({3}))  # too many to open them all
    assert not directory.expanded
    files.open_small_view(frozenset({4}))
    assert directory.expanded
    assert paths(files.rows(ALL_KINDS, layers=frozenset({4}))) == ["/big", "/big/dir", "/big/dir/new.cfg"]


def test_the_instruction_cell_keeps_its_dockerfile_line() -> None:
    entry = replace(layer_entries(example())[1], source="Dockerfile:12")
    assert instruction_cell(entry, 27) == "RUN pip i…  (Dockerfile:12)"  # 27 cells
    assert instruction_cell(replace(entry, source=None), 12) == "RUN pip ins…"


# The layer pane's rows


def test_layer_rows_collapse_the_base_and_know_their_views() -> None:
    report = example()
    entries = layer_entries(report)
    assert [(e.kind, e.position, e.files, e.findings) for e in entries] == [
        (BASE, None, 0, 0),
        (LAYER, 3, 8, 3),
        (LAYER, 4, 8, 0),
        (LAYER, 5, 1, 2),
    ]
    base, three, four, five = entries
    assert "3 layers shared with" in base.instruction and base.own == base.up_to == frozenset()
    assert three.own == frozenset({3}) and four.up_to == frozenset({3, 4}) and five.up_to is None
    assert four.instruction == "RUN python3 -m venv /opt/airflow/venv" and four.source is None
    assert view_title(four, False, entries) == "layer 4 only"
    assert view_title(four, True, entries) == "layers 3 to 4"
    assert view_title(five, True, entries) == "all layers"
    text = layer_text(four, False, entries).plain
    assert text.startswith("layer 4 only: RUN python3 -m venv") and "8 changed files  0 findings" in text


def test_layer_rows_name_the_dockerfile_line_and_the_unattributed_changes() -> None:
    report = example()
    steps = (DockerfileStep(7, 4, "RUN python3 -m venv /opt/airflow/venv", 12, 12, "exact"),)
    dockerfile = DockerfileMap("build/Dockerfile", "sha256:" + "0" * 64, None, 1, steps)
    stray = replace(report.file_changes[0], path="/stray", layer=None)
    report = replace(report, dockerfile=dockerfile, file_changes=(*report.file_changes, stray))
    entries = layer_entries(report)
    assert entries[2].source == "Dockerfile:12"
    assert "(Dockerfile:12)" in layer_text(entries[2], False, entries).plain
    last = entries[-1]
    assert (last.kind, last.files, last.own, last.up_to) == (UNATTRIBUTED, 1, frozenset({None}), None)
    assert entries[-2].up_to == frozenset({3, 4, 5})  # no longer "all": the unattributed row is last


# The Files tab, layer by layer


def drive(
    steps: Callable[[ReviewApp, Any, FilesPane], Awaitable[None]], size: tuple[int, int] = (80, 24)
) -> None:
    async def scenario() -> None:
        app = ReviewApp(example())
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press("3")
            await pilot.pause()
            await steps(app, pilot, await app.files_pane())

    asyncio.run(scenario())


def tree_paths(pane: FilesPane) -> set[str]:
    return {row.node.path for row in pane.tree_view.rows}


def status(pane: FilesPane) -> str:
    return str(pane.query_one("#files-status", Static).render())


def layers_table(pane: FilesPane) -> DataTable[Any]:
    return pane.query_one("#files-layers", DataTable)


def test_the_tab_opens_on_every_change_and_a_layer_shows_its_own() -> None:
    async def steps(app: ReviewApp, pilot: Any, pane: FilesPane) -> None:
        assert layers_table(pane).row_count == 4 and layers_table(pane).cursor_row == 3
        assert "all layers" in status(pane) and "[x] added 12" in status(pane)
        assert "/opt/airflow/logs" in tree_paths(pane) and "/home" in tree_paths(pane)
        await pilot.press("tab")
        assert layers_table(pane).has_focus
        await pilot.press("up")  # layer 4: its own changes
        assert "layer 4 only" in status(pane) and "[x] added 8  [x] removed 0" in status(pane)
        assert "/opt/airflow/venv/pyvenv.cfg" in tree_paths(pane)
        assert not any(path.startswith("/home") for path in tree_paths(pane))
        assert "/opt/airflow/logs" not in tree_paths(pane)  # layer 5's
        detail = str(pane.query_one("#files-layer-detail", Static).render())
        assert detail.startswith("layer 4 only: RUN python3 -m venv /opt/airflow/venv")
        await pilot.press("u")  # all up to layer 4
        assert "layers 3 to 4" in status(pane) and "[x] added 12  [x] removed 4" in status(pane)
        assert "/home" in tree_paths(pane) and "/opt/airflow/logs" not in tree_paths(pane)
        await pilot.press("k")  # the mode stays as chosen: up to layer 3
        assert "layer 3" in status(pane) and "/opt" not in tree_paths(pane)
        await pilot.press("ctrl+l", "k")  # the base: nothing of its own to review
        assert "the base" in status(pane) and pane.tree_view.rows == []
        assert "no changed files in the layers shown" in pane.tree_view.render_line(0).text
        await pilot.press("tab")
        assert pane.tree_view.has_focus

    drive(steps)


def test_moving_in_the_tree_keeps_the_layer_and_the_kinds_combine_with_it() -> None:
    async def steps(app: ReviewApp, pilot: Any, pane: FilesPane) -> None:
        await pilot.press("tab", "up", "up", "tab")  # layer 3, then into its tree
        assert "layer 3 only" in status(pane)
        await pilot.press("a")  # added off: layer 3's removals remain
        shown = [row.node for row in pane.tree_view.rows]
        assert shown and all(node.kind in (None, "removed") for node in shown)
        assert "[ ] added 4  [x] removed 4" in status(pane)

    drive(steps)


def test_showing_a_finding_elsewhere_brings_back_every_layer() -> None:
    report = example()
    row = next(i for i, f in enumerate(report.findings) if f.subject == "/opt/airflow/logs")

    async def steps(app: ReviewApp, pilot: Any, pane: FilesPane) -> None:
        await pilot.press("tab", "up", "up")  # layer 3 only: /opt/airflow/logs (layer 5) is hidden
        assert "/opt/airflow/logs" not in tree_paths(pane)
        await pilot.press("2", *["j"] * row, "enter")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "files"
        current = pane.tree_view.current
        assert current is not None and current.path == "/opt/airflow/logs"
        assert "all layers" in status(pane) and layers_table(pane).cursor_row == 3

    drive(steps)


def test_f_shows_the_findings_of_the_highlighted_layer() -> None:
    report = example()
    from_three = [f for f in report.findings if f.layer == 3]

    async def steps(app: ReviewApp, pilot: Any, pane: FilesPane) -> None:
        await pilot.press("tab", "up", "up", "f")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "findings"
        findings = app.query_one(FindingsPane)
        assert [findings.finding_of(r) for r in findings.shown] == from_three
        assert "from layer 3" in str(findings.query_one(".status", Static).render())
        await pilot.press("3", "tab", "down", "f")  # layer 4 has none: a notice, the tab stays
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "files"
        assert any("No finding comes from layer 4" in n.message for n in app._notifications)

    drive(steps, size=(160, 48))


def test_a_click_on_a_layer_shows_its_changes() -> None:
    async def steps(app: ReviewApp, pilot: Any, pane: FilesPane) -> None:
        await pilot.click("#files-layers", offset=(2, 2))  # the header, the base, then layer 3
        await pilot.pause()
        assert layers_table(pane).cursor_row == 1 and "layer 3 only" in status(pane)
        assert not any(path.startswith("/opt") for path in tree_paths(pane))

    drive(steps, size=(160, 48))


def test_a_layer_chosen_on_the_overview_opens_its_files() -> None:
    async def scenario() -> None:
        app = ReviewApp(example())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("1")
            await pilot.pause()
            overview_layers = app.query_one("#overview-layers", DataTable)
            assert overview_layers.has_focus and overview_layers.cursor_row == 1  # the first derived layer
            await pilot.press("j", "enter")  # layer 4
            await pilot.pause()
            await pilot.pause()
            assert app.query_one(TabbedContent).active == "files"
            pane = await app.files_pane()
            assert "layer 4 only" in status(pane) and "/opt/airflow/venv/pyvenv.cfg" in tree_paths(pane)
            assert layers_table(pane).cursor_row == 2 and pane.tree_view.has_focus
            await pilot.press("u")  # from there on as if chosen in the Files tab's own pane
            assert "layers 3 to 4" in status(pane)

    asyncio.run(scenario())
