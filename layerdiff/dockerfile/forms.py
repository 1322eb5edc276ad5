"""What each builder writes into the image history for an instruction, in ``history_line``'s canonical
form. BuildKit (frontend/dockerfile/dockerfile2llb) and the classic builder (moby's builder/dockerfile)
differ for RUN (the build-argument prefix), COPY/ADD (the classic builder writes a content hash instead of
the sources), ARG, EXPOSE and HEALTHCHECK; where they differ both forms are listed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from layerdiff.dockerfile.expand import UNKNOWN, Text, display, template
from layerdiff.dockerfile.gofmt import format_duration, quote, quote_list, quote_rune
from layerdiff.dockerfile.model import Heredoc, HistoryText, Template
from layerdiff.dockerfile.scan import parse_heredoc_word

Piece = Text | str


def collect(templates: Iterable[Template]) -> HistoryText:
    """Templates without an unknown part are exact texts."""
    exact: set[str] = set()
    with_unknowns: list[Template] = []
    for written in templates:
        parts = _rstripped(written)
        if not parts:
            continue
        if None in parts:
            if parts not in with_unknowns:
                with_unknowns.append(parts)
        else:
            exact.add("".join(part for part in parts if part is not None))
    return HistoryText(frozenset(exact), tuple(with_unknowns))


def merged(texts: Iterable[HistoryText]) -> HistoryText:
    exact: set[str] = set()
    templates: list[Template] = []
    for text in texts:
        exact |= text.exact
        templates += [template for template in text.templates if template not in templates]
    return HistoryText(frozenset(exact), tuple(templates))


def _rstripped(parts: Template) -> Template:
    if parts and parts[-1] is not None:
        tail = parts[-1].rstrip()
        return (*parts[:-1], tail) if tail else parts[:-1]
    return parts


def joined(pieces: Sequence[Piece], separator: str = " ") -> list[Piece]:
    out: list[Piece] = []
    for index, piece in enumerate(pieces):
        if index:
            out.append(separator)
        out.append(piece)
    return out


def simple(keyword: str, *pieces: Piece) -> HistoryText:
    """``KEYWORD value``: USER, STOPSIGNAL, MAINTAINER, WORKDIR (its value made absolute), ONBUILD."""
    return collect([template(keyword + " ", *pieces)])


def pairs(keyword: str, assignments: Sequence[tuple[Text, Text]]) -> HistoryText:
    """ENV and LABEL: ``ENV k=v k2=v 2``, both builders."""
    pieces: list[Piece] = []
    for key, value in assignments:
        pieces += [" ", key, "=", value]
    return collect([template(keyword, *pieces)])


@dataclass(frozen=True, slots=True)
class ArgEntry:
    key: str
    default: Text | None  # as declared, substituted
    final: Text | None  # the value the build used (a build arg, the default, the global ARG), None if none


def args(entries: Sequence[ArgEntry]) -> HistoryText:
    """The classic builder writes each declared default, BuildKit the value the build used."""
    classic: list[Piece] = ["ARG "]
    buildkit: list[Piece] = ["ARG "]
    for index, entry in enumerate(entries):
        separator = " " if index else ""
        classic += [separator, entry.key] + (["=", entry.default] if entry.default is not None else [])
        buildkit += [separator, entry.key] + (["=", entry.final] if entry.final is not None else [])
    return collect([template(*classic), template(*buildkit)])


def run(command: str, prefixes: Sequence[Sequence[Piece] | None]) -> HistoryText:
    """RUN: ``prefixes`` are the build-argument prefixes (``|1 V=2 ``) the builders may write, None for none.
    Any other prefix (a build arg passed that the file does not show) is likely, not exact."""
    forms = [template("RUN ", *(prefix or ()), command) for prefix in prefixes]
    forms.append(template("RUN |", UNKNOWN, " ", command))
    return collect(forms)


def run_command(
    shell: Sequence[str], rest: str, exec_argv: Sequence[str] | None, heredocs: Sequence[Heredoc]
) -> list[str]:
    """The command line(s) a RUN leaves in the history, after the prefix: ``/bin/sh -c pip install x``."""
    if exec_argv is not None:
        return [" ".join(exec_argv)]
    prefix = " ".join(shell) + " "
    commands = [prefix + rest]
    if heredocs:
        commands.append(prefix + _buildkit_heredoc_command(rest, heredocs))
    return commands


def _buildkit_heredoc_command(rest: str, heredocs: Sequence[Heredoc]) -> str:
    if parse_heredoc_word(rest) is not None:
        # RUN <<EOF alone: the body is given to the shell, or run as a script when it starts with #!
        data = heredocs[0].text
        return f"/dev/pipes/{heredocs[0].name}" if data.startswith("#!") else data
    # RUN python3 <<EOF and the like: the command with each body and terminator after it
    return rest + "".join("\n" + heredoc.content + heredoc.name for heredoc in heredocs)


def copy(
    keyword: str,
    chown: Text | None,
    chmod: Text | None,
    parents: bool,
    sources: Sequence[Text],
    inline: Sequence[str],
    destination: Text,
) -> HistoryText:
    """BuildKit lists the flags it applies and the sources; the classic builder a hash of the content."""
    buildkit: list[Piece] = [keyword]
    if parents:
        buildkit.append(" --parents")
    if chown:
        buildkit += [" --chown=", chown]
    if chmod:
        buildkit += [" --chmod=", chmod]
    for source in sources:
        buildkit += [" ", source]
    buildkit += [f" <<{name}" for name in inline]
    buildkit += [" ", destination]
    classic: list[list[Piece]] = [[keyword, " ", UNKNOWN]]
    if chown:  # older engines left out the space after the owner
        classic = [[keyword, " --chown=", chown, " ", UNKNOWN], [keyword, " --chown=", chown, UNKNOWN]]
    return collect([template(*buildkit), *(template(*form, " in ", destination) for form in classic)])


def exec_list(keyword: str, argv: Sequence[str]) -> HistoryText:
    """CMD and ENTRYPOINT: Go's ``%q`` of the list, the shell form wrapped in the SHELL."""
    return collect([template(f"{keyword} {quote_list(list(argv))}")])


