"""The table a person reads (docs/table.md): findings as blocks, the width of the terminal or COLUMNS or 80,
and every long list cut to its first entries with a count of the rest.

Rendered from the saved reports the review app's snapshots use, made long where a test needs it."""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest
from rich.cells import cell_len
from rich.text import Text

from layerdiff.render.interface import MAX_WIDTH, MIN_WIDTH
from layerdiff.render.table import render_diff, render_inspect
from layerdiff.render.table_layout import FINDING_BLOCKS, LIST_ROWS
from layerdiff.report.wire import Inspection, Report, SourceLine, Waiver
from tests.support.cli import run
from tests.support.example import TARGET

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    _Item = TypeVar("_Item", bound=DataclassInstance)
else:
    _Item = TypeVar("_Item")

REPORTS = Path(__file__).resolve().parents[1] / "data" / "review"
DOC = Path(__file__).resolve().parents[2] / "docs" / "table.md"
WIDE = MAX_WIDTH  # no cell folds: each block line is whole
LONG_PATH = "/opt/" + "/".join(f"directory-{n:02d}" for n in range(30)) + "/file.py"  # 402 characters
LONG_MESSAGE = " ".join(["the derived image changes this in a way a reviewer should read"] * 8)


def saved(name: str) -> Report:
    return Report.from_json(json.loads((REPORTS / f"{name}.json").read_text()))


@pytest.fixture(scope="module")
def example() -> Report:
    return saved("example")


@pytest.fixture(scope="module")
def purge() -> Report:
    return saved("purge")


def copies(item: _Item, count: int, **numbered: str) -> tuple[_Item, ...]:
    """``count`` copies of a dataclass ``item``, each field of ``numbered`` set to its format with the copy's
    number (``name="dist-{:03d}"``)."""
    return tuple(
        replace(item, **{field: form.format(n) for field, form in numbered.items()}) for n in range(count)
    )


def long_report(example: Report, purge: Report) -> Report:
    """Every list of the table long, and texts far wider than 80 columns."""
    finding = replace(
        example.findings[0],
        subject=LONG_PATH,
        message=f"{LONG_PATH} is {LONG_MESSAGE}.",
        remediation=LONG_MESSAGE,
        instruction="RUN " + " && ".join(["pip install --no-cache-dir requests"] * 10),
        layer=3,
    )
    python = example.inventory.python
    python = replace(
        python,
        lost=copies(python.lost[0], 125, name="dist-{:03d}"),
        unsatisfied=copies(python.unsatisfied[0], 30, distribution="needy-{:02d}", message="needy-{:02d} x"),
    )
    os_packages = purge.inventory.os_packages
    broken = copies(os_packages.broken_dependencies[0], 21, package="p{:02d}")
    os_packages = replace(os_packages, broken_dependencies=broken)
    inventory = replace(
        example.inventory,
        python=python,
        os_packages=os_packages,
        commands=copies(example.inventory.commands[0], 22, name="cmd-{:02d}"),
        libraries=copies(purge.inventory.libraries[0], 23, soname="libx{:02d}.so"),
    )
    changes, package = example.file_changes[0], example.packages.changes[0]
    return replace(
        example,
        findings=copies(finding, FINDING_BLOCKS + 10, rule="rule-{:02d}"),
        file_changes=copies(changes, 300, path=LONG_PATH + ".{:03d}"),
        config_changes=copies(example.config_changes[0], 24, key="VARIABLE_{:02d}"),
        packages=replace(example.packages, changes=copies(package, 250, name="package-{:03d}")),
        inventory=inventory,
        warnings=tuple(f"warning number {n} about {LONG_PATH}" for n in range(26)),
    )


def lines(text: str) -> list[str]:
    return text.splitlines()


def plain(text: str) -> str:
    """The text a terminal shows of coloured output."""
    return Text.from_ansi(text).plain


