"""The changed-files tree: the pure model (counts, kind filter, search, expansion, reveal) and the
FilesPane widget driven with Textual's Pilot."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

import pytest
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.widgets import Footer, Static

from bench.synthetic import synthetic_changes
from layerdiff.render.units import compact_size
from layerdiff.report.wire import FileChange
from layerdiff.tui.filefacts import change_facts
from layerdiff.tui.files import FilesPane
from layerdiff.tui.filetree import ALL_KINDS, EXPAND_LIMIT, FileTree, Row
from layerdiff.tui.treeview import FileTreeView


def state(
    kind: str = "file", mode: str = "0644", uid: int = 0, size: int = 10, **extra: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "mode": mode,
        "uid": uid,
        "gid": uid,
        "size": size,
        "link": extra.get("link"),
        "sha256": extra.get("sha256", "ab" * 32 if kind == "file" else None),
        "xattrs": {},
    }


def change(
    path: str,
    kind: str,
    layer: int | None = 2,
    fields: tuple[str, ...] = (),
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> FileChange:
    if kind == "added":
        after = after or state()
    elif kind == "removed":
        before = before or state()
    return FileChange.from_json(
        {"path": path, "kind": kind, "layer": layer, "fields": list(fields), "before": before, "after": after}
    )


def typed(changes: list[dict[str, Any]]) -> list[FileChange]:
    """The report's file changes as the model reads them from its JSON."""
    return [FileChange.from_json(item) for item in changes]


CHANGES = [
    change(
        "/etc/passwd", "modified", 3, ("sha256", "size"), state(size=900), state(size=1000, sha256="cd" * 32)
    ),
    change("/etc/shadow", "metadata", 3, ("uid", "gid"), state(mode="0640"), state(mode="0640", uid=42)),
    change("/opt/app", "added", 4, after=state("dir", "0755", size=0)),
    change("/opt/app/data/x.json", "added", 4),
    change("/opt/app/main.py", "added", 4, after=state(size=5000)),
    change("/usr/bin/tool", "added", 2, after=state(mode="0755", size=2048)),
    change("/usr/lib/libx.so", "modified", 2, ("sha256",), state(), state(sha256="ef" * 32)),
    change("/usr/lib/liby.so", "metadata", 2, ("mode",), state(), state(mode="0755")),
    change("/var/cache/apt/pkgcache.bin", "removed", 2),
]
INSTRUCTIONS = {2: "RUN apt-get install -y tool", 3: "RUN useradd app", 4: "COPY app /opt/app"}
ALL_PATHS = [
    "/etc",
    "/etc/passwd",
    "/etc/shadow",
    "/opt",
    "/opt/app",
    "/opt/app/data",
    "/opt/app/data/x.json",
    "/opt/app/main.py",
    "/usr",
    "/usr/bin",
    "/usr/bin/tool",
    "/usr/lib",
    "/usr/lib/libx.so",
    "/usr/lib/liby.so",
    "/var",
    "/var/cache",
    "/var/cache/apt",
    "/var/cache/apt/pkgcache.bin",
]


def paths(rows: list[Row]) -> list[str]:
    return [row.node.path for row in rows]


def tree() -> FileTree:
    return FileTree.from_changes(CHANGES)


# The model


def test_nodes_count_their_subtree_per_kind() -> None:
    files = tree()
    assert files.root.counts == [4, 1, 2, 2] and len(files) == 9
    usr, app = files.node("/usr"), files.node("/opt/app")
    assert usr is not None and app is not None
    assert usr.counts == [1, 0, 1, 1] and usr.change is None and usr.is_dir
    # A changed directory counts its own change, `below` leaves it out.
    assert app.kind == "added" and app.counts[0] == 3 and app.below("added") == 2
    leaf = files.node("/usr/bin/tool")
    assert leaf is not None and not leaf.is_dir and leaf.depth == 3


