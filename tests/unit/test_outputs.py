"""`-o FORMAT[=FILE]`: several outputs of one analysis, `render` of a saved report, and the one threshold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from layerdiff.cli import commands, main
from layerdiff.cli.outputs import Output, parse_outputs
from layerdiff.errors import UsageError
from layerdiff.render.registry import INSPECT_FORMATS, REPORT_FORMATS
from layerdiff.review import review
from tests.support.cli import assert_one_line_error, run
from tests.support.example import TARGET

EXAMPLE = [str(TARGET / "airflow-base.tar"), str(TARGET / "airflow-extended.tar")]
QUICK = ("--no-cache", "--sbom", "none")


def test_each_spelling_of_an_output() -> None:
    outputs = parse_outputs(
        ["table", "json=r.json", "SARIF=out/r.sarif", "comment.md", "junit.xml", "sbom.cdx.json"],
        None,
        REPORT_FORMATS,
    )
    assert outputs == (
        Output("table", None),
        Output("json", "r.json"),
        Output("sarif", "out/r.sarif"),
        Output("markdown", "comment.md"),
        Output("junit", "junit.xml"),
        Output("cyclonedx", "sbom.cdx.json"),
    )
    assert parse_outputs(["json=-"], None, REPORT_FORMATS) == (Output("json", None),)
    # the single-output spelling: --format names the format, --output only the file
    assert parse_outputs(["report.txt"], "sarif", REPORT_FORMATS) == (Output("sarif", "report.txt"),)
    assert parse_outputs([], "JSON", INSPECT_FORMATS) == (Output("json", None),)
    assert parse_outputs([], None, REPORT_FORMATS) == ()


@pytest.mark.parametrize(
    ("values", "format_flag", "message"),
    [
        (["report"], None, "-o report: not a format"),
        (["xml=r.xml"], None, "-o: unknown output format 'xml'"),
        (["json="], None, "no file after '='"),
        (["table", "json"], None, "only one output can go to stdout (table, json)"),
        (["a.json", "json=a.json"], None, "-o names a.json twice"),
        (["a.json", "b.sarif"], "json", "--format names one output's format"),
        (["sarif=b.sarif"], "json", "--format names one output's format"),
    ],
)
def test_outputs_that_cannot_be_told_apart_are_refused(
    values: list[str], format_flag: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=None) as raised:
        parse_outputs(values, format_flag, REPORT_FORMATS)
    assert message in str(raised.value)


def test_one_analysis_renders_every_output_and_render_reproduces_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reviews: list[Any] = []
    real_review = review

    def counting_review(*args: Any, **kwargs: Any) -> Any:
        reviews.append(args)
        return real_review(*args, **kwargs)

    monkeypatch.setattr(commands, "review", counting_review)
    outputs = {"json": "r.json", "sarif": "r.sarif", "markdown": "c.md", "junit": "j.xml", "table": "t.txt"}
    options = [f"-o{name}={tmp_path / file}" for name, file in outputs.items()]
    assert main(["diff", *EXAMPLE, *QUICK, *options, "-o", "cyclonedx"]) == 1
    assert len(reviews) == 1  # the images were read once for six outputs
    on_stdout = json.loads(capsys.readouterr().out)
    assert on_stdout["bomFormat"] == "CycloneDX"
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["verdict"]["status"] == "fail"
    assert json.loads((tmp_path / "r.sarif").read_text())["version"] == "2.1.0"
    assert (tmp_path / "j.xml").read_text().startswith("<?xml")

    again = tmp_path / "again"
    again.mkdir()
    rendered = [f"-o{name}={again / file}" for name, file in outputs.items() if name != "json"]
    assert main(["render", str(tmp_path / "r.json"), *rendered]) == 0
    assert len(reviews) == 1  # render reads no image
    for name, file in outputs.items():
        if name != "json":
            assert (again / file).read_bytes() == (tmp_path / file).read_bytes(), name


def test_the_default_threshold_is_high_and_exit_1_says_why_in_one_line(tmp_path: Path) -> None:
    result = run("diff", *EXAMPLE, *QUICK, "-o", f"json={tmp_path / 'r.json'}")
    assert result.code == 1 and result.stdout == ""
    assert result.stderr == (
        "layerdiff: 3 findings at or above high "
        "(python-distribution-lost, python-requirement-broken, runtime-user-lost-write)\n"
    )
    verdict = json.loads((tmp_path / "r.json").read_text())["verdict"]
    assert verdict["fail_on"] == "high" and verdict["status"] == "fail" and verdict["failing"] == 3


def test_fail_on_none_enforces_nothing_and_the_verdict_is_review(tmp_path: Path) -> None:
    junit = tmp_path / "j.xml"
    result = run(
        "diff", *EXAMPLE, *QUICK, "--fail-on", "None", "-o", f"json={tmp_path / 'r.json'}", "-o", str(junit)
    )
    assert result.code == 0
    assert result.stderr == (
        "layerdiff: 3 findings at or above high, not enforced with fail-on none "
        "(python-distribution-lost, python-requirement-broken, runtime-user-lost-write)\n"
    )
    verdict = json.loads((tmp_path / "r.json").read_text())["verdict"]
    assert verdict == {**verdict, "fail_on": None, "status": "review", "failing": 0}
    # JUnit applies the same threshold: nothing fails, the findings are in the test cases' output
    assert '<testsuites name="layerdiff" tests="27" failures="0"' in junit.read_text()
    assert "[high] /opt/airflow/logs" in junit.read_text()


def test_a_threshold_above_every_finding_passes_only_without_high_findings(tmp_path: Path) -> None:
    # critical enforces nothing here, but three high findings exist: the verdict is review, never pass
    result = run("diff", *EXAMPLE, *QUICK, "--fail-on", "CRITICAL", "-o", f"json={tmp_path / 'r.json'}")
    assert result.code == 0
    assert json.loads((tmp_path / "r.json").read_text())["verdict"]["status"] == "review"


def test_an_unknown_severity_or_format_is_refused_in_one_line() -> None:
    result = run("diff", *EXAMPLE, *QUICK, "--fail-on", "severe")
    assert result.code == 2 and "invalid choice: 'severe'" in result.stderr
    assert_one_line_error(
        run("diff", *EXAMPLE, *QUICK, "-o", "yaml=x.yaml"), 2, "unknown output format 'yaml'"
    )


def test_render_refuses_what_is_not_a_report(tmp_path: Path) -> None:
    not_a_report = tmp_path / "x.json"
    not_a_report.write_text('{"a": 1}\n')
    assert_one_line_error(run("render", str(not_a_report), "-o", "sarif"), 2, "x.json")
