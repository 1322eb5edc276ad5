"""Credentials on a real image (derived-creds): what `grep` finds in the files of a container of the image,
and what the engine's own `docker history --no-trunc` shows, layerdiff names — the file, the line, the
instruction's layer — without the value, in any output format or the layer cache. The look-alike that
only names ${NPM_TOKEN} has none (and the DAG-only image none at all: test_findings.py)."""

from __future__ import annotations

import json
import re
import sqlite3
import zlib
from pathlib import Path

import pytest

from tests.support.cli import UNFOLDED, run
from tests.support.engine import engine_client
from tests.support.scenarios import ROOT, SCENARIOS

pytestmark = pytest.mark.engine

FILES = ("/etc/pip.conf", "/home/airflow/.npmrc", "/opt/airflow/.npmrc")
# what a credential looks like in these files, as grep sees it: a URL with a user and a password, or an
# npm token; a ${...} placeholder is none
GREP = r"""grep -nE '://[^/@:]+:[^/@]+@|_authToken=' %s | grep -v '\${' ; true"""
HISTORY_PASSWORD = re.compile(r"https://deploy:([^@\s]+)@pypi\.example\.invalid")
FORMATS = ("json", "table", "markdown", "sarif", "junit")


@pytest.fixture(scope="module")
def found_in_the_container(scenarios: dict[str, str]) -> dict[tuple[str, int], str]:
    """(path, line) -> the value there, as grep finds it inside a container of the image."""
    output: bytes = engine_client().containers.run(
        scenarios["derived-creds"],
        ["-c", GREP % " ".join(FILES)],
        entrypoint="/bin/sh",
        user="root",
        remove=True,
        network_disabled=True,
    )
    found = {}
    for line in output.decode().splitlines():
        path, number, text = line.split(":", 2)
        value = re.search(r"://[^/@:]+:([^/@]+)@|_authToken=(\S+)", text)
        assert value is not None, line
        found[(path, int(number))] = value.group(1) or value.group(2)
    return found


@pytest.fixture(scope="module")
def outputs(scenarios: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    directory = tmp_path_factory.mktemp("creds")
    dockerfile = (SCENARIOS / "derived-creds" / "Dockerfile").relative_to(ROOT)  # it holds the password too
    result = run(
        "diff", f"docker:{scenarios['airflow-base']}", f"docker:{scenarios['derived-creds']}",
        "--dockerfile", str(dockerfile), "--cache-dir", str(directory / "cache"),
        *(f"-o{fmt}={directory / fmt}" for fmt in FORMATS), env=UNFOLDED, cwd=ROOT,
    )  # fmt: skip
    assert result.code == 1, result.stderr
    texts = {fmt: (directory / fmt).read_text() for fmt in FORMATS}
    return texts | {"stderr": result.stderr, "cache": str(directory / "cache")}


def test_layerdiff_names_each_file_and_line_grep_finds(
    found_in_the_container: dict[tuple[str, int], str], outputs: dict[str, str]
) -> None:
    assert {path for path, _ in found_in_the_container} == {"/etc/pip.conf", "/home/airflow/.npmrc"}
    report = json.loads(outputs["json"])
    ours = {
        (finding["subject"], credential["line"])
        for finding in report["findings"]
        if finding["rule"] == "secret-in-image"
        for credential in finding["evidence"]["credentials"]
    }
    assert ours == set(found_in_the_container)


def test_layerdiff_names_the_instruction_the_engine_history_shows(
    scenarios: dict[str, str], outputs: dict[str, str]
) -> None:
    history = engine_client().images.get(scenarios["derived-creds"]).history()[::-1]  # oldest first
    leaking = [index for index, entry in enumerate(history) if HISTORY_PASSWORD.search(entry["CreatedBy"])]
    assert len(leaking) == 1  # the engine shows the RUN line's password to anyone with the image
    report = json.loads(outputs["json"])
    (finding,) = [f for f in report["findings"] if f["rule"] == "secret-in-history"]
    assert [c["kind"] for c in finding["evidence"]["credentials"]] == ["URL with a password"]
    # the RUN removed what it wrote: the builder kept no layer for it, only the history entry
    assert finding["evidence"]["history"] == [{"history_index": leaking[0], "layer": None}]
    assert history[leaking[0]]["Size"] == 0 and finding["layer"] is None
    assert "https://deploy:<redacted>@pypi.example.invalid" in finding["instruction"]
    # located on the RUN's line by its instruction, the report's and the Dockerfile's both redacted
    assert (finding["dockerfile"]["line"], finding["dockerfile"]["confidence"]) == (8, "exact")


def test_no_value_in_any_format(
    scenarios: dict[str, str], found_in_the_container: dict[tuple[str, int], str], outputs: dict[str, str]
) -> None:
    history = engine_client().images.get(scenarios["derived-creds"]).history()
    from_history = [m.group(1) for e in history if (m := HISTORY_PASSWORD.search(e["CreatedBy"]))]
    values = [*found_in_the_container.values(), *from_history]
    assert len(values) == 3
    for name in (*FORMATS, "stderr"):
        assert [value for value in values if value in outputs[name]] == [], name


def test_the_layer_cache_holds_no_value(
    found_in_the_container: dict[tuple[str, int], str], outputs: dict[str, str]
) -> None:
    cache = Path(outputs["cache"])
    with sqlite3.connect(cache / "layers.sqlite3") as db:
        rows = db.execute("SELECT payload, contents FROM layer_index").fetchall()
    stored = b"".join(zlib.decompress(value) for row in rows for value in row)
    assert b"npm auth token" in stored  # where the credential is, is kept
    assert [value for value in found_in_the_container.values() if value.encode() in stored] == []
