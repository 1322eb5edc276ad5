"""The shape of every document a source reads (image config, manifest, index, docker save's manifest.json),
checked once, where it is read, the way Go's encoding/json unmarshals it for docker.

A field of the wrong type is what docker refuses too (``json: cannot unmarshal number into Go struct
field``): a one-line error naming the field. What docker accepts is accepted as docker reads it: ``null``
as the field's zero value, a single string where docker takes a list of strings (``"Cmd": "run"``), and a
key spelled in another case (``"user"``), which Go's decoder matches to ``User``: that one with a warning,
since it is how a field is hidden from a reader that is not Go. Fields layerdiff does not read are kept
as they are, unchecked. Nothing downstream meets a type it does not expect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from layerdiff.errors import ImageError

_INT64 = 1 << 63


class Shape:
    """What a JSON value must be; ``check`` returns it as docker would read it, or raises ImageError."""

    name = "a JSON value"

    def check(self, value: Any, where: str, context: Context) -> Any:
        return value

    def zero(self) -> Any:
        return None


class Context:
    """Where a document came from, for messages, and the warnings its reading gave."""

    def __init__(self, what: str, warnings: list[str]) -> None:
        self.what = what
        self.warnings = warnings

    def wrong(self, where: str, value: Any, shape: Shape) -> ImageError:
        return ImageError(f"{self.what}: {where or 'the document'} is {_kind(value)}, not {shape.name}")


class _Scalar(Shape):
    """A JSON scalar of one Python type (``bool`` for true/false, which ``int`` would also take)."""

    def __init__(self, kind: type, name: str, zero: Any) -> None:
        self.kind = kind
        self.name = name
        self._zero = zero

    def check(self, value: Any, where: str, context: Context) -> Any:
        if not isinstance(value, self.kind):
            raise context.wrong(where, value, self)
        return value

    def zero(self) -> Any:
        return self._zero


class Str(_Scalar):
    def __init__(self) -> None:
        super().__init__(str, "a string", "")


class Bool(_Scalar):
    def __init__(self) -> None:
        super().__init__(bool, "true or false", False)


class Int(Shape):
    name = "a whole number"

    def __init__(self, minimum: int = -_INT64) -> None:
        self.minimum = minimum

    def check(self, value: Any, where: str, context: Context) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise context.wrong(where, value, self)
        if not self.minimum <= value < _INT64:
            raise ImageError(f"{context.what}: {where} is out of range ({value})")
        return value

    def zero(self) -> Any:
        return 0


class Object(Shape):
    """Any object: docker's ``map[string]struct{}`` values (ExposedPorts, Volumes)."""

    name = "an object"

    def check(self, value: Any, where: str, context: Context) -> Any:
        if not isinstance(value, dict):
            raise context.wrong(where, value, self)
        return value

    def zero(self) -> Any:
        return {}


class ListOf(Shape):
    def __init__(self, item: Shape) -> None:
        self.item = item
        self.name = f"a list of {_plural(item.name)}"

    def check(self, value: Any, where: str, context: Context) -> Any:
        if not isinstance(value, list):
            raise context.wrong(where, value, self)
        return [
            self.item.zero() if item is None else self.item.check(item, f"{where}[{i}]", context)
            for i, item in enumerate(value)
        ]

    def zero(self) -> Any:
        return []


class StrSlice(ListOf):
    """docker's strslice: a list of strings, or one string standing for a list of it alone."""

    def __init__(self) -> None:
        super().__init__(Str())

    def check(self, value: Any, where: str, context: Context) -> Any:
        return [value] if isinstance(value, str) else super().check(value, where, context)


class MapOf(Shape):
    def __init__(self, item: Shape) -> None:
        self.item = item
        self.name = f"an object of {_plural(item.name)}"

    def check(self, value: Any, where: str, context: Context) -> Any:
        if not isinstance(value, dict):
            raise context.wrong(where, value, self)
        return {
            key: self.item.zero() if item is None else self.item.check(item, f"{where}[{key!r}]", context)
            for key, item in value.items()
        }

    def zero(self) -> Any:
        return {}


