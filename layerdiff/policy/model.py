"""The policy as values: thresholds, waivers, the other settings, and how they apply to findings."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Final, Literal, TypeAlias

from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.rules.model import Finding
from layerdiff.rules.severity import Severity

POLICY_FILENAME = ".layerdiff.toml"
TOP_LEVEL_KEYS = (
    "fail-on", "disabled-rules", "ignore-paths", "severity", "waiver", "limits", "reviewers", "approvals",
)  # fmt: skip
APPROVALS_KEYS = ("require-signatures", "on-policy-change", *(s.label for s in Severity))
POLICY_CHANGE_ACTIONS = ("fail", "warn")
MAX_REVIEWERS_NEEDED = 10
WAIVER_KEYS = ("rule", "subject", "reason", "expires")
SEVERITY_LABELS = tuple(severity.label for severity in Severity)


@dataclass(frozen=True)
class Waiver:
    """An accepted finding: every finding of ``rule`` whose subject matches the ``subject`` glob."""

    rule: str
    reason: str
    subject: str = "*"
    expires: date | None = None  # the last day the waiver counts
    line: int | None = field(default=None, compare=False)  # where it is declared, for messages

    def is_expired(self, today: date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, finding: Finding) -> bool:
        # Subjects are opaque strings ("USER", "libssl.so.3:shadowed:/usr/lib/x"): fnmatch, `*` spans `/`.
        return finding.rule == self.rule and fnmatchcase(finding.subject, self.subject)


# The threshold when neither --fail-on nor the policy names one: the same for diff, gate and every format.
DEFAULT_FAIL_ON = Severity.HIGH
# A threshold as given: a severity, NO_THRESHOLD (`--fail-on none`: nothing fails), or None (not given).
NO_THRESHOLD: Final = "none"
FailOn: TypeAlias = Severity | Literal["none"] | None


def parse_fail_on(text: str) -> Severity | Literal["none"]:
    """A ``--fail-on`` value, case-insensitive: a severity or ``none``."""
    if text.strip().lower() == NO_THRESHOLD:
        return NO_THRESHOLD
    return Severity.parse(text)


def effective_threshold(flag: FailOn, policy: FailOn) -> Severity | None:
    """The threshold in force: the flag's, else the policy's, else DEFAULT_FAIL_ON; None for ``none``."""
    chosen = flag if flag is not None else policy
    if chosen is None:
        return DEFAULT_FAIL_ON
    return chosen if isinstance(chosen, Severity) else None


@dataclass(frozen=True)
class ApprovalRules:
    """What the gate asks of approval records (``[reviewers]`` and ``[approvals]``, docs/approval.md)."""

    reviewers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))  # name -> key file
    require_signatures: bool = False  # an unverified record never counts, even without trusted keys
    # a failing finding at or above the severity needs that many distinct reviewers (default 1)
    required: Mapping[Severity, int] = field(default_factory=lambda: MappingProxyType({}))
    on_policy_change: str = "fail"  # fail | warn: a record given under another policy

    def reviewers_needed(self, severity: Severity) -> int:
        return max((n for s, n in self.required.items() if severity >= s), default=1)


@dataclass(frozen=True)
class Policy:
    fail_on: FailOn = None
    disabled_rules: frozenset[str] = frozenset()
    ignore_paths: tuple[str, ...] = ()
    severity_overrides: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))
    waivers: tuple[Waiver, ...] = ()
    source: str | None = None  # the file it came from; None for the default policy
    limits: Limits = DEFAULT_LIMITS  # bounds on image content (docs/limits.md)
    approvals: ApprovalRules = ApprovalRules()  # what `gate` asks of approval records

    @classmethod
    def default(cls) -> Policy:
        """The policy without a file: the default threshold, every rule on, nothing ignored or waived."""
        return cls()


@dataclass(frozen=True)
class DroppedFinding:
    """A finding the policy removed before review, and why (for ``--verbose`` and debugging a policy)."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class PolicyOutcome:
    findings: tuple[Finding, ...]  # kept findings, severity overrides applied, most severe first
    waived: Mapping[str, Waiver]  # fingerprint -> the first active waiver matching that finding
    dropped: tuple[DroppedFinding, ...]  # disabled rules and ignored paths
    expired_waivers: tuple[Waiver, ...]  # reported so they get renewed or removed; never applied
    unused_waivers: tuple[Waiver, ...]  # active waivers that matched no finding (stale policy)
    fail_on: Severity | None  # the threshold in force; None: `none`, nothing fails

    @cached_property
    def by_fingerprint(self) -> Mapping[str, Finding]:
        found: dict[str, Finding] = {}
        for finding in self.findings:
            found.setdefault(finding.fingerprint, finding)
        return MappingProxyType(found)

    def waiver_for(self, fingerprint: str) -> Waiver | None:
        return self.waived.get(fingerprint)

    def failing(self, approved: Collection[str] = frozenset()) -> tuple[Finding, ...]:
        """Findings at or above the threshold that are neither waived nor in ``approved`` (fingerprints)."""
        if self.fail_on is None:
            return ()
        threshold = self.fail_on
        return tuple(
            finding
            for finding in self.findings
            if finding.severity >= threshold
            and finding.fingerprint not in self.waived
            and finding.fingerprint not in approved
        )

    def fails(self, approved: Collection[str] = frozenset()) -> bool:
        return bool(self.failing(approved))


