"""Escapes the fuzzer has found that are not fixed yet. Each has a regression test in test_regressions.py,
marked with ``escapes(SIGNATURE)``: an expected failure (strict) that must fail with that very signature,
so the fix turns it into a failure that says to remove the mark, which also takes the signature off this
list. Until then the bounded CI run tolerates the signature, and fails on any other."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import pytest

from tests.fuzz.outcome import matches, signature_of

# signature patterns (fnmatch): "TypeError @ layerdiff/x.py:func", "InputTimeout @ layerdiff/fs/*"
KNOWN: list[str] = []

Test = TypeVar("Test", bound=Callable[..., None])


class EscapeReproduced(Exception):
    """The regression test failed the way its mark says."""


def escapes(signature: str, *same_bug: str) -> Callable[[Test], Test]:
    """Mark a regression test as reproducing the escape ``signature``, not fixed yet. ``same_bug``: other
    signatures the same bug shows under (where a recursion or a timeout happens to strike), tolerated by
    the fuzz run as well."""
    KNOWN.extend((signature, *same_bug))

    def mark(test: Test) -> Test:
        @functools.wraps(test)
        def reproduce(*args: Any, **kwargs: Any) -> None:
            try:
                test(*args, **kwargs)
            except Exception as error:
                actual = signature_of(error)
                if matches(actual.signature, (signature,)):
                    raise EscapeReproduced(f"{actual.signature} at {actual.where}") from error
                raise  # another failure than the one marked: a real one

        reason = f"not fixed yet: {signature} (remove this mark once fixed)"
        return cast(Test, pytest.mark.xfail(strict=True, raises=EscapeReproduced, reason=reason)(reproduce))

    return mark
