"""Findings, severities, and the context every rule reads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from layerdiff.diff.changes import ConfigChange, ImageDiff
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.model import ImageSnapshot, LayerIndex
from layerdiff.rules.documentation import rule_doc_url
from layerdiff.rules.severity import Severity

_Fact = TypeVar("_Fact")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    subject: str  # what it is about, stable across rebuilds: a path, a package, an env + distribution
    message: str  # one sentence for a reviewer
    evidence: Mapping[str, Any]  # JSON-able facts to check by hand (paths, versions, uid/gid/mode, ...)
    layer: int | None = None  # the derived layer that caused it
    instruction: str | None = None  # its Dockerfile instruction

    @property
    def fingerprint(self) -> str:
        """rule id + subject: survives rebuilds (digests, layer positions and versions may change).

        Lone surrogates (a non-UTF-8 path's bytes, surrogate-escaped; a config's ``\\ud800``) are hashed as
        their code points, so that every subject has a fingerprint; other text hashes as its UTF-8."""
        text = f"{self.rule}\0{self.subject}"
        return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class RuleContext:
    diff: ImageDiff
    base: ImageSnapshot
    derived: ImageSnapshot
    derived_indexes: tuple[LayerIndex, ...]  # every layer of the derived image, for per-layer rules
    limits: Limits = DEFAULT_LIMITS  # the review's bounds on image content (evidence-items, here)
    # facts several rules derive from the diff (the package changes, pip's deletions), computed once
    _shared: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def shared(self, name: str, compute: Callable[[RuleContext], _Fact]) -> _Fact:
        """``compute(self)``, computed on the first call for ``name`` and kept for the other rules."""
        if name not in self._shared:
            self._shared[name] = compute(self)
        fact: _Fact = self._shared[name]
        return fact

    @property
    def first_reviewed(self) -> int:
        return self.diff.shared_layers if self.diff.extends_base else 0

    def config_change(self, field: str, key: str | None = None) -> ConfigChange | None:
        return next((c for c in self.diff.config_changes if c.field == field and c.key == key), None)

    def layer_that_changed(self, *paths: str) -> int | None:
        """The derived layer that last wrote or whited out the first of ``paths`` a derived layer touched."""
        tree = self.diff.derived_files.tree
        for path in paths:
            node = tree.nodes.get(path)
            layer = node.layer if node is not None else tree.removed_by.get(path)
            if layer is not None and layer >= self.first_reviewed:
                return layer
        return None

    def instruction(self, layer: int | None) -> str | None:
        if layer is None:
            return None
        return next((info.instruction for info in self.diff.derived_layers if info.position == layer), None)


Check = Callable[[RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity  # the default; a finding may be raised or lowered by the rule (e.g. high in PATH dirs)
    title: str
    remediation: str
    check: Check = field(compare=False)

    @property
    def doc(self) -> str:
        return rule_doc_url(self.id)

    def finding(
        self,
        context: RuleContext,
        subject: str,
        message: str,
        evidence: Mapping[str, Any],
        layer: int | None = None,
        severity: Severity | None = None,
        instruction: str | None = None,
    ) -> Finding:
        return Finding(
            rule=self.id,
            severity=severity if severity is not None else self.severity,
            subject=subject,
            message=message,
            evidence=capped_evidence(evidence, context.limits.evidence_items),
            layer=layer,
            instruction=instruction if instruction is not None else context.instruction(layer),
        )


def capped_evidence(evidence: Mapping[str, Any], items: int) -> dict[str, Any]:
    """``evidence`` with every list in it (at any depth of objects) cut to ``items`` entries, and the
    number left out beside it as ``NAME_omitted``: an image with a million groups, site dirs or copies of a
    distribution gets a finding of bounded size that still says how many there were."""
    capped: dict[str, Any] = {}
    for key, value in evidence.items():
        if isinstance(value, list | tuple):
            if len(value) > items:
                capped[f"{key}_omitted"] = len(value) - items
            capped[key] = [_capped_item(item, items) for item in value[:items]]
        else:
            capped[key] = _capped_item(value, items)
    return capped


def _capped_item(value: Any, items: int) -> Any:
    return capped_evidence(value, items) if isinstance(value, Mapping) else value
