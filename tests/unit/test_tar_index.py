from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile

import pytest

from layerdiff.errors import CorruptLayer, DigestMismatch, HostileLayer
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded
from layerdiff.image.model import Entry, EntryType
from layerdiff.image.streams import decompressed
from layerdiff.index.capture import Capture, CaptureSpec
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from tests.support.imagebuilder import F, compress, layer_tar, sha256


def index(data: bytes, max_entries: int = 1000) -> dict[str, Entry]:
    limits = dataclasses.replace(DEFAULT_LIMITS, layer_entries=max_entries)
    result = index_layer(io.BytesIO(data), sha256(data), "test layer", CAPTURE, limits)
    return {e.path: e for e in result.entries}


def test_records_type_mode_owner_size_digest_and_links() -> None:
    data = layer_tar(
        [
            F("usr/", kind="dir"),
            F("usr/bin/tool", b"#!/bin/sh\n", mode=0o4755, uid=0, gid=50),
            F("usr/bin/alias", kind="symlink", link="tool"),
            F("usr/bin/hard", kind="hardlink", link="usr/bin/tool"),
            F("tmp", kind="dir", mode=0o1777),
            F("dev/null", kind="char"),
        ]
    )
    entries = index(data)
    tool = entries["/usr/bin/tool"]
    assert tool.type is EntryType.FILE
    assert tool.mode == 0o4755 and tool.gid == 50 and tool.size == 10
    assert tool.sha256 == sha256(b"#!/bin/sh\n").split(":")[1]
    assert entries["/usr/bin/alias"].link == "tool"
    hard = entries["/usr/bin/hard"]
    assert hard.type is EntryType.HARDLINK and hard.link == "/usr/bin/tool" and hard.sha256 == tool.sha256
    assert entries["/tmp"].mode == 0o1777
    assert entries["/dev/null"].type is EntryType.CHAR


def test_whiteouts_and_opaque_markers() -> None:
    entries = index(layer_tar([F("etc/.wh.motd"), F("opt/app/.wh..wh..opq"), F("x/.wh..wh.plnk/1")]))
    assert entries["/etc/motd"].type is EntryType.WHITEOUT
    assert entries["/opt/app"].type is EntryType.OPAQUE
    assert "/x/.wh..wh.plnk/1" not in entries


def test_capability_xattr_is_kept_as_hex() -> None:
    cap = b"\x01\x00\x00\x02\x00\x04\x00\x00"
    entries = index(layer_tar([F("usr/bin/ping", b"elf", xattrs={"security.capability": cap})]))
    assert entries["/usr/bin/ping"].xattrs == (("security.capability", cap.hex()),)


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT])
def test_long_names(fmt: int) -> None:
    name = "a/" + "b" * 150 + "/" + "c" * 120
    entries = index(layer_tar([F(name, b"x")], fmt=fmt))
    assert "/" + name in entries


def test_non_utf8_names_are_kept_byte_exact() -> None:
    name = b"caf\xe9.txt".decode("utf-8", "surrogateescape")
    entries = index(layer_tar([F(name, b"x")], fmt=tarfile.GNU_FORMAT))
    (path,) = entries
    assert path.encode("utf-8", "surrogateescape") == b"/caf\xe9.txt"


def test_duplicate_entries_keep_the_last_and_warn() -> None:
    data = layer_tar([F("etc/conf", b"first"), F("etc/conf", b"second", mode=0o600)])
    result = index_layer(io.BytesIO(data), sha256(data), "dup", CAPTURE)
    (entry,) = result.entries
    assert entry.mode == 0o600 and entry.size == 6
    assert any("more than once" in w for w in result.warnings)


def test_absolute_names_are_relative_to_the_root() -> None:
    assert "/etc/passwd" in index(layer_tar([F("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")]))


def test_dotdot_that_stays_inside_is_cleaned() -> None:
    assert "/b/c" in index(layer_tar([F("a/../b/c", b"x")]))


def test_escaping_names_are_refused() -> None:
    with pytest.raises(HostileLayer, match="escapes the image root"):
        index(layer_tar([F("../../etc/cron.d/evil", b"x")]))


def test_entry_limit() -> None:
    data = layer_tar([F(f"f{i}", b"") for i in range(50)])
    with pytest.raises(LimitExceeded, match=r"test layer: more than 10 entries \(limit layer-entries=10;"):
        index(data, max_entries=10)


def test_diff_id_mismatch_is_an_error() -> None:
    data = layer_tar([F("a", b"x")])
    with pytest.raises(DigestMismatch):
        index_layer(io.BytesIO(data), "sha256:" + "0" * 64, "layer", CAPTURE)


