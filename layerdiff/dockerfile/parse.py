"""Dockerfile text -> ``Dockerfile``: stages, their instructions and lines, the chain the target builds on.

``parse_dockerfile`` follows BuildKit's frontend (parser, instructions, dockerfile2llb) closely enough to
locate instructions and to predict the history lines they write; it does not build anything, read any file
or reach any registry."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from layerdiff.dockerfile.expand import Budget, Variables, display, expand, value
from layerdiff.dockerfile.handlers import HANDLERS, Context
from layerdiff.dockerfile.model import Dockerfile, DockerfileError, Instruction, Stage, shown
from layerdiff.dockerfile.scan import RawInstruction, scan
from layerdiff.dockerfile.state import StageState
from layerdiff.dockerfile.words import parse_flag, quoted_words, split_command, whitespace_words

_NO_ARGS: Mapping[str, str] = MappingProxyType({})
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*\Z")
# Build args BuildKit defines in the global scope by itself: their values depend on the build's platform
_AUTOMATIC_ARGS = tuple(
    f"{side}{what}" for side in ("TARGET", "BUILD") for what in ("PLATFORM", "OS", "ARCH", "VARIANT")
)


@dataclass
class _Draft:
    index: int
    name: str | None
    base: str
    line: int
    end_line: int
    platform: str | None
    parent: int | None
    state: StageState
    instructions: list[Instruction] = field(default_factory=list)


class _Builder:
    def __init__(
        self, escape: str, build_args: Mapping[str, str], base_env: Mapping[str, str] | None, name: str
    ) -> None:
        self.escape, self.build_args, self.base_env, self.name = escape, build_args, base_env, name
        self.budget = Budget()
        self.global_values: dict[str, str | None] = dict.fromkeys(_AUTOMATIC_ARGS)
        self.global_args: list[tuple[str, str | None]] = []
        self.stages: list[_Draft] = []

    def add(self, raw: RawInstruction) -> None:
        split = split_command(raw.text, self.escape)
        keyword = split.keyword.upper()
        where = f"{self.name}:{raw.line}"
        if keyword == "FROM":
            self._stage(raw, where)
            return
        if not self.stages:
            if keyword != "ARG":
                raise DockerfileError(f"{where}: {keyword} before the first FROM: no build stage in context")
            self._global_args(split.rest, where)
            return
        handler = HANDLERS.get(keyword)
        if handler is None:
            raise DockerfileError(f"{where}: unknown instruction: {shown(split.keyword)}")
        stage = self.stages[-1]
        context = Context(
            raw,
            split,
            keyword,
            where,
            self.escape,
            stage.index,
            stage.state,
            self.budget,
            self.build_args,
            self.global_values,
        )
        stage.instructions.append(handler(context))

    def _global_variables(self) -> Variables:
        # undeclared names are unset in FROM lines; the automatic ones are known only to the build
        return Variables(self.global_values, complete=True)

    def _global_args(self, rest: str, where: str) -> None:
        words = quoted_words(rest, self.escape)
        if not words:
            raise DockerfileError(f"{where}: ARG requires at least one argument")
        for word in words:
            key, equals, text = word.partition("=")
            if not key:
                raise DockerfileError(f"{where}: ARG names cannot be blank")
            if key in self.build_args:
                known: str | None = self.build_args[key]
            elif equals:
                known = value(expand(text, self._global_variables(), self.escape, self.budget, where))
            else:
                known = None  # its value is a build arg not given here
            self.global_values[key] = known
            self.global_args.append((key, known))

    def _stage(self, raw: RawInstruction, where: str) -> None:
        split = split_command(raw.text, self.escape)
        words = whitespace_words(split.rest)
        if len(words) == 3 and words[1].lower() == "as":
            name: str | None = words[2].lower()
            if not _STAGE_NAME.match(words[2].lower()):
                raise DockerfileError(f"{where}: invalid name for build stage: {shown(words[2])}")
        elif len(words) == 1:
            name = None
        else:
            raise DockerfileError(f"{where}: FROM requires either one or three arguments")
        variables = self._global_variables()
        base = display(expand(words[0], variables, self.escape, self.budget, where))
        flags = dict(parse_flag(flag) for flag in split.flags)
        platform_flag = flags.get("platform")
        platform = (
            display(expand(platform_flag, variables, self.escape, self.budget, where))
            if platform_flag
            else None
        )
        parent = next((stage.index for stage in self.stages if stage.name == base.lower()), None)
        if parent is not None:
            state = self.stages[parent].state.child()
        else:
            state = StageState.fresh(self.base_env, scratch=base.lower() == "scratch")
        index = len(self.stages)
        self.stages.append(_Draft(index, name, base, raw.line, raw.end_line, platform, parent, state))

    def finish(self, target: str | None, directives: tuple[tuple[str, str], ...]) -> Dockerfile:
        if not self.stages:
            raise DockerfileError(f"{self.name}: no FROM instruction")
        stages = tuple(self._resolved(draft) for draft in self.stages)
        final = stages[-1]
        if target is not None:
            named = next((stage for stage in stages if stage.name == target.lower()), None)
            if named is None:
                raise DockerfileError(f"{self.name}: no build stage named {shown(target)}")
            final = named
        chain = [final]
        while chain[-1].parent is not None:  # a parent always comes earlier: the walk ends
            chain.append(stages[chain[-1].parent])
        return Dockerfile(
            stages, final, tuple(reversed(chain)), self.escape, directives, tuple(self.global_args)
        )

    def _resolved(self, draft: _Draft) -> Stage:
        instructions = tuple(self._copy_source(draft, instruction) for instruction in draft.instructions)
        return Stage(
            draft.index,
            draft.name,
            draft.base,
            draft.line,
            draft.end_line,
            draft.platform,
            draft.parent,
            instructions,
        )

    def _copy_source(self, draft: _Draft, instruction: Instruction) -> Instruction:
        """COPY --from=NAME, --from=INDEX (an earlier stage) or --from=IMAGE."""
        source = instruction.copy_from
        if source is None:
            return instruction
        if source.isascii() and source.isdigit() and len(source) < 6:
            index = int(source)
            if index >= draft.index:
                raise DockerfileError(
                    f"{self.name}:{instruction.line}: COPY --from={source}: no stage {index} before this one"
                )
            named = self.stages[index].name
            return replace(instruction, copy_from=named or source, copy_from_stage=index)
        stage = next((other for other in self.stages if other.name == source.lower()), None)
        if stage is None:
            return instruction  # an image
        return replace(instruction, copy_from=stage.name, copy_from_stage=stage.index)


def parse_dockerfile(
    text: str,
    build_args: Mapping[str, str] = _NO_ARGS,
    *,
    target: str | None = None,
    base_env: Mapping[str, str] | None = None,
    name: str = "Dockerfile",
) -> Dockerfile:
    """Parse a whole Dockerfile.

    ``build_args`` override ARG defaults as ``--build-arg`` does; ``target`` names the stage built (the last
    one otherwise); ``base_env``, the base image's environment when known, lets ``$PATH`` and the like be
    substituted (without it they stay unknown, and the history lines using them match only as likely).
    ``name`` is how errors name the file. Errors are ``DockerfileError`` (a usage error, exit 2), one line,
    naming ``name:LINE``.
    """
    scanned = scan(text, name)
    builder = _Builder(scanned.escape, build_args, base_env, name)
    for raw in scanned.instructions:
        builder.add(raw)
    return builder.finish(target, scanned.directives)
