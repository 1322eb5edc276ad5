"""What one fuzz input did: returned, raised a layerdiff error (both fine), or escaped with another
exception, named by its signature; and the bounds every input runs under (time, memory, file size)."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import resource
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import layerdiff
from layerdiff.errors import LayerdiffError

PACKAGE_DIR = Path(layerdiff.__file__).resolve().parent
INPUT_SECONDS = 10.0  # an input that takes longer has hung or blown up
MEMORY_BYTES = 2 << 30  # on top of what the process already uses
FILE_BYTES = 256 << 20  # no file any input makes (SQLite's temporary files included) may grow past this


class InputTimeout(Exception):
    """Raised in the target's own frame when an input runs past INPUT_SECONDS."""


@dataclass(frozen=True)
class Escape:
    """An exception that is not a layerdiff error."""

    signature: str  # exception type and the innermost layerdiff frame: "TypeError @ layerdiff/x.py:func"
    where: str  # that frame's file and line, for the report
    error: BaseException


def signature_of(error: BaseException) -> Escape:
    frames = traceback.extract_tb(error.__traceback__)
    frame = _innermost_layerdiff_frame(frames)
    if frame is None:
        where = function = "<no layerdiff frame>"
        module = ""
    else:
        module = Path(frame.filename).resolve().relative_to(PACKAGE_DIR.parent).as_posix()
        function = frame.name
        where = f"{module}:{frame.lineno}"
        if frames and frames[-1] is not frame and not isinstance(error, InputTimeout):
            where += f", raised in {Path(frames[-1].filename).name}:{frames[-1].lineno} {frames[-1].name}"
    name = type(error).__name__
    return Escape(f"{name} @ {module}:{function}" if module else f"{name} @ {function}", where, error)


def _innermost_layerdiff_frame(frames: traceback.StackSummary) -> traceback.FrameSummary | None:
    found = None
    for frame in frames:
        if Path(frame.filename).resolve().is_relative_to(PACKAGE_DIR):
            found = frame
    return found


def matches(signature: str, patterns: Iterator[str] | tuple[str, ...] | list[str]) -> str | None:
    """The first known pattern (fnmatch, so ``InputTimeout @ layerdiff/fs/*`` names a module) it matches."""
    return next((p for p in patterns if fnmatch.fnmatchcase(signature, p)), None)


@dataclass(frozen=True)
class Outcome:
    refused: bool = False  # a layerdiff error: the expected way to turn an input down
    escape: Escape | None = None


def run_input(target: Callable[[], object], on_hang: Callable[[], None] | None = None) -> Outcome:
    """Run one input under the bounds. ``on_hang`` runs (in another thread) before the watchdog ends the
    process, to keep the input that hung."""
    try:
        with bounded(on_hang=on_hang):
            target()
    except LayerdiffError:
        return Outcome(refused=True)
    except Exception as error:
        return Outcome(escape=signature_of(error))
    return Outcome()


@contextlib.contextmanager
def bounded(seconds: float = INPUT_SECONDS, on_hang: Callable[[], None] | None = None) -> Iterator[None]:
    """Time (SIGALRM in the main thread: an InputTimeout where the input is stuck), address space and file
    size limits, each restored afterwards; a watchdog ends the process when C code ignores the alarm."""
    with (
        _limit(resource.RLIMIT_AS, _address_space() + MEMORY_BYTES),
        _limit(resource.RLIMIT_FSIZE, FILE_BYTES),
        _alarm(seconds),
        _watchdog(seconds * 6, on_hang),
    ):
        yield


@contextlib.contextmanager
def _limit(which: int, soft: int) -> Iterator[None]:
    old_soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(which, (soft, hard))
    try:
        yield
    finally:
        resource.setrlimit(which, (old_soft, hard))


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _on_alarm(signum: int, frame: object) -> None:
    raise InputTimeout(f"the input ran for more than {INPUT_SECONDS:g} s")


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach the main thread only; the deadline and the watchdog still apply
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    old_xfsz = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past FILE_BYTES fails, not the process
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        signal.signal(signal.SIGXFSZ, old_xfsz)


@contextlib.contextmanager
def _watchdog(seconds: float, on_hang: Callable[[], None] | None) -> Iterator[None]:
    done = threading.Event()

    def watch() -> None:
        if not done.wait(seconds):
            if on_hang is not None:
                on_hang()
            os.write(2, f"fuzz: an input ran for {seconds:g} s inside C code; stopping\n".encode())
            os._exit(70)

    thread = threading.Thread(target=watch, name="fuzz-watchdog", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
