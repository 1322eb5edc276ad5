"""The review policy (``.layerdiff.toml``): threshold, disabled rules, path ignores, severity overrides and
waivers, parsed from TOML text and applied to findings.

Pure: the CLI finds and reads the file and passes its text; nothing here touches the filesystem or the
clock (``today`` is a parameter). Every mistake in the file is a ``UsageError`` whose one-line message names
the file and line (``.layerdiff.toml:7: ...``), so a user can fix it without guessing. The schema and its
semantics are documented in ``docs/policy.md``.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import tomllib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from fnmatch import fnmatchcase
from functools import cached_property, lru_cache
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

from layerdiff.errors import UsageError
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.rules.model import Finding
from layerdiff.rules.registry import all_rules
from layerdiff.rules.severity import Severity

POLICY_FILENAME = ".layerdiff.toml"
TOP_LEVEL_KEYS = ("fail-on", "disabled-rules", "ignore-paths", "severity", "waiver", "limits")
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
class Policy:
    fail_on: FailOn = None
    disabled_rules: frozenset[str] = frozenset()
    ignore_paths: tuple[str, ...] = ()
    severity_overrides: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))
    waivers: tuple[Waiver, ...] = ()
    source: str | None = None  # the file it came from; None for the default policy
    limits: Limits = DEFAULT_LIMITS  # bounds on image content (docs/limits.md)

    @classmethod
    def default(cls) -> Policy:
        """The policy without a file: no threshold, every rule on, nothing ignored or waived."""
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

_TOML_POSITION = re.compile(
    r"^(?P<message>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)$"
)


def load_policy(text: str, source: str) -> Policy:
    """Parse and validate a policy; ``source`` names the file in error messages."""
    text = text.removeprefix("\ufeff")  # editors on Windows write a BOM, which tomllib rejects
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _toml_syntax_error(error, text, source) from None
    return _PolicyReader(text, source).read(document)


def _toml_syntax_error(error: tomllib.TOMLDecodeError, text: str, source: str) -> UsageError:
    found = _TOML_POSITION.match(str(error))
    if found is None:
        return UsageError(f"{source}: TOML syntax error: {_one_line(str(error))}")
    if found["line"] is None:
        return UsageError(f"{source}:{max(len(text.splitlines()), 1)}: TOML syntax error: {found['message']}")
    return UsageError(
        f"{source}:{found['line']}: TOML syntax error: {found['message']} (column {found['column']})"
    )


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _suggestion(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if not close:
        return ""
    quoted = [repr(choice) for choice in close]
    options = f"{', '.join(quoted[:-1])} or {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    return f"; did you mean {options}?"


class _Locator:
    """Best-effort line numbers for semantic errors. tomllib returns values without positions, so the
    offending key or value is searched for in the text, first within the table it belongs to."""

    _HEADER = re.compile(r"^\s*\[\[?\s*(?P<name>[^\[\]#]+?)\s*\]\]?\s*(?:#.*)?$")

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._end = len(self._lines) + 1
        self._headers = [
            (number, found["name"].strip("\"'"))
            for number, line in enumerate(self._lines, start=1)
            if (found := self._HEADER.match(line)) is not None
        ]
        self.everywhere = range(1, self._end)

    def top_level(self) -> range:
        return range(1, self._headers[0][0] if self._headers else self._end)

    def table(self, name: str, occurrence: int = 0) -> range:
        """The lines of the ``occurrence``-th ``[name]``/``[[name]]`` table, header first; empty if absent."""
        starts = [number for number, header in self._headers if header == name]
        if occurrence >= len(starts):
            return range(0)
        start = starts[occurrence]
        return range(start, next((number for number, _ in self._headers if number > start), self._end))

    def find(
        self, within: range, key: str | None = None, value: str | None = None, anywhere: bool = True
    ) -> int | None:
        """The first line in ``within`` (else, if ``anywhere``, in the whole text) holding ``value`` as a
        quoted string or ``key =``."""
        patterns = []
        if value is not None:
            patterns.append(re.compile(rf"([\"']){re.escape(value)}\1"))
        if key is not None:
            quoted = re.escape(key)
            patterns.append(re.compile(rf"(?:^|[{{,])\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*[=.]"))
        for scope in (within, self.everywhere) if anywhere else (within,):
            for pattern in patterns:
                line = next((n for n in scope if pattern.search(self._lines[n - 1])), None)
                if line is not None:
                    return line
        return None


class _PolicyReader:
    """Validates a parsed document, raising a located UsageError on the first mistake."""

    def __init__(self, text: str, source: str) -> None:
        self._source = source
        self._where = _Locator(text)
        self._rule_ids = tuple(rule.id for rule in all_rules())

    def read(self, document: Mapping[str, Any]) -> Policy:
        for key in document:
            if key not in TOP_LEVEL_KEYS:
                line = self._where.find(self._where.top_level(), key=key) or self._where.table(key).start
                raise self._error(
                    f"unknown key {key!r}{_suggestion(key, TOP_LEVEL_KEYS)} "
                    f"(known keys: {', '.join(TOP_LEVEL_KEYS)})",
                    line or None,
                )
        return Policy(
            fail_on=self._fail_on(document.get("fail-on")),
            disabled_rules=frozenset(self._string_list(document, "disabled-rules", rule_ids=True)),
            ignore_paths=self._string_list(document, "ignore-paths", rule_ids=False),
            severity_overrides=MappingProxyType(self._severity_overrides(document.get("severity"))),
            waivers=self._waivers(document.get("waiver")),
            source=self._source,
            limits=self._limits(document.get("limits")),
        )

    def _limits(self, value: object) -> Limits:
        if value is None:
            return Limits()
        line = self._where.table("limits").start or None
        if not isinstance(value, Mapping) or not all(isinstance(v, str | int) for v in value.values()):
            raise self._error("[limits]: expected a table of NAME = amount (see docs/limits.md)", line)
        try:
            return Limits().with_values(value, "[limits]")
        except UsageError as exc:
            raise self._error(str(exc), line) from exc

    def _error(self, message: str, line: int | None) -> UsageError:
        location = f"{self._source}:{line}" if line else self._source
        return UsageError(f"{location}: {_one_line(message)}")

    def _top_key_line(self, key: str) -> int | None:
        return self._where.find(self._where.top_level(), key=key)

    def _fail_on(self, value: object) -> FailOn:
        if value is None:
            return None
        if isinstance(value, str) and value.strip().lower() == NO_THRESHOLD:
            return NO_THRESHOLD
        return self._severity(
            value, "fail-on", self._top_key_line("fail-on"), (*SEVERITY_LABELS, NO_THRESHOLD)
        )

    def _severity(
        self, value: object, what: str, line: int | None, accepted: Sequence[str] = SEVERITY_LABELS
    ) -> Severity:
        if not isinstance(value, str):
            raise self._error(f"{what} must be a string, one of {', '.join(accepted)}", line)
        label = value.strip().lower()
        if label not in SEVERITY_LABELS:
            raise self._error(
                f"{what}: unknown severity {value!r}{_suggestion(label, accepted)} "
                f"(one of {', '.join(accepted)})",
                line,
            )
        return Severity[label.upper()]

    def _string_list(self, document: Mapping[str, Any], key: str, *, rule_ids: bool) -> tuple[str, ...]:
        value = document.get(key, [])
        key_line = self._top_key_line(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._error(f"{key} must be an array of strings", key_line)
        array_lines = range(key_line, self._where.top_level().stop) if key_line else self._where.top_level()
        for item in value:
            line = self._where.find(array_lines, value=item) or key_line
            if not item.strip():
                raise self._error(f"{key}: empty entry", line)
            if rule_ids:
                self._check_rule_id(item, f"in {key}", line)
        return tuple(value)

    def _check_rule_id(self, rule_id: str, context: str, line: int | None) -> None:
        if rule_id not in self._rule_ids:
            hint = _suggestion(rule_id, self._rule_ids) or "; `layerdiff rules` lists the catalog"
            raise self._error(f"unknown rule id {rule_id!r} {context}{hint}", line)

    def _severity_overrides(self, value: object) -> dict[str, Severity]:
        table = self._where.table("severity")
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._error(
                "severity must be a table of rule id = severity, e.g. [severity] "
                '"ownership-changed" = "medium" (the threshold is fail-on)',
                self._top_key_line("severity") or table.start or None,
            )
        overrides: dict[str, Severity] = {}
        for rule_id, label in value.items():
            line = self._where.find(table, key=rule_id)
            self._check_rule_id(rule_id, "in [severity]", line)
            overrides[rule_id] = self._severity(label, f"severity of {rule_id}", line)
        return overrides

    def _waivers(self, value: object) -> tuple[Waiver, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            line = self._top_key_line("waiver") or self._where.table("waiver").start or None
            raise self._error("waiver must be an array of tables: write [[waiver]] above each waiver", line)
        return tuple(self._waiver(index, entry) for index, entry in enumerate(value))

    def _waiver(self, index: int, entry: Mapping[str, Any]) -> Waiver:
        lines = self._where.table("waiver", index)
        header = lines.start or self._top_key_line("waiver")
        label = f"waiver #{index + 1}"

        def key_line(key: str) -> int | None:
            # Only within this waiver's table: another waiver's keys would point at the wrong entry.
            return self._where.find(lines, key=key, anywhere=False) or header

        for key in entry:
            if key not in WAIVER_KEYS:
                raise self._error(
                    f"{label}: unknown key {key!r}{_suggestion(key, WAIVER_KEYS)} "
                    f"(known keys: {', '.join(WAIVER_KEYS)})",
                    key_line(key),
                )
        rule_id = self._required_string(entry, "rule", label, key_line)
        self._check_rule_id(rule_id, f"in {label}", key_line("rule"))
        reason = self._required_string(
            entry, "reason", label, key_line, why=" (say why the finding is accepted)"
        )
        subject = entry.get("subject", "*")
        if not isinstance(subject, str) or not subject.strip():
            raise self._error(f"{label}: subject must be a non-empty glob string", key_line("subject"))
        return Waiver(
            rule=rule_id,
            reason=reason.strip(),
            subject=subject,
            expires=self._expiry(entry.get("expires"), label, key_line("expires")),
            line=header,
        )

    def _required_string(
        self,
        entry: Mapping[str, Any],
        key: str,
        label: str,
        key_line: Callable[[str], int | None],
        why: str = "",
    ) -> str:
        if key not in entry:
            raise self._error(f"{label}: missing {key!r}{why}", key_line(key))
        value = entry[key]
        if not isinstance(value, str) or not value.strip():
            raise self._error(f"{label}: {key!r} must be a non-empty string{why}", key_line(key))
        return value

    def _expiry(self, value: object, label: str, line: int | None) -> date | None:
        if value is None:
            return None
        # datetime is a subclass of date; a waiver lasts whole days, so a time of day is refused, not dropped.
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        hint = " (write a TOML date without quotes, e.g. expires = 2027-01-31)"
        raise self._error(f"{label}: expires must be a date, not {value!r}{hint}", line)
