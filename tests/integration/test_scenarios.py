"""Each seed scenario, diffed from the real engine, lists the expected changes with the right attribution."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from layerdiff.report.model import load_schema
from tests.support.cli import run

pytestmark = pytest.mark.engine
SITE = "/home/airflow/.local/lib/python3.11/site-packages"


def report(scenarios: dict[str, str], derived: str, cache: Path) -> dict[str, Any]:
    result = run(
        "diff",
        f"docker:{scenarios['airflow-base']}",
        f"docker:{scenarios[derived]}",
        "--format",
        "json",
        "--cache-dir",
        str(cache),
    )
    document: dict[str, Any] = json.loads(result.stdout)
    # exit 1 exactly when the verdict (the default threshold, high) fails
    assert result.code == (1 if document["verdict"]["status"] == "fail" else 0), result.stderr
    jsonschema.validate(document, load_schema())
    return document


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_dag_only_adds_the_dag(scenarios: dict[str, str], cache: Path) -> None:
    doc = report(scenarios, "derived-dag", cache)
    assert doc["comparison"]["extends_base"] is True
    (layer,) = doc["comparison"]["reviewed_layers"]
    assert layer["instruction"].startswith("COPY --chown=airflow:root")
    (change,) = doc["file_changes"]
    assert change["path"] == "/opt/airflow/dags/example_dag.py" and change["kind"] == "added"
    assert (change["after"]["uid"], change["after"]["gid"], change["layer"]) == (50000, 0, layer["position"])
    assert doc["config_changes"] == []


def test_pin_replaces_requests_and_downgrades_its_dependencies(
    scenarios: dict[str, str], cache: Path
) -> None:
    doc = report(scenarios, "derived-pin", cache)
    (layer,) = doc["comparison"]["reviewed_layers"]
    assert layer["instruction"] == "RUN pip install requests==2.28.1"
    by_path = {c["path"]: c for c in doc["file_changes"]}
    for removed in (
        "requests-2.31.0.dist-info",
        "urllib3-2.0.7.dist-info",
        "charset_normalizer-3.3.2.dist-info",
    ):
        assert by_path[f"{SITE}/{removed}/METADATA"]["kind"] == "removed"
    for added in (
        "requests-2.28.1.dist-info",
        "urllib3-1.26.18.dist-info",
        "charset_normalizer-2.1.1.dist-info",
    ):
        assert by_path[f"{SITE}/{added}/METADATA"]["kind"] == "added"
        assert by_path[f"{SITE}/{added}/METADATA"]["after"]["uid"] == 50000
    assert by_path[f"{SITE}/requests/__version__.py"]["kind"] == "modified"
    assert {c["layer"] for c in doc["file_changes"]} == {layer["position"]}
    assert f"{SITE}/responses-0.25.0.dist-info/METADATA" not in by_path  # untouched, and now unsatisfied


def test_user_root_changes_only_the_config(scenarios: dict[str, str], cache: Path) -> None:
    doc = report(scenarios, "derived-root", cache)
    assert doc["file_changes"] == [] and doc["comparison"]["reviewed_layers"] == []
    (change,) = doc["config_changes"]
    assert (change["field"], change["before"], change["after"], change["instruction"]) == (
        "User",
        "airflow",
        "root",
        "USER root",
    )
    assert doc["derived"]["user"] == "root" and doc["base"]["user"] == "airflow"


def test_venv_first_on_path(scenarios: dict[str, str], cache: Path) -> None:
    doc = report(scenarios, "derived-venv", cache)
    (change,) = doc["config_changes"]
    assert change["field"] == "Env" and change["key"] == "PATH"
    assert change["after"] == "/opt/airflow/venv/bin:" + change["before"]
    assert change["instruction"] == "ENV PATH=" + change["after"]
    layers = {layer["position"]: layer["instruction"] for layer in doc["comparison"]["reviewed_layers"]}
    by_path = {c["path"]: c for c in doc["file_changes"]}
    requirements = by_path["/opt/airflow/requirements.txt"]
    assert requirements["after"]["uid"] == 0  # COPY without --chown: root-owned inside AIRFLOW_HOME
    assert layers[requirements["layer"]].startswith("COPY ")
    assert layers[by_path["/opt/airflow/venv/pyvenv.cfg"]["layer"]] == "RUN python3 -m venv /opt/airflow/venv"
    tabulate = next(
        p for p in by_path if p.startswith("/opt/airflow/venv/lib/python3.11/site-packages/tabulate-")
    )
    assert layers[by_path[tabulate]["layer"]].startswith("RUN /opt/airflow/venv/bin/pip install")
