"""The command line's grammar: every command, option and help text, and the function each command runs."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from layerdiff import __version__
from layerdiff.cli import commands
from layerdiff.policy import POLICY_FILENAME
from layerdiff.render.interface import OutputFormat
from layerdiff.render.registry import GATE_FORMATS, INSPECT_FORMATS, REPORT_FORMATS, SBOM_DIFF_FORMATS

PLAIN_FORMATS = ("table", "json")  # `rules`: a short table or its JSON
FAIL_ON_CHOICES = ("info", "low", "medium", "high", "critical", "none")
_FINDING_HELP = "approve only this finding (repeatable; default: every finding of the report)"
_FAIL_ON_HELP = (
    "exit 1 when an unwaived finding is at or above SEVERITY (info, low, medium, high, critical; default: "
    "the policy's, else high), or `none` to enforce nothing (docs/exit-codes.md)"
)
_LIMIT_HELP = "raise (or lower) a bound on image content, e.g. layer-bytes=128GiB (see docs/limits.md)"
IMAGE_HELP = "docker:, docker-archive:, oci: (or oci-dir:), oci-archive:, registry:, or a bare name or path"


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors in the one line every other error has (docs/exit-codes.md)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"layerdiff: error: {self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="layerdiff",
        description="Review what a derived container image changed about the image it was built FROM.",
        epilog="Exit codes: 0 pass, 1 findings at or above the threshold, 2 usage, 3 image or source error, "
        "4 tool error, 5 internal error (a bug), 130 interrupted.",
    )
    parser.add_argument("--version", action=_Version, help="the layerdiff version, and the syft it would run")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="what to do", parser_class=_Parser
    )

    diff = sub.add_parser("diff", help="what DERIVED's own layers and config changed relative to BASE")
    diff.add_argument("base", metavar="BASE", help=f"the image built FROM ({IMAGE_HELP})")
    diff.add_argument("derived", metavar="DERIVED", help="the image built on it (a reference as for BASE)")
    _policy_options(diff)
    _fail_on_option(diff)
    _output_options(diff, REPORT_FORMATS, "the report (default: table; on a terminal, the review app)")
    _image_options(diff)
    diff.add_argument("--tui", action="store_true", help="review the result in the terminal app")
    _dockerfile_options(diff)
    _review_app_options(diff)
    # No output named, on a terminal, opens the review app; elsewhere it means table to stdout.
    diff.set_defaults(run=commands.run_diff)

    approve = sub.add_parser("approve", help="write an approval record (in-toto Statement) for a report")
    approve.add_argument("report", metavar="REPORT.json", help="a `layerdiff diff --format json` report")
    approve.add_argument("--reviewer", required=True, metavar="NAME", help="who accepts the findings")
    approve.add_argument("--reason", required=True, metavar="TEXT", help="why they are acceptable")
    approve.add_argument("--expires", metavar="YYYY-MM-DD", help="the approval stops counting after this day")
    approve.add_argument("--finding", action="append", metavar="FINGERPRINT", help=_FINDING_HELP)
    approve.add_argument(
        "--key",
        metavar="PRIVATE.pem",
        help="sign the record (a DSSE envelope) with this ECDSA P-256 or Ed25519 key; an encrypted key's "
        "password comes from LAYERDIFF_KEY_PASSWORD or a prompt (docs/approval.md)",
    )
    approve.add_argument(
        "--output", "-o", metavar="[json=]FILE", help="write the record (JSON) to FILE instead of stdout"
    )
    approve.set_defaults(run=commands.run_approve)

    gate = sub.add_parser("gate", help="pass only an image whose failing findings are approved or waived")
    gate.add_argument("derived", metavar="DERIVED", help=f"the image about to ship ({IMAGE_HELP})")
    gate.add_argument(
        "--base",
        metavar="BASE",
        help="the base image (default: the one the approval names; a relative path in it is taken from "
        "the approval file's directory)",
    )
    gate.add_argument(
        "--approval",
        required=True,
        action="append",
        metavar="FILE|DIR",
        help="a record of `layerdiff approve`, or a directory of *.json records (repeatable: each counts for "
        "the findings it accepts)",
    )
    gate.add_argument(
        "--key",
        action="append",
        default=[],
        metavar="[NAME=]PUBLIC.pem",
        help="trust records signed with this public key, as the reviewer NAME (default: the file's name); "
        "repeatable. With any trusted key (or [reviewers] in the policy) only signed records count",
    )
    gate.add_argument(
        "--allow-policy-change",
        action="store_true",
        help="count records given under another policy, with a note (default: such a record fails the gate)",
    )
    _policy_options(gate, sbom_help="as for diff; use what the approved report used")
    _fail_on_option(gate)
    _output_options(gate, GATE_FORMATS, "the decision")
    _image_options(gate)
    gate.set_defaults(run=commands.run_gate)

    sbom_diff = sub.add_parser("sbom-diff", help="package changes between two SBOM files")
    sbom_diff.add_argument("a", metavar="A", help="the earlier SBOM (CycloneDX JSON or syft JSON)")
    sbom_diff.add_argument("b", metavar="B", help="the later SBOM")
    _output_options(sbom_diff, SBOM_DIFF_FORMATS, "the package changes")
    sbom_diff.set_defaults(run=commands.run_sbom_diff)

    render = sub.add_parser("render", help="render a saved JSON report in other formats (no image is read)")
    render.add_argument("report", metavar="REPORT.json", help="a `layerdiff diff -o json=FILE` report")
    _output_options(render, REPORT_FORMATS, "the report")
    render.set_defaults(run=commands.run_render)

    view = sub.add_parser("view", help="review a saved JSON report in the terminal (no engine needed)")
    view.add_argument("report", metavar="REPORT.json", help="a `layerdiff diff --format json` report")
    _review_app_options(view)
    view.set_defaults(run=commands.run_view)

    rules = sub.add_parser("rules", help="the rule catalog, or one rule's documentation")
    rules.add_argument("rule", nargs="?", metavar="RULE", help="print this rule's documentation")
    rules.add_argument(
        "--format",
        type=str.lower,
        choices=PLAIN_FORMATS,
        default="table",
        help="output format: table, or json for a script",
    )
    rules.set_defaults(run=commands.run_rules)

    inspect = sub.add_parser("inspect", help="one image's identity, config and layers")
    inspect.add_argument("image", metavar="IMAGE", help=f"the image ({IMAGE_HELP})")
    _output_options(inspect, INSPECT_FORMATS, "the image")
    _image_options(inspect)
    inspect.set_defaults(run=commands.run_inspect)
    return parser


class _Version(argparse.Action):
    """``--version``: also names the syft a review would run, found only when asked for."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from layerdiff.sbom.syft import describe_syft

        print(f"layerdiff {__version__}\n{describe_syft()}")
        parser.exit()


