"""What a fuzz target is: a name, a strategy of inputs, and what runs on one input."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hypothesis import strategies as st

from tests.fuzz.images import Artifact


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    inputs: st.SearchStrategy[Artifact]
    run: Callable[[Artifact, Path], object]  # the input, and a private scratch directory to write it to
    ci_examples: int  # inputs in the bounded CI run: together about two minutes on two cores
