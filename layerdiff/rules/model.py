"""Findings, severities, and the context every rule reads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from layerdiff.diff.changes import ImageDiff
from layerdiff.errors import UsageError
from layerdiff.model import ImageSnapshot, LayerIndex


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in cls)
            raise UsageError(f"unknown severity {text!r} (one of {names})") from None


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
        """rule id + subject: survives rebuilds (digests, layer positions and versions may change)."""
        return hashlib.sha256(f"{self.rule}\0{self.subject}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RuleContext:
    diff: ImageDiff
    base: ImageSnapshot
    derived: ImageSnapshot
    derived_indexes: tuple[LayerIndex, ...]  # every layer of the derived image, for per-layer rules

    @property
    def first_reviewed(self) -> int:
        return self.diff.shared_layers if self.diff.extends_base else 0

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
        return f"docs/rules/{self.id}.md"

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
            evidence=evidence,
            layer=layer,
            instruction=instruction if instruction is not None else context.instruction(layer),
        )
