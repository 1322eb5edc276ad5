"""The approval form: who approves, why, until when, and where the record goes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from layerdiff.tui.cells import counted


@dataclass(frozen=True)
class ApprovalForm:
    reviewer: str
    reason: str
    expires: date | None
    output: Path


def parse_form(reviewer: str, reason: str, expires: str, output: str) -> ApprovalForm | str:
    """The filled-in form, or what is wrong with it."""
    if not reviewer.strip():
        return "a reviewer is required"
    if not reason.strip():
        return "a reason is required"
    try:
        until = date.fromisoformat(expires.strip()) if expires.strip() else None
    except ValueError:
        return f"expires {expires.strip()!r}: expected YYYY-MM-DD"
    if not output.strip():
        return "an output file is required"
    return ApprovalForm(reviewer.strip(), reason.strip(), until, Path(output.strip()))


class ApprovalScreen(ModalScreen[ApprovalForm | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    ApprovalScreen > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        padding: 0 1; border: solid $accent; background: $surface;
    }
    ApprovalScreen Label { margin-top: 1; }
    ApprovalScreen Input { border: none; height: 1; padding: 0 1; background: $boost; }
    ApprovalScreen Input:focus { border: none; background: $primary 30%; }
    ApprovalScreen #approval-error { color: $error; height: auto; }
    ApprovalScreen Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(
        self,
        count: int,
        reviewer: str,
        output: Path,
        write: Callable[[ApprovalForm], str | None],
        protected: Path | None = None,
        carried: int = 0,
        expires: date | None = None,
    ) -> None:
        """``write`` writes the record and returns what went wrong, if anything: the form stays open
        then, with everything typed kept. ``protected`` (the report under review) is never written.
        ``carried`` findings approved before go into the record too; ``expires`` prefills the expiry."""
        super().__init__()
        self.count = count
        self.carried = carried
        self.default_expires = expires
        self.default_reviewer = reviewer
        self.default_output = output
        self.write = write
        self.protected = protected
        self._replace_confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            title = f"Approve {counted(self.count, 'finding')} for this derived image"
            if self.carried:
                title += (
                    f"\nand renew {self.carried} approved before: the record gives them this reviewer,"
                    " reason and expiry"
                )
            yield Static(title)
            yield Label("reviewer")
            yield Input(self.default_reviewer, id="reviewer")
            yield Label("reason")
            yield Input(placeholder="why these findings are acceptable", id="reason")
            yield Label("expires (YYYY-MM-DD, optional)")
            yield Input(self.default_expires.isoformat() if self.default_expires else "", id="expires")
            yield Label("write the record to")
            yield Input(str(self.default_output), id="output")
            yield Static(id="approval-error")
            with Horizontal():
                yield Button("Write approval", variant="primary", id="write")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "write":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        values = [
            self.query_one(f"#{name}", Input).value for name in ("reviewer", "reason", "expires", "output")
        ]
        form = parse_form(*values)
        if isinstance(form, str):
            self.query_one("#approval-error", Static).update(form)
            return
        problem = self._output_problem(form.output) or self.write(form)
        if problem is not None:
            self.query_one("#approval-error", Static).update(problem)
            return
        self.dismiss(form)

    def _output_problem(self, output: Path) -> str | None:
        """Refuse the report under review; ask once before replacing any other existing file."""
        if self.protected is not None and output.resolve() == self.protected.resolve():
            return f"{output} is the report under review; choose another file"
        if output.exists() and self._replace_confirmed != output:
            self._replace_confirmed = output
            return f"{output} exists: Enter again replaces it"
        return None

    def action_cancel(self) -> None:
        self.dismiss(None)
