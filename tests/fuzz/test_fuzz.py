"""The bounded fuzz run: every target, a fixed number of derandomized inputs each (HYPOTHESIS_PROFILE=dev
for new random ones). Fails on an escape whose signature is not a known one (tests/fuzz/known.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given

from tests.fuzz import test_regressions
from tests.fuzz.images import Artifact
from tests.fuzz.known import KNOWN
from tests.fuzz.outcome import matches, run_input
from tests.fuzz.profiles import target_settings
from tests.fuzz.targets import TARGETS

pytestmark = pytest.mark.fuzz
assert test_regressions  # imported for its escapes() marks, which fill KNOWN


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target(name: str) -> None:
    target = TARGETS[name]

    @target_settings(target)
    @given(target.inputs)
    def check(artifact: Artifact) -> None:
        with tempfile.TemporaryDirectory(prefix="layerdiff-fuzz-") as scratch:
            escape = run_input(lambda: target.run(artifact, Path(scratch))).escape
        if escape is not None and matches(escape.signature, KNOWN) is None:
            raise AssertionError(f"{name}: {escape.signature} at {escape.where}") from escape.error

    check()
