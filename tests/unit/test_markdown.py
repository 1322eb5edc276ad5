"""The PR comment: what it shows, in which order, escaped, and within GitHub's comment limit for any report.

The big reports are built directly as the typed model (tests/support/big_reports.py). Each output is
checked for whole syntax: every table row has its table's cells, every code span and ``<details>`` block
is closed, and no tag or link comes from the report's text.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from layerdiff.render.markdown import BUDGET, COMMENT_LIMIT, render_markdown
from layerdiff.render.markdown_fit import Section, fill, fit_entries
from layerdiff.render.markdown_text import cell, size
from layerdiff.report.wire import DockerfileMap, DockerfileStep, Finding, Report, SourceLine, Waiver
from layerdiff.rules.documentation import rule_doc_url
from layerdiff.rules.severity import Severity
from tests.support.big_reports import (
    big_report,
    example_report,
    findings,
    severities,
    with_findings,
)

MARGIN = 5_000  # at least this far below GitHub's limit
ORDER = [s.label for s in sorted(Severity, reverse=True)]
_TOKEN = re.compile(r"\\.|[`|]|\]\(")  # an escape pair, a backtick, a pipe, a link's "]("
_ALLOWED_TAGS = ("<details>", "</details>", "<summary>", "</summary>")


@pytest.fixture(scope="module")
def big() -> Report:
    return big_report()


@pytest.fixture(scope="module")
def extreme() -> Report:
    return big_report(text_length=10_000)


def assert_fits(text: str) -> None:
    assert len(text) <= size(text) <= BUDGET <= COMMENT_LIMIT - MARGIN


def assert_well_formed(text: str) -> None:
    """No cut syntax, and no tag, code span or link but the comment's own."""
    untagged = text
    for tag in _ALLOWED_TAGS:
        untagged = untagged.replace(tag, "")
    assert "<" not in untagged and ">" not in untagged.replace("&gt;", "")
    opened = 0
    for line in text.splitlines():
        opened += line.count("<details>") - line.count("</details>")
        assert opened in (0, 1), "a <details> block inside another, or closed twice"
        tokens = _TOKEN.findall(line)
        assert tokens.count("`") % 2 == 0, f"an open code span: {line[:120]}"
        assert all(line[m.end() :].startswith("https://") for m in re.finditer(r"(?<!\\)\]\(", line))
    assert opened == 0, "a <details> block left open"
    for block in re.findall(r"(?:^\|.*\n?)+", text, flags=re.MULTILINE):
        rows = block.splitlines()
        assert re.fullmatch(r"\|(---\|)+", rows[1])
        pipes = {_TOKEN.findall(row).count("|") for row in rows}
        assert len(pipes) == 1 and all(row.endswith(" |") for row in rows if row is not rows[1]), block[:300]


def shown_severities(text: str) -> list[str]:
    return re.findall(r"^- \*\*(\w+)\*\*", text, flags=re.MULTILINE)


def expected_left_out(levels: list[str]) -> str:
    counts = Counter(levels)
    by_severity = ", ".join(f"{counts[s]:,} {s}" for s in ORDER if counts[s])
    return f"… and {len(levels):,} more findings ({by_severity}) — full details in the JSON report."


def _finding(report: Report, rule: str) -> Finding:
    return next(f for f in report.findings if f.rule == rule)


def _replace_finding(report: Report, rule_id: str, **changes: Any) -> Report:
    found = tuple(dataclasses.replace(f, **changes) if f.rule == rule_id else f for f in report.findings)
    return dataclasses.replace(report, findings=found)


# --- the bound --------------------------------------------------------------------------------------------


def test_a_hundred_thousand_file_changes_and_500_findings_fit(big: Report) -> None:
    text = render_markdown(big)
    assert_fits(text)
    assert_well_formed(text)
    assert len(big.file_changes) == 100_000 and len(big.findings) == 500
    # every section is there, whole or as a count: none crowds out the others
    for heading in (
        "#### Findings at or above high (50)",
        "#### Config changes (100)",
        "#### Warnings (100)",
    ):
        assert heading in text
    for summary in ("Package changes (5,002, from syft 1.18.1)", "Python problems (201)"):
        assert f"<summary>{summary}</summary>" in text
    assert (
        "<summary>File changes (100,000: 25,000 added, 25,000 removed, 25,000 modified, 25,000 metadata)"
        in text
    )
    assert "| 3 | RUN pip install requests==2.28.1 | 25,000 | 0 | 0 | 0 |" in text
    assert "/srv/f" not in text  # file changes are counted per layer, not listed


