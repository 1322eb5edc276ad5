"""Parse a saved diff report into the typed Report, checked before anything trusts it: `view` and `approve`
take files from CI artifacts, hand edits and older releases, and a missing field must be a one-line error,
not a traceback.

Everything but ``file_changes`` is validated against the published JSON Schema. A report can hold hundreds
of thousands of file changes, for which the generic validator takes tens of seconds; those are checked here
for the fields the review reads, in well under a second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from layerdiff.errors import UsageError
from layerdiff.gc_pause import paused_collector
from layerdiff.image.json_depth import nesting_exceeds
from layerdiff.image.limits import DEFAULT_LIMITS
from layerdiff.report.boundary import clean_report
from layerdiff.report.model import SCHEMA_VERSION, load_schema
from layerdiff.report.wire import Report
from layerdiff.text.redaction import Redactor

_KINDS = frozenset({"added", "removed", "modified", "metadata"})
_STATE_FIELDS = ("type", "mode", "uid", "gid", "size", "link", "sha256", "xattrs")
_REQUIRED_STATE_FIELDS = ("type", "mode", "uid", "gid", "size")  # the rest absent when null or empty
# Schema 2 only made keys optional (and laid file changes out one a line): a 1.x report reads as 2.0.
_READ_MAJORS = ("1", "2")
_TYPES = frozenset({"file", "dir", "symlink", "hardlink", "char", "block", "fifo"})
_MODE = re.compile(r"[0-7]{4}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_HEX = re.compile(r"(?:[0-9a-f]{2})*")


def parse_report(text: str, source: str) -> Report:
    """The report in ``text`` (read from ``source``), or a UsageError saying in one line what is wrong."""
    try:
        with paused_collector():
            document = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source}: not JSON ({exc})") from exc
    except RecursionError as exc:
        raise UsageError(f"{source}: not a layerdiff diff report: nested too deeply") from exc
    problem = report_problem(document)
    if problem is not None:
        raise UsageError(f"{source}: not a layerdiff diff report: {problem}")
    # A saved report may have been edited since layerdiff wrote it: it passes the output boundary again.
    return clean_report(Report.from_json(document), Redactor(()))


def report_problem(report: Any) -> str | None:
    """What makes ``report`` unusable as a diff report of this release's schema major version (or of 1.x,
    which it reads), or None."""
    if not isinstance(report, dict):
        return "the document is not a JSON object"
    version = report.get("schema_version")
    major = SCHEMA_VERSION.split(".", 1)[0]
    if version is None:
        if "predicateType" in report:
            return "it is an in-toto Statement (an approval record?), not a report"
        return "it has no schema_version"
    if not isinstance(version, str) or version.split(".", 1)[0] not in _READ_MAJORS:
        return f"schema_version {version!r}, expected {major}.x"
    changes = report.get("file_changes")
    if not isinstance(changes, list):
        return "file_changes: expected an array"
    # Free-form parts (evidence, labels, a HEALTHCHECK) are walked later; file changes have a fixed shape.
    rest = {key: value for key, value in report.items() if key != "file_changes"}
    if nesting_exceeds(rest, DEFAULT_LIMITS.json_depth):
        return f"nested more than {DEFAULT_LIMITS.json_depth} levels deep"
    for position, change in enumerate(changes):
        problem = _file_change_problem(change)
        if problem is not None:
            return f"file_changes[{position}]: {problem}"
    return _schema_problem({**report, "schema_version": SCHEMA_VERSION, "file_changes": []})


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
    fields = change.get("fields", [])
    if not isinstance(fields, list) or not all(name in _STATE_FIELDS for name in fields):
        return f"fields: expected an array of {', '.join(_STATE_FIELDS)}"
    path_hex = change.get("path_hex")
    if path_hex is not None and not (isinstance(path_hex, str) and _HEX.fullmatch(path_hex)):
        return "path_hex: expected hex digits"
    for side in ("before", "after"):
        state = change.get(side)
        if state is None:
            continue
        if not isinstance(state, dict):
            return f"{side}: expected an object or null"
        missing = [name for name in _REQUIRED_STATE_FIELDS if name not in state]
        if missing:
            return f"{side}: missing {', '.join(missing)}"
        if not all(isinstance(state[name], int) for name in ("size", "uid", "gid")):
            return f"{side}: size, uid and gid must be integers"
        # The output boundary passes these over as layerdiff's own formatting: they must be just that.
        if state["type"] not in _TYPES or not (
            isinstance(state["mode"], str) and _MODE.fullmatch(state["mode"])
        ):
            return f"{side}: type must be one of {', '.join(sorted(_TYPES))} and mode four octal digits"
        sha256 = state.get("sha256")
        if sha256 is not None and not (isinstance(sha256, str) and _SHA256.fullmatch(sha256)):
            return f"{side}: sha256: expected 64 hex digits or null"
        link = state.get("link")
        if link is not None and not isinstance(link, str):
            return f"{side}: link: expected a string or null"
        xattrs = state.get("xattrs", {})
        if not isinstance(xattrs, dict) or not all(
            isinstance(v, str) and _HEX.fullmatch(v) for v in xattrs.values()
        ):
            return f"{side}: xattrs: expected an object of hex values"
    if change.get("before") is None and change.get("after") is None:
        return "before and after are both null"
    return None
