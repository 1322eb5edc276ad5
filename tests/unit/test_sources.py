from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from layerdiff.errors import DigestMismatch, ImageError, ImageNotFound, UsageError
from layerdiff.image.limits import Limits
from layerdiff.image.refs import ImageRef
from layerdiff.index.cache import IndexCache
from layerdiff.pipeline import LoadedImage, load_image
from layerdiff.sources.base import ImageSource
from layerdiff.sources.interface import Transport
from layerdiff.sources.transports import TRANSPORTS, open_source, parse_ref
from tests.support.cli import assert_one_line_error, run
from tests.support.imagebuilder import (
    F,
    Image,
    layer_tar,
    write_docker_archive,
    write_oci_archive,
    write_oci_layout,
)

BASE = Image(
    layers=[
        layer_tar([F("etc/os-release", b"ID=test\n")]),
        layer_tar([F("opt/app/run", b"#!/bin/sh\n", mode=0o755)]),
    ],
    config={"User": "app", "Env": ["PATH=/usr/bin"]},
)


def load(ref: str, tmp_path: Path, platform: str | None = None) -> LoadedImage:
    source = open_source(parse_ref(ref), platform)
    try:
        return load_image(source, IndexCache(tmp_path / "cache"))
    finally:
        source.close()


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_every_file_source_reads_the_same_image(tmp_path: Path, compression: str) -> None:
    image = Image(BASE.layers, BASE.config, compression=compression)
    layout = write_oci_layout(tmp_path / "layout", {"v1": image})
    archive = write_oci_archive(tmp_path / "image.oci.tar", {"v1": image}, tmp_path)
    docker = write_docker_archive(tmp_path / "image.docker.tar", image)
    loaded = [
        load(ref, tmp_path)
        for ref in (
            f"oci:{layout}",
            f"oci:{layout}:v1",
            f"oci-archive:{archive}",
            str(archive),
            f"docker-archive:{docker}",
            str(docker),
            str(layout),
        )
    ]
    ids = {item.snapshot.image_id for item in loaded}
    entries = {tuple(tuple(i.entries) for i in item.indexes) for item in loaded}
    assert len(ids) == 1 and len(entries) == 1


