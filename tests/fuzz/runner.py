"""A developer's longer fuzz run: new random inputs until the time is up, every outcome counted, every
distinct escape printed once with the input that showed it saved to disk."""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import given, seed

from tests.fuzz import test_regressions
from tests.fuzz.images import Artifact
from tests.fuzz.known import KNOWN
from tests.fuzz.outcome import Outcome, matches, run_input
from tests.fuzz.profiles import explore_settings
from tests.fuzz.target import Target
from tests.fuzz.targets import TARGETS

assert test_regressions  # imported for its escapes() marks, which fill KNOWN
BATCH = 100  # inputs per hypothesis run; each run has its own seed


class _TimeUp(Exception):
    pass


@dataclass
class Found:
    target: str
    where: str
    saved: Path
    count: int = 1


@dataclass
class Stats:
    runs: int = 0
    errors: int = 0  # layerdiff errors: the expected way to refuse an input
    escapes: int = 0
    seconds: float = 0.0


@dataclass
class Run:
    save_dir: Path
    stats: dict[str, Stats] = field(default_factory=dict)
    found: dict[str, Found] = field(default_factory=dict)

    def record(self, target: Target, artifact: Artifact, outcome: Outcome) -> None:
        stats = self.stats.setdefault(target.name, Stats())
        stats.runs += 1
        stats.errors += outcome.refused
        escape = outcome.escape
        if escape is None:
            return
        stats.escapes += 1
        if escape.signature in self.found:
            self.found[escape.signature].count += 1
            return
        saved = self.save_dir / f"{len(self.found) + 1:03d}-{_slug(escape.signature)}"
        saved.mkdir(parents=True)
        artifact.write(saved)
        (saved / "traceback.txt").write_text("".join(traceback.format_exception(escape.error)))
        self.found[escape.signature] = Found(target.name, escape.where, saved)
        known = "known" if matches(escape.signature, KNOWN) else "NEW"
        print(f"{known:5} {target.name}: {escape.signature} at {escape.where} (input in {saved})", flush=True)


def _slug(signature: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", signature).strip("-")[:80]


def fuzz_target(run: Run, target: Target, seconds: float, base_seed: int) -> None:
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    current: list[Artifact] = []

    def save_hang() -> None:
        if current:
            hang = run.save_dir / f"hang-{target.name}"
            hang.mkdir(parents=True, exist_ok=True)
            current[0].write(hang)
            print(f"HANG  {target.name}: input in {hang}", flush=True)

    def one(artifact: Artifact) -> None:
        if time.monotonic() > deadline:
            raise _TimeUp
        current[:] = [artifact]
        with tempfile.TemporaryDirectory(prefix="layerdiff-fuzz-") as scratch:
            outcome = run_input(lambda: target.run(artifact, Path(scratch)), on_hang=save_hang)
        run.record(target, artifact, outcome)

    batch = 0
    while time.monotonic() < deadline:
        batch += 1
        test = explore_settings(BATCH)(given(target.inputs)(one))
        try:
            seed(hash((base_seed, target.name, batch)) % (1 << 32))(test)()
        except _TimeUp:
            break
    run.stats.setdefault(target.name, Stats()).seconds = time.monotonic() - started


def report(run: Run) -> None:
    print(f"\n{'target':16} {'runs':>8} {'seconds':>8} {'inputs/s':>9} {'refused':>8} {'escapes':>8}")
    for name, stats in run.stats.items():
        rate = stats.runs / stats.seconds if stats.seconds else 0.0
        print(f"{name:16} {stats.runs:8} {stats.seconds:8.1f} {rate:9.1f} {stats.errors:8} {stats.escapes:8}")
    total = sum(s.runs for s in run.stats.values())
    print(f"{'all':16} {total:8}")
    print(f"\n{len(run.found)} distinct escape signatures")
    for signature, found in sorted(run.found.items()):
        known = "known" if matches(signature, KNOWN) else "NEW"
        print(
            f"  {known:5} {signature}  [{found.target}, {found.count}x, at {found.where}]\n"
            f"        {found.saved}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="total time, shared among the targets")
    parser.add_argument(
        "--target", action="append", choices=sorted(TARGETS), help="only this one (repeatable)"
    )
    parser.add_argument("--seed", type=int, default=None, help="make the run repeatable")
    parser.add_argument(
        "--save", type=Path, default=None, help="where failing inputs go (default: a new temp dir)"
    )
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    options = parser.parse_args(argv)
    if options.list:
        for name, target in TARGETS.items():
            print(f"{name:16} {target.description}")
        return 0
    names = options.target or list(TARGETS)
    base_seed = options.seed if options.seed is not None else random.randrange(1 << 32)
    save_dir = options.save or Path(tempfile.mkdtemp(prefix="layerdiff-fuzz-found-"))
    print(
        f"fuzzing {', '.join(names)} for {options.seconds:g} s (seed {base_seed}); "
        f"inputs that escape go to {save_dir}"
    )
    run = Run(save_dir)
    try:
        for name in names:
            fuzz_target(run, TARGETS[name], options.seconds / len(names), base_seed)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
    report(run)
    new = [s for s in run.found if not matches(s, KNOWN)]
    return 1 if new else 0
