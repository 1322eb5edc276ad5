"""registry: against a registry that wants credentials, taken from the docker config file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.support.cli import assert_one_line_error, run
from tests.support.engine import engine_client, local_registry, push

pytestmark = pytest.mark.engine


def docker_config(directory: Path, registry: str, user: str, password: str) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    (directory / "config.json").write_text(json.dumps({"auths": {registry: {"auth": token}}}))
    return {"DOCKER_CONFIG": str(directory)}


def test_credentials_from_the_docker_config(scenarios: dict[str, str], tmp_path: Path) -> None:
    client = engine_client()
    with local_registry("reviewer", "s3cret") as registry:
        client.login(username="reviewer", password="s3cret", registry=registry)
        base = f"registry:{push(client, scenarios['airflow-base'], registry, 'base')}"
        derived = f"registry:{push(client, scenarios['derived-dag'], registry, 'dag')}"
        cache = str(tmp_path / "cache")

        good = run(
            "diff",
            base,
            derived,
            "--format",
            "json",
            "--cache-dir",
            cache,
            env=docker_config(tmp_path / "good", registry, "reviewer", "s3cret"),
        )
        assert good.code == 0, good.stderr
        (change,) = json.loads(good.stdout)["file_changes"]
        assert change["path"] == "/opt/airflow/dags/example_dag.py"

        missing = run("inspect", base, "--no-cache", env={"DOCKER_CONFIG": str(tmp_path / "none")})
        assert_one_line_error(missing, 3, "wants credentials")
        wrong = run(
            "inspect",
            base,
            "--no-cache",
            env=docker_config(tmp_path / "wrong", registry, "reviewer", "guess"),
        )
        assert_one_line_error(wrong, 3, "refused")


def test_unreachable_registry(tmp_path: Path) -> None:
    result = run("inspect", "registry:127.0.0.1:9/nothing:1", "--no-cache")
    assert_one_line_error(result, 3, "cannot reach registry 127.0.0.1:9")
