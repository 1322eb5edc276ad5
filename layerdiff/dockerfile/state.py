"""What the builder knows at one instruction of a stage: the variables substitution sees, the ARGs the
stage declared (for a RUN's build-argument prefix), the SHELL and the working directory."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from layerdiff.dockerfile.expand import UNKNOWN, Text, Variables, display, literal, value
from layerdiff.dockerfile.forms import ArgEntry, Piece, joined

DEFAULT_SHELL = ("/bin/sh", "-c")


@dataclass
class StageState:
    env: dict[str, str | None]  # ENV values (None: not known), the base image's when given
    complete: bool  # names neither ENV nor ARG give are unset: FROM scratch, or the base environment given
    args: dict[str, ArgEntry] = field(default_factory=dict)  # ARGs this stage declared, in order
    shell: tuple[str, ...] = DEFAULT_SHELL
    workdir: Text | None = None  # None: the base image's, which the file does not tell

    @classmethod
    def fresh(cls, base_env: Mapping[str, str] | None, scratch: bool) -> StageState:
        if scratch:
            return cls({}, True)
        return cls(dict(base_env or {}), base_env is not None)

    def child(self) -> StageState:
        """A stage FROM this one: the image config (ENV, SHELL, WORKDIR) carries over, ARGs do not."""
        return StageState(dict(self.env), self.complete, {}, self.shell, self.workdir)

    def variables(self) -> Variables:
        arg_values = {key: _known(entry.final) for key, entry in self.args.items()}
        return Variables({**arg_values, **self.env}, self.complete)  # ENV wins over an ARG of its name

    def declare(self, entry: ArgEntry) -> None:
        self.args.pop(entry.key, None)
        self.args[entry.key] = entry

    def run_prefixes(self) -> list[list[Piece] | None]:
        """The build-argument prefixes of a RUN: BuildKit lists every ARG of the stage in order with its value
        in the environment; the classic builder those with a value, sorted, but not those ENV sets. None for
        no prefix. An ARG without a default or build arg is taken as not passed (the history says
        ``NAME=`` then); when it was, the prefix matches only as likely."""
        if not self.args:
            return [None]
        variables = self.variables()
        buildkit: list[Piece] = [f"|{len(self.args)} "]
        for index, (key, entry) in enumerate(self.args.items()):
            current = variables.get(key)
            if entry.final is None and key not in self.env:
                current = ""
            text: Text = UNKNOWN if current is None else literal(current if isinstance(current, str) else "")
            buildkit += [" " if index else "", key, "=", text]
        prefixes: list[list[Piece] | None] = [[*buildkit, " "]]
        valued = sorted(
            (
                (key, entry.final)
                for key, entry in self.args.items()
                if key not in self.env and entry.final is not None
            ),
            key=lambda pair: f"{pair[0]}={display(pair[1])}",
        )
        if not valued:
            return [*prefixes, None]
        pieces: list[Piece] = [f"|{len(valued)} "]
        assignments: list[Text] = [(key, "=", *final) for key, final in valued]
        pieces += joined(assignments)
        return [*prefixes, [*pieces, " "]]

    def change_workdir(self, path: Text) -> Text:
        """The absolute working directory after WORKDIR ``path``, as both builders normalise it."""
        written = value(path)
        if written is not None and written.startswith("/"):
            self.workdir = literal(_clean(written))
        elif written is not None and self.workdir is not None and value(self.workdir) is not None:
            self.workdir = literal(_clean(posixpath.join(display(self.workdir), written)))
        elif display(path).startswith("/"):
            self.workdir = path
        else:
            self.workdir = (*(self.workdir or UNKNOWN), "/", *path)
        return self.workdir


def _known(text: Text | None) -> str | None:
    return None if text is None else value(text)


def _clean(path: str) -> str:
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/")  # Go's path.Clean: one leading slash, not POSIX's kept "//"
