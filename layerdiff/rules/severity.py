"""Severities, in their own module so that reading a report (the review app, renderers) needs no rule code."""

from __future__ import annotations

from enum import IntEnum

from layerdiff.errors import UsageError


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
