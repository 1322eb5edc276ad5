"""layerdiff against its references on the airflow-like pair, as ratios, measured in one alternating series.

    DOCKER_HOST=$(scripts/engine) .venv/bin/python -m bench.ratios [--pairs N] [--derived NAME]

Both images come from the engine; the base is cached (its layer indexes and SBOM, as an earlier diff
against the same base leaves them), the derived image is not. Each pair runs layerdiff and its reference
back to back (which goes first alternates) as whole processes:

- diff with syft: ``layerdiff diff docker:BASE docker:DERIVED --sbom syft`` against
  ``syft scan docker:DERIVED`` alone (the goal: no slower, a ratio of at most 1.0);
- diff ``--sbom none`` against the engine's export alone, ``docker save DERIVED | cat > /dev/null``;
- cold indexing of the base's layers, as an OCI layout with gzip layers (the one pass per layer: reading,
  decompressing, tar headers, digests, captures), against plain decompression of the same blobs; both in
  this process, with the same readers, so that the figure is the pass itself, not process start-up.

Each ratio is printed with its min, median and max over the pairs, with the peak RSS of the layerdiff
run's largest process (syft's, when syft ran). The package's modules are byte-compiled first, as an
installed package's are (pip compiles them on install): a process started from source alone would spend a
tenth of a second compiling them on every run, under PYTHONDONTWRITEBYTECODE.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import layerdiff as layerdiff_package
from layerdiff.image.streams import CHUNK, DigestReader, decompressed
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from layerdiff.sbom.syft import find_syft
from tests.support.engine import engine_client, save, skopeo_copy
from tests.support.scenarios import build_all


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss: int  # bytes: the largest of the process and the children it waited for (syft)


def timed(command: Sequence[str], shell: bool = False) -> Run:
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        process = subprocess.Popen(
            command[0] if shell else command, shell=shell, stdout=subprocess.DEVNULL, stderr=errors
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1: the diff found what fails the policy
            errors.seek(0)
            raise SystemExit(f"{' '.join(command)} failed ({code}): {errors.read().decode().strip()}")
    return Run(seconds, usage.ru_maxrss * 1024)


def layerdiff(*args: str) -> list[str]:
    return [sys.executable, "-m", "layerdiff", *args, "--quiet"]


@dataclass
class Series:
    label: str
    reference_label: str
    layerdiff: Callable[[], Run]
    reference: Callable[[], Run]
    ratios: list[float]
    rss: list[int]


def oci_blobs(tag: str, scratch: Path) -> list[Path]:
    """The layer blobs of ``tag`` as an OCI layout with gzip layers (what a registry serves)."""
    archive = save(engine_client(), tag, scratch / "base.tar")
    layout = scratch / "layout"
    skopeo_copy(f"docker-archive:{archive}", f"oci:{layout}:base")
    archive.unlink()
    index = json.loads((layout / "index.json").read_text())
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / index["manifests"][0]["digest"].split(":")[1]).read_text())
    return [blobs / layer["digest"].split(":")[1] for layer in manifest["layers"]]


def in_process(work: Callable[[Path], None], blobs: list[Path]) -> Callable[[], Run]:
    def run() -> Run:
        start = time.perf_counter()
        for blob in blobs:
            work(blob)
        return Run(time.perf_counter() - start, 0)

    return run


def index_blob(blob: Path) -> None:
    with blob.open("rb") as raw:
        stream = decompressed(DigestReader(raw, f"sha256:{blob.name}", blob.name), blob.name)
        index_layer(stream, None, blob.name, CAPTURE)


def decompress_blob(blob: Path) -> None:
    with blob.open("rb") as raw:
        stream = decompressed(DigestReader(raw, f"sha256:{blob.name}", blob.name), blob.name)
        while stream.read(CHUNK):
            pass


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f}x (min {min(values):.2f}, max {max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--derived", default="derived-pin")
    args = parser.parse_args()
    compileall.compile_dir(Path(layerdiff_package.__file__).parent, quiet=1)
    tags = build_all(engine_client())
    base, derived = tags["airflow-base"], tags[args.derived]
    syft = find_syft()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        base_cache, cache = scratch / "base-cache", scratch / "cache"
        # what an earlier diff against the same base leaves: its layer indexes and SBOM
        timed(
            layerdiff(
                "diff", f"docker:{base}", f"docker:{base}", "--sbom", "syft", "--cache-dir", str(base_cache)
            )
        )

        def diff(sbom: str) -> Callable[[], Run]:
            def run() -> Run:
                shutil.rmtree(cache, ignore_errors=True)
                shutil.copytree(base_cache, cache)
                command = ("diff", f"docker:{base}", f"docker:{derived}", "--format", "json", "--sbom", sbom)
                return timed(layerdiff(*command, "--cache-dir", str(cache)))

            return run

        series = [
            Series(
                "diff with syft",
                f"syft scan docker:DERIVED alone (syft {syft.version})",
                diff("syft"),
                lambda: timed([syft.path, "scan", f"docker:{derived}", "-o", "cyclonedx-json", "-q"]),
                [],
                [],
            ),
            Series(
                "diff --sbom none",
                "docker save DERIVED | cat > /dev/null",
                diff("none"),
                lambda: timed([f"docker save {derived} | cat > /dev/null"], shell=True),
                [],
                [],
            ),
        ]
        blobs = oci_blobs(base, scratch)
        series.append(
            Series(
                "cold indexing",
                "plain decompression of the same gzip blobs",
                in_process(index_blob, blobs),
                in_process(decompress_blob, blobs),
                [],
                [],
            )
        )
        for pair in range(args.pairs):
            for item in series:
                if pair % 2 == 0:
                    ours, theirs = item.layerdiff(), item.reference()
                else:
                    theirs, ours = item.reference(), item.layerdiff()
                item.ratios.append(ours.seconds / theirs.seconds)
                item.rss.append(ours.peak_rss)
                print(
                    f"pair {pair + 1}: {item.label}: {ours.seconds:.2f} s vs {theirs.seconds:.2f} s",
                    file=sys.stderr,
                )
    print(f"pair: {base} -> {derived}, base cached, engine source, {args.pairs} alternating pairs")
    for item in series:
        print(f"{item.label} / {item.reference_label}: {spread(item.ratios)}")
        # ru_maxrss of a waited-for process is its own or its largest child's: syft's, when it ran
        if max(item.rss):
            print(f"  peak RSS of the layerdiff run's largest process: {max(item.rss) / 2**20:.0f} MiB")
        else:
            share = 100 / statistics.median(item.ratios)
            print(f"  that is {share:.0f}% of plain decompression's throughput")


if __name__ == "__main__":
    main()