def test_truncation_says_how_many_findings_of_each_severity_are_left_out(big: Report) -> None:
    text = render_markdown(big)
    ordered = sorted((f.severity for f in big.findings), key=ORDER.index)
    shown = shown_severities(text)
    assert 0 < len(shown) < 500 and shown == ordered[: len(shown)]
    assert expected_left_out(ordered[len(shown) :]) in text.splitlines()
    # the left-out line closes the folded list of lower findings, inside its <details> block
    left_out = text.index("… and ")
    assert text.index("<summary>Findings below high (450)") < left_out < text.index("</details>")


def test_truncation_counts_package_rows_and_warnings(big: Report) -> None:
    report = dataclasses.replace(big, warnings=tuple(f"warning {i}" for i in range(3_000)))
    text = render_markdown(report)
    assert_fits(text)
    package_rows = len(re.findall(r"^\| upgraded \| deb \| lib\d+ \|", text, flags=re.MULTILINE))
    assert 0 < package_rows < 5_000
    assert f"… and {5_000 - package_rows:,} more package changes — full details in the JSON report." in text
    warnings = len(re.findall(r"^- warning \d+$", text, flags=re.MULTILINE))
    assert 0 < warnings < 3_000
    assert f"… and {3_000 - warnings:,} more warnings — full details in the JSON report." in text


def test_extreme_field_lengths_fit(extreme: Report) -> None:
    text = render_markdown(extreme)
    assert_fits(text)
    assert_well_formed(text)
    assert len(extreme.findings[0].subject) == len(extreme.findings[0].message) == 10_000
    shown = shown_severities(text)
    assert shown and "#### Findings at or above high (50)" in text
    ordered = sorted((f.severity for f in extreme.findings), key=ORDER.index)
    assert expected_left_out(ordered[len(shown) :]) in text
    assert "#### Config changes (100)" in text and "#### Warnings (100)" in text


