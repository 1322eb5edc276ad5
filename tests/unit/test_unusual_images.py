"""Ordinary images that once crashed the review: a derived image that does not extend its base, a non-UTF-8
file name that gets a finding, and a METADATA whose requirement is not ASCII. Built in Python and run
through the command line in-process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from layerdiff.cli import main
from layerdiff.image.paths import display
from layerdiff.text.terminal import safe_line, safe_text
from tests.support.imagebuilder import F, Image, layer_tar, write_oci_layout

SITE = "usr/lib/python3.11/site-packages"
PYTHON = [
    F("usr/bin/python3.11", b"\x7fELF", mode=0o755),
    F("usr/lib/python3.11/os.py", b""),
    F(f"{SITE}/", kind="dir"),
]


def review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], base: Image, derived: Image, fmt: str = "json"
) -> str:
    """The report of ``derived`` against ``base`` in ``fmt``; the run must succeed and say nothing else."""
    layout = write_oci_layout(tmp_path / "layout", {"base": base, "derived": derived})
    images = [f"oci:{layout}:base", f"oci:{layout}:derived"]
    code = main(["diff", *images, "--no-cache", "--sbom", "none", "--fail-on", "none", "--format", fmt])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    # nothing on stderr but, with high findings, the one line saying `--fail-on none` did not enforce them
    assert captured.err == "" or (
        captured.err.count("\n") == 1 and "not enforced with fail-on none" in captured.err
    )
    return captured.out


def findings(report: str, rule: str) -> list[dict[str, Any]]:
    return [f for f in json.loads(report)["findings"] if f["rule"] == rule]


def test_markdown_of_an_image_that_does_not_extend_its_base_and_removes_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rebased: no layer in common, so the removed file belongs to no derived layer.
    base = Image([layer_tar([F("etc/kept", b"a"), F("etc/removed", b"b")])])
    derived = Image([layer_tar([F("etc/kept", b"a")]), layer_tar([F("etc/added", b"c")])])
    text = review(tmp_path, capsys, base, derived, "markdown")
    assert "does not start with the base's layers" in text
    assert (
        "Opening /etc/removed fails (No such file or directory): it was deleted in the derived image." in text
    )
    assert "File changes (2: 1 added, 1 removed, 0 modified, 0 metadata)" in text
    rows = [line for line in text.splitlines() if line.startswith("| —") or line.startswith("| 1 ")]
    assert rows == ["| — | (no history) | 0 | 1 | 0 | 0 |", "| 1 | ADD layer1 | 1 | 0 | 0 | 0 |"]


def test_a_non_utf8_file_name_with_a_finding_has_a_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = Image([layer_tar([F("usr/bin/", kind="dir")])])
    name = "usr/bin/su\udcff"  # the byte 0xff, as the tar index keeps it
    derived = Image([*base.layers, layer_tar([F(name, b"x", mode=0o4755)])])
    (finding,) = findings(review(tmp_path, capsys, base, derived), "setuid-added")
    assert finding["subject"] == "/usr/bin/su\\xff"
    assert len(finding["fingerprint"]) == 32
    # the same file under another name is another finding
    other = Image([*base.layers, layer_tar([F("usr/bin/su\udcfe", b"x", mode=0o4755)])])
    (renamed,) = findings(review(tmp_path / "other", capsys, base, other), "setuid-added")
    assert renamed["fingerprint"] != finding["fingerprint"]


def test_a_requirement_that_is_not_ascii_is_checked_like_any_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metadata = (
        "Metadata-Version: 2.1\nName: café\nVersion: 1.0\n"
        'Requires-Dist: missing-dep; platform_release != "ü"\n'
        "Requires-Dist: bär>=1\n"  # no valid requirement (names are ASCII): skipped, as pip skips it
    ).encode()
    base = Image([layer_tar(PYTHON)])
    derived = Image([*base.layers, layer_tar([F(f"{SITE}/cafe-1.0.dist-info/METADATA", metadata)])])
    report = json.loads(review(tmp_path, capsys, base, derived))
    (unsatisfied,) = report["inventory"]["python"]["unsatisfied"]
    assert unsatisfied["requirement"] == 'missing-dep; platform_release != "ü"'
    assert unsatisfied["message"] == "café 1.0 requires missing-dep, which is not installed."
    (added,) = report["inventory"]["python"]["distribution_changes"]
    assert added["after"]["name"] == "café"


def test_bytes_of_non_utf8_names_are_shown_as_the_paths_show_them() -> None:
    assert safe_text("/usr/bin/su\udcff") == display("/usr/bin/su\udcff") == "/usr/bin/su\\xff"
    assert safe_line("lone \ud800 surrogate\n") == "lone \\ud800 surrogate\\x0a"
    # a text with both: the backslash that would read as an escape is doubled
    assert safe_text("C:\\xff \udcfe") == "C:\\\\xff \\xfe"