def test_truncated_tar() -> None:
    data = layer_tar([F("big", b"x" * 100_000)])[:50_000]
    with pytest.raises(CorruptLayer):
        index_layer(io.BytesIO(data), None, "layer", CAPTURE)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_compressed_layers(compression: str) -> None:
    data = layer_tar([F("a", b"hello")])
    stream = decompressed(io.BytesIO(compress(data, compression)), "layer")
    result = index_layer(stream, sha256(data), "layer", CAPTURE)
    assert result.diff_id == sha256(data)


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_truncated_compressed_stream(compression: str) -> None:
    blob = compress(layer_tar([F("a", bytes(range(256)) * 4000)]), compression)
    with pytest.raises(CorruptLayer):
        index_layer(decompressed(io.BytesIO(blob[: len(blob) // 2]), "layer"), None, "layer", CAPTURE)


def test_hundred_thousand_entries() -> None:
    data = layer_tar([F(f"d{i % 100}/f{i}", b"") for i in range(100_000)], fmt=tarfile.GNU_FORMAT)
    result = index_layer(io.BytesIO(data), sha256(data), "big", CAPTURE)
    assert len(result.entries) == 100_000


def test_multi_member_gzip_and_zero_padding() -> None:
    import gzip

    data = layer_tar([F("a", b"x" * 5000), F("b", b"y" * 5000)])
    half = len(data) // 2
    blob = gzip.compress(data[:half]) + gzip.compress(data[half:]) + b"\0" * 1024
    result = index_layer(decompressed(io.BytesIO(blob), "layer"), sha256(data), "layer", CAPTURE)
    assert {e.path for e in result.entries} == {"/a", "/b"}


def test_garbage_after_gzip_is_corrupt() -> None:
    data = layer_tar([F("a", b"x")])
    with pytest.raises(CorruptLayer, match="corrupt gzip"):
        index_layer(
            decompressed(io.BytesIO(compress(data, "gzip") + b"garbage!"), "layer"), None, "layer", CAPTURE
        )


def test_contents_are_kept_as_the_capture_declaration_says() -> None:
    data = layer_tar(
        [
            F("etc/app.conf", b"wanted"),
            F("etc/conf.d/a.conf", b"by pattern"),
            F("etc/other", b"not declared"),
            F("usr/bin/run", b"#!/bin/sh\necho\n", mode=0o755),
        ]
    )
    only_files = CaptureSpec([Capture(paths=("/etc/app.conf",), patterns=("/etc/conf.d/*.conf",))])
    kept = index_layer(io.BytesIO(data), None, "layer", only_files).contents
    assert kept == {"/etc/app.conf": b"wanted", "/etc/conf.d/a.conf": b"by pattern"}
    with_scripts = CaptureSpec([Capture(scripts=True)])
    assert set(index_layer(io.BytesIO(data), None, "layer", with_scripts).contents) == {"/usr/bin/run"}


def test_the_capture_key_changes_with_the_declaration() -> None:
    first = CaptureSpec([Capture(paths=("/etc/passwd",)), Capture(patterns=("*/x",))])
    same = CaptureSpec([Capture(patterns=("*/x",)), Capture(paths=("/etc/passwd",))])
    assert first.key == same.key
    assert first.key != CaptureSpec([Capture(paths=("/etc/passwd",))]).key
    assert first.key != CaptureSpec([Capture(paths=("/etc/passwd",), patterns=("*/x",), scripts=True)]).key


def test_the_indexer_does_not_import_the_inventory() -> None:
    import subprocess
    import sys

    probe = "import sys, layerdiff.index.tar_index, layerdiff.index.cache; print(*sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "layerdiff.index.tar_index" in loaded
    assert not [name for name in loaded if name.startswith("layerdiff.inventory")]


def test_md5_only_where_a_package_manager_may_have_installed_the_file() -> None:
    # dpkg --verify is the md5's only reader; no package installs under /home, /root or /usr/local
    content = b"print('hello')\n"
    paths = ["usr/bin/tool", "etc/tool.conf", "opt/vendor/lib.so", "home/airflow/.local/lib/x.py"]
    paths += ["root/.bashrc", "usr/local/lib/python3.11/dist-packages/x.py", "tmp/scratch"]
    entries = index(layer_tar([F(path, content) for path in paths]))
    digest = hashlib.md5(content, usedforsecurity=False).hexdigest()
    assert {path: entry.md5 for path, entry in entries.items() if entry.type is EntryType.FILE} == {
        "/usr/bin/tool": digest,
        "/etc/tool.conf": digest,
        "/opt/vendor/lib.so": digest,
        "/home/airflow/.local/lib/x.py": None,
        "/root/.bashrc": None,
        "/usr/local/lib/python3.11/dist-packages/x.py": None,
        "/tmp/scratch": None,
    }
    assert all(entry.sha256 for entry in entries.values() if entry.type is EntryType.FILE)