class Struct(Shape):
    """A Go struct: known fields checked (matched as Go matches them, ignoring case), others kept."""

    name = "an object"

    def __init__(self, fields: Mapping[str, Shape]) -> None:
        self.fields = dict(fields)
        self._by_fold = {_fold(name): name for name in fields}

    def check(self, value: Any, where: str, context: Context) -> Any:
        if not isinstance(value, dict):
            raise context.wrong(where, value, self)
        result: dict[str, Any] = {}
        for key, item in value.items():
            name = self._by_fold.get(_fold(key))
            if name is None:
                result[key] = item
                continue
            place = f"{where}.{name}" if where else name
            if key != name:
                context.warnings.append(f"{context.what}: key {key!r} is read as {place}, as docker reads it")
            result[name] = None if item is None else self.fields[name].check(item, place, context)
        return result

    def zero(self) -> Any:
        return {}


def _fold(key: str) -> str:
    # Go matches a key to a field ignoring case, by Unicode simple folding: the Kelvin sign is a k, and the
    # long s an s
    return key.replace("\u212a", "k").replace("\u017f", "s").lower()


def _plural(name: str) -> str:
    if name == "true or false":
        return "booleans"
    return name.removeprefix("a ").removeprefix("an ") + "s"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null"


HEALTHCHECK = Struct(
    {
        "Test": ListOf(Str()),
        "Interval": Int(),
        "Timeout": Int(),
        "StartPeriod": Int(),
        "StartInterval": Int(),
        "Retries": Int(),
    }
)
RUNTIME_CONFIG = Struct(
    {
        "User": Str(),
        "Env": ListOf(Str()),
        "Entrypoint": StrSlice(),
        "Cmd": StrSlice(),
        "Shell": StrSlice(),
        "WorkingDir": Str(),
        "StopSignal": Str(),
        "Healthcheck": HEALTHCHECK,
        "Labels": MapOf(Str()),
        "ExposedPorts": MapOf(Object()),
        "Volumes": MapOf(Object()),
        "OnBuild": ListOf(Str()),
        "ArgsEscaped": Bool(),
    }
)
HISTORY_ENTRY = Struct(
    {"created": Str(), "author": Str(), "created_by": Str(), "comment": Str(), "empty_layer": Bool()}
)
IMAGE_CONFIG = Struct(
    {
        "architecture": Str(),
        "os": Str(),
        "variant": Str(),
        "os.version": Str(),
        "os.features": ListOf(Str()),
        "created": Str(),
        "author": Str(),
        "config": RUNTIME_CONFIG,
        "rootfs": Struct({"type": Str(), "diff_ids": ListOf(Str())}),
        "history": ListOf(HISTORY_ENTRY),
    }
)
PLATFORM = Struct(
    {
        "architecture": Str(),
        "os": Str(),
        "os.version": Str(),
        "os.features": ListOf(Str()),
        "variant": Str(),
    }
)
DESCRIPTOR = Struct(
    {
        "mediaType": Str(),
        "digest": Str(),
        "size": Int(minimum=0),
        "urls": ListOf(Str()),
        "annotations": MapOf(Str()),
        "platform": PLATFORM,
        "artifactType": Str(),
    }
)
# One shape for manifests and indexes: which one a document is, is decided from what it holds
MANIFEST_OR_INDEX = Struct(
    {
        "schemaVersion": Int(),
        "mediaType": Str(),
        "config": DESCRIPTOR,
        "layers": ListOf(DESCRIPTOR),
        "manifests": ListOf(DESCRIPTOR),
        "subject": DESCRIPTOR,
        "annotations": MapOf(Str()),
    }
)
ARCHIVE_MANIFEST = ListOf(
    Struct(
        {
            "Config": Str(),
            "RepoTags": ListOf(Str()),
            "Layers": ListOf(Str()),
            "Parent": Str(),
            "LayerSources": MapOf(DESCRIPTOR),
        }
    )
)


def checked(value: Any, shape: Shape, what: str, warnings: list[str]) -> Any:
    """``value`` as docker reads it, or an ImageError naming the first field of the wrong type."""
    return shape.check(value, "", Context(what, warnings))
