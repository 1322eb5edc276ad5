"""One function per command: turn the parsed arguments into a call of the core, then render the result."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from layerdiff.atomic import write_output
from layerdiff.cli.outputs import Output, approval_output, parse_outputs, writable, write_outputs
from layerdiff.documents import (
    approval_signer,
    approved_base,
    dockerfile_text,
    policy_text,
    read_approval_file,
    read_approvals,
    read_report_file,
    read_text,
    trusted_keys,
)
from layerdiff.errors import ExitCode, UsageError
from layerdiff.image.limits import parse_limit_options
from layerdiff.index.cache import default_cache_dir
from layerdiff.policy import DEFAULT_FAIL_ON, parse_fail_on
from layerdiff.render.registry import GATE_FORMATS, INSPECT_FORMATS, REPORT_FORMATS, SBOM_DIFF_FORMATS
from layerdiff.review import ReviewOptions, compare_sboms, inspect_image, review

if TYPE_CHECKING:
    from layerdiff.report.wire import Finding, Report


def run_diff(args: argparse.Namespace) -> int:
    outputs = writable(parse_outputs(args.output, args.format, REPORT_FORMATS))
    if args.tui and outputs:
        raise UsageError("--tui shows the report in the terminal; it excludes -o and --format")
    interactive = not outputs and sys.stdin.isatty() and sys.stdout.isatty()
    with ExitStack() as stack:
        report = review(args.base, args.derived, _options(args, stack), policy_text(args.policy))
    if args.tui or interactive:
        _open_app(report, args)
    else:
        write_outputs(outputs or (Output("table", None),), REPORT_FORMATS, report)
    return _verdict_exit(report)


def run_render(args: argparse.Namespace) -> int:
    outputs = writable(parse_outputs(args.output, args.format, REPORT_FORMATS))
    write_outputs(outputs or (Output("table", None),), REPORT_FORMATS, read_report_file(args.report))
    return int(ExitCode.OK)


def _verdict_exit(report: Report) -> int:
    """Exit 1 when the verdict fails, with one line on stderr that says why; a verdict of ``review`` says
    what it did not enforce."""
    verdict = report.verdict
    if verdict.status == "pass":
        return int(ExitCode.OK)
    if verdict.status == "fail":
        failing = report.failing_findings()
        print(
            f"layerdiff: {_count(failing)} at or above {verdict.fail_on} ({_rules(failing)})", file=sys.stderr
        )
        return int(ExitCode.FINDINGS)
    # the threshold may come from --fail-on or from the policy's fail-on: the line names neither
    unenforced = report.findings_at_or_above(DEFAULT_FAIL_ON.label)
    print(
        f"layerdiff: {_count(unenforced)} at or above {DEFAULT_FAIL_ON.label}, not enforced with fail-on "
        f"{verdict.fail_on or 'none'} ({_rules(unenforced)})",
        file=sys.stderr,
    )
    return int(ExitCode.OK)


def _count(findings: Sequence[Finding]) -> str:
    return f"{len(findings)} finding{'' if len(findings) == 1 else 's'}"


def _rules(findings: Sequence[Finding], shown: int = 5) -> str:
    rules = list(dict.fromkeys(f.rule for f in findings))
    left = len(rules) - shown
    more = f" and {left} more rule{'' if left == 1 else 's'}" if left > 0 else ""
    return ", ".join(rules[:shown]) + more


def run_gate(args: argparse.Namespace) -> int:
    from layerdiff.gate import GateInputs, decide
    from layerdiff.policy import Policy, load_policy

    outputs = writable(parse_outputs(args.output, args.format, GATE_FORMATS))
    policy = policy_text(args.policy)
    rules = (load_policy(policy.text, policy.source) if policy else Policy.default()).approvals
    trusted = trusted_keys(args.key, policy, rules.reviewers)
    approvals, rejected = read_approvals(args.approval, trusted)
    with ExitStack() as stack:
        base = args.base or approved_base(approvals, args.approval)
        report = review(base, args.derived, _options(args, stack), policy)
    inputs = GateInputs(approvals, rejected, rules, bool(trusted), args.allow_policy_change)
    decision = decide(report, inputs, args.derived, date.today())
    for note in decision.notes:
        print(f"layerdiff: note: {note}", file=sys.stderr)
    write_outputs(outputs or (Output("table", None),), GATE_FORMATS, decision)
    if decision.reasons:
        print(f"layerdiff: gate failed: {decision.reasons[0]}" + _more(decision.reasons), file=sys.stderr)
        return int(ExitCode.FINDINGS)
    if decision.unenforced:
        print(
            f"layerdiff: gate review: {decision.unenforced[0]}" + _more(decision.unenforced), file=sys.stderr
        )
    return int(ExitCode.OK)


def _more(reasons: Sequence[str]) -> str:
    left = len(reasons) - 1
    return f" (and {left} more reason{'' if left == 1 else 's'})" if left > 0 else ""


def run_approve(args: argparse.Namespace) -> int:
    from layerdiff.approval import build_statement, signed_record, statement_text
    from layerdiff.sources.transports import rebased

    output = approval_output(args.output)
    report = read_report_file(args.report)
    if output is not None and Path(output).resolve() == Path(args.report).resolve():
        raise UsageError(f"-o {output} is the report being approved; write the approval elsewhere")
    try:
        expires = date.fromisoformat(args.expires) if args.expires else None
    except ValueError as exc:
        raise UsageError(f"--expires {args.expires!r}: expected YYYY-MM-DD") from exc
    if output is not None:
        # `gate` reads a relative base path from the record's directory: store it relative to that
        base = report.base
        where = os.path.dirname(output)
        report = dataclasses.replace(
            report, base=dataclasses.replace(base, reference=rebased(base.reference, where))
        )
    signer = approval_signer(args.key) if args.key else None  # before the record, so a bad key writes nothing
    statement = build_statement(report, args.reviewer, args.reason, expires, datetime.now(UTC), args.finding)
    if signer is None:
        write_output(output, statement_text(statement))
    else:
        write_output(output, json.dumps(signed_record(statement, signer), indent=2, sort_keys=True) + "\n")
    return int(ExitCode.OK)


def run_view(args: argparse.Namespace) -> int:
    _open_app(read_report_file(args.report), args, Path(args.report))
    return int(ExitCode.OK)


def _open_app(report: Report, args: argparse.Namespace, report_path: Path | None = None) -> None:
    from layerdiff.tui.launch import open_review_app

    approval = read_approval_file(args.approval) if args.approval else None
    if approval is not None and (approved := approval.derived_image_id) != report.derived.image_id:
        raise UsageError(f"{args.approval} approves {approved}, not {report.derived.image_id}")
    signer = approval_signer(args.key) if args.key else None  # its password is asked before the app starts
    open_review_app(report, approval, Path(args.approval_output), args.reviewer, report_path, signer)


def run_inspect(args: argparse.Namespace) -> int:
    outputs = writable(parse_outputs(args.output, args.format, INSPECT_FORMATS))
    with ExitStack() as stack:
        result = inspect_image(args.image, _options(args, stack))
    write_outputs(outputs or (Output("table", None),), INSPECT_FORMATS, result)
    return int(ExitCode.OK)


def run_sbom_diff(args: argparse.Namespace) -> int:
    outputs = writable(parse_outputs(args.output, args.format, SBOM_DIFF_FORMATS))
    document = compare_sboms(*((path, read_text(path, "SBOM")) for path in (args.a, args.b)))
    write_outputs(outputs or (Output("table", None),), SBOM_DIFF_FORMATS, document)
    return int(ExitCode.OK)


def run_rules(args: argparse.Namespace) -> int:
    from layerdiff.render.catalog import render_catalog, render_rule_doc
    from layerdiff.rules.documentation import packaged_rule_doc
    from layerdiff.rules.registry import all_rules

    catalog = {rule.id: rule for rule in all_rules()}
    if args.rule is None:
        write_output(None, render_catalog(tuple(catalog.values()), args.format))
        return int(ExitCode.OK)
    rule = catalog.get(args.rule.lower())
    if rule is None:
        raise UsageError(f"no rule {args.rule!r}; `layerdiff rules` lists them")
    markdown = packaged_rule_doc(rule.id)
    if markdown is None:  # an installation without its package data
        raise UsageError(f"{rule.id} has no documentation installed; see {rule.doc}")
    if args.format == "json":
        write_output(
            None, json.dumps({"id": rule.id, "doc": rule.doc, "markdown": markdown}, indent=2) + "\n"
        )
    else:
        width = shutil.get_terminal_size().columns
        write_output(None, render_rule_doc(rule, markdown, color=color_wanted(None), width=width))
    return int(ExitCode.OK)


def color_wanted(output: str | None) -> bool:
    return output in (None, "-") and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _options(args: argparse.Namespace, stack: ExitStack) -> ReviewOptions:
    progress = None
    if not args.quiet and sys.stderr.isatty():
        from layerdiff.render.progress import ProgressDisplay

        progress = stack.enter_context(ProgressDisplay()).wrap
    dockerfile = None
    if hasattr(args, "dockerfile"):
        dockerfile = dockerfile_text(args.dockerfile, args.build_arg, args.target)
    return ReviewOptions(
        dockerfile=dockerfile,
        platform=args.platform,
        sbom=getattr(args, "sbom", "none") == "syft",
        cache_dir=None if args.no_cache else (args.cache_dir or default_cache_dir()),
        fail_on=parse_fail_on(args.fail_on) if getattr(args, "fail_on", None) else None,
        progress=progress,
        limits=parse_limit_options(args.limit),
    )
