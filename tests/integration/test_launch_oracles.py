"""What the image's HEALTHCHECK runs, as the container answers it: `command -v` finds the program, the
program reports its version, and `dpkg -S` and the distributions' RECORD files say which package provides
it (or that none does). layerdiff's launched programs and their providers must agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerdiff.fs.tree import build_tree
from layerdiff.fs.view import TreeView
from layerdiff.index.cache import IndexCache
from layerdiff.inventory.collect import collect
from layerdiff.inventory.providers import LaunchedProgram, launched_programs
from layerdiff.pipeline import load_image
from layerdiff.sources.transports import open_source, parse_ref
from tests.support.engine import engine_client

pytestmark = pytest.mark.engine

RECORDS = "/home/airflow/.local/lib/python3.11/site-packages/*.dist-info/RECORD"
# word -> the shell commands that report the program's version in the container
VERSION_COMMANDS = {"normalizer": "normalizer --version", "airflow": "true"}


def observe(tag: str, word: str) -> dict[str, str]:
    """`command -v`, `dpkg -S`, the RECORD files that list the program and its version, in one container."""
    script = "; ".join(
        [
            f'p="$(command -v {word})"',
            'echo "command -v=$p"',
            'echo "dpkg -S=$(dpkg -S "$p" 2>/dev/null | cut -d: -f1)"',
            f'echo "record=$(grep -l "bin/{word}," {RECORDS} 2>/dev/null)"',
            f'echo "version=$({VERSION_COMMANDS[word]} 2>&1)"',
        ]
    )
    output: bytes = engine_client().containers.run(
        tag, ["-c", script], entrypoint="/bin/sh", remove=True, network_disabled=True, stderr=True
    )
    return dict(line.partition("=")[::2] for line in output.decode().splitlines() if "=" in line)


def program(tag: str, word: str, cache: Path) -> LaunchedProgram:
    source = open_source(parse_ref(f"docker:{tag}"))
    try:
        image = load_image(source, IndexCache(cache))
    finally:
        source.close()
    files = TreeView(build_tree(image.indexes), image.indexes)
    inventory = collect(files, image.snapshot.runtime_config)
    (found,) = [p for p in launched_programs(inventory, files) if p.word == word]
    return found


@pytest.mark.parametrize(("scenario", "version"), [("console-base", "3.3.2"), ("derived-console", "2.1.1")])
def test_the_healthchecks_console_script_and_its_distribution_agree_with_the_container(
    scenario: str, version: str, scenarios: dict[str, str], tmp_path: Path
) -> None:
    observed = observe(scenarios[scenario], "normalizer")
    ours = program(scenarios[scenario], "normalizer", tmp_path)
    assert ours.used_by == "Healthcheck"
    assert ours.path == observed["command -v"] == "/home/airflow/.local/bin/normalizer"
    assert observed["dpkg -S"] == ""  # pip's file: no OS package lists it
    assert ours.provider is not None and ours.provider.ecosystem == "pypi"
    assert ours.provider.record == observed["record"]
    assert ours.provider.name == "charset-normalizer" and ours.provider.version == version
    assert f"Charset-Normalizer {version} " in observed["version"]  # what the program itself reports


@pytest.mark.parametrize("scenario", ["airflow-base", "derived-dag"])
def test_a_program_copied_into_the_image_has_no_provider_in_the_container_either(
    scenario: str, scenarios: dict[str, str], tmp_path: Path
) -> None:
    observed = observe(scenarios[scenario], "airflow")
    ours = program(scenarios[scenario], "airflow", tmp_path)
    assert ours.path == observed["command -v"] == "/home/airflow/.local/bin/airflow"
    assert observed["dpkg -S"] == "" and observed["record"] == ""
    assert ours.provider is None