@pytest.mark.parametrize("length", [100_000, 1_000_000])
def test_one_finding_longer_than_the_limit_still_fits(length: int) -> None:
    report = example_report()
    huge = "x|<y>`" * (length // 6)
    report = _replace_finding(report, "runtime-user-lost-write", message=huge, subject=huge, remediation=huge)
    report = dataclasses.replace(
        report, warnings=(huge,), base=dataclasses.replace(report.base, reference=huge)
    )
    text = render_markdown(report)
    assert_fits(text)
    assert_well_formed(text)
    assert "runtime-user-lost-write" in text and "#### Warnings (1)" in text


# --- what a finding shows, and in which order -------------------------------------------------------------


def test_verdict_heading_for_each_status() -> None:
    report = example_report()
    five = findings(report.findings[0], ["low", "high", "info", "critical", "medium"])
    failing = render_markdown(with_findings(report, five, fail_on="high"))
    assert failing.startswith(
        "### layerdiff: ❌ FAIL\n\n**5 findings** (2 at or above **high**): "
        "1 critical · 1 high · 1 medium · 1 low · 1 info\n"
    )
    review = render_markdown(with_findings(report, five, fail_on=None))
    assert review.startswith("### layerdiff: ⚠️ REVIEW\n\n**5 findings** (`--fail-on none`: nothing enforced)")
    assert "#### Findings at or above high (2, not enforced)" in review
    passing = render_markdown(with_findings(report, findings(report.findings[0], ["low"]), fail_on="high"))
    assert passing.startswith("### layerdiff: ✅ PASS\n\n**1 finding** (0 at or above **high**)")
    assert (
        "No findings at or above **high**." in passing
        and "<summary>Findings below high (1)</summary>" in passing
    )


def test_findings_come_most_severe_first_and_those_below_the_threshold_fold() -> None:
    report = example_report()
    levels = severities({"critical": 2, "high": 3, "medium": 2, "low": 4, "info": 1}, seed=3)
    text = render_markdown(with_findings(report, findings(report.findings[0], levels), fail_on="medium"))
    assert shown_severities(text) == sorted(levels, key=ORDER.index)
    details = text.index("<summary>Findings below medium (5)</summary>")
    assert text.rindex("- **medium**") < details < text.index("- **low**")
    assert text.index("#### Findings at or above medium (7)") < text.index("- **critical**")
    assert "… and" not in text


def test_a_finding_shows_its_rule_doc_where_consequence_fix_and_fingerprint() -> None:
    report = example_report()
    lost_write = _finding(report, "runtime-user-lost-write")
    text = render_markdown(report)
    block = text[text.index("- **high** · [runtime-user-lost-write]") :].split("\n- ")[0].split("\n\n")[0]
    url = rule_doc_url("runtime-user-lost-write")  # the saved report predates doc URLs
    assert block.splitlines() == [
        f"- **high** · [runtime-user-lost-write]({url}) · /opt/airflow/logs",
        "  - where: layer 5: RUN mkdir -p /opt/airflow/logs",
        f"  - consequence: {cell(lost_write.message, 600)}",
        f"  - fix: {cell(lost_write.remediation, 600)}",
        f"  - fingerprint: `{lost_write.fingerprint}`",
    ]
    assert "`layerdiff approve REPORT.json --reviewer NAME --reason TEXT --finding FINGERPRINT`" in text
    # a finding about the image config names the instruction
    assert "  - where: image config: ENV PATH=/opt/airflow/venv/bin:" in text


def test_doc_links_go_to_https_only() -> None:
    report = example_report()
    linked = _replace_finding(report, "runtime-user-lost-write", doc="https://docs.example/rules/x.md")
    assert "[runtime-user-lost-write](https://docs.example/rules/x.md)" in render_markdown(linked)
    for doc in ("javascript:alert(1)", "https://x.example/a)(b", "http://plain.example/x.md"):
        text = render_markdown(_replace_finding(report, "runtime-user-lost-write", doc=doc))
        assert "- **high** · runtime-user-lost-write · /opt/airflow/logs" in text
        assert_well_formed(text)


def test_a_waived_finding_says_why() -> None:
    waiver = Waiver("runtime-user-lost-write", "/opt/airflow/logs", "logs go to stdout", None)
    text = render_markdown(_replace_finding(example_report(), "runtime-user-lost-write", waived=waiver))
    assert "- **high** (waived: logs go to stdout) · [runtime-user-lost-write](" in text


def test_dockerfile_lines_are_shown_when_the_review_had_the_dockerfile() -> None:
    report = example_report()
    located = {
        "runtime-user-lost-write": SourceLine("Dockerfile", 14, 14, "exact"),
        "python-requirement-broken": SourceLine("build/Dockerfile.prod", 9, 11, "likely"),
        "python-distribution-lost": SourceLine("Dockerfile", 1, 1, "none"),
    }
    for rule, source in located.items():
        report = _replace_finding(report, rule, dockerfile=source)
    steps = (DockerfileStep(7, None, "ENV PATH=/opt/airflow/venv/bin", 12, 12, "exact"),)
    report = dataclasses.replace(
        report, dockerfile=DockerfileMap("Dockerfile", "sha256:" + "0" * 64, "runtime", 1, steps)
    )
    text = render_markdown(report)
    assert "  - where: Dockerfile:14 (layer 5)" in text
    assert "  - where: build/Dockerfile.prod:9 (likely) (layer 3)" in text
    assert "  - where: Dockerfile:1 (uncertain: no instruction matched)\n" in text
    assert "| Env PATH | /home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin |" in text
    assert text.count("| Dockerfile:12 |") == 1  # the config change, set on its Dockerfile line
    assert "Located on the lines of Dockerfile (its final stage, runtime, starts on line 1)." in text


def test_config_changes_show_field_key_before_and_after() -> None:
    report = example_report()
    env = report.config_changes[0]
    entrypoint = dataclasses.replace(env, field="Entrypoint", key=None, before=["/entrypoint"], after=None)
    text = render_markdown(dataclasses.replace(report, config_changes=(env, entrypoint)))
    heading = text.index("#### Config changes (2)")
    assert text.index("</details>") < heading  # after the findings
    assert (
        "| Env PATH | /home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"
        " | /opt/airflow/venv/bin:/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"
        " | ENV PATH=/opt/airflow/venv/bin:/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin |"
    ) in text
    assert '| Entrypoint | \\["/entrypoint"\\] | (unset) | ENV PATH=' in text


def test_sections_follow_the_findings_in_order(big: Report) -> None:
    text = render_markdown(big)
    marks = [
        "### layerdiff:",
        "#### Findings at or above",
        "#### Config changes",
        "<summary>Package changes",
        "<summary>Python problems",
        "<summary>File changes",
        "#### Warnings",
    ]
    positions = [text.index(mark) for mark in marks]
    assert positions == sorted(positions)


# --- escaping ---------------------------------------------------------------------------------------------

HOSTILE = (
    "<details><summary>x</summary> a|b `code` ](javascript:alert(1)) [y](https://e.example)\n# @org/team"
)


def test_text_from_the_image_cannot_inject_markdown_html_or_mentions() -> None:
    report = example_report()
    report = _replace_finding(
        report, "runtime-user-lost-write", subject=HOSTILE, message=HOSTILE, remediation=HOSTILE, rule=HOSTILE
    )
    env = dataclasses.replace(report.config_changes[0], key=HOSTILE, after=HOSTILE, instruction=HOSTILE)
    report = dataclasses.replace(
        report,
        config_changes=(env,),
        warnings=(HOSTILE,),
        derived=dataclasses.replace(report.derived, reference=HOSTILE),
    )
    text = render_markdown(report)
    assert_well_formed(text)
    escaped = (
        "&lt;details&gt;&lt;summary&gt;x&lt;/summary&gt; a\\|b \\`code\\` \\](javascript:alert(1))"
        " \\[y\\](https://e.example) # @&#8203;org/team"
    )
    assert text.count(escaped) >= 7  # rule, subject, consequence, fix, ENV key, value, instruction, ...
    assert "@org" not in text
    headings = re.findall(r"^#.*", text, flags=re.MULTILINE)
    assert all(re.match(r"#{3,4} (layerdiff|Findings|Config changes|Warnings)\b", h) for h in headings)
    assert text.count("<details>") == text.count("</details>") == 4
    assert cell(None) == "—"


def test_the_same_report_gives_the_same_comment(big: Report) -> None:
    assert render_markdown(big) == render_markdown(dataclasses.replace(big))


@pytest.mark.parametrize(
    "broken",
    [
        "<details>\n<summary>x</summary>\n\nleft open",
        "| a | b |\n|---|---|\n| one cell \\| too few |",
        "an open `code span",
        "[x](javascript:alert(1))",
        "a <script> tag",
    ],
)
def test_the_syntax_check_rejects_what_it_should(broken: str) -> None:
    # guards the guard: a check that accepted anything would make the bounds above meaningless
    with pytest.raises(AssertionError):
        assert_well_formed(broken)


# --- the building blocks ----------------------------------------------------------------------------------


def test_fit_entries_keeps_whole_entries_and_counts_the_rest() -> None:
    entries = [f"| row {i} |" for i in range(100)]

    def left_out(rest: Sequence[str]) -> str:
        return f"… and {len(rest)} more"

    whole = fit_entries("head\n", entries, str, "\nend", 10_000, left_out)
    assert whole is not None and whole.shown == 100 and "more" not in whole.text
    cut = fit_entries("head\n", entries, str, "\nend", 200, left_out)
    assert cut is not None and size(cut.text) <= 200
    assert cut.text.endswith(f"\n\n… and {100 - cut.shown} more\nend")
    assert cut.text.split("\n")[1 : cut.shown + 1] == entries[: cut.shown]
    assert fit_entries("head\n", entries, str, "\nend", 20, left_out) is None


def test_fill_names_what_does_not_fit_and_lets_no_section_starve_the_next() -> None:
    long = Section(lambda budget: "x" * min(budget, 5_000), "long: left out")
    short = Section(lambda budget: "short" if budget >= 5 else None, "short: left out")
    too_big = Section(lambda budget: None, "too big: left out")
    written = fill([long, short, too_big], 1_000)
    assert written[1:] == ["short", "too big: left out"]
    assert sum(size(text) for text in written) + 2 * len(written) <= 1_000
    assert len(written[0]) > 900  # what the others left goes to the first