# --- 80 columns ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_no_line_is_wider_than_80_columns(example: Report, purge: Report, color: bool) -> None:
    report = long_report(example, purge)
    assert max(cell_len(line) for line in lines(render_diff(report, color=False, width=WIDE))) > 400
    output = render_diff(report, color=color, width=80)
    shown = plain(output) if color else output
    assert max(cell_len(line) for line in lines(shown)) <= 80
    assert ("\x1b[" in output) is color  # colour only when asked for
    for report in (example, purge):
        assert max(cell_len(line) for line in lines(render_diff(report, color=False, width=80))) <= 80


def test_a_wide_character_counts_as_two_cells(example: Report) -> None:
    finding = replace(example.findings[0], subject="/srv/" + "配置" * 60, message="写入 " * 50)
    output = render_diff(replace(example, findings=(finding,)), color=False, width=80)
    assert max(cell_len(line) for line in lines(output)) <= 80
    assert "配置" in output


def test_inspect_fits_80_columns(inspection: Inspection) -> None:
    config = replace(inspection.config, env=(f"LONG={LONG_PATH}",), entrypoint=(LONG_PATH, "--flag"))
    output = render_inspect(replace(inspection, config=config), color=False, width=80)
    assert max(cell_len(line) for line in lines(output)) <= 80


# --- each finding a block -----------------------------------------------------------------------------------


def test_each_finding_is_a_block_of_severity_rule_subject_where_impact_and_fix(example: Report) -> None:
    output = lines(render_diff(example, color=False, width=WIDE))
    for finding in example.findings:
        header = next(n for n, row in enumerate(output) if row.endswith(f"{finding.rule}  {finding.subject}"))
        assert output[header].startswith(finding.severity.upper() + " ")
        end = output.index("", header)  # a blank line after each block
        block = output[header + 1 : end]
        assert f"  impact  {finding.message}" in block
        assert f"  fix     {finding.remediation}" in block
        if finding.layer is not None:
            assert block[0] == f"  where   layer {finding.layer}: {finding.instruction}"
        assert all(line.startswith("  ") for line in block)  # indented beneath the header


def test_the_runtime_user_block_reads_as_documented(example: Report) -> None:
    output = render_diff(example, color=False, width=80)
    block = [
        "HIGH      runtime-user-lost-write  /opt/airflow/logs",
        "  where   layer 5: RUN mkdir -p /opt/airflow/logs",
        "  impact  Task logs can no longer be written to /opt/airflow/logs: it is now uid",
        "          0, gid 0, mode 0755, which the runtime user uid 50000 (airflow) cannot",
        "          write (the base's runtime user uid 50000 (airflow) could).",
    ]
    assert "\n".join(block) + "\n" in output
    assert "\n".join(block) in DOC.read_text()


def test_a_dockerfile_line_comes_first_where_the_report_has_one(example: Report) -> None:
    finding = example.findings[0]
    located = replace(
        finding, dockerfile=SourceLine("build/Dockerfile", 12, 12, "exact"), layer=3, instruction="RUN x"
    )
    output = lines(render_diff(replace(example, findings=(located,)), color=False, width=WIDE))
    where = output.index("  where   build/Dockerfile:12")
    assert output[where + 1] == "          layer 3: RUN x"
    unlocated = render_diff(replace(example, findings=(replace(located, dockerfile=None),)), False, WIDE)
    assert "Dockerfile:" not in unlocated and "  where   layer 3: RUN x" in unlocated


def test_a_waived_finding_says_why(example: Report) -> None:
    first = example.findings[0]
    waiver = Waiver(first.rule, first.subject, "accepted for the 2.9 rollout", None)
    dated = replace(waiver, expires="2031-01-31")
    findings = (replace(example.findings[0], waived=waiver), replace(example.findings[1], waived=dated))
    output = render_diff(replace(example, findings=findings), color=False, width=WIDE)
    assert "  waived  accepted for the 2.9 rollout\n" in output
    assert "  waived  accepted for the 2.9 rollout (until 2031-01-31)\n" in output


