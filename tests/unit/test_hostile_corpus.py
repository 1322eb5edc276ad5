"""The hostile corpus, run as a user runs layerdiff: one process per input, with its own HOME, TMPDIR and
working directory. Each input has one defined result (exit 3 with a one-line error naming what was wrong,
or exit 0 with a warning), finishes in under 10 s and 300 MB, and writes nothing but the cache dir and -o.

The cases are those that once crashed, hung or blew up layerdiff; the unit tests beside this file check
each in detail, this one checks what any of them may cost.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.elfbuilder import shared_object
from tests.support.imagebuilder import (
    END_OF_ARCHIVE,
    F,
    Image,
    compress,
    layer_tar,
    old_gnu_sparse,
    sha256,
    tar_header,
    tar_member,
    write_oci_layout,
)

ROOT = Path(__file__).resolve().parents[2]
SITE = "usr/lib/python3.11/site-packages"
BASE_LAYER = layer_tar(
    [
        F("etc/passwd", b"root:x:0:0::/root:/bin/sh\n"),
        F("usr/bin/python3.11", b"\x7fELF", mode=0o755),
        F("usr/lib/python3.11/os.py", b""),
        F(f"{SITE}/", kind="dir"),
    ]
)
SECONDS, MEGABYTES = 10, 300
# Runs layerdiff and, at exit, notes the process's peak resident memory. VmHWM is that of the program's own
# address space, made at exec: unlike ru_maxrss it does not start from the forking test process's size.
RUN_AND_NOTE_PEAK = r"""
import atexit, re, sys
from pathlib import Path
peak = Path(sys.argv[1])
status = lambda: Path("/proc/self/status").read_text()
atexit.register(lambda: peak.write_text(re.search(r"VmHWM:\s+(\d+) kB", status()).group(1)))
from layerdiff.cli import main
sys.exit(main(sys.argv[2:]))
"""


@dataclass(frozen=True)
class Case:
    derived: Callable[[], Image]
    code: int
    says: str  # in the one-line error (exit 3), or in a warning of the report (exit 0)
    options: tuple[str, ...] = ()
    blob: Callable[[Path], None] | None = None  # what to do to the derived layer's blob in the layout


def on_base(*layers: bytes, **config: object) -> Image:
    return Image([BASE_LAYER, *layers], config=dict(config))


def gzip_bomb() -> Image:
    """1 GiB of zeros in about 1 MB."""
    head = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = head.compress(tar_header(b"zeros", 1 << 30) + bytes((16 << 20) - 512)) + head.flush()
    zeros = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = first + (zeros.compress(bytes(16 << 20)) + zeros.flush()) * 63
    image = Image([BASE_LAYER, b""], stored=[compress(BASE_LAYER, "gzip"), bomb])
    image.diff_ids = [sha256(BASE_LAYER), "sha256:" + "0" * 64]
    return image


def recursive_rpmdb() -> bytes:
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIEW Packages AS WITH RECURSIVE r(hnum, blob) AS (SELECT 1, randomblob(1000000) UNION ALL "
        "SELECT hnum + 1, randomblob(1000000) FROM r) SELECT hnum, blob FROM r ORDER BY blob"
    )
    return connection.serialize()


def dpkg_status(count: int) -> bytes:
    paragraph = "Package: p{}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
    return "".join(paragraph.format(i) for i in range(count)).encode()


def fifo(blob: Path) -> None:
    blob.unlink()
    os.mkfifo(blob)


def dev_zero(blob: Path) -> None:
    blob.unlink()
    blob.symlink_to("/dev/zero")


CASES: dict[str, Case] = {
    "gzip bomb": Case(gzip_bomb, 3, "(limit layer-bytes=16MiB", ("--limit", "layer-bytes=16M")),
    "bad header checksum mid-layer": Case(
        lambda: on_base(
            tar_member(b"etc/first", b"one")
            + tar_header(b"etc/hidden", 3, checksum_delta=1)
            + b"bad".ljust(512, b"\0")
            + tar_member(b"etc/last", b"two")
            + END_OF_ARCHIVE
        ),
        3,
        "bad header checksum",
    ),
    "terabyte sparse file": Case(
        lambda: on_base(
            old_gnu_sparse(b"var/huge", 1 << 40, [(0, b"x"), ((1 << 40) - 1, b"y")]) + END_OF_ARCHIVE
        ),
        3,
        "(limit layer-bytes=64GiB",
    ),
    "whiteout of the root": Case(
        lambda: on_base(layer_tar([F(".wh."), F("srv/new", b"n")])), 0, "a whiteout of the image root"
    ),
    "layer blob is a FIFO": Case(lambda: on_base(layer_tar([F("srv/new", b"n")])), 3, "FIFO", blob=fifo),
    "layer blob links to /dev/zero": Case(
        lambda: on_base(layer_tar([F("srv/new", b"n")])), 3, "/dev/zero", blob=dev_zero
    ),
    "rpm database that is a recursive view": Case(
        lambda: on_base(layer_tar([F("var/lib/rpm/rpmdb.sqlite", recursive_rpmdb())])), 0, "holds a view"
    ),
    "ld.so.conf include glob that fans out": Case(
        lambda: on_base(
            layer_tar(
                [
                    *(F(f"d{i}/", kind="dir") for i in range(40)),
                    F("etc/ld.so.conf", b"include /*/../*/../*/../*\n"),
                ]
            )
        ),
        3,
        "(limit ldso-include-matches=",
    ),
    "symlink target of 200k parts": Case(
        lambda: on_base(layer_tar([F("usr/bin/evil", kind="symlink", link="./" * 200_000 + "etc/passwd")])),
        3,
        "(limit symlink-target-bytes=",
    ),
    "100k DT_NEEDED and a 1000-entry LD_LIBRARY_PATH": Case(
        lambda: on_base(
            layer_tar(
                [F("usr/bin/needy", shared_object([f"lib{i}.so" for i in range(100_000)]), mode=0o755)]
            ),
            Env=["LD_LIBRARY_PATH=" + ":".join(f"/opt/l{i}" for i in range(1000))],
        ),
        3,
        "(limit library-search-steps=",
    ),
    "60 MB dpkg status": Case(
        lambda: on_base(layer_tar([F("var/lib/dpkg/status", dpkg_status(700_000))])), 3, "(limit os-packages="
    ),
    "dpkg status over the capture limit": Case(
        lambda: on_base(layer_tar([F("var/lib/dpkg/status", dpkg_status(30_000))])),
        0,
        "/var/lib/dpkg/status",
        ("--limit", "captured-file-bytes=1M"),
    ),
    "METADATA with 100k Requires-Dist": Case(
        lambda: on_base(
            layer_tar(
                [
                    F(
                        f"{SITE}/amp-1.dist-info/METADATA",
                        b"Metadata-Version: 2.1\nName: amp\nVersion: 1\n" + b"Requires-Dist: r\n" * 100_000,
                    )
                ]
            )
        ),
        3,
        "(limit package-relations=",
    ),
    "an entry name of 900 KB (a/a/a/...)": Case(
        lambda: on_base(layer_tar([F("a/" * 450_000 + "x", b"")])), 3, "(limit entry-path-bytes=4KiB"
    ),
    "config nested 900 deep": Case(
        lambda: on_base(layer_tar([F("srv/new", b"n")]), Labels={"x": _nested(900)}),
        3,
        "(limit json-depth=",
    ),
}


def _nested(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_input_has_a_defined_cheap_result(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    derived = case.derived()
    layout = write_oci_layout(tmp_path / "layout", {"base": Image([BASE_LAYER]), "app": derived})
    if case.blob is not None:
        case.blob(_last_layer_blob(layout))
    home, scratch, work, out, cache = (tmp_path / part for part in ("home", "tmp", "work", "out", "cache"))
    for directory in (home, scratch, work, out):
        directory.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "TMPDIR": str(scratch),
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "NO_COLOR": "1",
    }
    peak_file = tmp_path / "peak"
    command = [sys.executable, "-c", RUN_AND_NOTE_PEAK, str(peak_file)]
    command += ["diff", f"oci:{layout}:base", f"oci:{layout}:app"]
    command += ["--sbom", "none", "--format", "json", "-o", str(out / "report.json")]
    command += ["--cache-dir", str(cache), *case.options]
    started = time.monotonic()
    with (tmp_path / "stdout").open("wb") as stdout, (tmp_path / "stderr").open("wb") as stderr:
        process = subprocess.Popen(command, cwd=work, env=env, stdout=stdout, stderr=stderr)
        deadline = threading.Timer(SECONDS * 3, process.kill)  # a hang fails the test, it does not stall it
        deadline.start()
        process.wait()
        deadline.cancel()
    code, elapsed = process.returncode, time.monotonic() - started
    peak = int(peak_file.read_text()) << 10
    message = (tmp_path / "stderr").read_text()

    assert code == case.code, message
    if case.code == 3:
        assert len(message.splitlines()) == 1 and message.startswith("layerdiff: error: "), message
        assert case.says in message, message
    else:
        report = (out / "report.json").read_text()
        assert case.says in report, "no warning says so"
    assert "Traceback" not in message and (tmp_path / "stdout").read_bytes() == b""
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    assert peak < MEGABYTES << 20, f"{peak >> 20} MB"
    # nothing outside the cache dir and -o
    assert [list(d.iterdir()) for d in (home, scratch, work)] == [[], [], []]
    assert [p.name for p in out.iterdir()] == (["report.json"] if case.code == 0 else [])


def _last_layer_blob(layout: Path) -> Path:
    index = json.loads((layout / "index.json").read_text())
    app = next(
        m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "app"
    )
    manifest = json.loads((layout / "blobs" / "sha256" / app["digest"][7:]).read_text())
    digest: str = manifest["layers"][-1]["digest"]
    return layout / "blobs" / "sha256" / digest.removeprefix("sha256:")
