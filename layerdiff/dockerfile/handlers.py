"""One instruction of a stage -> an ``Instruction``: its arguments split the way BuildKit's parser splits
that keyword, variables substituted where BuildKit substitutes them (ENV, ARG, LABEL, USER, WORKDIR,
COPY/ADD, EXPOSE, VOLUME, STOPSIGNAL; not RUN, CMD, ENTRYPOINT, HEALTHCHECK, SHELL or ONBUILD), the stage's
state updated, and the history text each builder writes for it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from layerdiff.dockerfile import forms
from layerdiff.dockerfile.expand import (
    Budget,
    Text,
    Variables,
    display,
    expand,
    literal,
    unresolved_names,
    value,
)
from layerdiff.dockerfile.gofmt import parse_duration
from layerdiff.dockerfile.model import DockerfileError, HistoryText, Instruction, shown
from layerdiff.dockerfile.scan import RawInstruction, parse_heredoc_word
from layerdiff.dockerfile.state import StageState
from layerdiff.dockerfile.words import (
    WHITESPACE,
    Split,
    json_array,
    parse_flag,
    quoted_words,
    split_command,
    whitespace_words,
)

_ONBUILD = re.compile(r"^\s*ONBUILD\s*", re.IGNORECASE)
_HEALTH_DURATIONS = ("interval", "timeout", "start-period", "start-interval")


@dataclass
class Context:
    raw: RawInstruction
    split: Split
    keyword: str
    where: str
    escape: str
    stage: int
    state: StageState
    budget: Budget
    build_args: Mapping[str, str]
    global_values: Mapping[str, str | None]

    def expand(self, text: str, variables: Variables | None = None) -> Text:
        return expand(text, variables or self.state.variables(), self.escape, self.budget, self.where)

    def flags(self) -> tuple[tuple[str, str | None], ...]:
        return tuple(parse_flag(flag) for flag in self.split.flags)

    def error(self, message: str) -> DockerfileError:
        return DockerfileError(f"{self.where}: {message}")

    def instruction(
        self,
        expanded: str,
        history: HistoryText,
        texts: Iterable[Text] = (),
        *,
        exec_form: bool = False,
        words: tuple[str, ...] = (),
        assignments: tuple[tuple[str, str | None], ...] = (),
        copy_from: str | None = None,
        trigger: str | None = None,
    ) -> Instruction:
        """The instruction, ``texts`` being its substituted words (for the variables left unresolved)."""
        return Instruction(
            keyword=self.keyword,
            arguments=self.split.arguments,
            expanded=expanded,
            line=self.raw.line,
            end_line=self.raw.end_line,
            stage=self.stage,
            flags=self.flags(),
            copy_from=copy_from,
            heredocs=self.raw.heredocs,
            exec_form=exec_form,
            words=words,
            assignments=assignments,
            unresolved=unresolved_names(texts),
            trigger=trigger,
            history=history,
        )


def _name_values(ctx: Context) -> list[tuple[Text, Text]]:
    """ENV and LABEL pairs, ``k=v k2="v 2"`` or the legacy ``k v``, substituted in the environment before
    the instruction (``ENV A=1 B=$A`` gives B the earlier A, as the builders do)."""
    rest = ctx.split.rest
    words = quoted_words(rest, ctx.escape)
    if not words:
        raise ctx.error(f"{ctx.keyword} requires at least one argument")
    if "=" not in words[0]:
        parts = WHITESPACE.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise ctx.error(f"{ctx.keyword} must have two arguments")
        written = [(parts[0], parts[1])]
    else:
        written = []
        for word in words:
            key, equals, text = word.partition("=")
            if not equals:
                raise ctx.error(f"can't find = in {shown(word)}; must be of the form: name=value")
            written.append((key, text))
    if any(not key for key, _ in written):
        raise ctx.error(f"{ctx.keyword} names cannot be blank")
    variables = ctx.state.variables()
    return [(ctx.expand(key, variables), ctx.expand(text, variables)) for key, text in written]


def _assigned(ctx: Context, pairs: list[tuple[Text, Text]]) -> Instruction:
    texts = [text for pair in pairs for text in pair]
    return ctx.instruction(
        " ".join(f"{display(key)}={display(text)}" for key, text in pairs),
        forms.pairs(ctx.keyword, pairs),
        texts,
        assignments=tuple((display(key), display(text)) for key, text in pairs),
    )


def env(ctx: Context) -> Instruction:
    pairs = _name_values(ctx)
    for key, text in pairs:
        ctx.state.env[display(key)] = value(text)
    return _assigned(ctx, pairs)


def label(ctx: Context) -> Instruction:
    return _assigned(ctx, _name_values(ctx))


def arg(ctx: Context) -> Instruction:
    words = quoted_words(ctx.split.rest, ctx.escape)
    if not words:
        raise ctx.error("ARG requires at least one argument")
    entries: list[forms.ArgEntry] = []
    for word in words:
        key, equals, text = word.partition("=")
        if not key:
            raise ctx.error("ARG names cannot be blank")
        default = ctx.expand(text) if equals else None  # each sees the ARGs before it
        final: Text | None
        if key in ctx.build_args:
            final = literal(ctx.build_args[key])
        elif default is not None:
            final = default
        elif key in ctx.global_values and ctx.global_values[key] is not None:
            final = literal(ctx.global_values[key] or "")
        else:
            final = None
        entry = forms.ArgEntry(key, default, final)
        ctx.state.declare(entry)
        entries.append(entry)
    texts = [entry.default for entry in entries if entry.default is not None]
    return ctx.instruction(
        " ".join(
            entry.key + ("=" + display(entry.final) if entry.final is not None else "") for entry in entries
        ),
        forms.args(entries),
        texts,
        assignments=tuple(
            (entry.key, display(entry.final) if entry.final is not None else None) for entry in entries
        ),
    )


def run(ctx: Context) -> Instruction:
    rest = ctx.split.rest
    argv = json_array(rest, ctx.where) if rest else None
    prefixes = ctx.state.run_prefixes()
    texts = [
        forms.run(command, prefixes)
        for command in forms.run_command(ctx.state.shell, rest, argv, ctx.raw.heredocs)
    ]
    return ctx.instruction(rest, forms.merged(texts), exec_form=argv is not None, words=tuple(argv or ()))


def command(ctx: Context) -> Instruction:
    """CMD and ENTRYPOINT."""
    rest = ctx.split.rest
    argv = json_array(rest, ctx.where) if rest else None
    line = argv if argv is not None else ([*ctx.state.shell, rest] if rest else [])
    return ctx.instruction(
        rest, forms.exec_list(ctx.keyword, line), exec_form=argv is not None, words=tuple(argv or ())
    )


def shell(ctx: Context) -> Instruction:
    argv = json_array(ctx.split.rest, ctx.where) if ctx.split.rest else None
    if argv is None:
        raise ctx.error("SHELL requires the arguments to be in JSON form")
    if not argv:
        raise ctx.error("SHELL requires at least one argument")
    ctx.state.shell = tuple(argv)
    return ctx.instruction(ctx.split.rest, forms.bracketed("SHELL", argv), exec_form=True, words=tuple(argv))


def _one_value(ctx: Context) -> Text:
    if not ctx.split.rest:
        raise ctx.error(f"{ctx.keyword} requires exactly one argument")
    return ctx.expand(ctx.split.rest)


def user(ctx: Context) -> Instruction:
    """USER and STOPSIGNAL."""
    text = _one_value(ctx)
    return ctx.instruction(display(text), forms.simple(ctx.keyword, text), [text])


def workdir(ctx: Context) -> Instruction:
    text = _one_value(ctx)
    path = ctx.state.change_workdir(text)
    return ctx.instruction(display(text), forms.simple("WORKDIR", path), [text])


def maintainer(ctx: Context) -> Instruction:
    if not ctx.split.rest:
        raise ctx.error("MAINTAINER requires exactly one argument")
    return ctx.instruction(ctx.split.rest, forms.simple("MAINTAINER", ctx.split.rest))


def volume(ctx: Context) -> Instruction:
    rest = ctx.split.rest
    argv = json_array(rest, ctx.where) if rest else None
    items = [ctx.expand(item.strip()) for item in (argv if argv is not None else whitespace_words(rest))]
    if not items or any(not display(item) for item in items):
        raise ctx.error("VOLUME specified can not be an empty string")
    shown = tuple(display(item) for item in items)
    return ctx.instruction(" ".join(shown), forms.bracketed("VOLUME", items), items, words=shown)


def expose(ctx: Context) -> Instruction:
    ports = [ctx.expand(port) for port in sorted(whitespace_words(ctx.split.rest))]
    if not ports:
        raise ctx.error("EXPOSE requires at least one argument")
    shown = tuple(display(port) for port in ports)
    return ctx.instruction(" ".join(shown), forms.expose(ports), ports, words=shown)


def copy(ctx: Context) -> Instruction:
    """COPY and ADD: sources and destination, each substituted; heredoc sources named by their word."""
    rest = ctx.split.rest
    argv = json_array(rest, ctx.where) if rest else None
    items = argv if argv is not None else whitespace_words(rest)
    if len(items) < 2:
        raise ctx.error(f"{ctx.keyword} requires at least two arguments, but only one was provided")
    if parse_heredoc_word(items[-1]) is not None:
        raise ctx.error(f"{ctx.keyword} cannot accept a heredoc as a destination")
    sources: list[Text] = []
    inline: list[str] = []
    for item in items[:-1]:
        heredoc = parse_heredoc_word(item)
        if heredoc is not None:
            inline.append(heredoc.name)
        else:
            sources.append(ctx.expand(item))
    destination = ctx.expand(items[-1])
    flags = dict(ctx.flags())
    chown = ctx.expand(written) if (written := flags.get("chown")) else None
    chmod = ctx.expand(written) if (written := flags.get("chmod")) else None
    parents = "parents" in flags and flags["parents"] in (None, "true")
    texts = [*sources, destination, *(text for text in (chown, chmod) if text is not None)]
    shown = (
        *(display(source) for source in sources),
        *(f"<<{name}" for name in inline),
        display(destination),
    )
    copy_from = flags.get("from") if ctx.keyword == "COPY" else None
    return ctx.instruction(
        " ".join(shown),
        forms.copy(ctx.keyword, chown, chmod, parents, sources, inline, destination),
        texts,
        exec_form=argv is not None,
        words=shown,
        copy_from=copy_from or None,
    )


def healthcheck(ctx: Context) -> Instruction:
    rest = ctx.split.rest
    kind, *others = WHITESPACE.split(rest, maxsplit=1)
    remainder = others[0].strip() if others else ""
    kind = kind.upper()
    if kind == "NONE":
        test: tuple[str, ...] = ("NONE",)
    elif kind == "CMD":
        if not remainder:
            raise ctx.error("missing command after HEALTHCHECK CMD")
        argv = json_array(remainder, ctx.where)
        test = ("CMD", *argv) if argv is not None else ("CMD-SHELL", remainder)
    else:
        raise ctx.error(
            f"unknown HEALTHCHECK type {shown(kind)}" if kind else "HEALTHCHECK requires an argument"
        )
    flags = dict(ctx.flags())
    durations: dict[str, int] = {}
    for name in _HEALTH_DURATIONS:
        written = flags.get(name)
        parsed = parse_duration(written) if written else 0
        if parsed is None:
            raise ctx.error(f"HEALTHCHECK --{name}: {shown(written or '')} is not a duration")
        durations[name] = parsed
    retries_text = flags.get("retries") or "0"
    if not retries_text.isdigit() or len(retries_text) > 9:
        raise ctx.error(f"HEALTHCHECK --retries: {shown(retries_text)} is not a count")
    health = forms.Health(
        test,
        durations["interval"],
        durations["timeout"],
        durations["start-period"],
        durations["start-interval"],
        int(retries_text),
    )
    return ctx.instruction(rest, forms.healthcheck(health), words=test)


def onbuild(ctx: Context) -> Instruction:
    """Registered for images built FROM this one: the classic builder writes it into the history,
    BuildKit does not. Nothing in it is substituted now."""
    trigger = split_command(ctx.split.rest, ctx.escape).keyword.upper() if ctx.split.rest else ""
    if not trigger:
        raise ctx.error("ONBUILD requires at least one argument")
    if trigger in ("ONBUILD", "FROM", "MAINTAINER"):
        raise ctx.error(f"{trigger} isn't allowed as an ONBUILD trigger")
    expression = _ONBUILD.sub("", ctx.raw.text, count=1)
    expression += "".join("\n" + heredoc.content + heredoc.name for heredoc in ctx.raw.heredocs)
    return ctx.instruction(ctx.split.rest, forms.simple("ONBUILD", expression), trigger=trigger)


HANDLERS: dict[str, Callable[[Context], Instruction]] = {
    "ADD": copy,
    "ARG": arg,
    "CMD": command,
    "COPY": copy,
    "ENTRYPOINT": command,
    "ENV": env,
    "EXPOSE": expose,
    "HEALTHCHECK": healthcheck,
    "LABEL": label,
    "MAINTAINER": maintainer,
    "ONBUILD": onbuild,
    "RUN": run,
    "SHELL": shell,
    "STOPSIGNAL": user,
    "USER": user,
    "VOLUME": volume,
    "WORKDIR": workdir,
}
