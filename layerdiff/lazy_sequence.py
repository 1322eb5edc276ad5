"""Sequences whose items are made when they are read: a million-file layer, its changes and their report
entries are held as compact rows, and an item exists as an object only while someone looks at it."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

S = TypeVar("S")
T = TypeVar("T")


class LazySequence(Sequence[T]):
    """A read-only sequence of ``len(self)`` items, each made by ``_make`` when it is read; equal to any
    sequence of equal items."""

    __slots__ = ()

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def _make(self, index: int) -> T:
        """Item ``index``, which is in range."""

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[T]: ...

    def __getitem__(self, index: int | slice) -> T | Sequence[T]:
        if isinstance(index, slice):
            return tuple(self._make(number) for number in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._make(index)

    def __iter__(self) -> Iterator[T]:
        for index in range(len(self)):
            yield self._make(index)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        raise TypeError(f"a {type(self).__name__} is not hashable")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} items)"


class MappedSequence(LazySequence[T], Generic[S, T]):
    """``convert`` of each item of ``source``, in order; ``then`` adds a step."""

    __slots__ = ("_convert", "_source")

    def __init__(self, source: Sequence[S], convert: Callable[[S], T]) -> None:
        self._source = source
        self._convert = convert

    def then(self, step: Callable[[T], T]) -> MappedSequence[S, T]:
        convert = self._convert
        return MappedSequence(self._source, lambda item: step(convert(item)))

    def __len__(self) -> int:
        return len(self._source)

    def _make(self, index: int) -> T:
        return self._convert(self._source[index])

    def __iter__(self) -> Iterator[T]:
        convert = self._convert
        for item in self._source:
            yield convert(item)
