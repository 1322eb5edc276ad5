"""Physical lines -> instructions, as BuildKit's parser reads them: parser directives at the top, the escape
character, comments (also inside a continuation, where they are dropped), empty continuation lines, line
continuations and heredoc bodies. Each instruction keeps the physical lines it spans."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from layerdiff.dockerfile import limits
from layerdiff.dockerfile.model import DockerfileError, Heredoc, shown
from layerdiff.dockerfile.words import json_array, split_command

_DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_DIRECTIVES = ("syntax", "escape", "check")
_HEREDOC_WORD = re.compile(r"^([0-9]*)<<(-?)[\t\n\f\r ]*([^<]*)\Z")
_HEREDOC_KEYWORDS = ("run", "copy", "add")
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class RawInstruction:
    text: str  # continuation lines joined, comments inside it dropped
    line: int
    end_line: int
    heredocs: tuple[Heredoc, ...]


@dataclass(frozen=True, slots=True)
class Scanned:
    instructions: tuple[RawInstruction, ...]
    escape: str
    directives: tuple[tuple[str, str], ...]


class _Lines:
    """The file's physical lines, each without its line ending, counted against the limits."""

    def __init__(self, text: str, name: str) -> None:
        if len(text) > limits.DOCKERFILE_CHARS:
            raise DockerfileError(f"{name}: more than {limits.DOCKERFILE_CHARS // limits.MiB} MiB")
        self._lines = text.split("\n")
        if self._lines and self._lines[-1] == "":
            self._lines.pop()  # the newline ending the last line
        if len(self._lines) > limits.PHYSICAL_LINES:
            raise DockerfileError(f"{name}: more than {limits.PHYSICAL_LINES} lines")
        if self._lines:
            self._lines[0] = self._lines[0].removeprefix(_BOM)
        self.name = name
        self.number = 0  # of the last line read, 1-based

    def next(self) -> str | None:
        """The next line as written (a carriage return before the newline kept), or None at the end."""
        if self.number >= len(self._lines):
            return None
        line = self._lines[self.number]
        self.number += 1
        if len(line) > limits.PHYSICAL_LINE_CHARS:
            raise DockerfileError(
                f"{self.name}:{self.number}: a line longer than {limits.PHYSICAL_LINE_CHARS} characters"
            )
        return line


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


