"""Everything that leaves the core passes one boundary: an image that plants a credential and a terminal
escape in every place it can carry text gets neither back, in any output format, in the review app, in an
error message or in the layer cache."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from layerdiff.text.terminal import is_safe
from tests.support.cli import UNFOLDED, run
from tests.support.imagebuilder import F, Image, layer_tar, write_oci_layout
from tests.support.pairs import AIRFLOW_UID, base_image, derived
from tests.support.review_app import shown_by_the_review_app

# Each credential is distinct, so a leak names the place it came from.
ENV_SECRET = "envpw-7Hq2Lx9Zr4"
LABEL_SECRET = "labelpw-3Kd8Wm1Qs6"
URL_SECRET = "urlpw-5Tb7Nc2Vy8"
TOKEN_SECRET = "tokenval-9Pf4Gh6Jk1"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
COMMENT_SECRET = "https://ci:commentpw-2Xs5Df8Gh3@git.example.com/repo.git"
NETRC_SECRET = "netrcpw-6Rt9Yu2Io5"
PIP_SECRET = "pippw-8Ws1Ex4Rc7"
SECRETS = (
    ENV_SECRET,
    LABEL_SECRET,
    URL_SECRET,
    TOKEN_SECRET,
    GITHUB_TOKEN,
    "commentpw-2Xs5Df8Gh3",
    NETRC_SECRET,
    PIP_SECRET,
)
# What an image can print to take over a terminal: set the title, clear the screen, a C1 CSI, reorder text.
ESCAPES = ("\x1b]0;pwned\x07", "\x1b[2J", "\x9b31m", "\u202e")
# And what Rich and Textual would read as markup: `[/]` raises, `[link=...]` becomes an OSC 8 escape.
MARKUP = "[/][link=https:evil.example]x[/link][bold"
HOSTILE = "".join(ESCAPES) + MARKUP


def hostile_image() -> Image:
    layer = layer_tar(
        [
            F(f"opt/airflow/dags/{HOSTILE}report.py", b"print('hi')\n", uid=AIRFLOW_UID),
            F(f"opt/airflow/dags/token={GITHUB_TOKEN}.py", b"", uid=AIRFLOW_UID),
            F("opt/airflow/dags/latest", kind="symlink", link=f"/srv/{HOSTILE}https://u:{URL_SECRET}@h/x"),
            F(
                "home/airflow/.netrc",
                f"machine pypi.example.com login ci password {NETRC_SECRET}\n".encode(),
                uid=AIRFLOW_UID,
                mode=0o600,
            ),
            F(
                "usr/local/bin/start-worker",
                f"#!/bin/sh\nexport API_KEY={TOKEN_SECRET}\nexec airflow celery worker\n".encode(),
                mode=0o755,
            ),
            F(
                "etc/pip.conf",
                f"[global]\nindex-url = https://ci:{PIP_SECRET}@pypi.example.com/simple\n".encode(),
            ),
        ]
    )
    run_line = (
        f"/bin/sh -c pip install --index-url https://deploy:{URL_SECRET}@pypi.example.com/simple "
        f"--token={TOKEN_SECRET} {HOSTILE}pkg && echo {GITHUB_TOKEN}"
    )
    env = [
        "PATH=/home/airflow/.local/bin:/usr/bin:/bin",
        "AIRFLOW_HOME=/opt/airflow",
        f"DB_PASSWORD={ENV_SECRET}",
        f"GREETING=hello{HOSTILE}",
    ]
    labels = {"org.example.deploy-password": LABEL_SECRET, f"org.example.note{HOSTILE}": f"see{HOSTILE}"}
    return derived(
        [layer],
        [
            {"created_by": run_line, "comment": f"{COMMENT_SECRET} {HOSTILE}"},
            {
                "created_by": f"/bin/sh -c #(nop)  ENV DB_PASSWORD={ENV_SECRET} GREETING=hello{HOSTILE}",
                "empty_layer": True,
            },
            {
                "created_by": f"/bin/sh -c #(nop)  LABEL org.example.deploy-password={LABEL_SECRET}",
                "empty_layer": True,
            },
        ],
        Env=env,
        Labels=labels,
    )


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    layout = write_oci_layout(
        tmp_path_factory.mktemp("hostile") / "layout", {"base": base_image(), "hostile": hostile_image()}
    )
    return f"oci:{layout}:base", f"oci:{layout}:hostile"


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{where} leaks {secret}"
    assert is_safe(text), f"{where} holds a raw control character: {_first_unsafe(text)!r}"


def _first_unsafe(text: str) -> str:
    index = next(i for i, c in enumerate(text) if not is_safe(c))
    return text[max(0, index - 40) : index + 10]


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@pytest.mark.parametrize("fmt", ["json", "table", "markdown", "sarif", "junit", "cyclonedx"])
def test_no_secret_and_no_escape_in_any_format(images: tuple[str, str], fmt: str, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    result = run("diff", *images, "--sbom", "none", "--format", fmt, "--cache-dir", cache, env=UNFOLDED)
    assert result.code in (0, 1), result.stderr
    assert_clean(result.stdout, fmt)
    if fmt == "table":
        assert "[link=https:evil.example]x[/link]" in result.stdout  # shown as it is, not a hyperlink
    assert_clean(result.stderr, f"{fmt} stderr")
    if fmt in ("json", "sarif", "cyclonedx"):
        for text in strings(json.loads(result.stdout)):  # what a consumer gets once JSON escapes are undone
            assert_clean(text, f"a string of the {fmt} document")


def test_the_report_still_shows_what_was_planted(images: tuple[str, str], tmp_path: Path) -> None:
    """Redacted and escaped, not dropped: the reviewer still sees the file, the link and the instruction."""
    result = run("diff", *images, "--sbom", "none", "--format", "json", "--no-cache")
    report = json.loads(result.stdout)
    paths = {change["path"]: change for change in report["file_changes"]}
    odd = next(change for path, change in paths.items() if path.endswith("report.py"))
    assert "\\x1b]0;pwned\\x07" in odd["path"]
    assert bytes.fromhex(odd["path_hex"]).decode() == f"/opt/airflow/dags/{HOSTILE}report.py"
    link = paths["/opt/airflow/dags/latest"]["after"]["link"]
    assert link.startswith("/srv/\\x1b]0;pwned") and "<redacted>" in link
    layer = report["comparison"]["reviewed_layers"][0]
    assert (
        "--token=<redacted>" in layer["created_by"]
        and "deploy:<redacted>@pypi.example.com" in layer["created_by"]
    )
    rules = {finding["rule"] for finding in report["findings"]}
    assert "secret-in-image" in rules


def test_the_layer_cache_keeps_no_secret(images: tuple[str, str], tmp_path: Path) -> None:
    """Not even a script's ``export API_KEY=...`` line: of a script only its #! line is kept. File names and
    link targets are the image's structure and stay as they are, in a cache directory only its user reads."""
    cache = tmp_path / "cache"
    result = run("diff", *images, "--sbom", "none", "--format", "json", "--cache-dir", str(cache))
    assert result.code in (0, 1), result.stderr
    assert cache.stat().st_mode & 0o077 == 0
    stored = [path.read_bytes() for path in cache.rglob("*") if path.is_file()]
    with sqlite3.connect(cache / "layers.sqlite3") as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in db.execute(f"SELECT * FROM {table}"):
                stored += [_unpacked(value) for value in row if isinstance(value, bytes | str)]
    assert any(b"#!/bin/sh" in data for data in stored), "the script's #! line is cached"
    in_names = (URL_SECRET, GITHUB_TOKEN)  # planted in a file name and a link target too
    for data in stored:
        for secret in SECRETS:
            if secret not in in_names:
                assert secret.encode() not in data, f"the cache keeps {secret}"