def test_bare_arguments_resolve_by_what_exists(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", {"v1": BASE})
    docker = write_docker_archive(tmp_path / "d.tar", BASE)
    oci_tar = write_oci_archive(tmp_path / "o.tar", {"v1": BASE}, tmp_path)
    assert parse_ref(str(layout)).transport == "oci"
    assert parse_ref(str(docker)).transport == "docker-archive"
    assert parse_ref(str(oci_tar)).transport == "oci-archive"
    assert parse_ref("apache/airflow:2.6.0").transport == "docker"


# The source schemes syft accepts (syft scan --help).
SYFT_SCHEMES = {"docker", "podman", "containerd", "docker-archive", "oci-archive", "oci-dir", "singularity"}
SYFT_SCHEMES |= {"registry", "dir", "file"}


def test_every_transport_tells_syft_how_to_read_the_same_image(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", {"v1": BASE})
    targets = {
        "docker": "example/app:1.0",
        "docker-archive": str(write_docker_archive(tmp_path / "d.tar", BASE)),
        "oci": str(layout),
        "oci-archive": str(write_oci_archive(tmp_path / "o.tar", {"v1": BASE}, tmp_path)),
        "registry": "127.0.0.1:5000/example/app:1.0",
    }
    assert set(TRANSPORTS) == set(targets)  # a new transport gets a case here
    for name, transport in TRANSPORTS.items():
        scratch = tmp_path / f"scratch-{name}"
        scratch.mkdir()
        ref = parse_ref(f"{name}:{targets[name]}")
        assert ref == ImageRef(name, targets[name])
        scheme, _, target = transport.syft_target(ref, None, scratch).source.partition(":")
        assert scheme in SYFT_SCHEMES and target, (name, scheme, target)
    # syft reads the registry the way the source does: a loopback registry over plain HTTP
    registry = TRANSPORTS["registry"].syft_target(
        parse_ref(f"registry:{targets['registry']}"), None, tmp_path
    )
    assert registry.env == {"SYFT_REGISTRY_INSECURE_USE_HTTP": "true"}
    # syft's oci-dir gets a layout of the one selected image
    single = TRANSPORTS["oci"].syft_target(parse_ref(f"oci:{layout}:v1"), None, tmp_path / "tagged")
    assert (
        len(json.loads(Path(single.source.removeprefix("oci-dir:"), "index.json").read_text())["manifests"])
        == 1
    )


def test_a_transport_that_does_not_say_how_syft_reads_it_cannot_exist() -> None:
    class NoSyft(Transport):
        name = "no-syft"

        def open(self, ref: ImageRef, platform: str | None, limits: Limits) -> ImageSource:
            raise AssertionError("not reached")

    with pytest.raises(TypeError, match="syft_target"):
        NoSyft()  # type: ignore[abstract]


@pytest.mark.parametrize("text", ["ocidir:/no/such/layout", "docker-engine:alpine:3", "containerstore:a/b"])
def test_an_unknown_transport_is_a_one_line_usage_error(text: str) -> None:
    with pytest.raises(
        UsageError, match=r"^unknown image transport '[a-z-]+' in .* \(known: docker, "
    ) as caught:
        parse_ref(text)
    assert "\n" not in str(caught.value)


def test_an_unknown_transport_on_the_command_line(tmp_path: Path) -> None:
    result = run("diff", "ocidir:/no/such/layout", "docker-engine:x:1", "--no-cache", "--sbom", "none")
    assert_one_line_error(result, 2, "unknown image transport 'ocidir'")


@pytest.mark.parametrize(
    "text",
    ["python:3.12", "localhost:5000/app:1.0", "ghcr.io/org/app@sha256:" + "a" * 64, "sha256:" + "b" * 64],
)
def test_engine_image_names_with_a_colon_are_not_transports(text: str) -> None:
    assert parse_ref(text) == ImageRef("docker", text)


def test_platform_selection(tmp_path: Path) -> None:
    amd = Image(BASE.layers, BASE.config, architecture="amd64")
    arm = Image([layer_tar([F("arm", b"1")])], BASE.config, architecture="arm64")
    layout = write_oci_layout(tmp_path / "multi", {"a": amd, "b": arm}, multi_platform=True)
    assert load(f"oci:{layout}", tmp_path, "linux/arm64").snapshot.platform == "linux/arm64"
    assert load(f"oci:{layout}", tmp_path, "linux/amd64").snapshot.platform == "linux/amd64"
    with pytest.raises(
        ImageError, match=r"no image for platform linux/s390x \(available: linux/amd64, linux/arm64\)"
    ):
        load(f"oci:{layout}", tmp_path, "linux/s390x")


def test_tampered_layer_blob_is_a_digest_mismatch(tmp_path: Path) -> None:
    layout = write_oci_layout(
        tmp_path / "layout", {"v1": Image(BASE.layers, BASE.config, compression="none")}
    )
    manifest = _manifest(layout)
    blob = layout / "blobs" / "sha256" / manifest["layers"][1]["digest"].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[600] ^= 0xFF  # inside the file content, so the tar still parses
    blob.write_bytes(bytes(data))
    with pytest.raises(DigestMismatch, match="does not match"):
        load(f"oci:{layout}", tmp_path)


def test_config_whose_diff_ids_lie_is_a_digest_mismatch(tmp_path: Path) -> None:
    docker = write_docker_archive(tmp_path / "d.tar", BASE)
    unpacked = tmp_path / "unpacked"
    shutil.unpack_archive(docker, unpacked, format="tar")
    # swap two layer files: each still hashes fine, but not to the diff_id the config gives its position
    manifest = json.loads((unpacked / "manifest.json").read_text())
    manifest[0]["Layers"].reverse()
    (unpacked / "manifest.json").write_text(json.dumps(manifest))
    from tests.support.imagebuilder import tar_directory

    with pytest.raises(DigestMismatch):
        load(f"docker-archive:{tar_directory(unpacked, tmp_path / 'swapped.tar')}", tmp_path)


def test_missing_blob(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", {"v1": BASE})
    (layout / "blobs" / "sha256" / _manifest(layout)["layers"][0]["digest"].split(":")[1]).unlink()
    with pytest.raises(ImageError, match="missing blob"):
        load(f"oci:{layout}", tmp_path)


def test_unknown_tag_and_missing_paths(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", {"v1": BASE})
    with pytest.raises(ImageNotFound, match="no image tagged 'v2'"):
        load(f"oci:{layout}:v2", tmp_path)
    with pytest.raises(ImageNotFound):
        load(f"docker-archive:{tmp_path / 'nope.tar'}", tmp_path)
    with pytest.raises(ImageNotFound):
        load(f"oci:{tmp_path}", tmp_path)


def _manifest(layout: Path) -> dict[str, list[dict[str, str]]]:
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    manifest: dict[str, list[dict[str, str]]] = json.loads((layout / "blobs" / "sha256" / digest).read_text())
    return manifest


def test_gzipped_docker_save_archive(tmp_path: Path) -> None:
    import gzip

    plain = write_docker_archive(tmp_path / "d.tar", BASE)
    zipped = tmp_path / "d.tar.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    assert parse_ref(str(zipped)).transport == "docker-archive"
    assert load(str(zipped), tmp_path).snapshot.image_id == load(str(plain), tmp_path).snapshot.image_id


def test_tags_after_archive_paths(tmp_path: Path) -> None:
    docker = write_docker_archive(tmp_path / "d.tar", BASE, repo_tag="example/app:1.0")
    assert parse_ref(f"docker-archive:{docker}:example/app:1.0").tag == "example/app:1.0"
    assert load(f"docker-archive:{docker}:example/app:1.0", tmp_path).snapshot.repo_tags == (
        "example/app:1.0",
    )
    archive = write_oci_archive(tmp_path / "o.tar", {"v1": BASE}, tmp_path)
    assert parse_ref(f"oci-archive:{archive}:v1") == parse_ref(f"oci-archive:{archive}:v1")
    assert parse_ref(f"oci-archive:{archive}:v1").tag == "v1"
    with pytest.raises(ImageNotFound, match="no image tagged 'v2'"):
        load(f"oci-archive:{archive}:v2", tmp_path)
