"""The synthetic million-file pair: time and peak memory of a diff whose derived layer adds a million files
to a base of a hundred thousand, cold and warm, and what the JSON report costs per file change.

    .venv/bin/python -m bench.scale [--base-files 100000] [--derived-files 1000000]

The pair is generated into a temporary OCI layout (one gzip layer each, files of a few bytes spread over
directories of a hundred, as a pip layer spreads them), written by this script and removed afterwards:
nothing of it is committed. Each diff is the whole ``layerdiff diff --sbom none -o json=FILE`` process;
cold starts from an empty cache, warm from the cache the cold run left (every layer indexed). Peak RSS is
the process's own (``ru_maxrss``); the time is printed next to plain decompression of the same blobs, so
that the figure is a ratio on any machine.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from tests.support.imagebuilder import Image, write_oci_layout

FILES_PER_DIRECTORY = 100


class _Hashing(io.RawIOBase):
    """Passes the tar's bytes to the gzip writer, hashing them for the layer's diff_id on the way."""

    def __init__(self, inner: gzip.GzipFile) -> None:
        super().__init__()
        self.inner = inner
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.digest.update(data)
        self.inner.write(data)
        return len(data)


def layer_blob(prefix: str, files: int) -> tuple[bytes, str]:
    """A gzip layer of ``files`` small files under ``prefix``, and its diff_id."""
    compressed = io.BytesIO()
    with gzip.GzipFile(fileobj=compressed, mode="wb", compresslevel=1, mtime=0) as zipped:
        hashing = _Hashing(zipped)
        with tarfile.open(fileobj=hashing, mode="w|", format=tarfile.PAX_FORMAT) as archive:
            for directory in range(0, files, FILES_PER_DIRECTORY):
                info = tarfile.TarInfo(f"{prefix}/d{directory // FILES_PER_DIRECTORY:05d}")
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
                for number in range(directory, min(directory + FILES_PER_DIRECTORY, files)):
                    content = f"{number}\n".encode()
                    info = tarfile.TarInfo(f"{info.name.rsplit('/', 1)[0]}/f{number:07d}.py")
                    info.size, info.mode = len(content), 0o644
                    archive.addfile(info, io.BytesIO(content))
    return compressed.getvalue(), "sha256:" + hashing.digest.hexdigest()


def generate(layout: Path, base_files: int, derived_files: int) -> list[Path]:
    base_blob, base_id = layer_blob("usr/lib/python3/dist-packages/base", base_files)
    added_blob, added_id = layer_blob("home/app/.local/lib/python3.11/site-packages/added", derived_files)
    config = {"User": "1000", "Cmd": ["python3"], "Env": ["PATH=/usr/bin:/bin"]}
    history = [{"created_by": "/bin/sh -c #(nop) ADD base"}, {"created_by": "/bin/sh -c pip install added"}]
    base = Image([b""], config, history[:1], stored=[base_blob], diff_ids=[base_id])
    derived = Image([b"", b""], config, history, stored=[base_blob, added_blob], diff_ids=[base_id, added_id])
    write_oci_layout(layout, {"base": base, "derived": derived})
    blobs = layout / "blobs" / "sha256"
    return [blobs / hashlib.sha256(blob).hexdigest() for blob in (base_blob, added_blob)]


def diff(layout: Path, cache: Path, report: Path) -> tuple[float, int]:
    command = [sys.executable, "-m", "layerdiff", "diff", f"oci:{layout}:base", f"oci:{layout}:derived"]
    command += ["--sbom", "none", "--fail-on", "none", "--cache-dir", str(cache), "-o", f"json={report}"]
    start = time.perf_counter()
    process = subprocess.Popen([*command, "--quiet"], stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        assert process.stderr is not None
        raise SystemExit(f"the diff failed: {process.stderr.read().decode().strip()}")
    return seconds, usage.ru_maxrss * 1024


def decompress(blobs: list[Path]) -> float:
    start = time.perf_counter()
    for blob in blobs:
        with gzip.open(blob) as stream:
            while stream.read(1 << 20):
                pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-files", type=int, default=100_000)
    parser.add_argument("--derived-files", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        started = time.perf_counter()
        blobs = generate(scratch / "layout", args.base_files, args.derived_files)
        print(f"generated in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        cache, report = scratch / "cache", scratch / "report.json"
        cold, cold_rss = diff(scratch / "layout", cache, report)
        report_bytes = report.stat().st_size
        warm, warm_rss = diff(scratch / "layout", cache, report)
        gunzip = decompress(blobs)
        shutil.rmtree(cache, ignore_errors=True)
    mib = 2**20
    print(f"pair: {args.derived_files:,} files added to a base of {args.base_files:,}, oci layout (gzip)")
    for label, seconds, rss in (("cold", cold, cold_rss), ("warm", warm, warm_rss)):
        ratio = seconds / gunzip
        print(
            f"{label} diff: {seconds:.1f} s ({ratio:.0f}x plain decompression), peak RSS {rss / mib:.0f} MiB"
        )
    per_change = report_bytes / args.derived_files
    print(f"JSON report: {report_bytes / mib:.0f} MiB, {per_change:.0f} bytes per file change")


if __name__ == "__main__":
    main()