def _output_options(
    sub: argparse.ArgumentParser, formats: Mapping[str, OutputFormat[Any]], what: str
) -> None:
    endings = ", ".join(ending for f in formats.values() for ending in f.extensions)
    sub.add_argument(
        "--output",
        "-o",
        action="append",
        default=[],
        metavar="FORMAT[=FILE]",
        help=f"{what} as FORMAT ({', '.join(formats)}) to stdout, FORMAT=FILE, or FILE with a known ending "
        f"({endings}); repeatable: several outputs of one run",
    )
    sub.add_argument(
        "--format",
        type=str.lower,
        choices=tuple(formats),
        help="the single-output spelling: --format FMT [--output FILE] is -o FMT[=FILE]",
    )


def _dockerfile_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--dockerfile",
        metavar="PATH",
        help="the Dockerfile DERIVED was built from (- for stdin): each finding is located on its "
        "instruction's line (SARIF, Markdown, table, JSON; see docs/dockerfile.md)",
    )
    sub.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a build argument the image was built with, as for `docker build`: NAME=VALUE, or NAME for "
        "the value in the environment (repeatable)",
    )
    sub.add_argument("--target", metavar="STAGE", help="the stage that was built, as for `docker build`")


def _fail_on_option(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--fail-on", metavar="SEVERITY", type=str.lower, choices=FAIL_ON_CHOICES, help=_FAIL_ON_HELP
    )


def _image_options(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--platform", metavar="OS/ARCH[/VARIANT]", help="image to pick from a multi-platform index"
    )
    cache = sub.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache-dir",
        metavar="DIR",
        type=Path,
        help="where layer indexes are cached (default: the user cache dir, or LAYERDIFF_CACHE_DIR)",
    )
    cache.add_argument("--no-cache", action="store_true", help="neither read nor write the layer index cache")
    sub.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    sub.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE", help=_LIMIT_HELP)


def _policy_options(sub: argparse.ArgumentParser, sbom_help: str | None = None) -> None:
    sub.add_argument(
        "--policy", metavar="FILE", help=f"policy file (default: ./{POLICY_FILENAME} when present)"
    )
    sub.add_argument(
        "--sbom",
        choices=("syft", "none"),
        default="syft",
        help=sbom_help or "package inventory: syft (run concurrently with layer indexing) or none",
    )


def _review_app_options(sub: argparse.ArgumentParser) -> None:
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
    sub.add_argument(
        "--reviewer",
        metavar="NAME",
        help="prefills the approval form (default: the --approval record's reviewer, else $USER)",
    )
    sub.add_argument(
        "--key",
        metavar="PRIVATE.pem",
        help="sign the approval records the app writes with this key, as `approve --key` does",
    )
