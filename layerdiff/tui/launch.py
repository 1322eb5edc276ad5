"""Opening the review app from `diff` and `view`: it needs a terminal, and a large report's objects are
frozen so the cyclic collector leaves them alone."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from layerdiff.errors import UsageError

if TYPE_CHECKING:
    from layerdiff.approval import Approval
    from layerdiff.report.wire import Report
    from layerdiff.signing import ApprovalSigner


def open_review_app(
    report: Report,
    approval: Approval | None,
    approval_output: Path,
    reviewer: str | None,
    report_path: Path | None = None,
    signer: ApprovalSigner | None = None,
) -> None:
    from layerdiff.tui.app import ReviewApp

    # Textual reads keys from stdin and draws on stderr.
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        hint = "use --format to write the report instead" if report_path is None else "run it in a terminal"
        raise UsageError(f"the review app needs a terminal; {hint}")
    app = ReviewApp(
        report,
        approval=approval,
        report_path=report_path,
        approval_output=approval_output,
        # --reviewer, else the earlier record's reviewer, else who runs the app
        reviewer=reviewer
        or (approval.reviewer if approval is not None else None)
        or os.environ.get("USER")
        or os.environ.get("LOGNAME")
        or "",
        # NO_COLOR (no-color.org): with the terminal's own palette Textual drops colour entirely.
        ansi_color="NO_COLOR" in os.environ,
        signer=signer,
    )
    # A large report is millions of objects that live until the app closes; every full pass of the cyclic
    # collector would walk them all and stall the app for half a second. Frozen, they are left alone.
    gc.freeze()
    app.run()
