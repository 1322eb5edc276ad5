"""Every bound on image content is documented, can be raised from the command line or the policy, and
names itself when it is hit."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from layerdiff.errors import ExitCode, UsageError
from layerdiff.image.limits import (
    GiB,
    LimitExceeded,
    Limits,
    parse_amount,
    parse_limit_options,
    utf8_size_over,
)
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from layerdiff.policy import load_policy
from tests.support.imagebuilder import F, layer_tar

DOC = Path(__file__).resolve().parents[2] / "docs" / "limits.md"


def test_every_limit_is_documented_with_its_default() -> None:
    text = DOC.read_text()
    for name in Limits.names():
        assert f"| `{name}` |" in text, name


@pytest.mark.parametrize(
    ("text", "amount"), [("100", 100), ("64GiB", 64 * GiB), ("512m", 512 << 20), (" 2 K ", 2048), (7, 7)]
)
def test_amounts(text: str | int, amount: int) -> None:
    assert parse_amount(text, "x") == amount


@pytest.mark.parametrize("text", ["", "-1", "0", "1.5G", "lots", "12 parsecs", "9" * 5000])
def test_bad_amounts_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="limit layer-bytes"):
        Limits().with_values({"layer-bytes": text}, "--limit")


def test_the_command_line_wins_over_the_policy() -> None:
    policy = load_policy('[limits]\nlayer-bytes = "1GiB"\nlayer-entries = 10\n', "p.toml")
    limits = policy.limits.with_values(parse_limit_options(["layer-entries=20"]), "--limit")
    assert (limits.layer_bytes, limits.layer_entries) == (GiB, 20)
    assert limits.image_bytes == Limits().image_bytes


def test_an_unknown_limit_is_named_with_its_line() -> None:
    with pytest.raises(UsageError, match=r"p\.toml:2: .*unknown limit 'layer-byte'"):
        load_policy('fail-on = "high"\n[limits]\nlayer-byte = 5\n', "p.toml")
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        parse_limit_options(["layer-bytes"])


def test_an_exceeded_limit_says_which_and_how_to_raise_it() -> None:
    error = LimitExceeded("img layer 3", "layer_entries", 2_000_000)
    assert error.exit_code == ExitCode.IMAGE
    assert str(error) == (
        "img layer 3: more than 2000000 "
        "(limit layer-entries=2000000; raise it with --limit layer-entries=...)"
    )


def test_the_captured_file_limit_reaches_the_indexer_and_its_cache_key() -> None:
    smaller = CAPTURE.bounded(1024)
    assert smaller.key != CAPTURE.key and CAPTURE.bounded(CAPTURE.max_bytes) is CAPTURE
    layer = layer_tar([F("etc/passwd", b"root:x:0:0::/root:/bin/sh\n" + b"#" * 2000)])
    assert "/etc/passwd" in index_layer(io.BytesIO(layer), None, "layer", CAPTURE).contents
    assert "/etc/passwd" not in index_layer(io.BytesIO(layer), None, "layer", smaller).contents
    raised = CAPTURE.bounded(128 * GiB)  # above the old fixed 64 MiB: the limit, not a constant, decides
    assert raised.max_bytes == 128 * GiB


def _review_one_layer(tmp_path: Path, entries: list[F], *options: str) -> tuple[int, str]:
    import contextlib

    from layerdiff.cli import main
    from tests.support.imagebuilder import Image, write_oci_layout

    base = Image([layer_tar([F("etc/hostname", b"base\n")])])
    layout = write_oci_layout(
        tmp_path / "layout", {"base": base, "app": Image([*base.layers, layer_tar(entries)])}
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(
            ["diff", f"oci:{layout}:base", f"oci:{layout}:app", "--no-cache", "--sbom", "none", *options]
        )
    return code, err.getvalue()


def test_an_entry_name_longer_than_path_max_is_refused(tmp_path: Path) -> None:
    code, err = _review_one_layer(tmp_path, [F("srv/" + "n" * 5000, b"")])
    assert code == 3 and "entry srv/nnn" in err and "a name of 5004 bytes (limit entry-path-bytes=4KiB" in err
    assert _review_one_layer(tmp_path / "ok", [F("srv/" + "n" * 200, b"")])[0] == 0


def test_the_directories_a_name_implies_count_as_paths_of_the_tree(tmp_path: Path) -> None:
    deep = [F("d/" * 150 + "x", b"")]  # one entry, 151 paths of the merged tree
    code, err = _review_one_layer(tmp_path, deep, "--limit", "tree-nodes=100")
    assert code == 3 and "more than 100 paths (limit tree-nodes=100;" in err, err
    assert _review_one_layer(tmp_path / "ok", deep, "--limit", "tree-nodes=200")[0] == 0


def test_utf8_sizes_count_bytes_not_characters() -> None:
    assert utf8_size_over("a" * 10, 10) is None and utf8_size_over("a" * 11, 10) == 11
    assert utf8_size_over("é" * 6, 10) == 12  # two bytes each
    assert utf8_size_over("caf\udce9" * 3, 10) == 12  # a surrogate escape is the one byte it stands for
    assert utf8_size_over("\ud800" * 4, 10) == 12  # a lone surrogate that is no escape: counted, not a crash
