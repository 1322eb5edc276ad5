"""The report's Dockerfile section, and each finding's Dockerfile line.

``--dockerfile`` gives the review the file the derived image was built from. Its history entries were
matched to the instructions that wrote them (``layerdiff.dockerfile.match_history``); here that matching
becomes the report's ``dockerfile`` map, and each finding is located at the instruction that caused it:

- a finding of a layer: the instruction that wrote that layer;
- a finding of the config (USER, ENV, ...): the last matched instruction whose history text is the one the
  finding names;
- any other (the image as a whole), or one whose entry matched nothing: the final stage's FROM line, with
  confidence ``none``, so that it still lands on a line of the repository.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence

from layerdiff.dockerfile import Dockerfile, HistoryMatch
from layerdiff.image.history import instruction as history_instruction
from layerdiff.image.history import layer_history
from layerdiff.image.model import ImageSnapshot
from layerdiff.report.wire import DockerfileMap, DockerfileStep, Finding, SourceLine
from layerdiff.text.secrets import redact_text


def dockerfile_map(
    path: str, text: str, dockerfile: Dockerfile, matches: Sequence[HistoryMatch], derived: ImageSnapshot
) -> DockerfileMap:
    layer_of = _layer_positions(derived)
    final = dockerfile.final
    steps = tuple(
        DockerfileStep(
            history_index=match.history_index,
            layer=layer_of.get(match.history_index),
            instruction=history_instruction(derived.history[match.history_index].created_by),
            line=match.line,
            end_line=match.end_line,
            confidence=match.confidence,
        )
        for match in matches
    )
    digest = "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
    return DockerfileMap(path, digest, final.name, final.from_line, steps)


def dockerfile_warnings(
    path: str, dockerfile: Dockerfile, matches: Sequence[HistoryMatch]
) -> tuple[str, ...]:
    """What says the Dockerfile may not be the one the image was built from: history entries no
    instruction matched, and instructions (all but FROM write a history entry) that matched no entry."""
    warnings = []
    unplaced = [m for m in matches if m.confidence == "none"]
    if unplaced:
        warnings.append(
            f"{len(unplaced)} of the {len(matches)} history entries the derived Dockerfile wrote match no "
            f"instruction of {path}; their findings are placed on its FROM line "
            f"(line {dockerfile.final.from_line})"
        )
    matched = {id(m.instruction) for m in matches if m.instruction is not None}
    # every instruction but ONBUILD (BuildKit records none for it) writes one history entry
    unmatched = [i for i in dockerfile.instructions if id(i) not in matched and i.keyword != "ONBUILD"]
    if unmatched:
        lines = ", ".join(str(i.line) for i in unmatched[:_LINES_NAMED])
        more = f" and {len(unmatched) - _LINES_NAMED} more" if len(unmatched) > _LINES_NAMED else ""
        noun = "instruction" if len(unmatched) == 1 else "instructions"
        warnings.append(
            f"{len(unmatched)} {noun} of {path} (line {lines}{more}) wrote nothing in the derived image's "
            "history: it may have been built from another version of the file"
        )
    return tuple(warnings)


_LINES_NAMED = 10


def _layer_positions(image: ImageSnapshot) -> dict[int, int]:
    """History index -> layer position, when the history accounts for every layer (else none are known)."""
    per_layer = layer_history(image.history, len(image.layers))
    if not per_layer or per_layer[0] is None:
        return {}
    layered = [index for index, entry in enumerate(image.history) if not entry.empty_layer]
    return {history_index: position for position, history_index in enumerate(layered)}


def locate(findings: Sequence[Finding], mapping: DockerfileMap) -> tuple[Finding, ...]:
    """``findings``, each with its Dockerfile line."""
    by_layer = {step.layer: step for step in mapping.steps if step.layer is not None}
    # the last wins; a finding names its instruction with credentials cut out, the map (until the report's
    # boundary) as the history has it
    by_instruction: dict[str | None, DockerfileStep] = {}
    for step in mapping.steps:
        if step.instruction:
            by_instruction[step.instruction] = by_instruction[redact_text(step.instruction)] = step
    from_line = SourceLine(mapping.path, mapping.from_line, mapping.from_line, "none")

    def where(finding: Finding) -> SourceLine:
        step = by_layer.get(finding.layer) if finding.layer is not None else None
        if step is None and finding.layer is None and finding.instruction:
            step = by_instruction.get(finding.instruction)
        if step is None or step.confidence == "none":
            return from_line
        return SourceLine(mapping.path, step.line, step.end_line, step.confidence)

    return tuple(dataclasses.replace(finding, dockerfile=where(finding)) for finding in findings)
