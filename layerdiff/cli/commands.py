"""One function per command: turn the parsed arguments into a call of the core, then render the result."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from layerdiff.atomic import write_output
from layerdiff.documents import approved_base, policy_text, read_approval_file, read_report_file, read_text
from layerdiff.errors import ExitCode, UsageError
from layerdiff.image.limits import parse_limit_options
from layerdiff.index.cache import default_cache_dir
from layerdiff.render.registry import INSPECT_FORMATS, REPORT_FORMATS, render
from layerdiff.review import ReviewOptions, compare_sboms, inspect_image, review
from layerdiff.rules.model import Severity

if TYPE_CHECKING:
    from layerdiff.report.wire import Report


def run_diff(args: argparse.Namespace) -> int:
    if args.tui and (args.format or args.output):
        raise UsageError("--tui shows the report in the terminal; it excludes --format and --output")
    interactive = args.format is None and args.output is None and sys.stdin.isatty() and sys.stdout.isatty()
    with ExitStack() as stack:
        report = review(args.base, args.derived, _options(args, stack), policy_text(args.policy))
    if args.tui or interactive:
        _open_app(report, args)
    else:
        fmt, color = args.format or "table", color_wanted(args.output)
        write_output(args.output, render(REPORT_FORMATS, report, fmt, color=color))
    return int(ExitCode.FINDINGS if report.verdict.status == "fail" else ExitCode.OK)


def run_gate(args: argparse.Namespace) -> int:
    from layerdiff.gate import decide
    from layerdiff.render.gate import render_gate

    approval = read_approval_file(args.approval)
    with ExitStack() as stack:
        options = _options(args, stack, default_fail_on=Severity.HIGH)
        base = args.base or approved_base(approval, args.approval)
        report = review(base, args.derived, options, policy_text(args.policy))
    decision = decide(report, approval, args.derived, date.today())
    write_output(args.output, render_gate(decision, args.derived, args.format))
    return int(ExitCode.FINDINGS if decision.reasons else ExitCode.OK)


def run_approve(args: argparse.Namespace) -> int:
    from layerdiff.approval import build_statement, statement_text

    report = read_report_file(args.report)
    if args.output not in (None, "-") and Path(args.output).resolve() == Path(args.report).resolve():
        raise UsageError(f"-o {args.output} is the report being approved; write the approval elsewhere")
    try:
        expires = date.fromisoformat(args.expires) if args.expires else None
    except ValueError as exc:
        raise UsageError(f"--expires {args.expires!r}: expected YYYY-MM-DD") from exc
    statement = build_statement(report, args.reviewer, args.reason, expires, datetime.now(UTC), args.finding)
    write_output(args.output, statement_text(statement))
    return int(ExitCode.OK)


def run_view(args: argparse.Namespace) -> int:
    _open_app(read_report_file(args.report), args, Path(args.report))
    return int(ExitCode.OK)


def _open_app(report: Report, args: argparse.Namespace, report_path: Path | None = None) -> None:
    from layerdiff.tui.launch import open_review_app

    approval = read_approval_file(args.approval) if args.approval else None
    if approval is not None and (approved := approval.derived_image_id) != report.derived.image_id:
        raise UsageError(f"{args.approval} approves {approved}, not {report.derived.image_id}")
    open_review_app(report, approval, Path(args.approval_output), args.reviewer, report_path)


def run_inspect(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        result = inspect_image(args.image, _options(args, stack))
    write_output(args.output, render(INSPECT_FORMATS, result, args.format, color=color_wanted(args.output)))
    return int(ExitCode.OK)


def run_sbom_diff(args: argparse.Namespace) -> int:
    from layerdiff.render.sbom_diff import render_sbom_diff

    document = compare_sboms(*((path, read_text(path, "SBOM")) for path in (args.a, args.b)))
    write_output(args.output, render_sbom_diff(document, args.format))
    return int(ExitCode.OK)


def run_rules(args: argparse.Namespace) -> int:
    from layerdiff.render.catalog import render_catalog
    from layerdiff.rules.registry import all_rules

    write_output(None, render_catalog(all_rules(), args.format))
    return int(ExitCode.OK)


def color_wanted(output: str | None) -> bool:
    return output in (None, "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _options(
    args: argparse.Namespace, stack: ExitStack, default_fail_on: Severity | None = None
) -> ReviewOptions:
    progress = None
    if not args.quiet and sys.stderr.isatty():
        from layerdiff.render.progress import ProgressDisplay

        progress = stack.enter_context(ProgressDisplay()).wrap
    return ReviewOptions(
        platform=args.platform,
        sbom=getattr(args, "sbom", "none") == "syft",
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        fail_on=Severity.parse(args.fail_on) if getattr(args, "fail_on", None) else None,
        default_fail_on=default_fail_on,
        progress=progress,
        limits=parse_limit_options(args.limit),
    )
