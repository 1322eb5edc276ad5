"""Memory per file change of the typed report model, against the parsed JSON it is read from.

    .venv/bin/python -m bench.model_memory [--changes 100000]

A synthetic report (the saved example with N file changes, bench.synthetic) is written as JSON text, then
read the way `layerdiff view` reads it: ``json.loads`` (the dict form), then ``Report.from_json`` (the
typed form). Each figure is what tracemalloc counts as still allocated once the form is built and
everything else is freed, divided by N; the rest of the report is a few kilobytes, nothing per change.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import tracemalloc

from bench.synthetic import synthetic_changes, synthetic_report
from layerdiff.gc_pause import paused_collector
from layerdiff.report.wire import EntryState, FileChange, Report


def _allocated() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def measure(text: str) -> tuple[int, int, int]:
    """Bytes held by the parsed JSON, by the typed report alone, and at the peak of the conversion (both)."""
    tracemalloc.start()
    try:
        start = _allocated()
        with paused_collector():
            document = json.loads(text)
        dict_bytes = _allocated() - start
        tracemalloc.reset_peak()
        report = Report.from_json(document)
        peak = tracemalloc.get_traced_memory()[1] - start
        del document
        typed_bytes = _allocated() - start
        assert len(report.file_changes) > 0
        return dict_bytes, typed_bytes, peak
    finally:
        tracemalloc.stop()


def conversion_seconds(text: str, repeat: int = 3) -> float:
    with paused_collector():
        document = json.loads(text)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        Report.from_json(document)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--changes", type=int, default=100_000)
    args = parser.parse_args(argv)
    text = json.dumps(synthetic_report(synthetic_changes(args.changes)))
    dict_bytes, typed_bytes, peak = measure(text)
    n = args.changes
    state = EntryState("file", "0644", 0, 0, 0, None, None, ())
    change = FileChange("/", "added", 0, (), None, state)
    lines = [
        f"{n} synthetic file changes ({len(text) / n:.0f} bytes of JSON text each)",
        f"parsed JSON (dicts):  {dict_bytes / n:7.0f} bytes per file change",
        f"typed Report:         {typed_bytes / n:7.0f} bytes per file change"
        f"  ({typed_bytes / dict_bytes:.2f} of the dict form, {dict_bytes / typed_bytes:.1f}x smaller)",
        f"peak while converting: {peak / n:6.0f} bytes per file change (dicts and model both alive)",
        f"object sizes: FileChange {sys.getsizeof(change)} bytes, EntryState "
        f"{sys.getsizeof(state)} bytes (without their strings)",
        f"Report.from_json: {conversion_seconds(text):.2f} s for {n} file changes",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
