"""Review an image built in Python through the command line, in-process, as the hostile-input tests do:
each case must end in a defined result (a one-line error naming a limit, or a report) within 10 s."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from layerdiff.cli import main
from tests.support.imagebuilder import F, Image, layer_tar, write_oci_layout

BASE = Image([layer_tar([F("etc/hostname", b"base\n")])])


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def report(self) -> dict[str, Any]:
        return dict(json.loads(self.out))

    def assert_limit(self, limit: str) -> None:
        """One line on stderr naming the limit and how to raise it, exit 3."""
        assert self.code == 3, (self.code, self.err)
        (line,) = self.err.splitlines()
        assert line.startswith("layerdiff: error: oci:"), line
        assert f"(limit {limit}=" in line and f"raise it with --limit {limit}=..." in line, line


def review(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], derived: Image, *options: str, base: Image = BASE
) -> Run:
    layout = write_oci_layout(tmp_path / "layout", {"base": base, "derived": derived})
    images = [f"oci:{layout}:base", f"oci:{layout}:derived"]
    started = time.process_time()
    # what is found is each test's business; the threshold is not (exit 0 means the review itself worked)
    code = main(
        ["diff", *images, "--no-cache", "--sbom", "none", "--fail-on", "none", "--format", "json", *options]
    )
    assert time.process_time() - started < 10
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def derived_with(*entries: F) -> Image:
    return Image([*BASE.layers, layer_tar(list(entries))])