def _unpacked(value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    try:
        return zlib.decompress(data)
    except zlib.error:
        return data


def test_inspect_shows_no_secret_and_no_escape(images: tuple[str, str]) -> None:
    for fmt in ("json", "table"):
        result = run("inspect", images[1], "--format", fmt, "--no-cache", env=UNFOLDED)
        assert result.code == 0, result.stderr
        assert_clean(result.stdout, f"inspect {fmt}")


def test_error_messages_escape_image_text(images: tuple[str, str], tmp_path: Path) -> None:
    layout = images[0].removeprefix("oci:").rsplit(":", 1)[0]
    result = run("diff", images[0], f"oci:{layout}:no{HOSTILE}such", "--sbom", "none", "--no-cache")
    assert result.code == 3
    assert len(result.stderr.strip().splitlines()) == 1
    assert_clean(result.stderr, "the error message")
    hostile_entry = write_oci_layout(
        tmp_path / "climb",
        {
            "base": base_image(),
            "bad": derived([layer_tar([F(f"../{HOSTILE}https://u:{URL_SECRET}@h")])], [{"created_by": "x"}]),
        },
    )
    result = run(
        "diff", f"oci:{hostile_entry}:base", f"oci:{hostile_entry}:bad", "--sbom", "none", "--no-cache"
    )
    assert result.code == 3, result.stderr
    assert_clean(result.stderr, "the hostile-layer error")


def test_the_review_app_shows_no_secret_and_no_escape(images: tuple[str, str]) -> None:
    from layerdiff.report.wire import Report

    result = run("diff", *images, "--sbom", "none", "--format", "json", "--no-cache")
    report = Report.from_json(json.loads(result.stdout))
    shown = shown_by_the_review_app(report)
    assert len(shown) > 7
    for index, text in enumerate(shown):
        assert_clean(text, f"screen or cell {index} of the review app")