def test_a_finding_of_the_whole_image_has_no_where_line(example: Report) -> None:
    finding = replace(example.findings[0], layer=None, instruction=None)
    output = render_diff(replace(example, findings=(finding,)), color=False, width=WIDE)
    assert "where" not in output.split("Findings (1)")[1].split("Reviewed layers")[0]


@pytest.mark.parametrize("color", [False, True], ids=["plain", "colour"])
def test_image_text_stays_plain_text(example: Report, color: bool) -> None:
    hostile = "[bold]x[/bold] [link=https://evil.example]y[/link] :smile: [/]"
    finding = replace(example.findings[0], rule="rule", subject=hostile, message=hostile, remediation=hostile)
    change = replace(example.file_changes[0], path="/srv/" + hostile)
    report = replace(example, findings=(finding,), file_changes=(change,))
    output = render_diff(report, color=color, width=WIDE)
    assert "\x1b]8;" not in output  # no hyperlink
    assert plain(output).count(hostile) == 4


# --- the width ----------------------------------------------------------------------------------------------


def _not_a_terminal(fd: int = 1) -> os.terminal_size:
    raise OSError("not a terminal")


def widest(report: Report) -> int:
    return max(cell_len(line) for line in lines(render_diff(report, color=False)))


def test_piped_the_table_follows_columns_or_else_80(
    example: Report, purge: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "get_terminal_size", _not_a_terminal)
    report = long_report(example, purge)
    monkeypatch.delenv("COLUMNS", raising=False)
    assert widest(report) == 80
    monkeypatch.setenv("COLUMNS", "132")
    assert widest(report) == 132
    monkeypatch.setenv("COLUMNS", "10")
    assert widest(report) == MIN_WIDTH
    monkeypatch.setenv("COLUMNS", "many")  # not a number: as if unset
    assert widest(report) == 80


def test_on_a_terminal_the_table_takes_its_width(
    example: Report, purge: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd=1: os.terminal_size((150, 50)))
    assert widest(long_report(example, purge)) == 150


