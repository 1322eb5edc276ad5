"""Errors a user can act on: what a reference that names nothing readable says, in one line."""

from __future__ import annotations

import gzip
import lzma
import os
from pathlib import Path

import pytest

from layerdiff.errors import ExitCode, ImageError, ImageNotFound, UsageError
from layerdiff.image.refs import ImageRef
from layerdiff.sources.platforms import check_platform
from layerdiff.sources.transports import open_source, parse_ref, relative_to
from tests.support import pairs
from tests.support.cli import assert_one_line_error, run
from tests.support.imagebuilder import write_docker_archive, write_oci_layout

NO_SBOM = ("--no-cache", "--sbom", "none")


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # bare arguments are tried as paths relative to the working directory


@pytest.mark.parametrize(
    "text",
    [
        "./missing",
        "../elsewhere/base",
        "/no/such/layout",
        "base.tar",
        "build/app.tar.gz",
        "out/Base",
        "a.tgz",
    ],
)
def test_a_bare_argument_that_can_only_be_a_path_is_no_such_file(text: str) -> None:
    with pytest.raises(ImageNotFound, match=rf"^no such file: {text}$") as caught:
        parse_ref(text)
    assert caught.value.exit_code == ExitCode.IMAGE


@pytest.mark.parametrize("text", ["alpine", "org/app:1.0", "ghcr.io/org/app", "localhost:5000/app:1.0"])
def test_a_bare_image_name_still_goes_to_the_engine(text: str) -> None:
    ref = parse_ref(text)
    assert ref == ImageRef("docker", text) and ref.bare_name
    assert not parse_ref(f"docker:{text}").bare_name


