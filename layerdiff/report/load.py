"""Parse a saved diff report into the typed Report, checked before anything trusts it: `view` and `approve`
take files from CI artifacts, hand edits and older releases, and a missing field must be a one-line error,
not a traceback.

Everything but ``file_changes`` is validated against the published JSON Schema. A report can hold hundreds
of thousands of file changes, for which the generic validator takes tens of seconds; those are checked here
for the fields the review reads, in well under a second.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from layerdiff.errors import UsageError
from layerdiff.gc_pause import paused_collector
from layerdiff.report.model import SCHEMA_VERSION, load_schema
from layerdiff.report.wire import Report

_KINDS = frozenset({"added", "removed", "modified", "metadata"})
_STATE_FIELDS = ("type", "mode", "uid", "gid", "size", "link", "sha256", "xattrs")


def parse_report(text: str, source: str) -> Report:
    """The report in ``text`` (read from ``source``), or a UsageError saying in one line what is wrong."""
    try:
        with paused_collector():
            document = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source}: not JSON ({exc})") from exc
    problem = report_problem(document)
    if problem is not None:
        raise UsageError(f"{source}: not a layerdiff diff report: {problem}")
    return Report.from_json(document)


def report_problem(report: Any) -> str | None:
    """What makes ``report`` unusable as a diff report of this release's schema major version, or None."""
    if not isinstance(report, dict):
        return "the document is not a JSON object"
    version = report.get("schema_version")
    major = SCHEMA_VERSION.split(".", 1)[0]
    if version is None:
        if "predicateType" in report:
            return "it is an in-toto Statement (an approval record?), not a report"
        return "it has no schema_version"
    if not isinstance(version, str) or version.split(".", 1)[0] != major:
        return f"schema_version {version!r}, expected {major}.x"
    changes = report.get("file_changes")
    if not isinstance(changes, list):
        return "file_changes: expected an array"
    for position, change in enumerate(changes):
        problem = _file_change_problem(change)
        if problem is not None:
            return f"file_changes[{position}]: {problem}"
    return _schema_problem({**report, "file_changes": []})


def _schema_problem(report: Mapping[str, Any]) -> str | None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(report))
    if error is None:
        return None
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path)
    return f"{where.lstrip('.') or 'top level'}: {error.message}"


def _file_change_problem(change: Any) -> str | None:
    if not isinstance(change, dict):
        return "expected an object"
    if not isinstance(change.get("path"), str):
        return "path: expected a string"
    if change.get("kind") not in _KINDS:
        return f"kind {change.get('kind')!r}: expected one of {', '.join(sorted(_KINDS))}"
    layer = change.get("layer", ...)
    if layer is not None and (not isinstance(layer, int) or isinstance(layer, bool)):
        return "layer: expected an integer or null"
    fields = change.get("fields")
    if not isinstance(fields, list) or not all(isinstance(name, str) for name in fields):
        return "fields: expected an array of strings"
    for side in ("before", "after"):
        state = change.get(side, ...)
        if state is None:
            continue
        if not isinstance(state, dict):
            return f"{side}: expected an object or null"
        missing = [name for name in _STATE_FIELDS if name not in state]
        if missing:
            return f"{side}: missing {', '.join(missing)}"
        if not all(isinstance(state[name], int) for name in ("size", "uid", "gid")):
            return f"{side}: size, uid and gid must be integers"
        if not all(isinstance(state[name], str) for name in ("type", "mode")):
            return f"{side}: type and mode must be strings"
        if not isinstance(state["xattrs"], dict):
            return f"{side}: xattrs: expected an object"
    if change["before"] is None and change["after"] is None:
        return "before and after are both null"
    return None
