from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from layerdiff.report.model import load_schema
from tests.support import pairs
from tests.support.cli import UNFOLDED, assert_one_line_error, run
from tests.support.imagebuilder import F, Image, compress, layer_tar, write_docker_archive, write_oci_layout


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    return write_oci_layout(tmp_path / "layout", {"base": pairs.base_image(), "pin": pairs.pinned_requests()})


def test_json_report_validates_and_is_reproducible(layout: Path, tmp_path: Path) -> None:
    args = (
        "diff",
        f"oci:{layout}:base",
        f"oci:{layout}:pin",
        "--format",
        "json",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    first, second = run(*args), run(*args)
    assert first.code == 0, first.stderr
    assert first.stdout == second.stdout
    report = json.loads(first.stdout)
    jsonschema.validate(report, load_schema())
    assert report["comparison"]["shared_layers"] == 2
    assert report["comparison"]["reviewed_layers"][0]["instruction"] == "RUN pip install requests==2.28.1"
    assert report["summary"]["file_changes"]["removed"] == 2


def test_table_output_and_output_file(layout: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    images = (f"oci:{layout}:base", f"oci:{layout}:pin")
    result = run("diff", *images, "--no-cache", "-o", str(out), env=UNFOLDED)
    assert result.code == 0 and result.stdout == ""
    text = out.read_text()
    assert "requests-2.28.1.dist-info/METADATA" in text and "RUN pip install requests==2.28.1" in text


def test_inspect(layout: Path) -> None:
    result = run("inspect", f"oci:{layout}:base", "--format", "json", "--no-cache")
    document = json.loads(result.stdout)
    validate_inspect(document)
    assert document["config"]["user"] == "50000" and len(document["image"]["layers"]) == 2
    table = run("inspect", f"oci:{layout}:base", "--no-cache", env=UNFOLDED).stdout
    assert "AIRFLOW_HOME=/opt/airflow" in table and "RUN pip install --user requests==2.31.0" in table


def validate_inspect(document: dict[str, object]) -> None:
    from referencing import Registry, Resource

    report = load_schema()
    registry: Registry[dict[str, object]] = Registry().with_resource(
        report["$id"], Resource.from_contents(report)
    )
    jsonschema.Draft202012Validator(load_schema("inspect"), registry=registry).validate(document)


def test_usage_errors_exit_2(layout: Path) -> None:
    assert run("diff", str(layout)).code == 2
    assert run("diff", "a", "b", "--format", "xml").code == 2
    result = run("diff", f"oci:{layout}:base", f"oci:{layout}:pin", "--platform", "linux")
    assert_one_line_error(result, 2, "expected OS/ARCH")


def test_missing_image_exits_3(tmp_path: Path) -> None:
    assert_one_line_error(
        run("inspect", f"docker-archive:{tmp_path}/missing.tar", "--no-cache"), 3, "no such file"
    )


def test_unreachable_engine_exits_3(tmp_path: Path) -> None:
    result = run(
        "inspect", "docker:someimage:1", "--no-cache", env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock"}
    )
    assert_one_line_error(result, 3, "cannot reach the Docker engine")


def _single(tmp_path: Path, layer: bytes, name: str = "bad", compression: str = "gzip") -> Path:
    return write_oci_layout(tmp_path / name, {"v": Image([layer], {}, compression=compression)})


HOSTILE = {
    "dotdot": ([F("../../etc/passwd", b"x")], 3, "escapes the image root"),
    "absolute": ([F("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n")], 0, "/etc/passwd"),
    "symlink-loop": ([F("a", kind="symlink", link="b"), F("b", kind="symlink", link="a")], 0, '"/a"'),
    "hardlink-missing": ([F("b", kind="hardlink", link="nowhere")], 0, "which does not exist"),
    "duplicates": ([F("etc/x", b"1"), F("etc/x", b"2")], 0, "appears more than once"),
    "non-utf8": ([F(b"caf\xe9".decode("utf-8", "surrogateescape"), b"x")], 0, "caf\\\\xe9"),
    "escaping-symlink": (
        [F("esc", kind="symlink", link="../../../../../etc/shadow")],
        0,
        "../../../../../etc/shadow",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_layers_have_a_defined_result(case: str, tmp_path: Path) -> None:
    entries, code, fragment = HOSTILE[case]
    base = write_oci_layout(tmp_path / "empty", {"v": Image([layer_tar([F("keep", b"")])], {})})
    layout = _single(tmp_path, layer_tar(entries))
    result = run("diff", f"oci:{base}", f"oci:{layout}", "--format", "json", "--no-cache")
    if code:
        assert_one_line_error(result, code, fragment)
    else:
        assert result.code == 0, result.stderr
        assert fragment in result.stdout
        jsonschema.validate(json.loads(result.stdout), load_schema())


def test_truncated_gzip_layer_exits_3(tmp_path: Path) -> None:
    layer = layer_tar([F("big", os.urandom(200_000))])
    layout = _single(tmp_path, layer)
    blob = next(p for p in (layout / "blobs" / "sha256").iterdir() if p.stat().st_size > 100_000)
    blob.write_bytes(blob.read_bytes()[:100_000])
    result = run("inspect", f"oci:{layout}", "--no-cache")
    assert_one_line_error(result, 3, "")  # either digest mismatch or truncated stream: both name the layer
    assert "layer 0" in result.stderr


def test_nothing_is_written_outside_the_cache_dir(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    docker = write_docker_archive(inputs / "derived.tar", pairs.pinned_requests())
    base = write_docker_archive(inputs / "base.tar", pairs.base_image())
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    cache = tmp_path / "cache"
    result = run(
        "diff",
        str(base),
        str(docker),
        "--format",
        "json",
        "--cache-dir",
        str(cache),
        cwd=work,
        env={"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "TMPDIR": str(work)},
    )
    assert result.code == 0, result.stderr
    after = sorted(str(p) for p in tmp_path.rglob("*") if not str(p).startswith(str(cache)))
    assert after == before
    assert (cache / "layers.sqlite3").exists()


def test_json_never_imports_textual_or_docker(layout: Path) -> None:
    code = (
        "import sys; from layerdiff.cli import main; "
        f"rc = main(['diff', 'oci:{layout}:base', 'oci:{layout}:pin', '--format', 'json', '--no-cache', "
        f"'-o', '{layout}/out.json']); "
        "print(rc, 'textual' in sys.modules, 'docker' in sys.modules)"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "False", "False"]


def test_only_tui_imports_textual() -> None:
    package = Path(__file__).resolve().parents[2] / "layerdiff"
    offenders = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "tui" not in path.relative_to(package).parts
        and any(
            line.strip().startswith(("import textual", "from textual"))
            for line in path.read_text().splitlines()
        )
    ]
    assert offenders == []


def test_zstd_and_uncompressed_layers_in_one_image(tmp_path: Path) -> None:
    a, b = layer_tar([F("a", b"1")]), layer_tar([F("b", b"2")])
    layout = write_oci_layout(tmp_path / "mixed", {"v": Image([a, b], {}, compression="zstd")})
    assert compress(a, "zstd")[:4] == b"\x28\xb5\x2f\xfd"
    result = run("inspect", f"oci:{layout}", "--format", "json", "--no-cache")
    assert result.code == 0 and len(json.loads(result.stdout)["image"]["layers"]) == 2
