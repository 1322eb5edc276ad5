"""The command line explains itself: every argument has help text, and ``--version`` names the syft in use."""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from layerdiff import __version__
from layerdiff.cli.parser import build_parser
from layerdiff.sbom.syft import describe_syft
from tests.support.cli import run


def _parsers(parser: argparse.ArgumentParser, name: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {command}")


def test_every_argument_of_every_command_has_help_text() -> None:
    parsers = list(_parsers(build_parser(), "layerdiff"))
    assert len(parsers) > 5  # the walk reaches the commands
    missing = [
        f"{name}: {action.option_strings or action.dest}"
        for name, parser in parsers
        for action in parser._actions
        if not (action.help or "").strip() or action.help == argparse.SUPPRESS
    ]
    # the commands listed under COMMAND, each with its one-line description
    missing += [
        f"{name}: command {choice.dest}"
        for name, parser in parsers
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
        if not (choice.help or "").strip()
    ]
    assert missing == []


def _fake_syft(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "syft"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def test_version_names_layerdiff_and_the_syft_in_use(tmp_path: Path) -> None:
    syft = _fake_syft(tmp_path, """echo '{"version": "9.8.7"}'""")
    result = run("--version", env={"LAYERDIFF_SYFT": str(syft)})
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [f"layerdiff {__version__}", f"syft 9.8.7 ({syft})"]


def test_version_says_when_syft_is_missing_instead_of_failing(tmp_path: Path) -> None:
    result = run("--version", env={"LAYERDIFF_SYFT": str(tmp_path / "nowhere")})
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"layerdiff {__version__}",
        f"LAYERDIFF_SYFT={tmp_path / 'nowhere'} is not a working syft",
    ]


def test_a_syft_that_hangs_does_not_hang_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAYERDIFF_SYFT", str(_fake_syft(tmp_path, "exec sleep 30")))
    started = time.monotonic()
    assert describe_syft(timeout=0.5).endswith("is not a working syft")
    assert time.monotonic() - started < 10
