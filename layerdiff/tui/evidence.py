"""A finding's evidence in words, for the detail pane: labelled fields, before and after side by side, the
facts the report shares (a file entry, a runtime user, a library resolution, a command, a Python
distribution or environment, a package providing a program) each as one phrase, and long lists as their
first few entries and a count of the rest.

Pure: no textual here. The evidence is the report's (a saved report is input, too): nesting, lists and
objects are bounded here as well.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text

from layerdiff.report.codec import JsonObject, JsonValue

FIRST_ITEMS = 5  # entries of a list shown before "and N more"
MAX_DEPTH = 4  # objects nested deeper are shown as one line of JSON
MAX_FIELDS = 40  # fields of one object shown; the rest are counted
SHOWN_ELSEWHERE = frozenset({"layer", "instruction"})  # the detail pane's "caused by" line has them
ARROW = " → "

# Words for the keys the rules use; any other key reads with its underscores as spaces.
LABELS = {
    "also_affected": "also affected",
    "apt_get_check": "apt-get check says",
    "bits_added": "bits added",
    "bytes_removed": "bytes removed",
    "command_v": "command -v",
    "dpkg_verify": "dpkg --verify says",
    "entries_removed": "entries removed",
    "examples": "for example",
    "files_removed": "files removed",
    "imported": "imports",
    "in_final_filesystem": "in the final filesystem",
    "installed": "what is installed for it",
    "ld_library_path": "LD_LIBRARY_PATH",
    "ldd": "ldd says",
    "listed_in": "listed in",
    "pip_check": "pip check says",
    "purl": "purl",
    "readable_by_runtime_user": "readable by the runtime user",
    "removed_by_layer": "removed by layer",
    "requirement": "requires",
    "sys_path": "sys.path, searched in order",
    "searched": "ld.so tried, in order",
    "user_site": "user site",
    "version_change": "version change",
    "writable_because": "writable because",
    "xattr_hex_after": "xattr after (hex)",
}
# Values that are search paths: listed entry by entry, numbered in search order.
SEARCH_ORDER = frozenset({"sys_path", "searched"})
# The order ld.so looks for a DT_NEEDED name; `via` in a resolution says where it stopped.
LIBRARY_SEARCH = (
    "the object's RPATH, LD_LIBRARY_PATH, its RUNPATH, /etc/ld.so.cache, then the default directories "
    "(/lib, /usr/lib); `found via` says where the search stopped"
)

_ENTRY = frozenset({"type", "mode", "uid", "gid", "size", "link", "sha256", "xattrs"})
_USER = frozenset({"user", "name", "uid", "gid", "groups", "home"})
_RESOLUTION = frozenset({"path", "real_path", "via", "sha256"})
_COMMAND = frozenset({"path", "target", "interpreter"})
_DISTRIBUTION = frozenset({"name", "version", "location", "metadata"})
_PROVIDER = frozenset({"ecosystem", "name", "version", "where", "listed_in"})
_ENVIRONMENT = frozenset({"key", "interpreter", "venv", "user_site"})


def evidence_text(evidence: JsonObject) -> Text:
    """The evidence as labelled lines, one fact a line; ``layer`` and ``instruction`` are left out."""
    text = Text()
    fields = {key: value for key, value in evidence.items() if key not in SHOWN_ELSEWHERE}
    _object_fields(text, fields, indent=1, depth=0)
    if "ld_library_path" in evidence and "soname" in evidence and not evidence.get("searched"):
        _line(text, 1, "ld.so searches", LIBRARY_SEARCH)
    return text


def raw_evidence(evidence: JsonObject) -> str:
    return json.dumps(evidence, indent=2, sort_keys=True)


def phrase(value: JsonValue) -> str | None:
    """One of the report's shared facts in words, or None when ``value`` is not one."""
    if not isinstance(value, Mapping):
        return None
    keys = frozenset(value)
    if {"type", "mode"} <= keys <= _ENTRY:
        return _entry_phrase(value)
    if {"uid", "home"} <= keys <= _USER:
        groups = ", ".join(str(g) for g in _items(value.get("groups")))
        name = value.get("name") or value.get("user") or "root"
        ids = f"uid {value.get('uid')}, gid {value.get('gid')}, groups {groups or '-'}"
        return f"{name} ({ids}, home {value.get('home')})"
    if {"via", "real_path"} <= keys <= _RESOLUTION:
        if value.get("path") is None:
            return "not found"
        real = value.get("real_path")
        real_file = f", real file {real}" if real and real != value.get("path") else ""
        return f"{value.get('path')}{real_file}, found via {value.get('via')}"
    if {"where", "ecosystem"} <= keys <= _PROVIDER:
        listed = f", listed in {value['listed_in']}" if value.get("listed_in") else ""
        package = f"{value.get('ecosystem')} {value.get('name')} {value.get('version')}"
        return f"{package} in {value.get('where')}{listed}"
    if keys == _COMMAND:
        target = value.get("target")
        to = f"{ARROW}{target}" if target and target != value.get("path") else ""
        run_by = f", run by {value['interpreter']}" if value.get("interpreter") else ""
        return f"{value.get('path')}{to}{run_by}"
    if {"name", "version", "location"} <= keys <= _DISTRIBUTION:
        return f"{value.get('name')} {value.get('version')} in {value.get('location')}"
    if {"key", "interpreter"} <= keys <= _ENVIRONMENT:
        where = f"the venv {value['venv']}" if value.get("venv") else f"{value.get('interpreter')}"
        site = f" (user site {value['user_site']})" if value.get("user_site") else ""
        return where + site
    return None