def test_a_missing_path_on_the_command_line_never_asks_the_engine(tmp_path: Path) -> None:
    engine = {"DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    result = run("diff", "./base.tar", "build/derived.tar", *NO_SBOM, env=engine)
    assert_one_line_error(result, 3, "no such file: ./base.tar")


def test_an_unreachable_engine_names_the_docker_host_it_tried(tmp_path: Path) -> None:
    socket = f"unix://{tmp_path}/no.sock"
    result = run("inspect", "docker:someimage:1", "--no-cache", env={"DOCKER_HOST": socket})
    assert_one_line_error(
        result, 3, f"cannot reach the Docker engine at DOCKER_HOST={socket}: no such socket"
    )
    # a bare name that might have been meant as a path says that no such path exists either
    result = run("inspect", "org/app", "--no-cache", env={"DOCKER_HOST": socket})
    assert_one_line_error(result, 3, "; and there is no file or directory 'org/app'")


def test_without_docker_host_the_default_socket_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from layerdiff.sources.engine import engine_address

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    assert engine_address() == "unix:///var/run/docker.sock (DOCKER_HOST is not set)"
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.0.0.1:2375")
    assert engine_address() == "DOCKER_HOST=tcp://10.0.0.1:2375"


def test_syft_scheme_names_that_mean_a_layerdiff_transport_are_accepted(tmp_path: Path) -> None:
    layout = write_oci_layout(tmp_path / "layout", {"v1": pairs.base_image()})
    assert (
        parse_ref(f"oci-dir:{layout}:v1")
        == parse_ref(f"oci:{layout}:v1")
        == ImageRef("oci", str(layout), "v1")
    )
    for scheme in ("docker", "docker-archive", "oci-archive", "registry"):
        assert parse_ref(f"{scheme}:example/app").transport == scheme


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("dir:.", "scans a directory of files, not an image"),
        ("file:README.md", "scans a single file, not an image"),
        ("singularity:app.sif", "Singularity (SIF)"),
        ("podman:alpine", "podman save"),
        ("containerd:alpine", "ctr image export"),
    ],
)
def test_syft_scheme_names_that_mean_something_else_are_refused(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_ref(text)
    message = str(caught.value)
    assert "\n" not in message and says in message
    assert message.endswith("(known: docker, docker-archive, oci, oci-dir, oci-archive, registry)")
    # the engine can still hold an image of that name, asked for by its transport
    assert parse_ref(f"docker:{text.partition(':')[0]}:1").transport == "docker"


def test_a_refused_scheme_on_the_command_line_exits_2() -> None:
    assert_one_line_error(run("inspect", "dir:.", "--no-cache"), 2, "image transport 'dir' in 'dir:.'")


def _not_images(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Files and directories that are not images, and the words that say what each is."""
    readme = tmp_path / "README.md"
    readme.write_text("# An app\n\nIt is documented here, at some length. " * 20)
    empty = tmp_path / "empty.tar"
    empty.write_bytes(b"")
    binary = tmp_path / "random.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    packed = tmp_path / "image.tar.xz"
    packed.write_bytes(lzma.compress(b"x" * 1000))
    gzipped = tmp_path / "notes.gz"
    gzipped.write_bytes(gzip.compress(b"just some text\n" * 100))
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "file").write_text("x")
    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    (unpacked / "manifest.json").write_text("[]")
    return {
        "text": (readme, "README.md: a text file, not an image archive"),
        "empty": (empty, "empty.tar: an empty file, not an image archive"),
        "binary": (binary, "random.bin: not a tar file, not an image archive"),
        "xz": (packed, "image.tar.xz: xz-compressed; an image archive is read as a tar or a gzipped tar"),
        "gzip": (gzipped, "notes.gz: a gzip file that holds no tar, not an image archive"),
        "directory": (plain, "plain: not an OCI image layout (no index.json)"),
        "unpacked": (unpacked, "unpacked: an unpacked docker save, not an OCI image layout"),
    }


@pytest.mark.parametrize("kind", ["text", "empty", "binary", "xz", "gzip", "directory", "unpacked"])
def test_a_file_or_directory_that_is_not_an_image_is_one_line(kind: str, tmp_path: Path) -> None:
    path, says = _not_images(tmp_path)[kind]
    with pytest.raises(ImageError) as caught:
        open_source(parse_ref(path.name)).close()
    assert str(caught.value).startswith(says) and "\n" not in str(caught.value)
    assert caught.value.exit_code == ExitCode.IMAGE


def test_a_text_file_given_as_an_image_on_the_command_line(tmp_path: Path) -> None:
    path, says = _not_images(tmp_path)["text"]
    assert_one_line_error(run("inspect", str(path.name), "--no-cache", cwd=tmp_path), 3, says)
    assert_one_line_error(run("inspect", f"docker-archive:{path}", "--no-cache"), 3, "a text file")


def test_the_wrong_transport_for_a_path_says_which_to_use(tmp_path: Path) -> None:
    archive = write_docker_archive(tmp_path / "app.tar", pairs.base_image())
    layout = write_oci_layout(tmp_path / "layout", {"v1": pairs.base_image()})
    with pytest.raises(ImageError, match=r"not a directory, so not an OCI image layout .*oci-archive:"):
        open_source(parse_ref(f"oci:{archive}"))
    with pytest.raises(ImageError, match=r"a directory, not an archive .*oci:DIR"):
        open_source(parse_ref(f"docker-archive:{layout}"))
    with pytest.raises(ImageNotFound, match=r"^no such directory: nowhere$"):
        open_source(parse_ref("oci:nowhere"))


@pytest.mark.parametrize("reference", ["docker-archive:{archive}", "oci:{layout}"])
def test_a_platform_a_single_platform_image_is_not_is_an_error(reference: str, tmp_path: Path) -> None:
    archive = write_docker_archive(tmp_path / "app.tar", pairs.base_image())
    layout = write_oci_layout(tmp_path / "layout", {"v1": pairs.base_image()})
    image = reference.format(archive=archive, layout=layout)
    result = run("inspect", image, "--platform", "linux/arm64", "--no-cache")
    assert_one_line_error(
        result, 3, "--platform linux/arm64 matches nothing: the image has one platform, linux/amd64"
    )
    assert run("inspect", image, "--platform", "linux/amd64", "--no-cache").code == 0
    result = run("diff", image, image, "--platform", "linux/arm64", *NO_SBOM, "--format", "json")
    assert_one_line_error(result, 3, "the image has one platform, linux/amd64")


@pytest.mark.parametrize(
    ("actual", "wanted", "matches"),
    [
        ("linux/amd64", "linux/amd64", True),
        ("linux/arm64", "linux/arm64/v8", True),  # the config need not repeat a variant
        ("linux/arm/v7", "linux/arm", True),
        ("linux/arm/v7", "linux/arm/v6", False),
        ("linux/arm64", "linux/arm", False),  # not a prefix match
        ("windows/amd64", "linux/amd64", False),
        ("unknown/unknown", "linux/amd64", True),  # a config that does not say cannot be held to it
    ],
)
def test_platform_matching(actual: str, wanted: str, matches: bool) -> None:
    if matches:
        check_platform(actual, wanted, "img")
        check_platform(actual, None, "img")
    else:
        with pytest.raises(ImageError, match=rf"^img: --platform {wanted} matches nothing"):
            check_platform(actual, wanted, "img")


@pytest.mark.parametrize(
    ("reference", "resolved"),
    [
        ("docker-archive:base.tar", "docker-archive:ci/base.tar"),
        ("docker-archive:base.tar:app:1.0", "docker-archive:ci/base.tar:app:1.0"),
        ("oci:layout:v1", "oci:ci/layout:v1"),
        ("oci-dir:layout", "oci-dir:ci/layout"),
        ("oci-archive:../images/base.tar", "oci-archive:ci/../images/base.tar"),
        ("docker-archive:/abs/base.tar", "docker-archive:/abs/base.tar"),
        ("./base.tar", "ci/./base.tar"),
        ("docker:alpine:3", "docker:alpine:3"),
        ("registry:ghcr.io/org/app:1", "registry:ghcr.io/org/app:1"),
        ("alpine", "alpine"),
    ],
)
def test_a_stored_reference_is_taken_relative_to_its_file(reference: str, resolved: str) -> None:
    assert relative_to(reference, "ci") == resolved
    assert relative_to(reference, "") == reference


def test_a_bare_stored_name_that_exists_beside_its_file_is_that_file(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    write_docker_archive(tmp_path / "ci" / "base", pairs.base_image())
    assert relative_to("base", "ci") == os.path.join("ci", "base")
    assert relative_to("other", "ci") == "other"  # an engine name
