"""Conversion between the report's dataclasses and their JSON form, driven by the dataclass fields alone.

The mapping is fixed by the field types, so that a new field needs no conversion code:

- every attribute is the JSON key of the same name; a field with a default (``path_hex``, a file change's
  ``before``) is an optional key, absent when the value is its default (None, or an empty array);
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

from layerdiff.gc_pause import paused_collector

# Free-form JSON as the model hands it out: read-only by type (the values are plain lists and dicts).
JsonValue: TypeAlias = str | int | float | bool | Sequence["JsonValue"] | Mapping[str, "JsonValue"] | None
JsonObject: TypeAlias = Mapping[str, JsonValue]

SHARED: Mapping[str, bool] = types.MappingProxyType({"shared": True})
"""Field metadata: the field has few distinct values, one object per value is kept."""
FORMATTED: Mapping[str, bool] = types.MappingProxyType({"formatted": True})
"""Field metadata: a value layerdiff writes itself from numbers or a fixed vocabulary (a mode, a digest, a
change kind), never image text: the output boundary passes it over, and the report loader checks its form."""
SHARED_FORMATTED: Mapping[str, bool] = types.MappingProxyType({"shared": True, "formatted": True})

_Cache = dict[Any, Any]
_Decode = Callable[[Any, _Cache], Any]
_Encode = Callable[[Any], Any]
_PRIMITIVES = (str, int, float, bool)
_decoders: dict[type, _Decode] = {}
_encoders: dict[type, _Encode] = {}


class Wire:
    """Base of the report's dataclasses: ``to_json`` and ``from_json`` for any of them, and
    ``from_attributes`` to make one from a fact whose attributes bear the fields' names."""

    __slots__ = ()

    def to_json(self) -> dict[str, Any]:
        with paused_collector():  # every object made lives on: the collector's passes would find nothing
            encoded: dict[str, Any] = _class_encoder(type(self))(self)
        return encoded

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        with paused_collector():
            decoded: Self = _class_decoder(cls)(data, {})
        return decoded

    @classmethod
    def from_attributes(cls, source: object, **values: Any) -> Self:
        """An instance of ``values`` and, for every other field, the attribute of that name of ``source`` (a
        fact the report shows as it is), both taken without conversion."""
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        return cls(**{f.name: getattr(source, f.name) for f in fields if f.name not in values}, **values)


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists and scalars), tuples becoming lists."""
    if isinstance(value, Mapping):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [copy_json(item) for item in value]
    return value


def _class_decoder(cls: type) -> _Decode:
    decoder = _decoders.get(cls)
    if decoder is None:
        names = _Names()
        arguments = [_field_decoding(field, names) for field in dataclasses.fields(cls)]
        body = f"return cls({', '.join(arguments)})"
        decoder = _decoders[cls] = _compile("data, cache", body, {"cls": cls, **names.namespace})
    return decoder


def _class_encoder(cls: type) -> _Encode:
    encoder = _encoders.get(cls)
    if encoder is None:
        names = _Names()
        required, optional = [], []
        for field in dataclasses.fields(cls):
            value = names.variable()
            expression = _conversion(field.type, value, names, decoding=False)
            if _optional(field):
                present = "is not None" if field.default is None else ""  # else: a tuple, absent when empty
                optional.append(
                    f"if ({value} := item.{field.name}) {present}: data[{field.name!r}] = {expression}"
                )
            else:
                required.append(f"{field.name!r}: {_nullable(value, f'item.{field.name}', expression)}")
        body = "\n".join([f"data = {{{', '.join(required)}}}", *optional, "return data"])
        encoder = _encoders[cls] = _compile("item", body, names.namespace)
    return encoder


def _field_decoding(field: dataclasses.Field[Any], names: "_Names") -> str:
    if not _optional(field):
        source = f"data[{field.name!r}]"
    elif field.default is None:
        source = f"data.get({field.name!r})"
    else:  # an array (or a JSON object of pairs) absent when empty
        empty = "{}" if field_shape(field.type)[0] == "pairs" else "()"
        source = f"data.get({field.name!r}, {empty})"
    value = names.variable()
    expression = _conversion(field.type, value, names, decoding=True)
    if field.metadata.get("shared"):
        if expression == value:
            return f"cache.setdefault({value} := {source}, {value})"
        converted = names.variable()
        expression = f"cache.setdefault({converted} := {expression}, {converted})"
    return _nullable(value, source, expression)


def _nullable(value: str, source: str, expression: str) -> str:
    """``expression`` of ``value`` (read from ``source``), None staying None."""
    if expression == value:
        return source
    return f"(None if ({value} := {source}) is None else {expression})"


def _conversion(annotation: Any, value: str, names: "_Names", decoding: bool) -> str:
    """The expression that converts the value named ``value`` of type ``annotation``, from JSON when
    ``decoding``, else to JSON. Decoded arrays and pairs are tuples; encoded ones lists and dicts."""
    kind, item = field_shape(annotation)
    if kind == "scalar":
        return value
    if kind == "json":
        return f"copy_json({value})"
    if kind == "class":
        if decoding:
            return f"{names.constant(_class_decoder(item))}({value}, cache)"
        return f"{names.constant(_class_encoder(item))}({value})"
    element = names.variable()
    converted = _conversion(item, element, names, decoding)
    as_it_is = converted == element
    if kind == "pairs" and decoding:
        if as_it_is:
            return f"tuple({value}.items())"
        return f"tuple([(key, {converted}) for key, {element} in {value}.items()])"
    if kind == "pairs":
        return f"dict({value})" if as_it_is else f"{{key: {converted} for key, {element} in {value}}}"
    if decoding:
        return f"tuple({value})" if as_it_is else f"tuple([{converted} for {element} in {value}])"
    return f"list({value})" if as_it_is else f"[{converted} for {element} in {value}]"


class _Names:
    """Fresh variable names, and the functions a generated converter calls."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"copy_json": copy_json}
        self._count = 0

    def variable(self) -> str:
        self._count += 1
        return f"v{self._count}"

    def constant(self, value: Any) -> str:
        name = f"f{len(self.namespace)}"
        self.namespace[name] = value
        return name


def _compile(parameters: str, body: str, namespace: dict[str, Any]) -> Any:
    # Generated per class, as dataclasses generates __init__: a report can hold a million file changes, and
    # a loop over each object's fields would be the better part of the conversion's time.
    source = f"def convert({parameters}):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    exec(source, namespace)  # the source names dataclass fields only
    return namespace["convert"]


def _optional(field: dataclasses.Field[Any]) -> bool:
    return field.default is not dataclasses.MISSING


def field_shape(annotation: Any) -> tuple[str, Any]:
    """(kind, item type) of a field type: scalar, json, class, pairs (a JSON object as a tuple of pairs) or
    array."""
    if annotation is JsonValue:
        return "json", None
    origin = get_origin(annotation)
    if origin in (types.UnionType, Union):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {annotation!r}")
        return field_shape(members[0])
    if origin is Mapping:
        return "json", None
    if origin is Sequence:  # read as a tuple; written from any sequence (one made as it is read)
        return "array", get_args(annotation)[0]
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
        return "scalar", annotation
    raise TypeError(f"unsupported field type {annotation!r}")