def _entry_phrase(entry: Mapping[str, JsonValue]) -> str:
    words = [f"{entry.get('type')}, mode {entry.get('mode')}, owner {entry.get('uid')}:{entry.get('gid')}"]
    if entry.get("size") is not None:
        words.append(f"{entry.get('size')} bytes")
    if entry.get("link"):
        words.append(f"link to {entry.get('link')}")
    if entry.get("sha256"):
        words.append(f"sha256 {entry.get('sha256')}")
    if entry.get("xattrs"):
        words.append(f"xattrs {', '.join(str(name) for name in _mapping(entry.get('xattrs')))}")
    return ", ".join(words)


# --- objects and pairs -------------------------------------------------------------------------------------


def _pairs(fields: Mapping[str, JsonValue]) -> dict[str, tuple[str, str, tuple[str, str]]]:
    """Keys that belong together as before and after: first key -> (label, second key, side names)."""
    pairs: dict[str, tuple[str, str, tuple[str, str]]] = {}
    for key in fields:
        if key == "before" and "after" in fields:
            pairs[key] = ("", "after", ("before", "after"))
        elif key == "base" and "derived" in fields:
            pairs[key] = ("", "derived", ("base", "derived"))
        elif key.endswith("_before") and (stem := key.removesuffix("_before")) + "_after" in fields:
            pairs[key] = (stem, f"{stem}_after", ("before", "after"))
        elif key.endswith("_in_base") and (stem := key.removesuffix("_in_base")) in fields:
            pairs[key] = (stem, stem, ("in the base", "now"))
    return pairs


def _object_fields(text: Text, fields: Mapping[str, JsonValue], indent: int, depth: int) -> None:
    pairs = _pairs(fields)
    seconds = {second for _, second, _ in pairs.values()}
    shown = 0
    for key, value in fields.items():
        if key in seconds or key.endswith("_omitted"):
            continue
        if key not in pairs and value in (None, "", [], {}):
            continue
        if shown == MAX_FIELDS:
            _line(text, indent, "", f"… and {len(fields) - shown} more fields", style="dim")
            return
        shown += 1
        if key in pairs:
            label, second, sides = pairs[key]
            _pair(text, indent, label, value, fields.get(second), sides, depth)
        else:
            _field(text, indent, key, value, _omitted(fields, key), depth)


def _pair(
    text: Text,
    indent: int,
    label: str,
    before: JsonValue,
    after: JsonValue,
    sides: tuple[str, str],
    depth: int,
) -> None:
    words = _label(label)
    if before is None and after is None:
        if words:
            _line(text, indent, words, f"none in {sides[0]} or {sides[1]}" if sides[0] == "base" else "none")
        return
    if _is_entry(before) and _is_entry(after):
        _entry_pair(text, indent, words, before, after)  # type: ignore[arg-type]
        return
    old, new = _scalar(before), _scalar(after)
    if words and old is not None and new is not None and len(old) + len(new) <= 60:
        _line(text, indent, words, f"{old} (unchanged)" if old == new else f"{old}{ARROW}{new}")
        return
    if words:
        _line(text, indent, words, "")
        indent += 1
    for side, value in zip(sides, (before, after), strict=True):
        _field(text, indent, side, value, 0, depth + 1, label=side)


