"""Run the real ``layerdiff`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# The table wraps to 80 columns when piped; this width folds no cell, so that a search of the table for a
# string (a path that must be listed, a credential that must not be) cannot miss one split across lines.
UNFOLDED = {"COLUMNS": "100000"}


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: int = 600) -> Result:
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "layerdiff", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(result: Result, code: int, fragment: str) -> None:
    assert result.code == code, (result.code, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("layerdiff: error: ") and fragment in lines[0], lines[0]
    assert "Traceback" not in result.stderr
