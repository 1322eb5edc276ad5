"""Every output format by name. A new format is one entry here and one renderer module."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from layerdiff.errors import UsageError
from layerdiff.render.interface import OutputFormat, Presentation
from layerdiff.report.codec import JsonObject
from layerdiff.report.wire import Inspection, Report

if TYPE_CHECKING:
    from layerdiff.gate import GateDecision

_Document = TypeVar("_Document")


def _json(shown: Presentation) -> Callable[[Report | Inspection], str]:
    from layerdiff.report.model import dumps

    return dumps


def _json_pieces(shown: Presentation) -> Callable[[Report | Inspection], Iterable[str]]:
    from layerdiff.report.json_text import report_pieces

    return report_pieces


def _table(shown: Presentation) -> Callable[[Report], str]:
    from layerdiff.render.table import render_diff

    return partial(render_diff, color=shown.color, width=shown.width)


def _markdown(shown: Presentation) -> Callable[[Report], str]:
    from layerdiff.render.markdown import render_markdown

    return render_markdown


def _sarif(shown: Presentation) -> Callable[[Report], str]:
    from layerdiff.render.sarif import render_sarif

    return render_sarif


def _junit(shown: Presentation) -> Callable[[Report], str]:
    from layerdiff.render.junit import render_junit

    return render_junit


def _cyclonedx(shown: Presentation) -> Callable[[Report], str]:
    from layerdiff.render.cyclonedx import render_cyclonedx

    return render_cyclonedx


def _inspect_table(shown: Presentation) -> Callable[[Inspection], str]:
    from layerdiff.render.table import render_inspect

    return partial(render_inspect, color=shown.color, width=shown.width)


REPORT_FORMATS: Mapping[str, OutputFormat[Report]] = {
    f.name: f
    for f in (
        OutputFormat[Report]("table", "a summary and the findings, for people", _table, (".txt",)),
        OutputFormat[Report](
            "json",
            "the versioned report (docs/report.md), for CI, `render` and `view`",
            _json,
            (".json",),
            _json_pieces,
        ),
        OutputFormat[Report](
            "markdown", "a pull-request comment that fits GitHub's limit", _markdown, (".md",)
        ),
        OutputFormat[Report]("sarif", "SARIF 2.1.0 for code scanning", _sarif, (".sarif", ".sarif.json")),
        OutputFormat[Report]("junit", "JUnit XML: a test case per rule", _junit, (".xml", ".junit.xml")),
        OutputFormat[Report](
            "cyclonedx", "the derived image's packages as a CycloneDX SBOM", _cyclonedx, (".cdx.json", ".cdx")
        ),
    )
}
INSPECT_FORMATS: Mapping[str, OutputFormat[Inspection]] = {
    "table": OutputFormat[Inspection]("table", "one image, for people", _inspect_table, (".txt",)),
    "json": OutputFormat[Inspection]("json", "the inspect document (inspect.schema.json)", _json, (".json",)),
}


def _gate_table(shown: Presentation) -> Callable[[GateDecision], str]:
    from layerdiff.render.gate import render_gate

    return partial(render_gate, fmt="table")


def _gate_json(shown: Presentation) -> Callable[[GateDecision], str]:
    from layerdiff.render.gate import render_gate

    return partial(render_gate, fmt="json")


def _sbom_diff_table(shown: Presentation) -> Callable[[JsonObject], str]:
    from layerdiff.render.sbom_diff import render_sbom_diff

    return partial(render_sbom_diff, fmt="table")


def _sbom_diff_json(shown: Presentation) -> Callable[[JsonObject], str]:
    from layerdiff.render.sbom_diff import render_sbom_diff

    return partial(render_sbom_diff, fmt="json")


GATE_FORMATS: Mapping[str, OutputFormat[GateDecision]] = {
    "table": OutputFormat("table", "the decision and its reasons, for a deploy log", _gate_table, (".txt",)),
    "json": OutputFormat("json", "the decision as JSON", _gate_json, (".json",)),
}
SBOM_DIFF_FORMATS: Mapping[str, OutputFormat[JsonObject]] = {
    "table": OutputFormat("table", "one line per package change", _sbom_diff_table, (".txt",)),
    "json": OutputFormat("json", "the package changes as JSON", _sbom_diff_json, (".json",)),
}
PLAIN = Presentation()


def format_for_file(formats: Mapping[str, OutputFormat[Any]], filename: str) -> str | None:
    """The format a file name's ending stands for (the longest ending that matches), or None."""
    lowered = filename.lower()
    endings = [(ending, f.name) for f in formats.values() for ending in f.extensions]
    matching = [(len(ending), name) for ending, name in endings if lowered.endswith(ending)]
    return max(matching)[1] if matching else None


def render(
    formats: Mapping[str, OutputFormat[_Document]],
    document: _Document,
    fmt: str,
    shown: Presentation = PLAIN,
) -> str:
    """``document`` in the format named ``fmt`` of ``formats``."""
    try:
        chosen = formats[fmt.lower()]
    except KeyError:
        raise UsageError(f"unknown output format {fmt!r} (one of {', '.join(formats)})") from None
    return chosen.load(shown)(document)


def render_pieces(
    formats: Mapping[str, OutputFormat[_Document]],
    document: _Document,
    fmt: str,
    shown: Presentation = PLAIN,
) -> Iterable[str]:
    """``render``'s text, in the pieces a format makes it in (one for most)."""
    chosen = formats.get(fmt.lower())
    if chosen is not None and chosen.pieces is not None:
        return chosen.pieces(shown)(document)
    return (render(formats, document, fmt, shown),)