def _entry_pair(text: Text, indent: int, label: str, before: JsonObject, after: JsonObject) -> None:
    """Two file entries, field by field: what changed reads ``before → after``."""
    if label:
        _line(text, indent, label, "")
        indent += 1
    rows = [
        ("type", before.get("type"), after.get("type")),
        ("owner", f"{before.get('uid')}:{before.get('gid')}", f"{after.get('uid')}:{after.get('gid')}"),
        ("mode", before.get("mode"), after.get("mode")),
        ("size", before.get("size"), after.get("size")),
        ("link", before.get("link"), after.get("link")),
        ("sha256", before.get("sha256"), after.get("sha256")),
        ("xattrs", _scalar(before.get("xattrs")) or None, _scalar(after.get("xattrs")) or None),
    ]
    for name, old, new in rows:
        if old == new and name not in ("type", "owner", "mode"):
            continue  # the rest only when it changed
        if old == new:
            _line(text, indent, name, f"{old} (unchanged)")
        else:
            _line(text, indent, name, f"{_scalar(old)}{ARROW}{_scalar(new)}", style="bold")


def _field(
    text: Text, indent: int, key: str, value: JsonValue, omitted: int, depth: int, label: str | None = None
) -> None:
    words = _label(key) if label is None else label
    if value is None:
        _line(text, indent, words, "none")
        return
    described = phrase(value)
    if described is not None:
        _line(text, indent, words, described)
    elif isinstance(value, Mapping) and frozenset(value) == {"base", "derived"}:
        _pair(text, indent, key, value["base"], value["derived"], ("base", "derived"), depth)
    elif isinstance(value, Mapping):
        if depth >= MAX_DEPTH:
            _line(text, indent, words, json.dumps(value, sort_keys=True))
            return
        _line(text, indent, words, "")
        _object_fields(text, value, indent + 1, depth + 1)
    elif isinstance(value, list | tuple):
        _list(text, indent, key, words, value, omitted, depth)
    else:
        _line(text, indent, words, _scalar(value) or "")


def _list(
    text: Text, indent: int, key: str, words: str, items: Sequence[JsonValue], omitted: int, depth: int
) -> None:
    total = len(items) + omitted
    scalars = [_scalar(item) for item in items]
    short = all(s is not None and ", " not in s for s in scalars) and sum(len(s or "") for s in scalars) <= 60
    if key not in SEARCH_ORDER and total <= FIRST_ITEMS and short:
        _line(text, indent, words, ", ".join(s or "" for s in scalars))
        return
    _line(text, indent, f"{words} ({total})", "")
    for number, item in enumerate(items[:FIRST_ITEMS], start=1):
        marker = f"{number}." if key in SEARCH_ORDER else "-"
        described = phrase(item) or _scalar(item)
        if described is not None and len(described) <= 100:
            _line(text, indent + 1, "", f"{marker} {described}")
        elif isinstance(item, Mapping) and depth < MAX_DEPTH:
            _marked_object(text, indent + 1, marker, item, depth + 1)
        else:
            _line(text, indent + 1, "", f"{marker} {described or json.dumps(item, sort_keys=True)}")
    rest = total - min(len(items), FIRST_ITEMS)
    if rest:
        _line(text, indent + 1, "", f"… and {rest} more", style="dim")


def _marked_object(text: Text, indent: int, marker: str, item: Mapping[str, JsonValue], depth: int) -> None:
    """A list entry that is an object: its fields, the first on the marker's line."""
    fields = Text()
    _object_fields(fields, item, indent + 1, depth)
    text.append("  " * indent + marker + " ")
    text.append_text(fields[2 * (indent + 1) :])


# --- small pieces ------------------------------------------------------------------------------------------


def _line(text: Text, indent: int, label: str, value: str, style: str = "") -> None:
    text.append("  " * indent)
    if label:
        text.append(f"{label}: " if value else f"{label}:", style="bold")
    text.append(value, style=style)  # image text, never markup
    text.append("\n")


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " "))


def _scalar(value: Any) -> str | None:
    """A value that reads on one line: a string, a number, yes/no; a list of them joined by spaces."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list | tuple) and all(isinstance(item, str | int | float) for item in value):
        return " ".join(str(item) for item in value) if value else "none"
    if isinstance(value, Mapping) and all(isinstance(item, str | int | float) for item in value.values()):
        return ", ".join(f"{_label(k)} {_scalar(v)}" for k, v in value.items()) if value else "none"
    return None


def _is_entry(value: JsonValue) -> bool:
    return isinstance(value, Mapping) and {"type", "mode"} <= frozenset(value) <= _ENTRY


def _omitted(fields: Mapping[str, JsonValue], key: str) -> int:
    count = fields.get(f"{key}_omitted")
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def _items(value: JsonValue) -> Sequence[JsonValue]:
    return value if isinstance(value, list | tuple) else ()


def _mapping(value: JsonValue) -> Mapping[str, JsonValue]:
    return value if isinstance(value, Mapping) else {}
