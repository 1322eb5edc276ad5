"""Variable substitution in one word, as BuildKit's shell lexer does it (frontend/dockerfile/shell): quotes
removed, the escape character honoured, ``$VAR``, ``${VAR}``, ``${VAR:-word}``, ``${VAR-word}``,
``${VAR:+word}`` and ``${VAR+word}``. A variable whose value the file does not give (one from the base
image, a build argument not passed) stays a hole in the result rather than a guess, so that the matcher can
tell an exact history text from a likely one. ``${VAR#...}``, ``%`` and ``/`` are parsed but not
evaluated: the result is a hole."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from layerdiff.dockerfile import limits
from layerdiff.dockerfile.model import DockerfileError, Template, shown

_SPECIAL_PARAMETERS = "@*#?-$!0"


@dataclass(frozen=True, slots=True)
class Unresolved:
    name: str
    written: str  # the reference as written: $NAME, ${NAME:-default}


Segment = str | Unresolved
Text = tuple[Segment, ...]
UNKNOWN: Text = (Unresolved("", ""),)  # a text of which nothing is known (a content hash, a prefix)


class _Unset:
    """A variable known not to be set (the base image's environment was given and lacks it)."""


UNSET = _Unset()


class Variables:
    """The builder's environment at one instruction, as far as the file, the build args and (when given)
    the base image's environment tell: a name maps to its value, or to None when its value is not known."""

    def __init__(self, values: Mapping[str, str | None], complete: bool) -> None:
        self.values = dict(values)
        self.complete = complete  # names not in ``values`` are unset, not unknown

    def get(self, name: str) -> str | _Unset | None:
        if name in self.values:
            return self.values[name]
        return UNSET if self.complete else None

    def with_values(self, values: Mapping[str, str | None]) -> Variables:
        return Variables({**self.values, **values}, self.complete)


class Budget:
    """Characters substitution may still produce in the whole file."""

    def __init__(self, chars: int = limits.EXPANDED_TOTAL_CHARS) -> None:
        self.remaining = chars

    def take(self, chars: int, where: str) -> None:
        self.remaining -= chars
        if self.remaining < 0:
            raise DockerfileError(
                f"{where}: variable substitution makes more than "
                f"{limits.EXPANDED_TOTAL_CHARS // limits.MiB} MiB of text in the file"
            )


class _Out:
    def __init__(self, where: str, budget: Budget) -> None:
        self.segments: list[Segment] = []
        self.size = 0
        self.where, self.budget = where, budget

    def add(self, segment: Segment) -> None:
        written = segment if isinstance(segment, str) else segment.written
        if not written:
            return
        self.size += len(written)
        if self.size > limits.EXPANDED_CHARS:
            raise DockerfileError(
                f"{self.where}: variable substitution makes a word longer than {limits.EXPANDED_CHARS}"
            )
        self.budget.take(len(written), self.where)
        if isinstance(segment, str) and self.segments and isinstance(self.segments[-1], str):
            self.segments[-1] += segment
        else:
            self.segments.append(segment)

    def extend(self, segments: Iterable[Segment]) -> None:
        for segment in segments:
            self.add(segment)


class _Lexer:
    def __init__(self, text: str, variables: Variables, escape: str, budget: Budget, where: str) -> None:
        self.text, self.pos = text, 0
        self.variables, self.escape, self.budget, self.where = variables, escape, budget, where

    def error(self, message: str) -> DockerfileError:
        return DockerfileError(f"{self.where}: {message} in {shown(self.text)}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def until(self, stop: str, depth: int) -> list[Segment]:
        """Process up to ``stop`` (consumed; "" for the end of the text)."""
        if depth > limits.SUBSTITUTION_DEPTH:
            raise self.error(f"variable substitution nested deeper than {limits.SUBSTITUTION_DEPTH}")
        out = _Out(self.where, self.budget)
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if stop and char == stop:
                self.pos += 1
                return out.segments
            if char == "$":
                out.extend(self.dollar(depth))
            elif char == "'":
                out.add(self.single_quoted())
            elif char == '"':
                out.extend(self.double_quoted(depth))
            elif char == self.escape:
                self.pos += 2
                out.add(self.text[self.pos - 1 : self.pos])
            else:
                self.pos += 1
                out.add(char)
        if stop:
            raise self.error(f"missing {stop!r}")
        return out.segments

    def single_quoted(self) -> str:
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise self.error("unexpected end of statement while looking for matching single-quote")
        value = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def double_quoted(self, depth: int) -> list[Segment]:
        out = _Out(self.where, self.budget)
        self.pos += 1
        while True:
            char = self.peek()
            if not char:
                raise self.error("unexpected end of statement while looking for matching double-quote")
            if char == '"':
                self.pos += 1
                return out.segments
            if char == "$":
                out.extend(self.dollar(depth))
                continue
            self.pos += 1
            if char == self.escape and self.peek() in ('"', "$", self.escape) and self.peek():
                char = self.text[self.pos]
                self.pos += 1
            elif char == self.escape and not self.peek():
                continue
            out.add(char)

    def name(self) -> str:
        start = self.pos
        if self.peek().isdigit():
            while self.peek().isdigit():
                self.pos += 1
            return self.text[start : self.pos]
        if self.peek() and self.peek() in _SPECIAL_PARAMETERS:
            self.pos += 1
            return self.text[start : self.pos]
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.pos += 1
        return self.text[start : self.pos]

    def dollar(self, depth: int) -> list[Segment]:
        start = self.pos
        self.pos += 1
        if self.peek() != "{":
            name = self.name()
            return [self.lookup(name, start)] if name else ["$"]
        self.pos += 1
        if not self.peek():
            raise self.error("syntax error: missing '}'")
        if self.peek() in "{}:":
            raise self.error("syntax error: bad substitution")
        name = self.name()
        modifier = self.peek()
        self.pos += 1
        if modifier == "}":
            return [self.lookup(name, start)]
        null_is_unset = modifier == ":"
        if null_is_unset:
            modifier = self.peek()
            self.pos += 1
        if modifier in ("-", "+", "?") or (modifier in ("#", "%") and not null_is_unset):
            word = self.until("}", depth + 1)
            return self.modified(name, modifier, null_is_unset, word, start)
        if modifier == "/" and not null_is_unset:
            if self.peek() == "/":
                self.pos += 1
            self.until("/", depth + 1)
            self.until("}", depth + 1)
            return [Unresolved(name, self.text[start : self.pos])]
        if not modifier:
            raise self.error("syntax error: missing '}'")
        raise self.error(f"unsupported modifier ({':' if null_is_unset else ''}{modifier}) in substitution")

    def lookup(self, name: str, start: int) -> Segment:
        value = self.variables.get(name)
        if value is None:
            return Unresolved(name, self.text[start : self.pos])
        return "" if isinstance(value, _Unset) else value

    def modified(
        self, name: str, modifier: str, null_is_unset: bool, word: list[Segment], start: int
    ) -> list[Segment]:
        value = self.variables.get(name)
        if value is None or modifier in ("#", "%"):
            return [Unresolved(name, self.text[start : self.pos])]
        empty = isinstance(value, _Unset) or (null_is_unset and value == "")
        text = "" if isinstance(value, _Unset) else value
        if modifier == "-":
            return word if empty else [text]
        if modifier == "+":
            return [] if empty else word
        return [text]  # ?: the build stops on an unset one; this file was built, so it was set


def expand(text: str, variables: Variables, escape: str, budget: Budget, where: str) -> Text:
    return tuple(_Lexer(text, variables, escape, budget, where).until("", 0))


def literal(text: str) -> Text:
    return (text,) if text else ()


def display(text: Text) -> str:
    """The substituted text, unknown references as written."""
    return "".join(part if isinstance(part, str) else part.written for part in text)


def value(text: Text) -> str | None:
    """The substituted text, or None when a part of it is unknown."""
    if any(isinstance(part, Unresolved) for part in text):
        return None
    return "".join(part for part in text if isinstance(part, str))


def unresolved_names(texts: Iterable[Text]) -> tuple[str, ...]:
    names = (part.name for text in texts for part in text if isinstance(part, Unresolved))
    return tuple(dict.fromkeys(names))


def template(*texts: Text | str) -> Template:
    """Fixed text with None for each unknown part, adjacent fixed parts joined."""
    parts: list[str | None] = []
    for text in texts:
        for part in (text,) if isinstance(text, str) else text:
            if isinstance(part, Unresolved):
                if not parts or parts[-1] is not None:
                    parts.append(None)
            elif part:
                previous = parts[-1] if parts else None
                if previous is not None:
                    parts[-1] = previous + part
                else:
                    parts.append(part)
    return tuple(parts)
