"""History entries -> the Dockerfile instructions that wrote them.

The entries the derived image's own Dockerfile wrote (from ``image.history.derived_history_start``) and the
instructions of the target's chain are aligned in order: each entry goes to at most one instruction, each
instruction to at most one entry, and matched pairs never cross. A pair scores by how well the entry's
text agrees with what the instruction writes (``forms``):

- ``exact``: the canonical history text is one the instruction writes;
- ``likely``: a template of it matches (a content hash where the classic builder hides COPY sources, a
  variable the file does not give, a build-argument prefix), or only the keyword agrees;
- ``none``: no instruction is left for the entry (an ONBUILD trigger of the base, a line no keyword of the
  file writes); it is located at the FROM line of the stage whose instructions come next (the target's
  when none do).

The alignment maximises, in this order, the number of exact pairs, then of template pairs, then of keyword
pairs (weights far enough apart that no number of weaker pairs outweighs a stronger one), by dynamic
programming over the entries x instructions table: O(n*m) time and memory with n, m bounded by
``limits.ALIGNED_ENTRIES`` and ``ALIGNED_INSTRUCTIONS`` (later entries are located at the FROM line). A
missing or extra entry costs only itself: the pairs around it stay as good as they were. Among equally good
alignments, earlier entries are the ones left out, since the extra entries (ONBUILD triggers) come first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from layerdiff.dockerfile import limits
from layerdiff.dockerfile.history_line import HistoryLine, canonical
from layerdiff.dockerfile.model import Confidence, Dockerfile, Instruction, Stage, Template
from layerdiff.image.model import HistoryEntry

EXACT, TEMPLATE, KEYWORD = 10**8, 10**4, 1


@dataclass(frozen=True, slots=True)
class HistoryMatch:
    history_index: int  # index into the image's history
    line: int  # first line of the instruction, or of the FROM line it falls back to
    end_line: int
    confidence: Confidence
    instruction: Instruction | None  # None with confidence "none"


class _ScanBudget:
    """Characters of history text the templates may still search; past it only keywords are compared."""

    def __init__(self, chars: int) -> None:
        self.remaining = chars

    def matches(self, template: Template, text: str) -> bool:
        """``text`` is the fixed parts in order, with anything where the template has None."""
        first, last = template[0], template[-1]
        if first is not None and not text.startswith(first):
            return False
        if last is not None and not text.endswith(last):
            return False
        start = len(first) if first is not None else 0
        end = len(text) - len(last) if last is not None else len(text)
        if end < start:
            return False
        for fixed in template[1:-1]:
            if fixed is None:
                continue
            self.remaining -= end - start
            if self.remaining < 0:
                return False
            found = text.find(fixed, start, end)
            if found < 0:
                return False
            start = found + len(fixed)
        return True


def _score(line: HistoryLine, instruction: Instruction, budget: _ScanBudget) -> int:
    if line.keyword != instruction.keyword:
        return 0
    if line.text in instruction.history.exact:
        return EXACT
    if any(budget.matches(template, line.text) for template in instruction.history.templates):
        return TEMPLATE
    if instruction.keyword == "ARG" and _arg_names(line.text) == tuple(n for n, _ in instruction.assignments):
        return TEMPLATE  # the same arguments, their values given by build arguments this review was not told
    return KEYWORD


def _arg_names(text: str) -> tuple[str, ...]:
    return tuple(word.partition("=")[0] for word in text.split()[1:])


def _confidence(score: int) -> Confidence:
    return "exact" if score >= EXACT else "likely"  # below TEMPLATE, an entry is not located (see above)


def _align(scores: list[dict[int, int]], columns: int) -> dict[int, int]:
    """Entry index -> instruction index of the best alignment (see the module's docstring)."""
    rows = len(scores)
    best = [[0] * (columns + 1) for _ in range(rows + 1)]
    for i in range(rows - 1, -1, -1):
        row, below, pairs = best[i], best[i + 1], scores[i]
        for j in range(columns - 1, -1, -1):
            value = below[j] if below[j] >= row[j + 1] else row[j + 1]
            score = pairs.get(j)
            if score and score + below[j + 1] > value:
                value = score + below[j + 1]
            row[j] = value
    pairing: dict[int, int] = {}
    i = j = 0
    while i < rows and j < columns:
        if best[i + 1][j] == best[i][j]:
            i += 1  # this entry left out: preferred, so that earlier entries are the ones left out
        elif best[i][j + 1] == best[i][j]:
            j += 1
        else:
            pairing[i] = j
            i, j = i + 1, j + 1
    return pairing


def match_history(
    dockerfile: Dockerfile, history: Sequence[HistoryEntry], start: int = 0
) -> tuple[HistoryMatch, ...]:
    """The instruction behind each of ``history[start:]`` (the entries the Dockerfile wrote), in order."""
    instructions = dockerfile.instructions[: limits.ALIGNED_INSTRUCTIONS]
    entries = history[start:]
    aligned = entries[: limits.ALIGNED_ENTRIES]
    budget = _ScanBudget(limits.TEMPLATE_SCAN_CHARS)
    lines = [canonical(entry.created_by) for entry in aligned]
    by_keyword: dict[str, list[int]] = {}
    for index, instruction in enumerate(instructions):
        by_keyword.setdefault(instruction.keyword, []).append(index)
    scores = [
        {j: _score(line, instructions[j], budget) for j in by_keyword.get(line.keyword, ())} for line in lines
    ]
    pairing = _align(scores, len(instructions))
    fallback = _fallback_stages(dockerfile, instructions, pairing, len(entries))
    matches: list[HistoryMatch] = []
    for offset in range(len(entries)):
        j = pairing.get(offset)
        if j is not None and scores[offset][j] < TEMPLATE:
            # the keyword alone agrees (`RUN apt-get` for `RUN pip install`): the pairing keeps the
            # alignment in step, but the line is not claimed; the entry goes to its stage's FROM line
            stage = dockerfile.stages[instructions[j].stage]
            matches.append(HistoryMatch(start + offset, stage.from_line, stage.from_end_line, "none", None))
        elif j is None:
            stage = fallback[offset]
            matches.append(HistoryMatch(start + offset, stage.from_line, stage.from_end_line, "none", None))
        else:
            instruction = instructions[j]
            confidence = _confidence(scores[offset][j])
            matches.append(
                HistoryMatch(start + offset, instruction.line, instruction.end_line, confidence, instruction)
            )
    return tuple(matches)


def _fallback_stages(
    dockerfile: Dockerfile, instructions: Sequence[Instruction], pairing: dict[int, int], count: int
) -> list[Stage]:
    """For each entry, the stage of the next matched instruction after it; the target when there is none."""
    stages: list[Stage] = [dockerfile.final] * count
    following = dockerfile.final
    for offset in range(count - 1, -1, -1):
        stages[offset] = following
        if offset in pairing:
            following = dockerfile.stages[instructions[pairing[offset]].stage]
    return stages
