"""The approval form: who approves, why, until when, and where the record goes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
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


@dataclass(frozen=True)
class Draft:
    """What the form holds, as typed: kept for the session when the form is cancelled."""

    reviewer: str
    reason: str
    expires: str
    output: str


@dataclass(frozen=True)
class Accepted:
    """A finding the record will accept, as the form lists it."""

    fingerprint: str
    rule: str
    subject: str
    renewed: bool  # approved before, renewed under this record's reviewer, reason and expiry


FIELDS = ("reviewer", "reason", "expires", "output")
REQUIRED = ("reviewer", "reason", "output")  # the expiry is optional


class ApprovalScreen(ModalScreen[ApprovalForm | None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]
    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    ApprovalScreen > Vertical {
        width: 100; max-width: 100%; height: auto; max-height: 100%;
        padding: 0 1; border: solid $accent; background: $surface;
    }
    ApprovalScreen #approval-fields { height: auto; margin-top: 1; }
    ApprovalScreen .field { height: 1; }
    ApprovalScreen .field Label { width: 21; }
    ApprovalScreen Input { width: 1fr; border: none; height: 1; padding: 0 1; background: $boost; }
    ApprovalScreen Input:focus { border: none; background: $primary 30%; }
    ApprovalScreen #approval-accepts { height: auto; max-height: 6; margin-top: 1; }
    ApprovalScreen #approval-signing { margin-top: 1; color: $text-muted; }
    ApprovalScreen #approval-error { color: $error; height: auto; }
    ApprovalScreen Horizontal.buttons { height: auto; margin-top: 1; }
    """

    def __init__(
        self,
        accepts: Sequence[Accepted],
        draft: Draft,
        write: Callable[[ApprovalForm], str | None],
        keep_draft: Callable[[Draft], None],
        protected: Path | None = None,
        signed_by: str | None = None,
    ) -> None:
        """``accepts``: exactly the findings the record accepts (marked, and approved before: renewed);
        ``draft`` fills the fields; ``write`` writes the record and returns what went wrong, if anything:
        the form stays open then, with everything typed kept. Cancelling hands what was typed to
        ``keep_draft``. ``protected`` (the report under review) is never written; ``signed_by``: the keyid
        the record is signed with (None: unsigned)."""
        super().__init__()
        self.accepts = list(accepts)
        self.draft = draft
        self.write = write
        self.keep_draft = keep_draft
        self.protected = protected
        self.signed_by = signed_by
        self._replace_confirmed: Path | None = None

    def compose(self) -> ComposeResult:
        marked = sum(not a.renewed for a in self.accepts)
        carried = len(self.accepts) - marked
        with Vertical():
            title = f"Approve {counted(marked, 'finding')} for this derived image"
            if carried:
                title += (
                    f"\nand renew {carried} approved before: the record gives them this reviewer,"
                    " reason and expiry"
                )
            yield Static(title)
            with VerticalScroll(id="approval-accepts"):
                yield Static(accepted_lines(self.accepts))
            values = dict(
                zip(
                    FIELDS,
                    (self.draft.reviewer, self.draft.reason, self.draft.expires, self.draft.output),
                    strict=True,
                )
            )
            hints = {
                "reason": "why these findings are acceptable",
                "expires": "YYYY-MM-DD, optional: the last day it counts",
            }
            with Vertical(id="approval-fields"):
                for name, label in zip(
                    FIELDS, ("reviewer", "reason", "expires", "write the record to"), strict=True
                ):
                    with Horizontal(classes="field"):
                        yield Label(label)
                        yield Input(values[name], placeholder=hints.get(name, ""), id=name)
            yield Static(signing_line(self.signed_by), id="approval-signing")
            yield Static(id="approval-error")
            with Horizontal(classes="buttons"):
                yield Button("Write approval", variant="primary", id="write")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        # The first required field still empty; the reason (never prefilled) when all are given.
        empty = [name for name in REQUIRED if not self.query_one(f"#{name}", Input).value.strip()]
        self.query_one(f"#{(empty or ['reason'])[0]}", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "write":
            self.submit()
        else:
            self.action_cancel()

    def typed(self) -> Draft:
        return Draft(*(self.query_one(f"#{name}", Input).value for name in FIELDS))

    def submit(self) -> None:
        form = parse_form(*(self.query_one(f"#{name}", Input).value for name in FIELDS))
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
        self.keep_draft(self.typed())
        self.dismiss(None)


def accepted_lines(accepts: Sequence[Accepted]) -> Text:
    """Every fingerprint the record accepts, in the record's order, with the finding it stands for."""
    text = Text()
    these = "this fingerprint" if len(accepts) == 1 else f"these {counted(len(accepts), 'fingerprint')}"
    text.append(f"the record accepts {these}:\n", style="bold")
    for accepted in sorted(accepts, key=lambda a: a.fingerprint):
        text.append(f"{accepted.fingerprint}  ")
        text.append(f"{accepted.rule} {accepted.subject}")  # image text, never markup
        if accepted.renewed:
            text.append("  (renewed)", style="dim")
        text.append("\n")
    text.rstrip()
    return text


def signing_line(keyid: str | None) -> str:
    if keyid is None:
        return "unsigned (layerdiff view --key KEY signs the records it writes)"
    return f"signed with {keyid} (a DSSE envelope, as layerdiff approve --key writes)"