def test_rows_are_sorted_by_name_with_indentation() -> None:
    rows = tree().rows(ALL_KINDS)
    assert paths(rows) == ALL_PATHS
    assert [row.depth for row in rows[:3]] == [0, 1, 1]
    assert rows[-1].depth == 3


def test_kind_filter_keeps_only_branches_holding_an_enabled_kind() -> None:
    files = tree()
    assert paths(files.rows(frozenset({"removed"}))) == [
        "/var",
        "/var/cache",
        "/var/cache/apt",
        "/var/cache/apt/pkgcache.bin",
    ]
    metadata_and_modified = paths(files.rows(frozenset({"metadata", "modified"})))
    assert "/opt" not in metadata_and_modified and "/usr/bin" not in metadata_and_modified
    assert "/usr/lib/liby.so" in metadata_and_modified and "/etc/shadow" in metadata_and_modified
    assert files.rows(frozenset()) == []


def test_changed_directory_shows_for_its_children_kind_even_when_its_own_is_off() -> None:
    own = change("/srv", "metadata", fields=("mode",), before=state("dir"), after=state("dir", "0777"))
    files = FileTree.from_changes([own, change("/srv/new", "added")])
    assert paths(files.rows(frozenset({"added"}))) == ["/srv", "/srv/new"]
    assert paths(files.rows(frozenset({"metadata"}))) == ["/srv"]


def test_search_keeps_matching_branches_expanded_case_insensitively() -> None:
    files = tree()
    files.collapse_all()
    assert paths(files.rows(ALL_KINDS)) == ["/etc", "/opt", "/usr", "/var"]
    assert paths(files.rows(ALL_KINDS, "LIB")) == ["/usr", "/usr/lib", "/usr/lib/libx.so", "/usr/lib/liby.so"]
    # The needle matches the directory part of the path, so everything below /opt/app matches.
    below_app = ["/opt", "/opt/app", "/opt/app/data", "/opt/app/data/x.json", "/opt/app/main.py"]
    assert paths(files.rows(ALL_KINDS, "app/")) == below_app
    assert paths(files.rows(frozenset({"metadata"}), "lib")) == ["/usr", "/usr/lib", "/usr/lib/liby.so"]
    assert files.rows(ALL_KINDS, "no such path") == []
    # Leaving the search restores the expansion state from before it.
    assert paths(files.rows(ALL_KINDS)) == ["/etc", "/opt", "/usr", "/var"]


def test_matches_are_the_hits_and_their_ancestors() -> None:
    files = tree()
    keep = files.matches(ALL_KINDS, "x")
    assert sorted(node.path for node in keep) == [
        "/",
        "/opt",
        "/opt/app",
        "/opt/app/data",
        "/opt/app/data/x.json",
        "/usr",
        "/usr/lib",
        "/usr/lib/libx.so",
    ]


def test_folding_during_a_search_lasts_until_the_needle_changes() -> None:
    files = tree()
    assert "/usr/lib/libx.so" in paths(files.rows(ALL_KINDS, "lib"))
    lib = files.node("/usr/lib")
    assert lib is not None
    files.toggle(lib)
    assert paths(files.rows(ALL_KINDS, "lib")) == ["/usr", "/usr/lib"]
    assert lib.expanded  # the state outside the search is untouched
    assert "/usr/lib/libx.so" in paths(files.rows(ALL_KINDS, "libx"))


def test_toggle_expand_all_and_collapse_all() -> None:
    files = tree()
    etc = files.node("/etc")
    assert etc is not None
    files.toggle(etc)
    assert paths(files.rows(ALL_KINDS))[:2] == ["/etc", "/opt"]
    files.expand(etc)
    assert paths(files.rows(ALL_KINDS))[:2] == ["/etc", "/etc/passwd"]
    files.collapse_all()
    assert paths(files.rows(ALL_KINDS)) == ["/etc", "/opt", "/usr", "/var"]
    files.expand_all()
    assert paths(files.rows(ALL_KINDS)) == ALL_PATHS


