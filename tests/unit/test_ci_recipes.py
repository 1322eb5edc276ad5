"""docs/ci.md's recipes run one analysis and upload what it wrote: each recipe has one `layerdiff diff`,
whose command line this build parses, and the files it writes are the ones the later steps upload."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from layerdiff.cli.outputs import parse_outputs
from layerdiff.cli.parser import build_parser
from layerdiff.render.registry import REPORT_FORMATS

CI_DOC = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
RECIPES = {"github": "## GitHub Actions", "gitlab": "## GitLab CI"}


def recipe(name: str) -> str:
    text = CI_DOC.read_text()
    section = text[text.index(RECIPES[name]) :]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def diff_outputs(yaml: str) -> dict[str, str]:
    """The one `layerdiff diff` of a recipe, parsed: format -> file."""
    commands = re.findall(r"layerdiff diff .*?\|\|", yaml, re.DOTALL)
    assert len(commands) == 1, commands  # one analysis per job
    command = re.sub(r"\\\n|\n\s*", " ", commands[0].removesuffix("||"))
    arguments = build_parser().parse_args(shlex.split(command)[1:])
    assert arguments.dockerfile == "Dockerfile"
    outputs = parse_outputs(arguments.output, arguments.format, REPORT_FORMATS)
    return {output.format: output.path or "-" for output in outputs}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_each_recipe_runs_one_analysis_for_every_upload(name: str) -> None:
    yaml = recipe(name)
    written = diff_outputs(yaml)
    assert {"table", "json", "sarif", "markdown", "junit"} <= set(written)
    assert written["table"] == "-"  # the job log
    assert "layerdiff render" not in yaml and yaml.count("layerdiff diff") == 1
    if name == "github":
        assert f"sarif_file: {written['sarif']}" in yaml
        assert f"--body-file {written['markdown']}" in yaml
        assert f"path: |\n            {written['json']}\n            {written['junit']}" in yaml
    else:
        assert f"junit: {written['junit']}" in yaml
        assert f"--rawfile body {written['markdown']}" in yaml
        assert all(f"      - {written[kind]}" in yaml for kind in ("json", "sarif", "markdown"))
