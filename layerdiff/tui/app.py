"""Review a finished report in the terminal: the verdict and both images, the findings with their evidence,
every change by kind, and approval of what is acceptable. The app only reads the report it is given."""

from __future__ import annotations

import gc
import json
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker

from layerdiff.approval import Approval, build_statement, signed_record, statement_text
from layerdiff.atomic import write_atomically
from layerdiff.errors import UsageError
from layerdiff.report.wire import FileChange, Report
from layerdiff.tui import links
from layerdiff.tui.approve import Accepted, ApprovalForm, ApprovalScreen, Draft
from layerdiff.tui.cells import counted
from layerdiff.tui.files import WIDE_LAYOUT_MIN_WIDTH, FilesPane
from layerdiff.tui.filetree import FileTree
from layerdiff.tui.findings import Acceptance, FindingsPane
from layerdiff.tui.layerpane import LayerTable
from layerdiff.tui.layers import LAYER, layer_entries, reviewed_positions
from layerdiff.tui.overview import overview, warnings_text
from layerdiff.tui.packages import package_records
from layerdiff.tui.records import config_records, environment_summary, library_records, python_records
from layerdiff.tui.tables import RecordsPane

if TYPE_CHECKING:
    from layerdiff.signing import ApprovalSigner

TABS = ("overview", "findings", links.FILES, links.PACKAGES, links.LIBRARIES, links.PYTHON, links.CONFIG)