def test_initial_expansion_collapses_big_directories_below_the_top_level() -> None:
    big = [change(f"/usr/share/big/f{index:03d}", "added") for index in range(EXPAND_LIMIT + 1)]
    small = [change(f"/usr/share/small/f{index}", "added") for index in range(3)]
    files = FileTree.from_changes(big + small)
    usr, share, big_dir, small_dir = (
        files.node(p) for p in ("/usr", "/usr/share", "/usr/share/big", "/usr/share/small")
    )
    assert usr is not None and usr.expanded  # top level, however large
    assert share is not None and not share.expanded  # more than EXPAND_LIMIT below it
    assert big_dir is not None and not big_dir.expanded
    assert small_dir is not None and small_dir.expanded
    assert paths(files.rows(ALL_KINDS)) == ["/usr", "/usr/share"]


def test_reveal_expands_ancestors_and_ignores_unknown_paths() -> None:
    files = tree()
    files.collapse_all()
    node = files.reveal("/var/cache/apt/pkgcache.bin")
    assert node is not None and node.path == "/var/cache/apt/pkgcache.bin"
    assert paths(files.rows(ALL_KINDS))[-4:] == ["/var", "/var/cache", "/var/cache/apt", node.path]
    assert files.reveal("/usr/lib/") is files.node("/usr/lib")
    assert files.reveal("/nowhere") is None


def test_facts_and_sizes() -> None:
    assert [compact_size(n) for n in (812, 4200, 12_345, 2_500_000, 3 * 10**9)] == [
        "812",
        "4200",
        "12.3k",
        "2.5M",
        "3.0G",
    ]
    passwd, shadow, _, _, main, *_ = CHANGES
    assert change_facts(passwd) == "900→1000"
    assert change_facts(shadow) == "0:0→42:42"
    assert change_facts(main) == "0644 0:0 5000"
    grown = change("/big", "modified", 2, ("size",), state(size=20_000_000), state(size=20_000_004))
    assert change_facts(grown) == "20000000→20000004"  # "20.0M→20.0M" would hide the change
    assert change_facts(change("/big", "modified", 2, ("size",), state(size=10**6), state(size=10**7))) == (
        "1.0M→10.0M"
    )


def test_a_hundred_thousand_changes_build_and_filter() -> None:
    # How fast: bench/tui_bench.py prints the figures.
    changes = typed(synthetic_changes(100_000))
    files = FileTree.from_changes(changes)
    assert len(files) == 100_000
    without_added = files.rows(ALL_KINDS - {"added"})
    assert without_added and all(row.node.mask & ~1 for row in without_added)
    searched = files.rows(ALL_KINDS, "pkg01")
    assert searched and all("pkg01" in row.node.path or row.node.sorted for row in searched)


# The widget


class Host(App[None]):
    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self, changes: list[FileChange], **options: Any) -> None:
        super().__init__(**options)
        self.changes = changes

    def compose(self) -> ComposeResult:
        yield FilesPane(FileTree.from_changes(self.changes), INSTRUCTIONS, id="files")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(FileTreeView).focus()


def drive(
    steps: Callable[[Host, Any], Awaitable[None]],
    size: tuple[int, int] = (80, 24),
    changes: list[FileChange] | None = None,
    **options: Any,
) -> None:
    async def scenario() -> None:
        app = Host(CHANGES if changes is None else changes, **options)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await steps(app, pilot)

    asyncio.run(scenario())


def view(app: Host) -> FileTreeView:
    return app.query_one(FileTreeView)


def shown(app: Host) -> list[str]:
    return paths(view(app).rows)


def current(app: Host) -> str:
    node = view(app).current
    assert node is not None
    return node.path


def detail(app: Host) -> str:
    return str(app.query_one("#files-detail-text", Static).render())


def status(app: Host) -> str:
    return str(app.query_one("#files-status", Static).render())


def screen_line(app: Host, y: int) -> str:
    return view(app).render_line(y).text


