"""A parsed Dockerfile: its stages, their instructions with the lines they span, and what each instruction
writes into an image's history."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from layerdiff.errors import UsageError

Confidence = Literal["exact", "likely", "none"]
Template = tuple[str | None, ...]  # fixed text, with None where any text may stand (a value not known)

_LEADING_TABS = re.compile(r"^\t+", re.MULTILINE)


class DockerfileError(UsageError):
    """A Dockerfile that cannot be read: one line naming the file and the line."""


def shown(text: str, limit: int = 80) -> str:
    """``text`` quoted for an error message, cut to ``limit`` characters."""
    return repr(text[:limit]) + ("..." if len(text) > limit else "")


@dataclass(frozen=True, slots=True)
class Heredoc:
    name: str  # the terminator word, quotes removed
    content: str  # the body lines as written, each with its line ending
    chomp: bool  # <<-EOF: leading tabs are stripped from each line
    expand: bool  # the name was not quoted: COPY substitutes variables in the body
    descriptor: int | None = None  # 3<<EOF

    @property
    def text(self) -> str:
        """The body the builder uses: with the leading tabs stripped for ``<<-``."""
        return _LEADING_TABS.sub("", self.content) if self.chomp else self.content


@dataclass(frozen=True, slots=True)
class HistoryText:
    """What the builders write as ``created_by`` for an instruction, in the canonical form of
    ``history_line.canonical``: texts that are exactly it, and templates where a part is unknown (a content
    hash, a variable whose value the file does not give). Empty for FROM (no history entry)."""

    exact: frozenset[str] = frozenset()
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True, slots=True)
class Instruction:
    keyword: str  # upper-case: RUN, COPY, ...
    arguments: str  # everything after the keyword as written, continuation lines joined, flags included
    expanded: str  # the arguments after the flags, with variables substituted where the builder does
    line: int  # first physical line, 1-based
    end_line: int  # last physical line: the last continuation line or the heredoc terminator
    stage: int  # index of the stage it belongs to
    flags: tuple[tuple[str, str | None], ...] = ()  # --chown=a:b: ("chown", "a:b"); --link: ("link", None)
    copy_from: str | None = None  # COPY --from: the stage name or the image copied from
    copy_from_stage: int | None = None  # ... and the index of that stage, when it is one
    heredocs: tuple[Heredoc, ...] = ()
    exec_form: bool = False  # the JSON form: RUN ["a", "b"]
    words: tuple[str, ...] = ()  # exec-form argv; COPY/ADD sources then destination; VOLUME, EXPOSE items
    assignments: tuple[tuple[str, str | None], ...] = ()  # ENV, LABEL and ARG pairs (ARG without value: None)
    unresolved: tuple[str, ...] = ()  # variables used whose value this file and its build args do not give
    trigger: str | None = None  # ONBUILD: the keyword of the instruction it registers
    history: HistoryText = field(default=HistoryText(), compare=False, repr=False)

    def flag(self, name: str) -> str | None:
        """The value of ``--name`` (the last one given), or None."""
        values = [value for flag, value in self.flags if flag == name]
        return values[-1] if values else None


@dataclass(frozen=True, slots=True)
class Stage:
    index: int
    name: str | None  # FROM ... AS name, lower-cased as the builder does
    base: str  # the image named by FROM, global ARGs substituted (unknown ones left as written)
    from_line: int
    from_end_line: int
    platform: str | None  # FROM --platform=...
    parent: int | None  # the earlier stage ``base`` names, if it names one
    instructions: tuple[Instruction, ...]


@dataclass(frozen=True, slots=True)
class Dockerfile:
    stages: tuple[Stage, ...]
    final: Stage  # the target: the stage named by ``target``, else the last one
    chain: tuple[Stage, ...]  # the stages the final one is built on, the one FROM an image first, final last
    escape: str  # the escape character: a backslash, or a backtick by ``# escape=```
    directives: tuple[tuple[str, str], ...] = ()  # parser directives at the top: (syntax, ...), (escape, `)
    global_args: tuple[tuple[str, str | None], ...] = ()  # ARGs before the first FROM, build args applied

    @property
    def instructions(self) -> tuple[Instruction, ...]:
        """The instructions whose history the target image carries, in build order: those of every stage
        of the chain, each stage's after its FROM line."""
        return tuple(instruction for stage in self.chain for instruction in stage.instructions)

    def stage_named(self, name: str) -> Stage | None:
        lowered = name.lower()
        return next((stage for stage in self.stages if stage.name == lowered), None)
