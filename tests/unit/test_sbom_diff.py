"""``read_sbom`` and ``sbom_diff_report`` on SBOMs the real syft writes, in both of its JSON formats."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from layerdiff.diff.sbom_files import read_sbom, sbom_diff_report
from layerdiff.errors import ToolError
from layerdiff.sbom.syft import find_syft
from layerdiff.sbom.syft_json import read_syft_json
from tests.support import pairs
from tests.support.cli import run
from tests.support.imagebuilder import Image, write_oci_layout


@dataclass(frozen=True)
class Sboms:
    cyclonedx: str
    syft_json: str


def _scan(image: Image, directory: Path) -> Sboms:
    # syft's oci-dir source refuses a layout holding more than one manifest: one layout per image.
    layout = write_oci_layout(directory / "layout", {"latest": image})
    scratch = directory / "scratch"
    scratch.mkdir()
    cdx, native = directory / "sbom.cdx.json", directory / "sbom.syft.json"
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false", "TMPDIR": str(scratch)}
    # One scan, two encoders: both documents describe exactly the same catalog.
    subprocess.run(
        [
            find_syft().path,
            "scan",
            f"oci-dir:{layout}",
            "-q",
            "-o",
            f"cyclonedx-json={cdx}",
            "-o",
            f"json={native}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env=env,
    )
    return Sboms(cdx.read_text(), native.read_text())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Sboms:
    return _scan(pairs.base_image(), tmp_path_factory.mktemp("base"))


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> Sboms:
    return _scan(pairs.pinned_requests(), tmp_path_factory.mktemp("pinned"))


def test_both_formats_read_to_the_same_packages(base: Sboms, pinned: Sboms) -> None:
    for sboms in (base, pinned):
        from_cyclonedx = read_sbom(sboms.cyclonedx, "a.cdx.json")
        from_syft = read_sbom(sboms.syft_json, "a.syft.json")
        assert from_cyclonedx == from_syft
        assert any(p.name == "requests" for p in from_syft)
    requests = next(p for p in read_sbom(pinned.syft_json, "b") if p.name == "requests")
    assert requests.type == "pypi"
    assert requests.version == "2.28.1"
    assert requests.key[3] == "/home/airflow/.local/lib/python3.11/site-packages"  # per-location key
    assert requests.layers and requests.layers[0].startswith("sha256:")


def test_downgrade_is_classified(base: Sboms, pinned: Sboms) -> None:
    report = sbom_diff_report(
        "base.json", "pinned.json", read_sbom(base.syft_json, "a"), read_sbom(pinned.syft_json, "b")
    )
    assert report["schema_version"] == "1.0.0"
    assert (report["a"], report["b"]) == ("base.json", "pinned.json")
    assert report["changes"] == [
        {
            "type": "pypi",
            "name": "requests",
            "kind": "downgraded",
            "before": {"version": "2.31.0", "purl": "pkg:pypi/requests@2.31.0"},
            "after": {"version": "2.28.1", "purl": "pkg:pypi/requests@2.28.1"},
        }
    ]
    json.dumps(report)  # it is the wire format: plain JSON types only


def test_mixed_formats_diff_like_matching_ones(base: Sboms, pinned: Sboms) -> None:
    mixed = sbom_diff_report("a", "b", read_sbom(base.cyclonedx, "a"), read_sbom(pinned.syft_json, "b"))
    same = sbom_diff_report("a", "b", read_sbom(base.cyclonedx, "a"), read_sbom(pinned.cyclonedx, "b"))
    assert mixed == same
    assert [c["kind"] for c in mixed["changes"]] == ["downgraded"]


def test_same_sbom_on_both_sides_has_no_changes(base: Sboms) -> None:
    # Without layer positions an unchanged version is never "rebuilt".
    packages = read_sbom(base.syft_json, "a")
    assert sbom_diff_report("a", "a", packages, packages)["changes"] == []


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json at all",
        "[]",
        '{"bomFormat": "SPDX"}',
        '{"artifacts": []}',  # an artifacts list alone does not make it syft's
        '{"artifacts": {}, "descriptor": {"name": "syft"}}',
        '{"spdxVersion": "SPDX-2.3", "packages": []}',
    ],
)
def test_garbage_is_a_tool_error(text: str) -> None:
    with pytest.raises(ToolError, match=r"garbage\.json"):
        read_sbom(text, "garbage.json")


def test_syft_reader_refuses_other_documents(base: Sboms) -> None:
    with pytest.raises(ToolError, match="not a syft JSON document"):
        read_syft_json(base.cyclonedx, "x.cdx.json")
    with pytest.raises(ToolError, match="invalid purl"):
        read_syft_json('{"artifacts": [{"name": "x", "purl": "nope"}], "descriptor": {"name": "syft"}}', "x")


def test_the_sbom_diff_command(base: Sboms, pinned: Sboms, tmp_path: Path) -> None:
    from tests.support.cli import run

    a, b = tmp_path / "a.cdx.json", tmp_path / "b.syft.json"
    a.write_text(base.cyclonedx)
    b.write_text(pinned.syft_json)
    table = run("sbom-diff", str(a), str(b))
    assert table.code == 0 and "requests" in table.stdout and "downgraded" in table.stdout
    document = json.loads(run("sbom-diff", str(a), str(b), "--format", "json").stdout)
    assert [(c["name"], c["kind"]) for c in document["changes"]] == [("requests", "downgraded")]


def test_sbom_diff_output_passes_the_boundary(tmp_path: Path) -> None:
    """An SBOM is an image's text too: escapes and credentials in it never reach the terminal or the JSON."""
    hostile = "repository_url=https://ci:hunter2pw@pypi.example.com&note=\x1b]0;pwned\x07"

    def bom(version: str) -> str:
        component = {"type": "library", "name": "evil", "version": version}
        component["purl"] = f"pkg:pypi/evil@{version}?{hostile}"
        return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [component]})

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(bom("1.0"))
    b.write_text(bom("2.0"))
    table, document = (run("sbom-diff", str(a), str(b), "--format", fmt) for fmt in ("table", "json"))
    for result in (table, document):
        assert result.code == 0, result.stderr
        assert (
            "\x1b" not in result.stdout and "\x07" not in result.stdout and "hunter2pw" not in result.stdout
        )
    assert "evil" in table.stdout and "1.0 -> 2.0" in table.stdout
    purl = json.loads(document.stdout)["changes"][0]["after"]["purl"]
    assert "ci:<redacted>@" in purl and "note=%1B%5D0%3Bpwned%07" in purl  # a purl percent-encodes
