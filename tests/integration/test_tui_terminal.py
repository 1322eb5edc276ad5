"""The review app in a real terminal: tmux runs `layerdiff view` on a scenario report, keys go in with
send-keys, and the assertions read the screen with capture-pane, as a person would."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerdiff.approval import read_approval
from tests.support.cli import run
from tests.support.terminal import Terminal

pytestmark = pytest.mark.engine

LAYERDIFF = str(Path(sys.executable).with_name("layerdiff"))
SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


@pytest.fixture(scope="module")
def purge_report(scenarios: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """derived-purge removed libpq5 that psycopg2 still needs: packages, libraries and dependencies change."""
    path = tmp_path_factory.mktemp("tui") / "report.json"
    result = run(
        "diff",
        f"docker:{scenarios['airflow-base']}",
        f"docker:{scenarios['derived-purge']}",
        *("--format", "json", "--fail-on", "high", "-o", str(path), "--no-cache"),
    )
    assert result.code == 1, result.stderr
    return path


@pytest.fixture(scope="module")
def venv_report(scenarios: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """derived-venv with its Dockerfile: three layers (the venv, the requirements file, the install)."""
    path = tmp_path_factory.mktemp("tui-layers") / "report.json"
    result = run(
        "diff",
        f"docker:{scenarios['airflow-base']}",
        f"docker:{scenarios['derived-venv']}",
        *("--format", "json", "--sbom", "none", "-o", str(path), "--no-cache"),
        *("--dockerfile", str(SCENARIOS / "derived-venv" / "Dockerfile")),
    )
    assert result.code in (0, 1), result.stderr
    return path


@pytest.fixture
def terminal(request: pytest.FixtureRequest) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is needed for the terminal test (scripts/test installs it)")
    term = Terminal(request.node.name[-20:].strip("[]"), 100, 30)
    yield term
    term.close()


def test_a_reviewer_finds_the_broken_library_and_approves_it(
    purge_report: Path, terminal: Terminal, tmp_path: Path
) -> None:
    approval = tmp_path / "approval.json"
    terminal.start(
        [LAYERDIFF, "view", str(purge_report), "--approval-output", str(approval), "--reviewer", "carol"],
        {"TERM": "xterm-256color"},
    )
    # one cause, one finding: the purge's removal and broken dependency are the library finding's cause
    screen = terminal.wait_for("1 of 1 finding")
    assert "library-unresolved" in screen and "libpq5 15.18-0+deb12u1 was removed" in screen

    terminal.keys("1")
    screen = terminal.wait_for("FAIL (fail on high)")
    assert "derived layers after the" in screen and "dpkg --purge" in screen, screen

    # From the finding to the library it concerns
    terminal.keys("2")
    terminal.wait_for("of 1 finding")
    report = json.loads(purge_report.read_text())
    row = next(i for i, f in enumerate(report["findings"]) if f["rule"] == "library-unresolved")
    terminal.keys(*["j"] * row, "Enter")
    screen = terminal.wait_for("library changes")
    assert "libpq.so.5" in screen and "unresolved" in screen

    # The package that went away, found by search on the packages tab
    # each step waits for the screen it opens: under load, keys sent ahead of the tab they are for are lost
    terminal.keys("4")
    terminal.wait_for("of 2 packages")
    terminal.keys("/")
    terminal.wait_for("(Enter applies, Esc clears)")
    terminal.type("libpq")
    terminal.keys("Enter")
    screen = terminal.wait_for("matching 'libpq'")
    assert "libpq5" in screen and "removed" in screen

    # Approve the library finding
    terminal.keys("2", *["j"] * row, "a", "w")
    terminal.wait_for("Approve 1 finding")
    terminal.type("psycopg2 is unused in this image")
    terminal.keys("Enter")
    terminal.wait_for("approval of 1 finding written")
    assert "approved  high      library-unresolved" in terminal.wait_for("approved")
    terminal.keys("q")

    recorded = read_approval(approval.read_text(), str(approval))
    assert recorded.reviewer == "carol"
    assert recorded.accepted == {report["findings"][row]["fingerprint"]}


def test_no_color_means_no_colour(purge_report: Path, terminal: Terminal) -> None:
    terminal.start([LAYERDIFF, "view", str(purge_report)], {"TERM": "xterm-256color", "NO_COLOR": "1"})
    terminal.wait_for("library-unresolved")
    sequences = [
        [int(p) for p in params.split(";") if p]
        for params in re.findall(r"\x1b\[([0-9;]*)m", terminal.screen(True))
    ]
    colours = [
        s for s in sequences if any(p in (38, 48) or 30 <= p <= 37 or 40 <= p <= 47 or p >= 90 for p in s)
    ]
    assert colours == []
    assert any(7 in s for s in sequences)  # the cursor row is reverse video, visible without colour
    terminal.keys("q")


def test_diff_opens_the_app_on_a_terminal(scenarios: dict[str, str], terminal: Terminal) -> None:
    terminal.start(
        [
            LAYERDIFF,
            "diff",
            f"docker:{scenarios['airflow-base']}",
            f"docker:{scenarios['derived-dag']}",
            *("--sbom", "none", "--no-cache"),
        ],
        {"TERM": "xterm-256color", "DOCKER_HOST": os.environ.get("DOCKER_HOST", "")},
    )
    screen = terminal.wait_for("Overview", timeout=120)
    assert "PASS" in terminal.wait_for("PASS") and "Findings 0" in screen
    terminal.keys("3")
    assert "dags" in terminal.wait_for("dags")
    terminal.keys("q")


def test_a_reviewer_walks_the_layers_as_in_dive(venv_report: Path, terminal: Terminal) -> None:
    report = json.loads(venv_report.read_text())
    layers = [layer["position"] for layer in report["comparison"]["reviewed_layers"]]
    assert len(layers) == 3
    added = Counter(change["layer"] for change in report["file_changes"] if change["kind"] == "added")
    lines = {
        step["layer"]: step["line"] for step in report["dockerfile"]["steps"] if step["layer"] is not None
    }
    terminal.start([LAYERDIFF, "view", str(venv_report)], {"TERM": "xterm-256color"})
    terminal.wait_for(f"of {len(report['findings'])} findings")

    terminal.keys("3")
    screen = terminal.wait_for("all layers")
    assert f"{report['comparison']['shared_layers']} layers shared with" in screen, screen
    assert f"[x] added {sum(added.values())}  " in screen

    # From the last layer to the first, each with only the files it changed and its Dockerfile line
    terminal.keys("Tab")
    for position in reversed(layers[:-1]):
        terminal.keys("Up")
        screen = terminal.wait_for(f"layer {position} only")
        assert f"[x] added {added[position]}  " in screen, screen
        assert f"(Dockerfile:{lines[position]})" in screen
    first, second, last = layers

    # The aggregate: everything up to the highlighted layer, and the choice stays while moving
    terminal.keys("u")
    screen = terminal.wait_for(f"layer {first}  [x] added {added[first]}  ")
    terminal.keys("Down")
    screen = terminal.wait_for(f"layers {first} to {second}")
    assert f"[x] added {added[first] + added[second]}  " in screen, screen
    terminal.keys("Down")
    terminal.wait_for("all layers")

    # The findings of the last layer
    from_last = sum(1 for finding in report["findings"] if finding["layer"] == last)
    assert from_last
    terminal.keys("f")
    terminal.wait_for(f"{from_last} of {len(report['findings'])} findings, from layer {last}")
    terminal.keys("q")
