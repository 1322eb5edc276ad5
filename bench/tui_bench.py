"""Time the changed-files tree of the review TUI on a large synthetic report.

    .venv/bin/python -m bench.tui_bench [--changes 100000] [--repeat 5]

Model figures are the best of N runs: building the tree from the report's ``file_changes``, the rows of
the default view, the rows after turning one kind off, and a path search (the first one also lowers
every path once). Widget figures come from a headless app hosting FilesPane at 160x48: the time from
creating the app until the tree's first screen has been drawn (the tree is built in it), and from a few
key presses until the tree has been redrawn (the kind toggles, then the layer pane: one layer's own
changes, all up to it, another layer, and the same with every directory open). App figures follow the
whole review app as `layerdiff view` runs it, headless: reading, checking and converting the saved
report, the first screen, then a few keys.
Terminal figures run the real command in tmux and read the screen, as a person sees it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widgets import Footer

from bench.synthetic import EXAMPLE_REPORT, synthetic_changes, synthetic_report
from layerdiff.report.load import parse_report, report_problem
from layerdiff.report.wire import FileChange, Report
from layerdiff.tui.app import ReviewApp
from layerdiff.tui.files import FilesPane
from layerdiff.tui.filetree import ALL_KINDS, FileTree
from layerdiff.tui.layers import LayerEntry, layer_entries, reviewed_positions
from layerdiff.tui.treeview import FileTreeView
from tests.support.terminal import Terminal


def best_of(repeat: int, run: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        del result  # freeing a large tree is not part of the figure
    return min(times)


class _Host(App[None]):
    def __init__(self, changes: Sequence[FileChange]) -> None:
        super().__init__()
        self.changes = changes
        # The saved example's layers (3 to 5), which the synthetic changes are attributed to.
        example = Report.from_json(json.loads(EXAMPLE_REPORT.read_text()))
        self.layers: list[LayerEntry] = layer_entries(replace(example, file_changes=tuple(changes)))
        self.positions = reviewed_positions(example)

    def compose(self) -> ComposeResult:
        tree = FileTree.from_changes(self.changes, self.positions)
        yield FilesPane(tree, {3: "RUN pip install -r requirements.txt"}, self.layers)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FileTreeView).focus()


def widget_times(changes: Sequence[FileChange]) -> list[tuple[str, float]]:
    """App created → first tree screen drawn, then key press → tree redrawn for a few keys."""
    drawn: list[float] = []
    original = FileTreeView.render_line

    def timed_render_line(self: FileTreeView, y: int) -> Strip:
        strip = original(self, y)
        drawn.append(time.perf_counter())
        return strip

    FileTreeView.render_line = timed_render_line  # type: ignore[method-assign]
    try:

        async def scenario() -> list[tuple[str, float]]:
            gc.freeze()  # the report's objects are frozen in the app too (see layerdiff.cli._review)
            start = time.perf_counter()
            app = _Host(changes)
            async with app.run_test(size=(160, 48)) as pilot:
                while not drawn:
                    await asyncio.sleep(0.001)
                await pilot.pause()
                figures = [("app created → first tree screen drawn", max(drawn) - start)]
                tree_view = app.query_one(FileTreeView)
                for key, label in (
                    ("a", "key 'a' (added off) → tree redrawn"),
                    ("a", "key 'a' (added on) → tree redrawn"),
                    ("tab", ""),
                    ("up", "layer pane: up (layer 4 only) → tree redrawn"),
                    ("u", "layer pane: 'u' (all up to layer 4) → redrawn"),
                    ("up", "layer pane: up (all up to layer 3) → redrawn"),
                    ("tab", ""),
                    ("E", "key 'E' (expand all) → tree redrawn"),
                    ("tab", ""),
                    ("down", "layer pane: down (up to layer 4), all expanded"),
                    ("u", "layer pane: 'u' (layer 4 only), all expanded"),
                    ("down", "layer pane: down (layer 5 only), all expanded"),
                    ("u", "layer pane: 'u' (all layers), all expanded"),
                    ("tab", ""),
                    ("d", "key 'd' (removed off), all expanded → redrawn"),
                    ("end", "key 'end', all expanded → redrawn"),
                ):
                    if not label:  # moves the focus between the panes: nothing to redraw
                        await pilot.press(key)
                        await pilot.pause()
                        continue
                    drawn.clear()
                    pressed = time.perf_counter()
                    await pilot.press(key)
                    while not drawn:
                        await asyncio.sleep(0.001)
                    await pilot.pause()
                    figures.append((f"{label} [{len(tree_view.rows)} rows]", max(drawn) - pressed))
                return figures

        return asyncio.run(scenario())
    finally:
        gc.unfreeze()
        FileTreeView.render_line = original  # type: ignore[method-assign]


def app_times(report_path: Path) -> list[tuple[str, float]]:
    """The review app as `layerdiff view` runs it, headless: from reading the saved report (parse and
    check) to the first screen, then keys. Each key's figure runs from the press until the app is idle
    again, so it includes Textual's own re-layout and the tab underline's animation."""

    async def scenario() -> list[tuple[str, float]]:
        start = time.perf_counter()
        report = parse_report(report_path.read_text(encoding="utf-8"), str(report_path))
        gc.freeze()  # as `layerdiff view` does
        app = ReviewApp(report)
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.pause()
            figures = [("read and check the report, then first screen", time.perf_counter() - start)]
            steps: list[tuple[list[str], list[str], str]] = [
                ([], ["3"], "key '3' → files tab shown"),
                (["tab"], ["up"], "files: layer pane up (layer 4 only)"),
                ([], ["u"], "files: key 'u' (all up to layer 4)"),
                ([], ["down"], "files: layer pane down (all layers)"),
                (["tab"], ["d"], "files: key 'd' (removed off) → redrawn"),
                (["slash", *"core_1"], ["enter"], "files: Enter applies the path filter 'core_1'"),
                ([], ["slash", "escape"], "files: filter cleared"),
                (["2"], ["s"], "findings: key 's' (severity filter)"),
            ]
            for before, keys, label in steps:
                await pilot.press(*before)
                await pilot.pause()
                pressed = time.perf_counter()
                await pilot.press(*keys)
                await pilot.pause()
                figures.append((label, time.perf_counter() - pressed))
            return figures

    try:
        return asyncio.run(scenario())
    finally:
        gc.unfreeze()


def terminal_times(report_path: Path, repeat: int) -> list[tuple[str, float]]:
    """`layerdiff view` in a real terminal (tmux, 160x48), medians of ``repeat`` runs: from launching the
    command until the findings are on screen, and from pressing 3 until the file tree is, once at once
    (the tree is still being built in the background) and once after the reviewer read for 3 s; then,
    after the reading, from a key until its screen shows: a layer selected in the layer pane, the
    aggregate up to it, and a path filter applied."""
    layerdiff = str(Path(sys.executable).with_name("layerdiff"))
    first: list[float] = []
    files_at_once: list[float] = []
    files_later: list[float] = []
    later: dict[str, list[float]] = {}
    for run in range(repeat):
        for reading in (0.0, 3.0):
            terminal = Terminal(f"bench-{run}-{reading:.0f}", 160, 48)
            try:
                terminal.start(["sleep", "600"], {"TERM": "xterm-256color"})
                launched = time.perf_counter()
                terminal.launch([layerdiff, "view", str(report_path)])
                first.append(terminal.first_seen(r"\d+ of \d+ findings") - launched)
                time.sleep(reading)
                pressed = time.perf_counter()
                terminal.tmux("send-keys", "3")
                (files_later if reading else files_at_once).append(
                    terminal.first_seen(r"\[x\] added") - pressed
                )
                if reading:
                    for label, seconds in _terminal_keys(terminal):
                        later.setdefault(label, []).append(seconds)
            finally:
                terminal.close()
    return [
        ("launch → findings on screen", statistics.median(first)),
        ("key '3' at once → file tree on screen", statistics.median(files_at_once)),
        ("key '3' after 3 s → file tree on screen", statistics.median(files_later)),
        *((label, statistics.median(times)) for label, times in later.items()),
    ]


def _terminal_keys(terminal: Terminal) -> list[tuple[str, float]]:
    """On the Files tab: a key (after the keys that lead to it), and the time until the screen shows what
    it does. Keys are tmux's send-keys arguments."""
    steps: list[tuple[list[list[str]], str, str, str]] = [
        ([["Tab"]], "Up", r"layer 4 only", "layer pane: Up → layer 4's own files on screen"),
        ([], "u", r"layers 3 to 4", "key 'u' → all up to layer 4 on screen"),
        ([], "Down", r"all layers", "layer pane: Down → every layer's files on screen"),
        (
            [["Tab"], ["/"], ["-l", "core_1"]],
            "Enter",
            r"/core_1 \d+ rows",
            "path filter 'core_1', Enter → shown",
        ),
    ]
    figures = []
    # The tab focuses its tree once drawn: a Tab sent before then would be undone. Wait for a still screen.
    terminal.wait_for("[x] added")
    for leading, key, shows, label in steps:
        for arguments in leading:
            terminal.tmux("send-keys", *arguments)
            time.sleep(0.3)
        pressed = time.perf_counter()
        terminal.tmux("send-keys", key)
        figures.append((label, terminal.first_seen(shows) - pressed))
        time.sleep(0.3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    changes = synthetic_changes(args.changes)
    typed = [FileChange.from_json(change) for change in changes]

    build = best_of(args.repeat, lambda: FileTree.from_changes(typed))
    tree = FileTree.from_changes(typed)
    directories = sum(1 for node in tree.by_path.values() if node.sorted)
    default_rows = len(tree.rows(ALL_KINDS))
    default_view = best_of(args.repeat, lambda: tree.rows(ALL_KINDS))
    toggled = ALL_KINDS - {"added"}
    kind_toggle = best_of(args.repeat, lambda: tree.rows(toggled))
    start = time.perf_counter()
    search_rows = len(tree.rows(ALL_KINDS, "core_1"))
    first_search = time.perf_counter() - start
    search = best_of(args.repeat, lambda: (tree.rows(ALL_KINDS, "core_2"), tree.rows(ALL_KINDS, "core_1")))
    search /= 2
    tree.rows(ALL_KINDS)
    one_layer, up_to = frozenset({4}), frozenset({3, 4})
    layer_rows = len(tree.rows(ALL_KINDS, "", one_layer))
    layer_view = best_of(args.repeat, lambda: tree.rows(ALL_KINDS, "", one_layer))
    up_to_view = best_of(args.repeat, lambda: tree.rows(ALL_KINDS, "", up_to))
    tree.expand_all()
    expanded_rows = len(tree.rows(ALL_KINDS))
    expanded_view = best_of(args.repeat, lambda: tree.rows(toggled))
    expanded_layer_rows = len(tree.rows(ALL_KINDS, "", one_layer))
    expanded_layer = best_of(args.repeat, lambda: tree.rows(ALL_KINDS, "", one_layer))
    widget = widget_times(typed)
    scratch = Path(tempfile.mkdtemp(prefix="layerdiff-bench-"))
    try:
        report_path = scratch / "report.json"
        report_path.write_text(json.dumps(synthetic_report(changes)))
        small_path = scratch / "small.json"
        small_path.write_text(json.dumps(synthetic_report(synthetic_changes(10))))
        report_text = report_path.read_text()
        parse = best_of(args.repeat, lambda: json.loads(report_text))
        check = best_of(args.repeat, partial(report_problem, json.loads(report_text)))
        model = best_of(args.repeat, partial(Report.from_json, json.loads(report_text)))
        app = app_times(report_path)
        small = app_times(small_path)
        small_report_screen = widget_times([FileChange.from_json(c) for c in synthetic_changes(10)])[0][1]
        terminal = terminal_times(report_path, args.repeat) if shutil.which("tmux") else []
        small_terminal = terminal_times(small_path, args.repeat) if shutil.which("tmux") else []
    finally:
        shutil.rmtree(scratch)

    print(f"{args.changes} changes under {directories} directories, {default_rows} rows in the default view")
    figures = [
        ("build the tree", build),
        (f"rows(), default view ({default_rows} rows)", default_view),
        ("rows(), one kind turned off", kind_toggle),
        (f"search, first ({search_rows} rows)", first_search),
        ("search, later", search),
        (f"rows(), all expanded, one kind off (of {expanded_rows})", expanded_view),
        (f"rows(), one layer's own changes ({layer_rows} rows)", layer_view),
        ("rows(), all up to a layer", up_to_view),
        (f"rows(), all expanded, one layer ({expanded_layer_rows} rows)", expanded_layer),
        widget[0],
        ("  the same for a report of 10 changes", small_report_screen),
        *widget[1:],
        (f"json.loads of the report ({len(report_text) / 1e6:.0f} MB)", parse),
        ("check of the report before the app reads it", check),
        ("the typed report made from the parsed JSON", model),
        *app,
        ("the same app with a report of 10 file changes:", 0.0),
        *((f"  {label}", seconds) for label, seconds in small),
        (f"`layerdiff view` in tmux, median of {args.repeat}:", 0.0),
        *((f"  {label}", seconds) for label, seconds in terminal),
        ("  the same with a report of 10 file changes:", 0.0),
        *((f"    {label}", seconds) for label, seconds in small_terminal),
    ]
    if not terminal:
        print("tmux is not installed: no figures in a real terminal")
    width = max(len(label) for label, _ in figures) + 2
    for label, seconds in figures:
        print(f"{label:<{width}}{seconds * 1000:>10.2f} ms")


if __name__ == "__main__":
    main()
