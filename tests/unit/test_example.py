from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run
from tests.support.example import TARGET, write


def test_committed_example_is_what_the_generator_writes(tmp_path: Path) -> None:
    write(tmp_path)
    for name in ("airflow-base.tar", "airflow-extended.tar"):
        assert (tmp_path / name).read_bytes() == (TARGET / name).read_bytes(), name


def test_example_diff_shows_the_seed_changes() -> None:
    result = run(
        "diff",
        str(TARGET / "airflow-base.tar"),
        str(TARGET / "airflow-extended.tar"),
        "--format",
        "json",
        "--no-cache",
    )
    # three high findings: the default threshold (high) fails the example, and stderr says why in one line
    assert result.code == 1
    assert result.stderr == (
        "layerdiff: 3 findings at or above high "
        "(python-distribution-lost, python-requirement-broken, runtime-user-lost-write)\n"
    )
    report = json.loads(result.stdout)
    instructions = [layer["instruction"] for layer in report["comparison"]["reviewed_layers"]]
    assert instructions == [
        "RUN pip install requests==2.28.1",
        "RUN python3 -m venv /opt/airflow/venv",
        "RUN mkdir -p /opt/airflow/logs",
    ]
    config = {(c["field"], c["key"]): (c["after"], c["instruction"]) for c in report["config_changes"]}
    assert config[("Env", "PATH")][0].startswith("/opt/airflow/venv/bin:")
    python = report["inventory"]["python"]
    assert [u["message"] for u in python["unsatisfied"]] == [
        "responses 0.25.0 has requirement requests<3.0,>=2.30.0, but you have requests 2.28.1."
    ]
    assert {(item["name"], item["via"]) for item in python["lost"]} == {
        ("requests", "python3 on PATH"),
        ("responses", "python3 on PATH"),
        ("urllib3", "python3 on PATH"),
    }
    logs = next(c for c in report["file_changes"] if c["path"] == "/opt/airflow/logs")
    assert logs["kind"] == "metadata" and (logs["before"]["uid"], logs["after"]["uid"]) == (50000, 0)
    packages = {(c["name"], c["kind"]) for c in report["packages"]["changes"]}
    assert {("requests", "downgraded"), ("urllib3", "downgraded")} <= packages
