"""The ``layerdiff`` command line. stdout carries data; everything else goes to stderr."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from layerdiff.sbom.jobs import SbomJobs

from layerdiff import __version__
from layerdiff.errors import ExitCode, LayerdiffError, UsageError
from layerdiff.index.cache import IndexCache, default_cache_dir
from layerdiff.pipeline import LoadedImage, ProgressHook, Sboms, compare, layer_infos, load_image
from layerdiff.policy import (
    POLICY_FILENAME,
    Policy,
    PolicyOutcome,
    apply_policy,
    load_policy,
    policy_digest,
)
from layerdiff.refs import ImageRef
from layerdiff.report.wire import PolicyInfo, Report
from layerdiff.rules.model import RuleContext, Severity
from layerdiff.rules.registry import evaluate
from layerdiff.sources.base import ImageSource
from layerdiff.sources.transports import open_source, parse_ref

FORMATS = ("table", "json")
DIFF_FORMATS = ("table", "json", "markdown", "sarif", "junit", "cyclonedx")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 for --help
        return int(exc.code or 0)
    try:
        return int(args.run(args))
    except LayerdiffError as exc:
        print(f"layerdiff: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("layerdiff: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`); nothing left to tell anyone.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return int(ExitCode.OK)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerdiff",
        description="Review what a derived container image changed about the image it was built FROM.",
        epilog="Exit codes: 0 pass, 1 findings at or above the threshold, 2 usage, 3 image or source error, "
        "4 tool error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"layerdiff {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def image_options(sub: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
        sub.add_argument(
            "--format",
            choices=formats,
            default="table",
            help="output format (default: table; `diff` on a terminal opens the review app)",
        )
        sub.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
        sub.add_argument(
            "--platform", metavar="OS/ARCH[/VARIANT]", help="image to pick from a multi-platform index"
        )
        sub.add_argument(
            "--cache-dir",
            metavar="DIR",
            type=Path,
            help="where layer indexes are cached (default: the user cache dir, or LAYERDIFF_CACHE_DIR)",
        )
        sub.add_argument(
            "--no-cache", action="store_true", help="neither read nor write the layer index cache"
        )
        sub.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")

    diff = commands.add_parser("diff", help="what DERIVED's own layers and config changed relative to BASE")
    diff.add_argument(
        "base",
        metavar="BASE",
        help="the image built FROM (docker:, docker-archive:, oci:, "
        "oci-archive:, registry:, or a bare name or path)",
    )
    diff.add_argument("derived", metavar="DERIVED", help="the image built on it")
    diff.add_argument(
        "--policy", metavar="FILE", help=f"policy file (default: ./{POLICY_FILENAME} when present)"
    )
    diff.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        choices=("info", "low", "medium", "high", "critical"),
        help="exit 1 when a finding is at or above SEVERITY (info, low, medium, high, critical)",
    )
    diff.add_argument(
        "--sbom",
        choices=("syft", "none"),
        default="syft",
        help="package inventory: syft (run concurrently with layer indexing) or none",
    )
    image_options(diff, DIFF_FORMATS)
    diff.add_argument(
        "--tui", action="store_true", help="review the result in the terminal app (the default on a terminal)"
    )
    review_options(diff)
    # No --format on a terminal opens the review app; elsewhere it means table.
    diff.set_defaults(run=_run_diff, format=None)

    approve = commands.add_parser("approve", help="write an approval record (in-toto Statement) for a report")
    approve.add_argument("report", metavar="REPORT.json", help="a `layerdiff diff --format json` report")
    approve.add_argument("--reviewer", required=True, metavar="NAME")
    approve.add_argument("--reason", required=True, metavar="TEXT")
    approve.add_argument("--expires", metavar="YYYY-MM-DD", help="the approval stops counting after this day")
    approve.add_argument(
        "--finding",
        action="append",
        metavar="FINGERPRINT",
        help="approve only this finding (repeatable; default: every finding of the report)",
    )
    approve.add_argument("--output", "-o", metavar="FILE", help="write the record to FILE instead of stdout")
    approve.set_defaults(run=_run_approve)

    gate = commands.add_parser(
        "gate", help="pass only an image whose findings at or above the threshold are approved or waived"
    )
    gate.add_argument("derived", metavar="DERIVED")
    gate.add_argument("--base", metavar="BASE", help="the base image (default: the one the approval names)")
    gate.add_argument(
        "--approval", required=True, metavar="FILE", help="a record written by `layerdiff approve`"
    )
    gate.add_argument(
        "--policy", metavar="FILE", help=f"policy file (default: ./{POLICY_FILENAME} when present)"
    )
    gate.add_argument(
        "--sbom",
        choices=("syft", "none"),
        default="syft",
        help="as for diff; use what the approved report used",
    )
    image_options(gate)
    gate.set_defaults(run=_run_gate)

    sbom_diff = commands.add_parser("sbom-diff", help="package changes between two SBOM files")
    sbom_diff.add_argument("a", metavar="A", help="the earlier SBOM (CycloneDX JSON or syft JSON)")
    sbom_diff.add_argument("b", metavar="B", help="the later SBOM")
    sbom_diff.add_argument("--format", choices=FORMATS, default="table")
    sbom_diff.add_argument("--output", "-o", metavar="FILE")
    sbom_diff.set_defaults(run=_run_sbom_diff)

    view = commands.add_parser("view", help="review a saved JSON report in the terminal (no engine needed)")
    view.add_argument("report", metavar="REPORT.json", help="a `layerdiff diff --format json` report")
    review_options(view)
    view.set_defaults(run=_run_view)

    rules = commands.add_parser("rules", help="the rule catalog, with links to docs/rules/")
    rules.add_argument("--format", choices=FORMATS, default="table")
    rules.set_defaults(run=_run_rules)

    inspect = commands.add_parser("inspect", help="one image's identity, config and layers")
    inspect.add_argument("image", metavar="IMAGE")
    image_options(inspect)
    inspect.set_defaults(run=_run_inspect)
    return parser


def _run_diff(args: argparse.Namespace) -> int:
    if args.tui and (args.format or args.output):
        raise UsageError("--tui shows the report in the terminal; it excludes --format and --output")
    interactive = args.format is None and args.output is None and sys.stdin.isatty() and sys.stdout.isatty()
    report, _ = _diff_report(args, args.base, args.derived, None)
    if args.tui or interactive:
        _review(report, args)
    else:
        _emit(args.output, _render(report, args.format or "table", args.output))
    return int(ExitCode.FINDINGS if report.verdict.status == "fail" else ExitCode.OK)


def review_options(sub: argparse.ArgumentParser) -> None:
    """Options of the review app, shared by `diff` and `view`."""
    sub.add_argument(
        "--approval",
        metavar="FILE",
        help="an earlier approval record: its findings show as approved, and a new record keeps them",
    )
    sub.add_argument(
        "--approval-output",
        metavar="FILE",
        default="approval.json",
        help="where the app writes an approval record (default: ./approval.json)",
    )
    sub.add_argument("--reviewer", metavar="NAME", help="prefills the approval form (default: $USER)")


def _review(report: Report, args: argparse.Namespace, report_path: Path | None = None) -> None:
    from layerdiff.approval import read_approval
    from layerdiff.tui.app import ReviewApp

    approval = None
    if args.approval:
        try:
            approval = read_approval(Path(args.approval).read_text(encoding="utf-8"), args.approval)
        except OSError as exc:
            raise UsageError(f"cannot read approval {args.approval}: {exc.strerror}") from exc
        if approval.derived_image_id != report.derived.image_id:
            raise UsageError(
                f"{args.approval} approves {approval.derived_image_id}, not {report.derived.image_id}"
            )
    # Textual reads keys from stdin and draws on stderr.
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        hint = "use --format to write the report instead" if report_path is None else "run it in a terminal"
        raise UsageError(f"the review app needs a terminal; {hint}")
    app = ReviewApp(
        report,
        approval=approval,
        report_path=report_path,
        approval_output=Path(args.approval_output),
        reviewer=args.reviewer or os.environ.get("USER") or os.environ.get("LOGNAME") or "",
        # NO_COLOR (no-color.org): with the terminal's own palette Textual drops colour entirely.
        ansi_color="NO_COLOR" in os.environ,
    )
    # A large report is millions of objects that live until the app closes; every full pass of the cyclic
    # collector would walk them all and stall the app for half a second. Frozen, they are left alone.
    gc.freeze()
    app.run()


def _diff_report(
    args: argparse.Namespace, base_text: str, derived_text: str, default_fail_on: Severity | None
) -> tuple[Report, PolicyOutcome]:
    """Read both images, diff them, run the rules and apply the policy: what `diff` and `gate` share."""
    from layerdiff.report.model import build_report

    policy, policy_info = _policy(args)
    with ExitStack() as stack:
        cache = _cache(args, stack)
        progress = _progress(args, stack)
        refs = [parse_ref(base_text), parse_ref(derived_text)]
        sources = [_open(ref, args, stack) for ref in refs]
        snapshots = [source.snapshot() for source in sources]
        jobs = _sbom_jobs(args, cache, stack)
        if jobs is not None:
            for ref, snapshot in zip(refs, snapshots, strict=True):
                jobs.start(ref, snapshot)
        base, derived = (
            load_image(source, cache, progress, snapshot=snapshot)
            for source, snapshot in zip(sources, snapshots, strict=True)
        )
        sboms = Sboms(jobs.tool, jobs.packages(snapshots[0]), jobs.packages(snapshots[1])) if jobs else None
    diff = compare(base, derived, sboms)
    findings = evaluate(RuleContext(diff, base.snapshot, derived.snapshot, derived.indexes))
    fail_on = Severity.parse(args.fail_on) if getattr(args, "fail_on", None) else None
    if fail_on is None and policy.fail_on is None:
        fail_on = default_fail_on
    outcome = apply_policy(policy, findings, date.today(), fail_on)
    return build_report(base.snapshot, derived.snapshot, diff, outcome, policy_info), outcome


def _run_approve(args: argparse.Namespace) -> int:
    from layerdiff.approval import build_statement, statement_text

    report = _read_report(args.report)
    if args.output not in (None, "-") and Path(args.output).resolve() == Path(args.report).resolve():
        raise UsageError(f"-o {args.output} is the report being approved; write the approval elsewhere")
    try:
        expires = date.fromisoformat(args.expires) if args.expires else None
    except ValueError as exc:
        raise UsageError(f"--expires {args.expires!r}: expected YYYY-MM-DD") from exc
    statement = build_statement(
        report, args.reviewer, args.reason, expires, datetime.now(UTC), only=args.finding
    )
    _emit(args.output, statement_text(statement))
    return int(ExitCode.OK)


def _run_gate(args: argparse.Namespace) -> int:
    from layerdiff.approval import read_approval

    try:
        approval = read_approval(Path(args.approval).read_text(encoding="utf-8"), args.approval)
    except OSError as exc:
        raise UsageError(f"cannot read approval {args.approval}: {exc.strerror}") from exc
    report, outcome = _diff_report(args, args.base or approval.base_reference, args.derived, Severity.HIGH)
    reasons = []
    derived_id, base_id = report.derived.image_id, report.base.image_id
    if derived_id != approval.derived_image_id:
        reasons.append(f"{args.derived} is {derived_id}, but the approval is for {approval.derived_image_id}")
    if base_id != approval.base_image_id:
        reasons.append(f"the base is {base_id}, but the approval was given against {approval.base_image_id}")
    expired = approval.is_expired(date.today())
    if expired:
        reasons.append(f"the approval by {approval.reviewer} expired on {approval.expires}")
    unapproved = outcome.failing(frozenset() if expired else approval.accepted)
    reasons += [
        f"{f.severity.label} {f.rule} on {f.subject} ({f.fingerprint}) is neither approved nor waived"
        for f in unapproved
    ]
    result = {
        "status": "fail" if reasons else "pass",
        "derived": derived_id,
        "base": base_id,
        "fail_on": outcome.fail_on.label if outcome.fail_on else None,
        "reviewer": approval.reviewer,
        "reasons": reasons,
    }
    if args.format == "json":
        _emit(args.output, json.dumps(result, indent=2, sort_keys=True) + "\n")
    else:
        lines = [f"gate: {result['status']} ({args.derived}, approved by {approval.reviewer})"]
        lines += [f"  - {reason}" for reason in reasons]
        _emit(args.output, "\n".join(lines) + "\n")
    return int(ExitCode.FINDINGS if reasons else ExitCode.OK)


def _render(report: Report, fmt: str, output: str | None) -> str:
    # Each renderer is imported only when asked for: `--format json` loads none of them.
    if fmt == "json":
        from layerdiff.report.model import dumps

        return dumps(report)
    if fmt == "markdown":
        from layerdiff.render.markdown import render_markdown

        return render_markdown(report)
    if fmt == "sarif":
        from layerdiff.render.sarif import render_sarif

        return render_sarif(report)
    if fmt == "junit":
        from layerdiff.render.junit import render_junit

        return render_junit(report)
    if fmt == "cyclonedx":
        from layerdiff.render.cyclonedx import render_cyclonedx

        return render_cyclonedx(report)
    from layerdiff.render.table import render_diff

    return render_diff(report, color=_color(output))


def _run_sbom_diff(args: argparse.Namespace) -> int:
    from layerdiff.sbom.compare import read_sbom, sbom_diff_report

    packages = []
    for path in (args.a, args.b):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read SBOM {path}: {exc}") from exc
        packages.append(read_sbom(text, path))
    report = sbom_diff_report(args.a, args.b, packages[0], packages[1])
    if args.format == "json":
        _emit(args.output, json.dumps(report, indent=2, sort_keys=True) + "\n")
    else:
        lines = [
            f"{c['type']:<6} {c['name']:<40} {c['kind']:<10} "
            f"{(c['before'] or {}).get('version', '-')} -> {(c['after'] or {}).get('version', '-')}"
            for c in report["changes"]
        ]
        _emit(args.output, "\n".join(lines or ["no package changes"]) + "\n")
    return int(ExitCode.OK)


def _run_view(args: argparse.Namespace) -> int:
    _review(_read_report(args.report), args, Path(args.report))
    return int(ExitCode.OK)


def _read_report(path: str) -> Report:
    """A saved `diff --format json` report, checked; any problem is a one-line usage error."""
    from layerdiff.report.load import parse_report

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read report {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not JSON (not UTF-8 text)") from exc
    return parse_report(text, path)


def _run_rules(args: argparse.Namespace) -> int:
    from layerdiff.rules.registry import all_rules

    rules = all_rules()
    if args.format == "json":
        items = [
            {
                "id": r.id,
                "severity": r.severity.label,
                "title": r.title,
                "remediation": r.remediation,
                "doc": r.doc,
            }
            for r in rules
        ]
        _emit(None, json.dumps(items, indent=2) + "\n")
    else:
        width = max((len(r.id) for r in rules), default=10)
        lines = [f"{r.id:<{width}}  {r.severity.label:<8}  {r.title}  ({r.doc})" for r in rules]
        _emit(None, "\n".join(lines) + "\n")
    return int(ExitCode.OK)


def _run_inspect(args: argparse.Namespace) -> int:
    from layerdiff.report.model import build_inspect, dumps

    with ExitStack() as stack:
        cache = _cache(args, stack)
        image = _load(args.image, args, cache, _progress(args, stack), stack)
    result = build_inspect(image.snapshot, layer_infos(image))
    if args.format == "json":
        _emit(args.output, dumps(result))
    else:
        from layerdiff.render.table import render_inspect

        _emit(args.output, render_inspect(result, color=_color(args.output)))
    return int(ExitCode.OK)


def _load(
    text: str, args: argparse.Namespace, cache: IndexCache, progress: ProgressHook | None, stack: ExitStack
) -> LoadedImage:
    return load_image(_open(parse_ref(text), args, stack), cache, progress)


def _open(ref: ImageRef, args: argparse.Namespace, stack: ExitStack) -> ImageSource:
    if args.platform:
        from layerdiff.sources.platforms import parse_platform

        parse_platform(args.platform)
    source = open_source(ref, args.platform)
    stack.callback(source.close)
    return source


def _sbom_jobs(args: argparse.Namespace, cache: IndexCache, stack: ExitStack) -> SbomJobs | None:
    if args.sbom == "none":
        return None
    from layerdiff.sbom.jobs import SbomJobs
    from layerdiff.sbom.syft import find_syft

    jobs = SbomJobs(find_syft(), cache, args.platform)
    stack.callback(jobs.close)
    return jobs


def _policy(args: argparse.Namespace) -> tuple[Policy, PolicyInfo | None]:
    """``--policy FILE``, else ``.layerdiff.toml`` in the working directory, else the default policy."""
    path = Path(args.policy) if args.policy else Path(POLICY_FILENAME)
    if not args.policy and not path.is_file():
        return Policy.default(), None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read policy {path}: {exc.strerror}") from exc
    return load_policy(text, str(path)), PolicyInfo(str(path), policy_digest(text))


def _cache(args: argparse.Namespace, stack: ExitStack) -> IndexCache:
    if args.no_cache and args.cache_dir:
        raise UsageError("--no-cache and --cache-dir exclude each other")
    try:
        cache = IndexCache(None if args.no_cache else (args.cache_dir or default_cache_dir()))
    except OSError as exc:
        raise UsageError(f"cannot use the cache directory: {exc}") from exc
    stack.callback(cache.close)
    return cache


def _progress(args: argparse.Namespace, stack: ExitStack) -> ProgressHook | None:
    if args.quiet or not sys.stderr.isatty():
        return None
    from layerdiff.render.progress import ProgressDisplay

    display = ProgressDisplay()
    stack.enter_context(display)
    return display.wrap


def _color(output: str | None) -> bool:
    return output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _emit(output: str | None, text: str) -> None:
    with _open_output(output) as handle:
        handle.write(text)


@contextmanager
def _open_output(output: str | None) -> Iterator[IO[str]]:
    if output is None or output == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    try:
        handle = open(output, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror}") from exc
    with handle:
        yield handle
