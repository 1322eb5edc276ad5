"""A bug is not a finding: an unexpected exception exits 5 with one line and a traceback file, and never
leaves a truncated or empty report where a good one was."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerdiff import atomic
from layerdiff.cli import commands, main, outputs
from layerdiff.errors import ExitCode, UsageError
from tests.support import pairs
from tests.support.imagebuilder import write_oci_layout


@pytest.fixture
def images(tmp_path: Path) -> tuple[str, str]:
    layout = write_oci_layout(
        tmp_path / "layout", {"base": pairs.base_image(), "pin": pairs.pinned_requests()}
    )
    return f"oci:{layout}:base", f"oci:{layout}:pin"


def _good_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Path:
    """An -o file from an earlier run, and a cache dir of the test's own for the traceback."""
    monkeypatch.setenv("LAYERDIFF_CACHE_DIR", str(tmp_path / "cache"))
    output = tmp_path / name
    output.write_text("the good report\n")
    return output


def _crash(*_: object, **__: object) -> None:
    raise RuntimeError("stage failed on \x1b]0;pwned\x07 input")


def test_an_unexpected_exception_exits_5_and_keeps_the_old_output(
    images: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(commands, "review", _crash)
    output = _good_output(tmp_path, monkeypatch, "report.json")

    code = main(["diff", *images, "--sbom", "none", "--format", "json", "-o", str(output)])

    assert code == ExitCode.INTERNAL
    assert int(code) == 5
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("layerdiff: internal error: RuntimeError: stage failed on ")
    assert "\x1b" not in lines[0] and "\x07" not in lines[0]
    assert "\\x1b]0;pwned\\x07" in lines[0]  # shown, not obeyed
    crash_file = Path(lines[0].rsplit("(details in ", 1)[1].rstrip(")"))
    assert crash_file.parent == tmp_path / "cache" / "crashes"
    assert "Traceback" in crash_file.read_text() and "_crash" in crash_file.read_text()
    assert output.read_text() == "the good report\n"


def test_a_crash_while_rendering_leaves_the_old_output(
    images: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(outputs, "render_pieces", _crash)
    output = _good_output(tmp_path, monkeypatch, "report.sarif")

    assert main(["diff", *images, "--sbom", "none", "--format", "sarif", "-o", str(output)]) == 5
    assert output.read_text() == "the good report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "layout", "report.sarif"]


def test_an_interrupted_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.json"
    target.write_text("old\n")

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("layerdiff.atomic.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic.write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_written_file_is_complete_and_has_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    atomic.write_atomically(target, "x" * 100_000)
    assert target.read_text() == "x" * 100_000
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def test_what_is_not_a_file_is_written_to_not_replaced(tmp_path: Path) -> None:
    """-o json=/dev/null (or a FIFO, /dev/stdout) writes into it: renaming a file over it would put a
    regular file in place of the device for everyone."""
    import os
    import stat
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    atomic.write_atomically(fifo, "x" * 100_000)
    reader.join(timeout=10)
    assert received == ["x" * 100_000]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]  # no temporary file left beside it


def test_an_unwritable_output_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        atomic.write_atomically(tmp_path / "missing" / "out.json", "x")


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
