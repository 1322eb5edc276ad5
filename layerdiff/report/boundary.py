"""The one boundary every report passes on its way out of the core: each string in it, wherever it sits
(paths, link targets, instructions, history, ENV, labels, evidence, warnings, package names), has its
credentials redacted and its control characters and terminal escapes neutralised. The renderers and the
review app only ever see what comes out of here, so none of them has to remember to.

The walk is driven by the dataclass fields, as the JSON codec is: a new field of the report is covered
without a line here. Fields marked ``FORMATTED`` (modes, digests, change kinds: written by layerdiff, never
image text) are passed over; the report loader checks their form instead.

Two places know more than a string: an ENV variable or a label is judged by its name as well as its value,
and a file change keeps its raw path bytes (``path_hex``) when escaping changed the path, unless redaction
did (the bytes would give the credential back).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from layerdiff.lazy_sequence import MappedSequence
from layerdiff.report.codec import Wire, field_shape
from layerdiff.report.wire import ConfigChange, FileChange, ImageConfig
from layerdiff.text.redaction import Redactor
from layerdiff.text.terminal import UNSAFE_IN_TEXT, safe_text

W = TypeVar("W", bound=Wire)
_Clean = Callable[[Any, "_Boundary"], Any]
_KEYED_FIELDS = ("Env", "Labels")  # config changes whose key names what the value is


def clean_report(report: W, redactor: Redactor) -> W:
    """``report`` (a Report or an Inspection) with every string made safe to leave the core."""
    cleaned: W = _Boundary(redactor).value(report)
    return cleaned


def clean_document(document: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A free-form JSON document (``sbom-diff``'s) with every key and string made safe to leave the core."""
    cleaned: dict[str, Any] = _Boundary(redactor).json(document)
    return cleaned


class _Boundary:
    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def text(self, text: str) -> str:
        if UNSAFE_IN_TEXT.search(text) is None and not self.redactor.may_cut(text):
            return text  # the common string (a path, a version): nothing to cut or escape
        return safe_text(self.redactor.text(text))

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(key): self.json(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        return value

    def keyed(self, name: str, value: Any) -> Any:
        """An ENV or label value, judged by its name too."""
        if isinstance(value, str):
            return safe_text(self.redactor.named_value(name, value))
        return self.json(value)

    def value(self, item: Wire) -> Any:
        return _cleaner(type(item))(item, self)


_cleaners: dict[type, _Clean] = {}


def _cleaner(cls: type) -> _Clean:
    found = _cleaners.get(cls)
    if found is not None:
        return found
    steps = [
        (field.name, step)
        for field in dataclasses.fields(cls)
        if not field.metadata.get("formatted") and (step := _field_cleaner(field.type)) is not None
    ]
    special = _SPECIAL.get(cls)

    def clean(item: Any, boundary: _Boundary) -> Any:
        changes = {}
        for name, step in steps:
            value = getattr(item, name)
            if value is not None:
                cleaned = step(value, boundary)
                # a sequence made as it is read is cleaned as it is read: comparing would make every item
                if cleaned is not value and (isinstance(cleaned, MappedSequence) or cleaned != value):
                    changes[name] = cleaned
        if special is not None:
            changes = special(item, changes, boundary)
        return dataclasses.replace(item, **changes) if changes else item

    _cleaners[cls] = clean
    return clean


def _field_cleaner(annotation: Any) -> _Clean | None:
    """How to clean a field of this type; None for fields that hold no text (numbers, booleans)."""
    kind, item = field_shape(annotation)
    if kind == "scalar":
        return (lambda value, boundary: boundary.text(value)) if item is str else None
    if kind == "json":
        return lambda value, boundary: boundary.json(value)
    if kind == "class":
        return lambda value, boundary: boundary.value(value)
    inner = _field_cleaner(item)
    if kind == "pairs":
        return lambda value, boundary: tuple(
            (boundary.text(key), inner(v, boundary) if inner else v) for key, v in value
        )
    if inner is None:
        return None

    def array(value: Any, boundary: _Boundary) -> Any:
        if isinstance(value, MappedSequence):
            return value.then(lambda item: inner(item, boundary))
        return tuple([inner(v, boundary) for v in value])

    return array


def _config_change(item: ConfigChange, changes: dict[str, Any], boundary: _Boundary) -> dict[str, Any]:
    if item.field in _KEYED_FIELDS and item.key:
        changes["before"] = boundary.keyed(item.key, item.before)
        changes["after"] = boundary.keyed(item.key, item.after)
    return changes


def _file_change(item: FileChange, changes: dict[str, Any], boundary: _Boundary) -> dict[str, Any]:
    path = changes.get("path")
    if path is None:
        return changes
    if boundary.redactor.text(item.path) != item.path:
        changes["path_hex"] = None  # the raw bytes would give the credential back
    elif item.path_hex is None:
        changes["path_hex"] = item.path.encode("utf-8", "surrogateescape").hex()
    return changes


def _image_config(item: ImageConfig, changes: dict[str, Any], boundary: _Boundary) -> dict[str, Any]:
    env = []
    for entry in item.env:
        name, sep, value = entry.partition("=")
        env.append(f"{boundary.text(name)}={boundary.keyed(name, value)}" if sep else boundary.text(entry))
    changes["env"] = tuple(env)
    changes["labels"] = {boundary.text(key): boundary.keyed(key, value) for key, value in item.labels.items()}
    return changes


_SPECIAL: dict[type, Callable[[Any, dict[str, Any], _Boundary], dict[str, Any]]] = {
    ConfigChange: _config_change,
    FileChange: _file_change,
    ImageConfig: _image_config,
}
