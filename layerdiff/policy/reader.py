"""Reading ``.layerdiff.toml``: TOML text -> a validated ``Policy``, every mistake a one-line error naming
the file and line."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from layerdiff.errors import UsageError
from layerdiff.image.limits import Limits
from layerdiff.policy.model import (
    APPROVALS_KEYS,
    MAX_REVIEWERS_NEEDED,
    NO_THRESHOLD,
    POLICY_CHANGE_ACTIONS,
    SEVERITY_LABELS,
    TOP_LEVEL_KEYS,
    WAIVER_KEYS,
    ApprovalRules,
    FailOn,
    Policy,
    Waiver,
)
from layerdiff.rules.registry import all_rules
from layerdiff.rules.severity import Severity

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
            approvals=self._approval_rules(document.get("reviewers"), document.get("approvals")),
        )

    def _approval_rules(self, reviewers: object, approvals: object) -> ApprovalRules:
        names = self._reviewers(reviewers)
        if approvals is None:
            return ApprovalRules(reviewers=names)
        line = self._where.table("approvals").start or None
        if not isinstance(approvals, Mapping):
            raise self._error("[approvals]: expected a table (see docs/approval.md)", line)
        for key in approvals:
            if key not in APPROVALS_KEYS:
                raise self._error(
                    f"[approvals]: unknown key {key!r}{_suggestion(key, APPROVALS_KEYS)} "
                    f"(known keys: {', '.join(APPROVALS_KEYS)})",
                    self._where.find(self._where.table("approvals"), key=key) or line,
                )
        required = {}
        for label in SEVERITY_LABELS:
            count = approvals.get(label)
            if count is None:
                continue
            if (
                not isinstance(count, int)
                or isinstance(count, bool)
                or not 1 <= count <= MAX_REVIEWERS_NEEDED
            ):
                raise self._error(
                    f"[approvals] {label}: expected how many distinct reviewers, 1 to {MAX_REVIEWERS_NEEDED}",
                    self._where.find(self._where.table("approvals"), key=label) or line,
                )
            required[Severity[label.upper()]] = count
        require_signatures = approvals.get("require-signatures", False)
        if not isinstance(require_signatures, bool):
            raise self._error("[approvals] require-signatures: expected true or false", line)
        on_change = approvals.get("on-policy-change", "fail")
        if on_change not in POLICY_CHANGE_ACTIONS:
            raise self._error(
                f"[approvals] on-policy-change: expected one of {', '.join(POLICY_CHANGE_ACTIONS)}", line
            )
        return ApprovalRules(names, require_signatures, MappingProxyType(required), on_change)

    def _reviewers(self, value: object) -> Mapping[str, str]:
        if value is None:
            return MappingProxyType({})
        line = self._where.table("reviewers").start or None
        if not isinstance(value, Mapping) or not all(
            isinstance(name, str) and name.strip() and isinstance(key, str) and key.strip()
            for name, key in value.items()
        ):
            raise self._error(
                '[reviewers]: expected a table of NAME = "PUBLIC-KEY.pem" (see docs/approval.md)', line
            )
        return MappingProxyType(dict(value))

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