def bracketed(keyword: str, items: Sequence[Piece]) -> HistoryText:
    """Go's ``%v`` of a list: VOLUME [/a /b], SHELL [/bin/bash -c]."""
    return collect([template(f"{keyword} [", *joined(items), "]")])


def expose(written: Sequence[Text]) -> HistoryText:
    """The classic builder writes the ports as given (sorted as written), BuildKit as ``[80/tcp]``."""
    known = [display(port) for port in written]
    with_protocol = [port if "/" in port else port + "/tcp" for port in known]
    return collect(
        [
            template("EXPOSE ", *joined(written)),
            template("EXPOSE [" + " ".join(with_protocol) + "]"),
            template("EXPOSE [" + " ".join(sorted(with_protocol)) + "]"),
        ]
    )


@dataclass(frozen=True, slots=True)
class Health:
    test: tuple[str, ...]  # ("CMD", ...), ("CMD-SHELL", line) or ("NONE",)
    interval: int = 0  # nanoseconds
    timeout: int = 0
    start_period: int = 0
    start_interval: int = 0
    retries: int = 0


def healthcheck(health: Health) -> HistoryText:
    """BuildKit and newer engines: Go's ``%+v`` of the config; older engines ``%q``, which quotes each
    field and writes the retries as a rune. Any other layout with the same test is likely."""
    durations = [format_duration(value) for value in (health.interval, health.timeout, health.start_period)]
    start_interval = format_duration(health.start_interval)
    fields = (
        f"Test:[{' '.join(health.test)}] Interval:{durations[0]} Timeout:{durations[1]} "
        f"StartPeriod:{durations[2]} StartInterval:{start_interval} Retries:{health.retries}"
    )
    quoted = " ".join(quote(value) for value in durations)
    return collect(
        [
            template(f"HEALTHCHECK {{{fields}}}"),
            template(f"HEALTHCHECK &{{{fields}}}"),
            template(f"HEALTHCHECK &{{{quote_list(health.test)} {quoted} {quote_rune(health.retries)}}}"),
            template(
                f"HEALTHCHECK &{{{quote_list(health.test)} {quoted} {quote(start_interval)} "
                f"{quote_rune(health.retries)}}}"
            ),
            template("HEALTHCHECK ", UNKNOWN, quote_list(health.test), UNKNOWN),
            template("HEALTHCHECK ", UNKNOWN, f"[{' '.join(health.test)}]", UNKNOWN),
        ]
    )