class _Directives:
    """Parser directives: ``# name=value`` lines before anything else; the first other line ends them."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self.done = False

    def offer(self, line: str, where: str) -> bool:
        if self.done:
            return False
        match = _DIRECTIVE.match(line[1:].lstrip()) if line.startswith("#") else None
        name = match.group(1).lower() if match else ""
        if match is None or name not in _DIRECTIVES:
            self.done = True
            return False
        if name in self.found:
            raise DockerfileError(f"{where}: only one {name} parser directive can be used")
        value = match.group(2)
        if name == "escape" and value not in ("\\", "`"):
            raise DockerfileError(f"{where}: invalid escape token {shown(value)} does not match ` or \\")
        self.found[name] = value
        return True


def _continuation(escape: str) -> re.Pattern[str]:
    char = re.escape(escape)
    return re.compile(rf"([^{char}]){char}[ \t]*\Z|^{char}[ \t]*\Z")


def scan(text: str, name: str) -> Scanned:
    lines = _Lines(text, name)
    directives = _Directives()
    escape = "\\"
    continuation = _continuation(escape)
    found: list[RawInstruction] = []
    while (raw := lines.next()) is not None:
        where = f"{name}:{lines.number}"
        token = raw.rstrip("\r\n").lstrip()
        if directives.offer(token, where) and "escape" in directives.found:
            escape = directives.found["escape"]
            continuation = _continuation(escape)
        if token.startswith("#"):
            continue
        start = lines.number
        joined, ended = _trim_continuation(token, continuation)
        if ended and not joined:
            continue
        parts, size = [joined], len(joined)
        while not ended and (raw := lines.next()) is not None:
            part = raw.rstrip("\r\n")
            directives.done = True
            if _is_comment(raw) or not part.strip():
                continue  # comments and empty lines inside a continuation are dropped
            part, ended = _trim_continuation(part, continuation)
            parts.append(part)
            size += len(part)
            if size > limits.INSTRUCTION_CHARS:
                raise DockerfileError(
                    f"{name}:{start}: an instruction longer than {limits.INSTRUCTION_CHARS} characters"
                )
        line = "".join(parts)
        if not line.strip():
            continue  # a continuation that ran into the end of the file
        heredocs = _read_heredocs(line, escape, lines, f"{name}:{start}")
        found.append(RawInstruction(line, start, lines.number, heredocs))
        if len(found) > limits.INSTRUCTIONS:
            raise DockerfileError(f"{name}: more than {limits.INSTRUCTIONS} instructions")
    return Scanned(tuple(found), escape, tuple(directives.found.items()))


def _trim_continuation(line: str, continuation: re.Pattern[str]) -> tuple[str, bool]:
    """The line without a trailing escape character, and whether the instruction ends here."""
    match = continuation.search(line)
    if match is None:
        return line, True
    return line[: match.start()] + (match.group(1) or ""), False


def _read_heredocs(line: str, escape: str, lines: _Lines, where: str) -> tuple[Heredoc, ...]:
    if "<<" not in line or not _may_hold_heredocs(line, escape, where):
        return ()
    found: list[Heredoc] = []
    for descriptor, chomp, rest in heredoc_words(line):
        heredoc = _heredoc_name(descriptor, chomp, rest)
        if heredoc is None:
            continue
        if len(found) == limits.HEREDOCS:
            raise DockerfileError(f"{where}: more than {limits.HEREDOCS} heredocs in one instruction")
        body: list[str] = []
        size = 0
        while True:
            raw = lines.next()
            if raw is None:
                raise DockerfileError(f"{where}: unterminated heredoc {shown(heredoc.name)}")
            candidate = raw.rstrip("\r\n")
            if (candidate.lstrip("\t") if heredoc.chomp else candidate) == heredoc.name:
                break
            body.append(raw + "\n")
            size += len(raw) + 1
            if size > limits.HEREDOC_CHARS:
                raise DockerfileError(f"{where}: a heredoc longer than {limits.HEREDOC_CHARS}")
        found.append(Heredoc(heredoc.name, "".join(body), heredoc.chomp, heredoc.expand, heredoc.descriptor))
    return tuple(found)


def _may_hold_heredocs(line: str, escape: str, where: str) -> bool:
    """RUN, COPY and ADD (also as an ONBUILD trigger) in the shell form."""
    split = split_command(line, escape)
    if split.keyword.lower() == "onbuild":
        split = split_command(split.rest, escape)
    if split.keyword.lower() not in _HEREDOC_KEYWORDS or not split.rest:
        return False
    return json_array(split.rest, where) is None


def heredoc_words(line: str) -> Iterator[tuple[str, str, str]]:
    """(descriptor, "-" or "", the word after ``<<``) of each shell word of the line that opens a heredoc."""
    for word in _shell_words(line, raw=True) or ():
        match = _HEREDOC_WORD.match(word)
        if match and match.group(3):
            yield match.group(1), match.group(2), match.group(3)


def parse_heredoc_word(word: str) -> Heredoc | None:
    """The heredoc a word like ``<<EOF``, ``<<-"EOF"`` or ``3<<EOF`` opens (with no body yet), or None."""
    match = _HEREDOC_WORD.match(word)
    if match is None or not match.group(3):
        return None
    return _heredoc_name(match.group(1), match.group(2), match.group(3))


def _heredoc_name(descriptor: str, chomp: str, rest: str) -> Heredoc | None:
    words, raw_words = _shell_words(rest, raw=False), _shell_words(rest, raw=True)
    if not words or not raw_words or len(words) != 1:
        return None
    name = words[0]
    quotes = name.count("'") + name.count('"')
    expand = quotes == raw_words[0].count("'") + raw_words[0].count('"')
    return Heredoc(name, "", chomp == "-", expand, int(descriptor) if descriptor else None)


def _shell_words(text: str, raw: bool) -> list[str] | None:
    """Shell words of ``text`` (BuildKit's lexer with a backslash escape and no variables), the quotes and
    escapes kept when ``raw``; None when a quote is not closed."""
    words: list[str] = []
    word: list[str] = []
    in_word = False
    pos, size = 0, len(text)
    while pos < size:
        char = text[pos]
        if char in "'\"":
            end = _closing_quote(text, pos)
            if end < 0:
                return None
            inner = text[pos + 1 : end]
            if char == '"' and not raw:
                inner = re.sub(r'\\(["$\\])', r"\1", inner)
            word.append(text[pos : end + 1] if raw else inner)
            in_word, pos = True, end + 1
            continue
        if char == "<" and text.startswith("<<", pos):
            end = pos + 2
            while end < size and text[end] in " \t":
                end += 1
            word.append(text[pos:end])
            in_word, pos = True, end
            continue
        if char == "\\":
            if pos + 1 >= size:
                break
            word.append(text[pos : pos + 2] if raw else text[pos + 1])
            in_word, pos = True, pos + 2
            continue
        if char.isspace():
            if in_word and word:
                words.append("".join(word))
            word, in_word = [], False
        else:
            word.append(char)
            in_word = True
        pos += 1
    if word:
        words.append("".join(word))
    return words


def _closing_quote(text: str, start: int) -> int:
    quote = text[start]
    pos = start + 1
    while pos < len(text):
        if text[pos] == quote:
            return pos
        if quote == '"' and text[pos] == "\\":
            pos += 1
        pos += 1
    return -1