def test_rows_markers_and_detail_of_the_highlighted_path() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        assert shown(app) == ALL_PATHS and current(app) == "/etc"
        assert screen_line(app, 0).startswith("▾   etc/  ~1 *1")
        assert screen_line(app, 1).strip() == "~ passwd  900→1000"
        assert "[x] added 4  [x] removed 1  [x] modified 2  [x] metadata 2" in status(app)
        await pilot.press("j")
        text = detail(app)
        assert "/etc/passwd" in text and "modified" in text and "changed: sha256, size" in text
        assert "layer 3: RUN useradd app" in text
        assert "≠ sha256  abababababab  cdcdcdcdcdcd" in text and "≠ size" in text
        assert f"sha256 before: {'ab' * 32}" in text and f"sha256 after: {'cd' * 32}" in text
        await pilot.press("j")
        assert "≠ owner   0:0" in detail(app) and "42:42" in detail(app)
        await pilot.press("k", "k")
        assert current(app) == "/etc" and "below: 1 modified, 1 metadata" in detail(app)

    drive(steps)


def test_kind_keys_toggle_kinds() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        await pilot.press("d")
        assert "/var/cache/apt/pkgcache.bin" not in shown(app) and "/var" not in shown(app)
        assert "[ ] removed 1" in status(app)
        await pilot.press("a", "m")
        assert shown(app) == ["/etc", "/etc/shadow", "/usr", "/usr/lib", "/usr/lib/liby.so"]
        await pilot.press("t")
        assert shown(app) == [] and "No changed path matches" in detail(app)
        assert "nothing matches the filter" in screen_line(app, 0)
        await pilot.press("d")
        assert shown(app)[-1] == "/var/cache/apt/pkgcache.bin"

    drive(steps)


def test_cursor_stays_on_its_path_or_falls_back_to_its_parent() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        await pilot.press(*["j"] * 7)
        assert current(app) == "/opt/app/main.py"
        await pilot.press("m")  # main.py is added: stays, one row up now that /etc/passwd is hidden
        assert current(app) == "/opt/app/main.py" and view(app).cursor == 6
        await pilot.press("a")  # hidden now, and so are its ancestors: stays at the same row number
        assert current(app) == "/var/cache" and view(app).cursor == 6
        await pilot.press("a")
        await pilot.press("home")
        assert current(app) == "/etc"

    drive(steps)


def test_directories_open_close_and_left_goes_to_the_parent() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        await pilot.press("enter")
        assert shown(app)[:2] == ["/etc", "/opt"] and screen_line(app, 0).startswith("▸")
        await pilot.press("space")
        assert shown(app)[:2] == ["/etc", "/etc/passwd"]
        await pilot.press("left")
        assert shown(app)[:2] == ["/etc", "/opt"]
        await pilot.press("right")
        assert shown(app)[1] == "/etc/passwd" and current(app) == "/etc"
        await pilot.press("right")  # already open: steps onto the first child
        assert current(app) == "/etc/passwd"
        await pilot.press("h")  # a file: back to its parent
        assert current(app) == "/etc"
        await pilot.press("C")
        assert shown(app) == ["/etc", "/opt", "/usr", "/var"]
        await pilot.press("E")
        assert shown(app) == ALL_PATHS

    drive(steps)


def test_path_filter_applies_on_enter_and_escape_clears_it() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        await pilot.press("slash", *"lib", "enter")
        assert shown(app) == ["/usr", "/usr/lib", "/usr/lib/libx.so", "/usr/lib/liby.so"]
        assert "/lib 4 rows" in status(app) and view(app).has_focus
        await pilot.press("slash", "backspace", "backspace", "backspace", *"APT", "enter")
        assert shown(app) == ["/var", "/var/cache", "/var/cache/apt", "/var/cache/apt/pkgcache.bin"]
        await pilot.press("slash", "escape")
        assert shown(app) == ALL_PATHS and "/apt" not in status(app) and view(app).has_focus

    drive(steps, size=(160, 48))


