"""Hypothesis settings for the fuzz targets. ``ci`` (the default) is the bounded, reproducible run the test
suite makes: derandomized, no example database, each target's own number of inputs. ``dev`` explores: new
random inputs on every run, ten times as many. Chosen with HYPOTHESIS_PROFILE=ci|dev."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, Phase, settings

from tests.fuzz.outcome import INPUT_SECONDS
from tests.fuzz.target import Target

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
SCALE = {"ci": 1, "dev": 10}

_COMMON = settings(
    database=None,
    # inputs are large and slow by design; the per-input bound is what matters
    suppress_health_check=list(HealthCheck),
    # the alarm in outcome.bounded() ends a slow input first; this catches C code that ignored it
    deadline=timedelta(seconds=2 * INPUT_SECONDS),
    print_blob=True,
)
# no shrinking in CI: a new escape fails the run at once, with the blob that reproduces it (print_blob)
settings.register_profile(
    "ci", _COMMON, derandomize=True, phases=[Phase.explicit, Phase.reuse, Phase.generate]
)
settings.register_profile("dev", _COMMON, derandomize=False)


def profile_name() -> str:
    name = os.environ.get(PROFILE_VARIABLE, "ci")
    return name if name in SCALE else "ci"


def target_settings(target: Target) -> settings:
    name = profile_name()
    return settings(settings.get_profile(name), max_examples=target.ci_examples * SCALE[name])


def explore_settings(max_examples: int) -> settings:
    """One batch of a developer's run (tests/fuzz/runner.py): new random inputs, no shrinking (each escape
    is saved as it happens), and the per-input bound in place of a deadline."""
    return settings(
        settings.get_profile("dev"), max_examples=max_examples, phases=[Phase.generate], deadline=None
    )
