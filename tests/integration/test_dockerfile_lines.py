"""`--dockerfile` on the real scenario images: every finding lands on the line of the instruction that
caused it, as the engine's own history of each build says (a classic build: `COPY` sources hidden behind
content hashes, `RUN` continuation lines joined, only the final stage's instructions recorded)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from layerdiff.text.secrets import redact_text
from tests.support.cli import run
from tests.support.scenarios import DERIVED, ROOT, SCENARIOS

pytestmark = pytest.mark.engine

# scenario -> {(rule, severity): the Dockerfile line it must be located at}, read off each Dockerfile by hand
EXPECTED_LINES: dict[str, dict[tuple[str, str], int]] = {
    "derived-pin": {("python-requirement-broken", "high"): 3},
    "derived-root": {("runtime-user-root", "high"): 3, ("python-distribution-lost", "high"): 3},
    # the virtualenv's python wins through ENV PATH (line 4), which the venv's own RUN (line 3) made
    "derived-venv": {("python-distribution-lost", "high"): 4, ("path-command-shadowed", "medium"): 4},
    "derived-syspkg": {("python-package-shadowed", "medium"): 4},
    "derived-nolib": {("library-unresolved", "high"): 4},
    "derived-shadowlib": {("library-shadowed", "high"): 4},
    "derived-libcopy-noldconfig": {("library-cache-stale", "medium"): 4},
    "derived-libmove-noldconfig": {("library-unresolved", "high"): 4, ("library-cache-stale", "medium"): 4},
    "derived-purge": {("library-unresolved", "high"): 4},
    # a RUN over four lines (continuations) is located at its first line and ends at its last
    "derived-oddnames": {("setuid-added", "high"): 6},
    # two stages: the setuid RUN of the final stage, not anything of the `tools` stage it copied from
    "derived-multistage": {("setuid-added", "high"): 12},
    # the RUN that leaves no layer is found by its instruction, redacted on both sides
    "derived-creds": {("secret-in-history", "high"): 8},
}
LAST_LINES = {("derived-oddnames", "setuid-added"): 9}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def located_report(scenarios: dict[str, str], name: str, cache: Path) -> dict[str, Any]:
    dockerfile = (SCENARIOS / name / "Dockerfile").relative_to(ROOT)
    images = (f"docker:{scenarios['airflow-base']}", f"docker:{scenarios[name]}")
    result = run(
        "diff", *images, "--dockerfile", str(dockerfile), "--sbom", "none", "--fail-on", "none",
        "-o", "json", "--cache-dir", str(cache), cwd=ROOT,
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert report["dockerfile"]["path"] == dockerfile.as_posix()  # repository-relative, as SARIF needs
    # the right file: no warning that it may not be the one the image was built from
    assert not [w for w in report["warnings"] if dockerfile.as_posix() in w], report["warnings"]
    return report


def instruction_text(lines: list[str], first: int, last: int) -> str:
    """The instruction on lines first..last as the classic builder records it: continuations joined."""
    text = "\n".join(lines[first - 1 : last])
    return re.sub(r"\\\n", "", text)


@pytest.mark.parametrize("name", DERIVED)
def test_every_finding_is_on_the_line_of_its_instruction(
    name: str, scenarios: dict[str, str], cache: Path
) -> None:
    report = located_report(scenarios, name, cache)
    lines = (SCENARIOS / name / "Dockerfile").read_text().splitlines()
    steps = report["dockerfile"]["steps"]
    # the engine's history of the build, step by step: each matched entry is its instruction's text
    for step in steps:
        assert step["confidence"] in ("exact", "likely"), step
        keyword, _, argument = step["instruction"].partition(" ")
        written = instruction_text(lines, step["line"], step["end_line"])
        assert written.startswith(keyword), (step, written)
        if keyword == "RUN":  # the report's history is redacted (derived-creds' password in a URL)
            assert argument in (redact_text(written) or ""), (step, written)
    for finding in report["findings"]:
        where = finding["dockerfile"]
        assert where["path"] == report["dockerfile"]["path"]
        if finding["layer"] is not None:
            (step,) = (s for s in steps if s["layer"] == finding["layer"])
            assert (where["line"], where["end_line"]) == (step["line"], step["end_line"]), finding
    located = {(f["rule"], f["severity"]): f["dockerfile"] for f in report["findings"]}
    for key, line in EXPECTED_LINES.get(name, {}).items():
        assert key in located, sorted(located)
        assert located[key]["line"] == line and located[key]["confidence"] != "none", (key, located[key])
        assert located[key]["end_line"] == LAST_LINES.get((name, key[0]), line)


def test_a_dockerfile_that_does_not_match_falls_back_to_its_from_line(
    scenarios: dict[str, str], cache: Path, tmp_path: Path
) -> None:
    unrelated = tmp_path / "Dockerfile"
    unrelated.write_text("FROM scratch\nLABEL purpose=unrelated\n")
    images = (f"docker:{scenarios['airflow-base']}", f"docker:{scenarios['derived-root']}")
    result = run(
        "diff", *images, "--dockerfile", str(unrelated), "--sbom", "none", "--fail-on", "none", "-o", "json",
        "--cache-dir", str(cache),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {s["confidence"] for s in report["dockerfile"]["steps"]} == {"none"}
    assert any("match no instruction of" in w for w in report["warnings"])
    assert any("(line 2) wrote nothing in the derived image's history" in w for w in report["warnings"])
    located = {(f["dockerfile"]["line"], f["dockerfile"]["confidence"]) for f in report["findings"]}
    assert located == {(1, "none")}
