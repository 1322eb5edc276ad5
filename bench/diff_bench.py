"""Time cold and warm diffs of the airflow-like scenario pair, next to just decompressing its layer blobs.

    DOCKER_HOST=$(scripts/engine) .venv/bin/python -m bench.diff_bench [--repeat N]

Cold: an empty cache. Warm (base cached): the base image's layers were indexed before, as when a team
diffs many images built FROM the same official one. Warm (all cached): the same diff run a second time
(layer indexes and SBOMs cached). Each configuration runs with --sbom none and with syft.
Each figure is the best of N runs of the real command (process start-up included).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from layerdiff.sbom.syft import find_syft
from tests.support.engine import engine_client, save
from tests.support.scenarios import build_all


def layerdiff(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "layerdiff", *args, "--quiet"], check=True, stdout=subprocess.DEVNULL
    )


def best_of(repeat: int, prepare: Callable[[], None], run: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        prepare()
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def layer_blobs(layout: Path, tag: str) -> list[Path]:
    index = json.loads((layout / "index.json").read_text())
    descriptor = next(
        m
        for m in index["manifests"]
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag
    )
    blobs = layout / "blobs" / "sha256"
    manifest = json.loads((blobs / descriptor["digest"].split(":")[1]).read_text())
    return [blobs / layer["digest"].split(":")[1] for layer in manifest["layers"]]


def decompress_all(paths: list[Path]) -> int:
    total = 0
    for path in paths:
        with gzip.open(path) as stream:
            while chunk := stream.read(1 << 20):
                total += len(chunk)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--derived", default="derived-pin")
    args = parser.parse_args()
    tags = build_all(engine_client())
    base_tag, derived_tag = tags["airflow-base"], tags[args.derived]
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        layout = scratch / "layout"
        for role, tag in (("base", base_tag), ("derived", derived_tag)):
            archive = save(engine_client(), tag, scratch / f"{role}.tar")
            subprocess.run(
                [
                    "skopeo",
                    "--insecure-policy",
                    "copy",
                    "--quiet",
                    "--dest-compress",
                    "--dest-compress-format",
                    "gzip",
                    f"docker-archive:{archive}",
                    f"oci:{layout}:{role}",
                ],
                check=True,
            )
        blobs = sorted(set(layer_blobs(layout, "base")) | set(layer_blobs(layout, "derived")))
        compressed = sum(p.stat().st_size for p in blobs)
        start = time.perf_counter()
        uncompressed = decompress_all(blobs)
        decompress = time.perf_counter() - start

        cache = scratch / "cache"

        def empty() -> None:
            shutil.rmtree(cache, ignore_errors=True)

        def base_cached(base: str, sbom: str) -> Callable[[], None]:
            def prepare() -> None:
                empty()
                # what an earlier diff against the same base leaves: its layer indexes (and SBOM) cached
                layerdiff("diff", base, base, "--format", "json", "--sbom", sbom, "--cache-dir", str(cache))

            return prepare

        def nothing() -> None:
            pass

        rows = []
        for label, base, derived in (
            ("oci (gzip layers)", f"oci:{layout}:base", f"oci:{layout}:derived"),
            ("docker engine", f"docker:{base_tag}", f"docker:{derived_tag}"),
        ):
            for sbom in ("none", "syft"):

                def diff(b: str = base, d: str = derived, s: str = sbom) -> None:
                    layerdiff("diff", b, d, "--format", "json", "--sbom", s, "--cache-dir", str(cache))

                cold = best_of(args.repeat, empty, diff)
                warm_base = best_of(args.repeat, base_cached(base, sbom), diff)
                warm_all = best_of(args.repeat, nothing, diff)
                rows.append((f"{label}, sbom {sbom}", cold, warm_base, warm_all))
        syft = find_syft()

        def syft_scan() -> None:
            command = [syft.path, "scan", f"docker:{derived_tag}", "-o", "cyclonedx-json", "-q"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

        syft_alone = best_of(args.repeat, nothing, syft_scan)

    print(f"pair: {base_tag} -> {derived_tag}")
    print(
        f"layer blobs: {len(blobs)}, {compressed / 1e6:.1f} MB gzip, {uncompressed / 1e6:.1f} MB uncompressed"
    )
    print(f"just decompressing them (python gzip): {decompress:.2f} s")
    print(f"{'source':<32}{'cold':>10}{'warm (base cached)':>22}{'warm (all cached)':>21}")
    for label, cold, warm_base, warm_all in rows:
        print(f"{label:<32}{cold:>9.2f}s{warm_base:>21.2f}s{warm_all:>20.2f}s")
    print(f"syft {syft.version} scan of the derived image alone (docker:): {syft_alone:.2f} s")


if __name__ == "__main__":
    main()