def test_the_command_piped_follows_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real command with stdout a pipe: 80 columns, or COLUMNS."""
    monkeypatch.delenv("COLUMNS", raising=False)
    images = (str(TARGET / "airflow-base.tar"), str(TARGET / "airflow-extended.tar"))
    narrow = run("diff", *images, "--sbom", "none", "--no-cache")
    wide = run("diff", *images, "--sbom", "none", "--no-cache", env={"COLUMNS": "160"})
    assert narrow.code == wide.code == 1, narrow.stderr + wide.stderr  # the example fails at high
    assert max(cell_len(line) for line in lines(narrow.stdout)) == 80
    assert 80 < max(cell_len(line) for line in lines(wide.stdout)) <= 160
    assert " ".join(narrow.stdout.split()).count("HIGH") == 3 == " ".join(wide.stdout.split()).count("HIGH")


# --- long lists ---------------------------------------------------------------------------------------------


def more(count: int, nouns: str) -> str:
    return f"… and {count} more {nouns} (see -o json)"


def test_every_long_list_shows_its_first_entries_and_counts_the_rest(example: Report, purge: Report) -> None:
    report = long_report(example, purge)
    output = render_diff(report, color=False, width=WIDE)
    expected = {
        "findings": FINDING_BLOCKS + 10,
        "warnings": 26,
        "config changes": 24,
        "pip check problems": 30,
        "distributions": 125,
        "commands": 22,
        "library changes": 23,
        "package changes": len(report.package_changes()),
        "file changes": 300,
    }
    for nouns, total in expected.items():
        shown = FINDING_BLOCKS if nouns == "findings" else LIST_ROWS
        assert output.count(more(total - shown, nouns)) == 1, nouns
    assert output.count(more(1, "unmet dependency")) == 1  # 21 of them
    assert len(re.findall(r"^… and ", output, re.MULTILINE)) == len(expected) + 1  # every list is cut
    assert more(125 - LIST_ROWS, "distributions") == "… and 105 more distributions (see -o json)"
    # The first entries are the ones shown, and the headings count the whole list.
    assert f"dist-{LIST_ROWS - 1:03d} " in output and f"dist-{LIST_ROWS:03d} " not in output
    assert "No longer importable (125)" in output and "File changes (300)" in output
    assert f"rule-{FINDING_BLOCKS - 1:02d}  " in output and f"rule-{FINDING_BLOCKS:02d}  " not in output
    assert len(re.findall(r"^  - dist-\d{3} ", output, re.MULTILINE)) == LIST_ROWS
    assert len(re.findall(r"^added +\d+ +/opt/", output, re.MULTILINE)) == LIST_ROWS
    assert f"package-{LIST_ROWS - 1:03d}" in output and f"package-{LIST_ROWS:03d}" not in output


def test_the_doc_gives_the_numbers_the_table_uses() -> None:
    text = " ".join(DOC.read_text().split())
    assert f"Each list shows its first **{LIST_ROWS}** entries" in text
    assert f"and the findings their first **{FINDING_BLOCKS}**" in text
    assert f"Widths are kept between {MIN_WIDTH} and {MAX_WIDTH:,} columns" in text


def test_short_lists_are_shown_whole(example: Report, purge: Report) -> None:
    assert "… and" not in render_diff(example, color=False, width=WIDE)
    cut = [line for line in lines(render_diff(purge, color=False, width=WIDE)) if line.startswith("… and")]
    assert cut == [more(len(purge.file_changes) - LIST_ROWS, "file changes")]  # its 29 file changes


def test_the_layers_are_cut_too(example: Report) -> None:
    layer = example.comparison.reviewed_layers[0]
    reviewed = tuple(replace(layer, position=n) for n in range(3, 3 + LIST_ROWS + 7))
    report = replace(example, comparison=replace(example.comparison, reviewed_layers=reviewed))
    output = render_diff(report, color=False, width=WIDE)
    assert f"Reviewed layers ({LIST_ROWS + 7})" in output and more(7, "layers") in output


def test_a_shadowed_distribution_names_its_first_hidden_copies(example: Report) -> None:
    distribution = example.inventory.python.lost[0]
    from layerdiff.report.wire_inventory import Distribution, ShadowedDistribution

    winner = Distribution("requests", "2.28.1", "/opt/venv/lib/python3.11/site-packages")
    hidden = tuple(Distribution("requests", f"2.{n}.0", f"/site-{n}") for n in range(9))
    shadowed = ShadowedDistribution(distribution.environment, "requests", winner, hidden)
    python = replace(example.inventory.python, shadowed=(shadowed,))
    report = replace(example, inventory=replace(example.inventory, python=python))
    output = render_diff(report, color=False, width=WIDE)
    assert "hides 2.0.0 in /site-0, 2.1.0 in /site-1, 2.2.0 in /site-2, 2.3.0 in /site-3, " in output
    assert "2.4.0 in /site-4 and 4 more  [" in output


def test_inspect_cuts_its_env_and_layers(inspection: Inspection) -> None:
    config = replace(inspection.config, env=tuple(f"VARIABLE_{n:02d}=x" for n in range(LIST_ROWS + 5)))
    layers = tuple(replace(inspection.image.layers[0], position=n) for n in range(LIST_ROWS + 3))
    image = replace(inspection.image, layers=layers)
    output = render_inspect(replace(inspection, config=config, image=image), color=False, width=WIDE)
    assert f"VARIABLE_{LIST_ROWS - 1:02d}=x" in output and f"VARIABLE_{LIST_ROWS:02d}=x" not in output
    assert more(5, "env variables") in output and more(3, "layers") in output


@pytest.fixture(scope="module")
def inspection() -> Inspection:
    result = run("inspect", str(TARGET / "airflow-extended.tar"), "--format", "json", "--no-cache")
    assert result.code == 0, result.stderr
    return Inspection.from_json(json.loads(result.stdout))
