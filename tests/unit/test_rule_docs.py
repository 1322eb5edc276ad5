"""Every rule's documentation ships inside the package, `layerdiff rules ID` prints it, and `doc` points at
the project's documentation URL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

from layerdiff.rules.documentation import DOCUMENTATION_URL, packaged_rule_doc, rule_doc_url
from layerdiff.rules.registry import all_rules
from tests.support.cli import assert_one_line_error, run

ROOT = Path(__file__).resolve().parents[2]


def test_every_rule_has_a_packaged_doc_titled_with_its_id() -> None:
    for rule in all_rules():
        text = packaged_rule_doc(rule.id)
        assert text is not None, rule.id
        assert text.startswith(f"# {rule.id} — "), rule.id
        assert rule.doc == rule_doc_url(rule.id) and rule.doc.startswith("https://")
    assert packaged_rule_doc("no-such-rule") is None


def test_doc_links_follow_the_documentation_url_of_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["urls"]["Documentation"] == DOCUMENTATION_URL
    # the repository's docs/rules is the packaged directory, not a copy that could drift
    assert (ROOT / "docs" / "rules").resolve() == (ROOT / "layerdiff" / "rules" / "docs").resolve()


def test_rules_id_prints_the_doc_and_where_it_is_online() -> None:
    result = run("rules", "RUNTIME-USER-ROOT")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith(packaged_rule_doc("runtime-user-root") or "missing")
    assert result.stdout.endswith(f"\nOnline: {rule_doc_url('runtime-user-root')}\n")
    as_json = json.loads(run("rules", "setuid-added", "--format", "json").stdout)
    assert as_json["doc"] == rule_doc_url("setuid-added") and as_json["markdown"].startswith("# setuid-added")
    assert_one_line_error(run("rules", "root"), 2, "no rule 'root'")


def test_the_built_wheel_contains_every_rule_doc(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".git", "tests", "fixtures", "build", "*.egg-info"),
    )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("layerdiff-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"layerdiff/rules/docs/{rule.id}.md" for rule in all_rules()} <= names
