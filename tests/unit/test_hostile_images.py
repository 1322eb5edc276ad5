"""Hostile images end to end: each has one defined result, exit 3 with a one-line error that names what was
wrong (the limit, for a limit), or exit 0 with a warning in the report; none hangs, none is slow."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layerdiff.cli import main
from tests.support.cli import Result, assert_one_line_error
from tests.support.imagebuilder import (
    END_OF_ARCHIVE,
    F,
    Image,
    compress,
    layer_tar,
    old_gnu_sparse,
    pax_member,
    sha256,
    tar_header,
    tar_member,
    write_docker_archive,
    write_oci_layout,
)

BASE_LAYER = layer_tar([F("etc/os-release", b"ID=test\n"), F("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")])
GOOD = tar_member(b"etc/first", b"one")
LAST = tar_member(b"etc/last", b"two")


@pytest.fixture(autouse=True)
def _quick() -> Iterator[None]:
    started = time.monotonic()
    yield
    assert time.monotonic() - started < 10


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    code = main([*args, "--format", "json", "--no-cache", *(["--sbom", "none"] if args[0] == "diff" else [])])
    out, err = capsys.readouterr()
    return Result(code, out, err)


def layout(tmp_path: Path, app: Image) -> Path:
    return write_oci_layout(tmp_path / "layout", {"base": Image([BASE_LAYER]), "app": app})


def diff(capsys: pytest.CaptureFixture[str], directory: Path, *extra: str) -> Result:
    return run(capsys, "diff", f"oci:{directory}:base", f"oci:{directory}:app", *extra)


def diff_layer(capsys: pytest.CaptureFixture[str], tmp_path: Path, layer: bytes, *extra: str) -> Result:
    return diff(capsys, layout(tmp_path, Image([BASE_LAYER, layer])), *extra)


def warnings(result: Result) -> list[str]:
    assert result.code == 0, result.stderr
    found: list[str] = json.loads(result.stdout)["warnings"]
    return found


def app_blob(directory: Path, layer: int = 1) -> Path:
    index = json.loads((directory / "index.json").read_text())
    app = next(
        m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "app"
    )
    manifest = json.loads((directory / "blobs" / "sha256" / app["digest"][7:]).read_text())
    digest: str = manifest["layers"][layer]["digest"]
    return directory / "blobs" / "sha256" / digest.removeprefix("sha256:")


# -- layers --------------------------------------------------------------------------------------------


def test_a_bad_header_checksum_mid_layer_refuses_the_layer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tar_header(b"etc/hidden", 3, checksum_delta=1) + b"bad".ljust(512, b"\0")
    result = diff_layer(capsys, tmp_path, GOOD + bad + LAST + END_OF_ARCHIVE)
    assert_one_line_error(result, 3, "layer 1: invalid tar header at offset 1024: bad header checksum")


def test_a_gzip_bomb_stops_at_the_layer_budget(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # 1 GiB of zeros in about 1 MB: gzip members of 16 MiB each, one after the other
    first = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = first.compress(tar_header(b"zeros", 1 << 30) + bytes((16 << 20) - 512)) + first.flush()
    zeros = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = head + (zeros.compress(bytes(16 << 20)) + zeros.flush()) * 63
    assert len(bomb) < 2 << 20
    image = Image([BASE_LAYER, b""], stored=[compress(BASE_LAYER, "gzip"), bomb])
    image.diff_ids = [sha256(BASE_LAYER), "sha256:" + "0" * 64]
    result = diff(capsys, layout(tmp_path, image), "--limit", "layer-bytes=16M")
    assert_one_line_error(
        result, 3, "app layer 1: the layer decompresses to more than 16MiB (limit layer-bytes=16MiB"
    )


def test_the_image_budget_counts_every_layer(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    layers = [BASE_LAYER, layer_tar([F("a", os.urandom(40_000))]), layer_tar([F("b", os.urandom(40_000))])]
    result = diff(capsys, layout(tmp_path, Image(layers)), "--limit", "image-bytes=100K")
    assert_one_line_error(result, 3, "app layer 2: the image's layers decompress to more than 100KiB")


def test_too_many_entries(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    result = diff_layer(
        capsys, tmp_path, layer_tar([F(f"f{i}") for i in range(30)]), "--limit", "layer-entries=20"
    )
    assert_one_line_error(result, 3, "app layer 1: more than 20 entries (limit layer-entries=20;")


def test_a_huge_long_name_header_is_refused_unread(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = diff_layer(capsys, tmp_path, GOOD + tar_header(b"././@LongLink", 1 << 40, b"L"))
    assert_one_line_error(
        result, 3, "a GNU long name of 1099511627776 bytes at offset 1024 (limit tar-header-bytes=1MiB"
    )


def test_a_terabyte_sparse_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    sparse = old_gnu_sparse(b"var/huge", 1 << 40, [(0, b"x"), ((1 << 40) - 1, b"y")]) + END_OF_ARCHIVE
    assert_one_line_error(diff_layer(capsys, tmp_path, sparse), 3, "(limit layer-bytes=64GiB")
    raised = diff_layer(
        capsys, tmp_path / "raised", sparse, "--limit", "layer-bytes=2T", "--limit", "image-bytes=2T"
    )
    assert any("/var/huge is a sparse file (1099511627776 bytes, 2 stored)" in w for w in warnings(raised))


def test_a_whiteout_of_the_root_is_a_warning_and_the_base_stays(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = diff_layer(capsys, tmp_path, layer_tar([F(".wh."), F(".wh..wh..opq"), F("srv/new", b"n")]))
    assert warnings(result) == [
        "layer 1: a whiteout of the image root (.wh.) would remove every file of the layers below; "
        "it is ignored",
        "layer 1: an opaque marker of the image root (.wh..wh..opq) would hide every file of the layers "
        "below; it is ignored",
    ]
    assert [change["path"] for change in json.loads(result.stdout)["file_changes"]] == ["/srv", "/srv/new"]


def test_a_global_pax_header_renames_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    layer = pax_member({b"path": b"etc/passwd"}, kind=b"g") + tar_member(b"srv/new", b"n") + END_OF_ARCHIVE
    changes = json.loads(diff_layer(capsys, tmp_path, layer).stdout)["file_changes"]
    assert [change["path"] for change in changes] == ["/srv", "/srv/new"]


# -- blobs in layouts and archives ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (os.mkfifo, "is a FIFO, not a regular file"),
        (lambda blob: blob.symlink_to("/dev/zero"), "links outside the layout (/dev/zero)"),
        (lambda blob: blob.mkdir(), "is a directory, not a regular file"),
    ],
)
def test_a_layer_blob_must_be_a_regular_file_of_the_layout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, make: Any, message: str
) -> None:
    directory = layout(tmp_path, Image([BASE_LAYER, layer_tar([F("srv/new", b"n")])]))
    blob = app_blob(directory)
    blob.unlink()
    make(blob)
    assert_one_line_error(diff(capsys, directory), 3, message)


def test_a_blob_linked_to_a_file_outside_the_layout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = layout(tmp_path, Image([BASE_LAYER, layer_tar([F("srv/new", b"n")])]))
    blob = app_blob(directory)
    outside = tmp_path / "outside"
    outside.write_bytes(blob.read_bytes())
    blob.unlink()
    blob.symlink_to(outside)
    assert_one_line_error(diff(capsys, directory), 3, f"links outside the layout ({outside})")


def test_a_blob_longer_than_its_descriptor_says(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = layout(tmp_path, Image([BASE_LAYER, layer_tar([F("srv/new", b"n")])]))
    blob = app_blob(directory)
    blob.write_bytes(blob.read_bytes() + bytes(4096))
    assert_one_line_error(diff(capsys, directory), 3, "the blob is longer than the")


def docker_archive(path: Path, image: Image, layer: tarfile.TarInfo, data: bytes = b"") -> Path:
    """A docker save archive whose last layer member is ``layer`` (a FIFO, a link, ...)."""
    write_docker_archive(path, image)
    with tarfile.open(path) as archive:
        members = [(m, archive.extractfile(m).read() if m.isfile() else b"") for m in archive.getmembers()]  # type: ignore[union-attr]
    manifest = json.loads(next(d for m, d in members if m.name == "manifest.json"))
    target = manifest[0]["Layers"][-1]
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as archive:
        for member, content in members:
            if member.name == target:
                layer.name = target
                archive.addfile(layer, io.BytesIO(data))
            else:
                archive.addfile(member, io.BytesIO(content))
    return path


def _info(kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo("x")
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (_info(tarfile.FIFOTYPE), "layer.tar is a FIFO, not a regular file"),
        (_info(tarfile.CHRTYPE), "layer.tar is a character device, not a regular file"),
        (_info(tarfile.SYMTYPE, "/dev/zero"), "missing blob"),
        (_info(tarfile.SYMTYPE, "../../../../dev/zero"), "layer.tar links outside the archive"),
    ],
)
def test_a_layer_member_of_an_archive_must_be_a_regular_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, layer: tarfile.TarInfo, message: str
) -> None:
    image = Image([BASE_LAYER, layer_tar([F("srv/new", b"n")])])
    base = write_docker_archive(tmp_path / "base.tar", Image([BASE_LAYER]))
    derived = docker_archive(tmp_path / "app.tar", image, layer)
    assert_one_line_error(run(capsys, "diff", str(base), str(derived)), 3, message)


def test_a_sparse_layer_member_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    archive = tmp_path / "app.tar"
    manifest = json.dumps([{"Config": "c.json", "Layers": ["l/layer.tar"]}]).encode()
    config = Image([BASE_LAYER]).config_json()
    members = tar_member(b"manifest.json", manifest) + tar_member(b"c.json", config)
    archive.write_bytes(members + old_gnu_sparse(b"l/layer.tar", 1 << 30, [(0, b"x")]) + END_OF_ARCHIVE)
    assert_one_line_error(
        run(capsys, "inspect", f"docker-archive:{archive}"), 3, "l/layer.tar is a sparse file"
    )


def test_an_archive_member_named_above_the_root_is_passed_over(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # the manifest can never name it; reading on past it once looped on that one member for ever
    image = Image([BASE_LAYER])
    plain = write_docker_archive(tmp_path / "plain.tar", image).read_bytes()
    archive = tmp_path / "app.tar"
    archive.write_bytes(tar_member(b"../../escape", b"x") + plain)
    result = run(capsys, "inspect", f"docker-archive:{archive}")
    assert result.code == 0, result.stderr
    assert len(json.loads(result.stdout)["image"]["layers"]) == 1


def test_a_bad_checksum_in_an_archive_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    archive = tmp_path / "app.tar"
    archive.write_bytes(GOOD + tar_header(b"manifest.json", 2, checksum_delta=3) + b"[]".ljust(512, b"\0"))
    assert_one_line_error(run(capsys, "inspect", f"docker-archive:{archive}"), 3, "bad header checksum")


# -- documents -------------------------------------------------------------------------------------------


def nested(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = {"n": [value]}
    return value


def test_json_size_and_depth(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    deep = layout(tmp_path / "deep", Image([BASE_LAYER], config_extra={"x": nested(300)}))
    assert_one_line_error(diff(capsys, deep), 3, "nested more than 64 levels deep (limit json-depth=64;")
    big = layout(tmp_path / "big", Image([BASE_LAYER], config_extra={"x": "y" * 300_000}))
    assert_one_line_error(
        diff(capsys, big, "--limit", "json-bytes=256K"), 3, "larger than 256KiB (limit json-bytes=256KiB;"
    )
    archive = write_docker_archive(
        tmp_path / "deep.tar", Image([BASE_LAYER], config_extra={"x": nested(300)})
    )
    assert_one_line_error(run(capsys, "inspect", str(archive)), 3, "(limit json-depth=64;")


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (Image([BASE_LAYER], {"Env": ["A=1", 7]}), "config: config.Env[1] is a number, not a string"),
        (Image([BASE_LAYER], {"User": 0}), "config: config.User is a number, not a string"),
        (Image([BASE_LAYER], {"Labels": {"a": ["b"]}}), "config.Labels['a'] is a list, not a string"),
        (
            Image([BASE_LAYER], {"Entrypoint": {"a": 1}}),
            "config.Entrypoint is an object, not a list of strings",
        ),
        (Image([BASE_LAYER], {"Healthcheck": "CMD true"}), "config.Healthcheck is a string, not an object"),
        (Image([BASE_LAYER], {"ExposedPorts": {"80/tcp": 1}}), "config.ExposedPorts['80/tcp'] is a number"),
        (Image([BASE_LAYER], history=["RUN x"]), "config: history[0] is a string, not an object"),  # type: ignore[list-item]
        (
            Image([BASE_LAYER], history=[{"empty_layer": "no"}]),
            "history[0].empty_layer is a string, not true or false",
        ),
        (Image([BASE_LAYER], config_extra={"rootfs": []}), "config: rootfs is a list, not an object"),
        (
            Image([BASE_LAYER], manifest_extra={"layers": [5]}),
            "app: manifest: layers[0] is a number, not an object",
        ),
        (Image([BASE_LAYER], manifest_extra={"config": "sha256:abc"}), "config is a string, not an object"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, image: Image, message: str
) -> None:
    assert_one_line_error(diff(capsys, layout(tmp_path, image)), 3, message)


def test_archive_manifest_and_tags_of_the_wrong_type(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name, manifest in (
        ("tags", [{"Config": "c.json", "Layers": [], "RepoTags": [1]}]),
        ("shape", {"Config": 1}),
    ):
        archive = tmp_path / f"{name}.tar"
        archive.write_bytes(tar_member(b"manifest.json", json.dumps(manifest).encode()) + END_OF_ARCHIVE)
        result = run(capsys, "inspect", f"docker-archive:{archive}")
        assert_one_line_error(
            result,
            3,
            "RepoTags[0] is a number, not a string"
            if name == "tags"
            else "the document is an object, not a list",
        )


def test_what_docker_tolerates_is_read_as_docker_reads_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = {
        "user": "root",
        "Cmd": "serve",
        "Env": ["PATH=/bin", None, "GREETING=\ud800x"],
        "Labels": {"a": None},
    }
    result = diff(capsys, layout(tmp_path, Image([BASE_LAYER], config)))
    found = warnings(result)
    assert len(found) == 2 and all(w.startswith(f"oci:{tmp_path / 'layout'}:app: config") for w in found)
    assert found[0].endswith(
        ": config.Env[2] holds lone UTF-16 surrogates; they are read as U+FFFD, as docker reads them"
    )
    assert found[1].endswith(": key 'user' is read as config.User, as docker reads it")
    inspected = json.loads(run(capsys, "inspect", f"oci:{tmp_path / 'layout'}:app").stdout)["config"]
    assert (inspected["user"], inspected["cmd"], inspected["labels"]) == ("root", ["serve"], {"a": ""})
    assert inspected["env"] == ["PATH=/bin", "", "GREETING=\ufffdx"]


# -- syft ------------------------------------------------------------------------------------------------


def test_syft_never_sees_an_image_that_is_over_the_limits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = tmp_path / "scans"
    syft = tmp_path / "syft"
    syft.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo \'{"version": "9.9.9"}\'; exit 0; fi\n'
        f'echo "$2" >> {scans}\n'
        'echo \'{"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}\'\n'
    )
    syft.chmod(0o755)
    monkeypatch.setenv("LAYERDIFF_SYFT", str(syft))
    base = write_docker_archive(tmp_path / "base.tar", Image([BASE_LAYER]))
    app = write_docker_archive(
        tmp_path / "app.tar", Image([BASE_LAYER, layer_tar([F("big", bytes(100_000))])])
    )
    refs = [f"docker-archive:{base}", f"docker-archive:{app}"]
    over = main(["diff", *refs, "--format", "json", "--no-cache", "--limit", "layer-bytes=64K"])
    assert (
        over == 3 and "app.tar layer 1: the layer decompresses to more than 64KiB" in capsys.readouterr().err
    )
    # Never the image over the limit. The base's scan starts once its layers are read, so whether it ran
    # before the review stopped depends on the scheduler.
    scanned = scans.read_text().splitlines() if scans.exists() else []
    assert refs[1] not in scanned and set(scanned) <= {refs[0]}
    assert main(["diff", *refs, "--format", "json", "--no-cache"]) == 0
    assert sorted(scans.read_text().splitlines()[len(scanned) :]) == sorted(refs)  # both scans run at once


def test_a_review_that_stops_early_stops_its_syft_scans(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    syft = tmp_path / "syft"
    syft.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo \'{"version": "9.9.9"}\'; exit 0; fi\n'
        "exec sleep 60\n"  # a scan that would outlast the review by far
    )
    syft.chmod(0o755)
    monkeypatch.setenv("LAYERDIFF_SYFT", str(syft))
    base = write_docker_archive(tmp_path / "base.tar", Image([BASE_LAYER]))
    app = write_docker_archive(
        tmp_path / "app.tar", Image([BASE_LAYER, layer_tar([F("big", bytes(100_000))])])
    )
    started = time.monotonic()
    refs = [f"docker-archive:{base}", f"docker-archive:{app}"]
    code = main(["diff", *refs, "--format", "json", "--no-cache", "--limit", "layer-bytes=64K"])
    assert code == 3 and "limit layer-bytes=64KiB" in capsys.readouterr().err
    assert time.monotonic() - started < 10  # the base's scan was stopped, not waited for
