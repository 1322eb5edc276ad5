"""Credentials set with ENV never reach a report, whatever the format: not in config changes, not in the
layers' instructions, not in `inspect`."""

from __future__ import annotations

import json

import pytest

from tests.support import pairs
from tests.support.cli import UNFOLDED, run
from tests.support.imagebuilder import write_docker_archive

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
DB_PASSWORD = "Tr0ub4dor-and-3"
CONN_PASSWORD = "s3cr3tConnPw"
SECRETS = (AWS_KEY, DB_PASSWORD, CONN_PASSWORD)


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    directory = tmp_path_factory.mktemp("redaction")
    env = [
        "PATH=/home/airflow/.local/bin:/usr/bin:/bin",
        f"AWS_ACCESS_KEY_ID={AWS_KEY}",
        f"DB_PASSWORD={DB_PASSWORD}",
        f"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql://airflow:{CONN_PASSWORD}@db/airflow",
    ]
    history = [
        {
            "created_by": f"/bin/sh -c #(nop)  ENV AWS_ACCESS_KEY_ID={AWS_KEY} DB_PASSWORD={DB_PASSWORD}",
            "empty_layer": True,
        },
        {
            "created_by": "/bin/sh -c #(nop)  ENV "
            f"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql://airflow:{CONN_PASSWORD}@db/airflow",
            "empty_layer": True,
        },
    ]
    derived = pairs.derived([], history, Env=env)
    return (
        str(write_docker_archive(directory / "base.tar", pairs.base_image())),
        str(write_docker_archive(directory / "derived.tar", derived)),
    )


@pytest.mark.parametrize("fmt", ["json", "table", "markdown", "sarif", "junit", "cyclonedx"])
def test_no_format_of_the_diff_shows_a_credential(archives: tuple[str, str], fmt: str) -> None:
    result = run("diff", *archives, "--format", fmt, "--no-cache", "--sbom", "none", env=UNFOLDED)
    assert result.code in (0, 1), result.stderr
    assert "secret-in-image" in result.stdout or fmt == "cyclonedx"
    assert [secret for secret in SECRETS if secret in result.stdout] == []


def test_the_report_says_what_was_redacted(archives: tuple[str, str]) -> None:
    result = run("diff", *archives, "--format", "json", "--no-cache", "--sbom", "none")
    changes = {c["key"]: c for c in json.loads(result.stdout)["config_changes"] if c["field"] == "Env"}
    assert changes["AWS_ACCESS_KEY_ID"]["after"] == "AKIA… (20 characters)"
    assert changes["DB_PASSWORD"]["after"] == f"<redacted: {len(DB_PASSWORD)} characters>"
    assert "<redacted>" in changes["DB_PASSWORD"]["instruction"]
    assert changes["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]["after"].startswith("<redacted: ")


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_inspect_shows_no_credential(archives: tuple[str, str], fmt: str) -> None:
    result = run("inspect", archives[1], "--format", fmt, "--no-cache", env=UNFOLDED)
    assert result.code == 0, result.stderr
    assert [secret for secret in SECRETS if secret in result.stdout] == []
    assert "DB_PASSWORD" in result.stdout