def test_clicking_moves_the_cursor_and_a_second_click_toggles_a_directory() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        await pilot.click(FileTreeView, offset=(8, 3))
        assert current(app) == "/opt" and "/opt/app" in shown(app)
        await pilot.click(FileTreeView, offset=(8, 3))
        assert current(app) == "/opt" and "/opt/app" not in shown(app)
        await pilot.click(FileTreeView, offset=(8, 1))
        assert current(app) == "/etc/passwd" and "/etc/passwd" in detail(app)
        await pilot.click(FileTreeView, offset=(0, 0))  # on the ▾ marker: toggles at once
        assert current(app) == "/etc" and shown(app)[:2] == ["/etc", "/opt"]

    drive(steps)


def test_a_double_click_toggles_a_directory_once() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        await pilot.click(FileTreeView, offset=(8, 8), times=2)  # /usr, not highlighted before
        assert current(app) == "/usr" and "/usr/bin" not in shown(app)
        await pilot.click(FileTreeView, offset=(8, 8), times=2)  # highlighted now
        assert current(app) == "/usr" and "/usr/bin" in shown(app)

    drive(steps)


def test_reveal_undoes_whatever_hides_the_path() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        pane = app.query_one(FilesPane)
        await pilot.press("C", "d", "slash", *"etc", "enter")
        assert "/var" not in shown(app)
        assert pane.reveal("/var/cache/apt/pkgcache.bin")
        await pilot.pause()
        assert current(app) == "/var/cache/apt/pkgcache.bin"
        assert "removed" in view(app).kinds and view(app).needle == ""
        assert "/var/cache/apt/pkgcache.bin" in detail(app)
        assert not pane.reveal("/etc/group")

    drive(steps)


def test_keeps_the_cursor_in_view_on_a_long_list() -> None:
    changes = typed(synthetic_changes(3000, seed=1))

    async def steps(app: Host, pilot: Any) -> None:
        tree_view = view(app)
        await pilot.press("E", "end")
        assert tree_view.cursor == len(tree_view.rows) - 1 > 1000
        height = tree_view.scrollable_content_region.height
        assert tree_view.scroll_offset.y == tree_view.cursor - height + 1
        await pilot.press("pageup")
        assert tree_view.cursor == len(tree_view.rows) - height
        await pilot.press("home", "pagedown")
        assert tree_view.cursor == height - 1 and tree_view.scroll_offset.y == 0
        assert tree_view.virtual_size.height == len(tree_view.rows)

    drive(steps, changes=changes)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_layouts_render(size: tuple[int, int]) -> None:
    async def steps(app: Host, pilot: Any) -> None:
        pane = app.query_one(FilesPane)
        assert pane.has_class("-wide") == (size[0] >= 120)
        detail_pane = app.query_one("#files-detail")
        tree_region = view(app).region
        if size[0] >= 120:
            assert detail_pane.region.x >= tree_region.right
        else:
            assert detail_pane.region.y >= tree_region.bottom
        await pilot.press("j", "j")
        screen = app.export_screenshot()
        assert "passwd" in screen and "shadow" in screen

    drive(steps, size=size)


def test_cursor_is_reversed_without_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")

    async def steps(app: Host, pilot: Any) -> None:
        assert app.no_color
        cursor = view(app).render_line(0)
        assert all(segment.style and segment.style.reverse for segment in cursor if segment.text.strip())
        other = view(app).render_line(1)
        assert not any(segment.style and segment.style.reverse for segment in other)

    drive(steps, ansi_color=True)


def test_empty_report() -> None:
    async def steps(app: Host, pilot: Any) -> None:
        assert shown(app) == [] and "no changed paths" in screen_line(app, 0)
        assert detail(app) == "This report has no file changes."
        await pilot.press("j", "enter", "left", "a")

    drive(steps, changes=[])
