"""``-o FORMAT[=FILE]``, syft's spelling: one analysis rendered to each output named on the command line.

``-o json=report.json`` writes the JSON report to report.json; ``-o sarif`` writes SARIF to stdout; a bare
``-o report.sarif`` takes the format from the file name's ending. ``--format FMT --output FILE`` is the
older single-output spelling and means ``-o FMT=FILE``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from layerdiff.atomic import write_output
from layerdiff.errors import UsageError
from layerdiff.render.interface import OutputFormat, Presentation, file_width
from layerdiff.render.registry import format_for_file, render_pieces

Document = TypeVar("Document")
STDOUT = "-"


@dataclass(frozen=True)
class Output:
    format: str
    path: str | None  # None: stdout

    @property
    def to_stdout(self) -> bool:
        return self.path is None


def parse_outputs(
    values: Sequence[str], format_flag: str | None, formats: Mapping[str, OutputFormat[Document]]
) -> tuple[Output, ...]:
    """The outputs that ``-o`` values and ``--format`` ask for; none when neither was given."""
    if format_flag is not None:
        chosen = _format_name(format_flag, formats, "--format")
        if len(values) > 1 or (values and "=" in values[0]):
            raise UsageError(
                "--format names one output's format; with several outputs, use -o FORMAT=FILE each"
            )
        return (Output(chosen, _path(values[0]) if values else None),)
    outputs = tuple(_output(value, formats) for value in values)
    on_stdout = [o.format for o in outputs if o.to_stdout]
    if len(on_stdout) > 1:
        raise UsageError(f"only one output can go to stdout ({', '.join(on_stdout)}); give the others a file")
    paths = [o.path for o in outputs if o.path is not None]
    repeated = sorted({p for p in paths if paths.count(p) > 1})
    if repeated:
        raise UsageError(f"-o names {repeated[0]} twice; each output needs its own file")
    return outputs


def _output(value: str, formats: Mapping[str, OutputFormat[Document]]) -> Output:
    name, separator, path = value.partition("=")
    if separator:
        if not path:
            raise UsageError(f"-o {value}: no file after '='; use -o {name} for stdout")
        return Output(_format_name(name, formats, "-o"), _path(path))
    if value.lower() in formats:
        return Output(value.lower(), None)
    guessed = format_for_file(formats, value)
    if guessed is None:
        endings = ", ".join(e for f in formats.values() for e in f.extensions)
        raise UsageError(
            f"-o {value}: not a format ({', '.join(formats)}) and no known file ending ({endings}); "
            f"say which with -o FORMAT={value}"
        )
    return Output(guessed, value)


def _format_name(name: str, formats: Mapping[str, OutputFormat[Document]], option: str) -> str:
    if name.lower() not in formats:
        raise UsageError(f"{option}: unknown output format {name!r} (one of {', '.join(formats)})")
    return name.lower()


def _path(path: str) -> str | None:
    return None if path == STDOUT else path


def writable(outputs: tuple[Output, ...]) -> tuple[Output, ...]:
    """``outputs``, once each file is known to be writable: checked before the analysis, so that a typo in
    the last ``-o`` neither wastes a review nor leaves the earlier outputs written without the rest."""
    for output in outputs:
        if output.path is None:
            continue
        target = Path(output.path)
        folder = target.parent
        if target.is_dir():
            raise UsageError(f"cannot write {output.path}: it is a directory")
        if not folder.is_dir():
            raise UsageError(f"cannot write {output.path}: no directory {folder}")
        if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
            raise UsageError(f"cannot write {output.path}: permission denied")
    return outputs


def approval_output(value: str | None) -> str | None:
    """``approve -o``: a file, or ``json=FILE`` in the spelling the other commands take (an approval
    record is JSON only); None for stdout."""
    if value is None or value == STDOUT:
        return None
    name, separator, path = value.partition("=")
    if separator and name.lower() in ("json", "table", "markdown", "sarif", "junit", "cyclonedx"):
        if name.lower() != "json":
            raise UsageError(f"-o {value}: an approval record is JSON; use -o json=FILE or -o FILE")
        return None if path in ("", STDOUT) else path
    return value


def write_outputs(
    outputs: Sequence[Output], formats: Mapping[str, OutputFormat[Document]], document: Document
) -> None:
    """Render ``document`` once per output: colour and the terminal's width only for a terminal's stdout; a
    file or a pipe gets COLUMNS, else 80 columns."""
    for output in outputs:
        terminal = output.to_stdout and sys.stdout.isatty()
        shown = Presentation(
            color=terminal and "NO_COLOR" not in os.environ, width=None if terminal else file_width()
        )
        write_output(output.path, render_pieces(formats, document, output.format, shown))