def policy_digest(text: str) -> str:
    """The policy's identity for approval records: sha256 of its UTF-8 text."""
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def apply_policy(
    policy: Policy, findings: Iterable[Finding], today: date, fail_on: FailOn = None
) -> PolicyOutcome:
    """Apply ``policy`` to ``findings``. ``fail_on`` is the ``--fail-on`` flag, which wins over the file's;
    with neither, the threshold is DEFAULT_FAIL_ON.

    Order: disabled rules and ignored paths drop findings, overrides change severities, then active
    waivers mark what is accepted (waived findings stay in the report, marked, but never fail it).
    """
    kept: list[Finding] = []
    dropped: list[DroppedFinding] = []
    for finding in findings:
        reason = _drop_reason(policy, finding)
        if reason is not None:
            dropped.append(DroppedFinding(finding, reason))
        else:
            kept.append(_with_severity_override(policy, finding))
    kept.sort(key=lambda f: (-f.severity, f.rule, f.subject))

    active = [waiver for waiver in policy.waivers if not waiver.is_expired(today)]
    waived: dict[str, Waiver] = {}
    for finding in kept:
        waiver = next((w for w in active if w.matches(finding)), None)
        if waiver is not None:
            waived.setdefault(finding.fingerprint, waiver)
    used = set(waived.values())
    return PolicyOutcome(
        findings=tuple(kept),
        waived=MappingProxyType(waived),
        dropped=tuple(dropped),
        expired_waivers=tuple(w for w in policy.waivers if w.is_expired(today)),
        unused_waivers=tuple(w for w in active if w not in used),
        fail_on=effective_threshold(fail_on, policy.fail_on),
    )


def _drop_reason(policy: Policy, finding: Finding) -> str | None:
    if finding.rule in policy.disabled_rules:
        return f"rule {finding.rule} is disabled"
    evidence_path = finding.evidence.get("path")
    candidates = [finding.subject] + ([evidence_path] if isinstance(evidence_path, str) else [])
    for pattern in policy.ignore_paths:
        if any(path_glob(pattern).match(candidate) for candidate in candidates):
            return f"ignore-paths {pattern!r}"
    return None


def _with_severity_override(policy: Policy, finding: Finding) -> Finding:
    override = policy.severity_overrides.get(finding.rule)
    if override is None or override == finding.severity:
        return finding
    return replace(finding, severity=override)


@lru_cache(maxsize=256)
def path_glob(pattern: str) -> re.Pattern[str]:
    """Compile a path glob: ``**`` spans directories, ``*``/``?``/``[...]`` stay inside one path segment,
    and ``DIR/**`` also matches ``DIR`` itself (ignoring a tree ignores the finding about its root)."""
    parts: list[str] = []
    position = 0
    while position < len(pattern):
        if pattern.startswith("/**", position) and position + 3 == len(pattern):
            parts.append("(?:/.*)?")
            position += 3
        elif pattern.startswith("**/", position):
            parts.append("(?:.*/)?")
            position += 3
        elif pattern.startswith("**", position):
            parts.append(".*")
            position += 2
        elif pattern[position] in "*?":
            parts.append("[^/]*" if pattern[position] == "*" else "[^/]")
            position += 1
        elif pattern[position] == "[" and (bracket := _bracket_class(pattern, position)) is not None:
            parts.append(bracket[0])
            position = bracket[1]
        else:
            parts.append(re.escape(pattern[position]))
            position += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL)


def _bracket_class(pattern: str, start: int) -> tuple[str, int] | None:
    """``[abc]``/``[!abc]`` at ``start`` as a regex class and the position after it; None if unclosed."""
    body_start = start + 1
    if pattern.startswith("!", body_start):
        body_start += 1
    if pattern.startswith("]", body_start):  # a leading ] is literal, as in fnmatch
        body_start += 1
    end = pattern.find("]", body_start)
    if end < 0:
        return None
    body = pattern[start + 1 : end]
    negated = body.startswith("!")
    body = re.sub(r"([\\\[&~|^])", r"\\\1", body[1:] if negated else body)
    return (f"[^/{body}]" if negated else f"[{body}]"), end + 1


# --- parsing -------------------------------------------------------------------------------------------