HELP = """\
Tabs        1 overview  2 findings  3 files  4 packages
            5 libraries  6 python  7 config  (or click a tab)
Anywhere    ? help  q quit
Tables      / search (Enter applies, Esc clears)
            up/down j/k PageUp/PageDown Home/End move
            o sort (or click a column header)
            g group filter: layer, ecosystem or kind
            J/K scroll the detail pane, z zooms it (also on Files)
Findings    s severity: all, high+, medium+, low+
            Enter show the file, package, library... it concerns
            a or space mark for approval  A mark all shown
            w write the approval record for the marked findings
            r the evidence as the report's JSON (again: in words)
Overview    Enter on a layer: the Files tab on its changes
Files       Tab layers / tree   u this layer only / all up to it
            f the highlighted layer's findings
            a added  d removed  m modified  t metadata: show/hide
            Enter or space open/close  right/l open  left/h close
            E open all  C close all
Mouse       tabs, rows, headers and buttons; the wheel scrolls
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        yield Static(HELP, id="help")


class ReviewApp(App[None]):
    TITLE = "layerdiff"
    # Screen classes by width: the tables put their detail pane below (narrow) or beside (wide) them.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (WIDE_LAYOUT_MIN_WIDTH, "-wide")]  # noqa: RUF012 - textual types it so
    CSS = """
    #overview-text, #overview-warnings { padding: 0 1; }
    #overview-layers { height: auto; margin: 0 1; }
    #help {
        width: 72; max-width: 100%; height: auto; max-height: 100%; padding: 1 2;
        border: solid $accent; background: $surface; overflow-y: auto;
    }
    HelpScreen { align: center middle; }
    TabPane { padding: 0; }
    App:nocolor DataTable > .datatable--cursor { text-style: reverse bold; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help"),
        *(Binding(str(n), f"show_tab('{tab}')", tab, show=False) for n, tab in enumerate(TABS, start=1)),
    ]

    def __init__(
        self,
        report: Report,
        approval: Approval | None = None,
        approval_output: Path = Path("approval.json"),
        reviewer: str = "",
        ansi_color: bool = False,
        report_path: Path | None = None,
        signer: ApprovalSigner | None = None,
    ) -> None:
        """``approval``: an earlier record for this derived image; ``report_path``: the saved report being
        reviewed, which the approval form never overwrites; ``signer``: the key the records it writes are
        signed with (a DSSE envelope, as ``layerdiff approve --key`` writes)."""
        super().__init__(ansi_color=ansi_color)
        self.report = report
        self.approval_output = approval_output
        # --reviewer, else who signed off the earlier record, else the caller's $USER (see launch.py)
        self.reviewer = reviewer or (approval.reviewer if approval is not None else "")
        self.approval = approval
        self.report_path = report_path
        self.signer = signer
        self._warned_unwritten = False  # q with unwritten marks warns once, then quits
        self._draft: Draft | None = None  # the approval form as typed when it was last cancelled
        self._tree_builder: Worker[FileTree] | None = None
        self.sub_title = f"{report.derived.reference}  from  {report.base.reference}"

    def compose(self) -> ComposeResult:
        # The breakpoint classes arrive with the first resize, after the first frame: set them now, so a
        # narrow terminal does not flash the wide layout first.
        wide = self.size.width >= WIDE_LAYOUT_MIN_WIDTH
        self.screen.set_class(wide, "-wide")
        self.screen.set_class(not wide, "-narrow")
        report = self.report
        yield Header()
        with TabbedContent(initial="findings" if report.findings else "overview"):
            with TabPane("Overview", id="overview"), VerticalScroll(id="overview-scroll"):
                yield Static(overview(report), id="overview-text")
                # the Files tab's layer pane, as a list: Enter (or a click) opens Files on that layer
                entries = layer_entries(report)
                first = next((i for i, entry in enumerate(entries) if entry.kind == LAYER), 0)
                yield LayerTable(entries, first, id="overview-layers")
                yield Static(warnings_text(report), id="overview-warnings")
            with TabPane(f"Findings {len(report.findings)}", id="findings"):
                yield FindingsPane(
                    report.findings, self._earlier_acceptances(), date.today(), id="findings-pane"
                )
            with TabPane(f"Files {len(report.file_changes)}", id=links.FILES):
                # Mounted when first shown, from the tree built in the background (see on_mount): the
                # first screen does not wait for it.
                yield Vertical(id="files-slot")
            yield self._records_tab(
                "Packages",
                links.PACKAGES,
                RecordsPane(
                    "packages",
                    ("ecosystem", "name", "change", "before", "after", "layer"),
                    package_records(report),
                    "ecosystem",
                    "No package changes"
                    + ("." if report.packages.sbom_tool else " (the report was made with --sbom none)."),
                    id="packages-pane",
                ),
            )
            yield self._records_tab(
                "Libraries",
                links.LIBRARIES,
                RecordsPane(
                    "library changes",
                    ("object", "needs", "change", "before", "after"),
                    library_records(report),
                    "kind",
                    "No shared-library resolution changed.",
                    id="libraries-pane",
                ),
            )
            yield self._records_tab(
                "Python",
                links.PYTHON,
                RecordsPane(
                    "python changes",
                    ("kind", "environment", "distribution", "detail"),
                    python_records(report),
                    "kind",
                    "No Python distribution changed and no requirement broke.",
                    preamble=environment_summary(report),
                    id="python-pane",
                ),
            )
            yield self._records_tab(
                "Config",
                links.CONFIG,
                RecordsPane(
                    "config changes",
                    ("setting", "base", "derived", "instruction"),
                    config_records(report),
                    "kind",
                    "The derived image kept the base's config and commands.",
                    id="config-pane",
                ),
            )
        yield Footer()

    @staticmethod
    def _records_tab(title: str, tab: str, pane: RecordsPane) -> TabPane:
        return TabPane(f"{title} {len(pane.records)}", pane, id=tab)

    def _earlier_acceptances(self) -> dict[str, Acceptance]:
        approval = self.approval
        if approval is None:
            return {}
        acceptance = Acceptance(approval.reviewer, approval.reason, approval.expires)
        return dict.fromkeys(approval.accepted, acceptance)

    def on_mount(self) -> None:
        self.call_after_refresh(self._focus_active)
        if self.report.warnings:
            count = len(self.report.warnings)
            self.notify(
                f"The report has {counted(count, 'warning')}: see Overview (1).",
                severity="warning",
                timeout=10,
            )
        if self.approval is not None and self.approval.is_expired(date.today()):
            self.notify(
                f"The approval by {self.approval.reviewer} expired on {self.approval.expires}: "
                "its findings show as expired and are not approved.",
                severity="warning",
                timeout=10,
                markup=False,  # the reviewer's name is the record's text
            )
        # The file tree of a large report takes a moment: build it while the reviewer reads the first screen.
        self.call_after_refresh(self._file_tree)

    def _file_tree(self) -> Worker[FileTree]:
        """The worker building the Files tab's tree, started on first use."""
        if self._tree_builder is None:
            build = partial(_frozen_tree, self.report.file_changes, reviewed_positions(self.report))
            self._tree_builder = self.run_worker(build, name="file tree", thread=True)
        return self._tree_builder

    async def action_show_tab(self, tab: str) -> None:
        # TabbedContent follows the focus, so a table left focused in the tab being hidden would pull it
        # back while the new tab is still being built: drop the focus first, then give it to the new tab.
        self.screen.set_focus(None)
        self.query_one(TabbedContent).active = tab
        await self._focus_active()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.call_after_refresh(self._focus_active)

    async def _focus_active(self) -> None:
        active = self.query_one(TabbedContent).active
        if active == "overview":
            layers = self.query_one("#overview-layers", LayerTable)
            layers.focus()
            self.call_after_refresh(layers.scroll_visible, animate=False)
        elif active == links.FILES:
            (await self.files_pane()).tree_view.focus()
        else:
            self.query_one(f"#{active}-pane", RecordsPane).focus_table()

    async def files_pane(self) -> FilesPane:
        """The Files tab's pane, built on first use."""
        built = self.query(FilesPane)
        if built:
            return built.first()
        tree = await self._file_tree().wait()
        built = self.query(FilesPane)  # another caller may have mounted it while this one waited
        if built:
            return built.first()
        pane = FilesPane(tree, _instructions(self.report), layer_entries(self.report), id="files-pane")
        await self.query_one("#files-slot", Vertical).mount(pane)
        return pane

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def on_findings_pane_jump(self, event: FindingsPane.Jump) -> None:
        target = links.jump_target(event.finding)
        if target is None:
            self.notify(
                f"{event.finding.rule} concerns no single change to show.",
                severity="information",
                markup=False,
            )
            return
        if target.tab == links.FILES:
            files = await self.files_pane()
            found = any(files.reveal(path) for path in target.paths)
        else:
            found = self.query_one(f"#{target.tab}-pane", RecordsPane).reveal(target.keys)
        if not found:
            where = _CHANGES_NOUN[target.tab]
            self.notify(
                f"{event.finding.subject} is not among the {where}.", severity="warning", markup=False
            )
            return
        self.query_one(TabbedContent).active = target.tab
        if target.tab == links.FILES:
            self.call_after_refresh(files.tree_view.focus)

    @on(DataTable.RowSelected, "#overview-layers")
    async def open_layer(self, event: DataTable.RowSelected) -> None:
        """A layer chosen on the Overview: the Files tab, on that layer's own changes."""
        event.stop()
        files = await self.files_pane()
        files.show_layer(event.cursor_row)
        self.query_one(TabbedContent).active = links.FILES
        self.call_after_refresh(files.tree_view.focus)

    def on_files_pane_layer_findings(self, event: FilesPane.LayerFindings) -> None:
        entry = event.entry
        if entry.kind != LAYER or not entry.findings:
            self.notify(f"No finding comes from {entry.label}.", severity="information")
            return
        findings = self.query_one(FindingsPane)
        findings.show_layer(entry.position)
        self.query_one(TabbedContent).active = "findings"
        self.call_after_refresh(findings.focus_table)

    def on_findings_pane_approval_requested(self, event: FindingsPane.ApprovalRequested) -> None:
        pane = self.query_one(FindingsPane)
        # One record has one reviewer, reason and expiry: findings approved before are renewed under
        # them. The form says so, and proposes the earliest expiry they had, so none is silently extended.
        carried = self._still_approved(pane) - event.fingerprints
        expiries = [e for fp in carried if (e := pane.accepted[fp].expires) is not None]
        expires = min(expiries, default=None)
        draft = self._draft or Draft(
            self.reviewer, "", expires.isoformat() if expires else "", str(self.approval_output)
        )
        accepts = [
            Accepted(fp, finding.rule, finding.subject, renewed=fp in carried)
            for fp in sorted(event.fingerprints | carried)
            if (finding := pane.by_fingerprint.get(fp)) is not None
        ]
        screen = ApprovalScreen(
            accepts,
            draft,
            write=partial(self.write_approval, marked=event.fingerprints),
            keep_draft=self._keep_draft,
            protected=self.report_path,
            signed_by=self.signer.keyid if self.signer is not None else None,
        )
        self.push_screen(screen)

    def _keep_draft(self, draft: Draft) -> None:
        """Cancel keeps what was typed for the next time the form opens, until a record is written."""
        self._draft = draft

    @staticmethod
    def _still_approved(pane: FindingsPane) -> set[str]:
        """The findings of this report an earlier record still approves: what a new record renews (a
        fingerprint of a finding the report no longer has cannot be accepted again)."""
        return pane.approved & set(pane.by_fingerprint)

    async def action_quit(self) -> None:
        marked = self.query_one(FindingsPane).marked
        if marked and not self._warned_unwritten:
            self._warned_unwritten = True
            self.notify(
                f"{counted(len(marked), 'finding')} marked but not written: "
                "w writes the approval, q again quits.",
                severity="warning",
                timeout=8,
            )
            return
        self.exit()

    def write_approval(self, form: ApprovalForm, marked: frozenset[str]) -> str | None:
        """Write the record `layerdiff approve` writes, for the marked findings and any still approved
        before; what went wrong, if anything."""
        pane = self.query_one(FindingsPane)
        accepted = marked | self._still_approved(pane)
        try:
            statement = build_statement(
                self.report, form.reviewer, form.reason, form.expires, datetime.now(UTC), only=accepted
            )
            if self.signer is None:
                write_atomically(form.output, statement_text(statement))
            else:
                envelope = signed_record(statement, self.signer)
                write_atomically(form.output, json.dumps(envelope, indent=2, sort_keys=True) + "\n")
        except UsageError as exc:  # also what write_atomically says when the file cannot be written
            return str(exc)
        self.reviewer, self.approval_output = form.reviewer, form.output
        self._draft = None  # the next record starts from this one's reviewer and file, with a new reason
        pane.record_approved(accepted, Acceptance(form.reviewer, form.reason, form.expires))
        signed = f", signed with {self.signer.keyid}" if self.signer is not None else ", unsigned"
        self.notify(
            f"approval of {counted(len(accepted), 'finding')} written to {form.output}{signed}",
            timeout=8,
            markup=False,
        )
        return None


_CHANGES_NOUN = {
    links.FILES: "changed files",
    links.PACKAGES: "package changes",
    links.LIBRARIES: "library changes",
    links.PYTHON: "Python changes",
    links.CONFIG: "config changes",
}


def _frozen_tree(changes: Sequence[FileChange], layers: frozenset[int]) -> FileTree:
    tree = FileTree.from_changes(changes, layers)
    # The tree lives as long as the app: spare it the cyclic collector's full passes (see cli._review).
    gc.freeze()
    return tree


def _instructions(report: Report) -> dict[int, str]:
    return {layer.position: layer.instruction or layer.created_by or "" for layer in report.derived.layers}
