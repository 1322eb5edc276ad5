"""Conversion between the report's dataclasses and their JSON form, driven by the dataclass fields alone.

The mapping is fixed by the field types, so that a new field needs no conversion code:

- every attribute is the JSON key of the same name; a field with a default (``path_hex``) is an optional key,
  absent when the value is None;
- a nested dataclass is a JSON object, ``tuple[X, ...]`` a JSON array, ``X | None`` a nullable value;
- ``tuple[tuple[str, X], ...]`` is a JSON object kept as its pairs (extended attributes: one tuple instead
  of a dict per file entry);
- ``JsonValue`` and ``Mapping[str, JsonValue]`` are free-form JSON (evidence, labels, a HEALTHCHECK), copied
  in and out so that the model never shares them with its input.

Fields marked ``SHARED`` hold few distinct values (a file's type, mode, uid; the list of changed fields): one
object per distinct value is kept, which matters for a million file changes.

Conversion does not validate: ``layerdiff.report.load`` checks a saved report before it is converted.
"""

import dataclasses
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self, TypeAlias, Union, get_args, get_origin

# Free-form JSON as the model hands it out: read-only by type (the values are plain lists and dicts).
JsonValue: TypeAlias = str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
JsonObject: TypeAlias = Mapping[str, JsonValue]

SHARED: Mapping[str, bool] = types.MappingProxyType({"shared": True})
"""Field metadata: the field has few distinct values, one object per value is kept."""

_Cache = dict[Any, Any]
_Decode = Callable[[Any, _Cache], Any]
_Encode = Callable[[Any], Any]
_PRIMITIVES = (str, int, float, bool)
_decoders: dict[type, _Decode] = {}
_encoders: dict[type, _Encode] = {}


class Wire:
    """Base of the report's dataclasses: ``to_json`` and ``from_json`` for any of them."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        encoded: dict[str, Any] = _class_encoder(type(self))(self)
        return encoded

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        decoded: Self = _class_decoder(cls)(data, {})
        return decoded


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and scalars), tuples becoming lists."""
    if isinstance(value, Mapping):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [copy_json(item) for item in value]
    return value


def _class_decoder(cls: type) -> _Decode:
    decoder = _decoders.get(cls)
    if decoder is not None:
        return decoder
    steps = [
        (field.name, _decoder(field.type), bool(field.metadata.get("shared")), _optional(field))
        for field in dataclasses.fields(cls)
    ]

    def decode(data: Mapping[str, Any], cache: _Cache) -> Any:
        values = []
        for name, convert, shared, optional in steps:
            value = data.get(name) if optional else data[name]
            if value is not None:
                if convert is not None:
                    value = convert(value, cache)
                if shared:
                    value = cache.setdefault(value, value)
            values.append(value)
        return cls(*values)

    _decoders[cls] = decode
    return decode


def _class_encoder(cls: type) -> _Encode:
    encoder = _encoders.get(cls)
    if encoder is not None:
        return encoder
    steps = [(field.name, _encoder(field.type), _optional(field)) for field in dataclasses.fields(cls)]

    def encode(item: Any) -> dict[str, Any]:
        data = {}
        for name, convert, optional in steps:
            value = getattr(item, name)
            if value is None:
                if optional:
                    continue
            elif convert is not None:
                value = convert(value)
            data[name] = value
        return data

    _encoders[cls] = encode
    return encode


def _optional(field: dataclasses.Field[Any]) -> bool:
    return field.default is not dataclasses.MISSING


def _decoder(annotation: Any) -> _Decode | None:
    """How to convert a JSON value to ``annotation`` (None: as it is). Nulls never reach a converter."""
    kind, item = _shape(annotation)
    if kind == "scalar":
        return None
    if kind == "json":
        return lambda value, _cache: copy_json(value)
    if kind == "class":
        return _class_decoder(item)
    if kind == "pairs":
        convert_value = _decoder(item)
        if convert_value is None:
            return lambda value, _cache: tuple(value.items())
        return lambda value, cache: tuple((key, convert_value(v, cache)) for key, v in value.items())
    convert = _decoder(item)
    if convert is None:
        return lambda value, _cache: tuple(value)
    return lambda value, cache: tuple([convert(v, cache) for v in value])


def _encoder(annotation: Any) -> _Encode | None:
    kind, item = _shape(annotation)
    if kind == "scalar":
        return None
    if kind == "json":
        return copy_json
    if kind == "class":
        return _class_encoder(item)
    if kind == "pairs":
        convert_value = _encoder(item)
        if convert_value is None:
            return dict
        return lambda value: {key: convert_value(v) for key, v in value}
    convert = _encoder(item)
    if convert is None:
        return list
    return lambda value: [convert(v) for v in value]


def _shape(annotation: Any) -> tuple[str, Any]:
    """(kind, item type) of a field type: scalar, json, class, pairs (a JSON object as a tuple of pairs) or
    array."""
    if annotation is JsonValue:
        return "json", None
    origin = get_origin(annotation)
    if origin in (types.UnionType, Union):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        return _shape(members[0])
    if origin is Mapping:
        return "json", None
    if origin is tuple:
        item, ellipsis = get_args(annotation)
        if ellipsis is not Ellipsis:
            raise TypeError(f"unsupported tuple {annotation!r}: expected tuple[X, ...]")
        if get_origin(item) is tuple:
            key, value = get_args(item)
            if key is not str:
                raise TypeError(f"unsupported pairs {annotation!r}")
            return "pairs", value
        return "array", item
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        return "class", annotation
    if annotation in _PRIMITIVES:
        return "scalar", None
    raise TypeError(f"unsupported field type {annotation!r}")
