"""Write the bundled example pair under fixtures/example (``python -m tests.support.example``).

Two small ``docker save`` archives: an airflow-like base, and an image extended the way the seed story
does it (a pin that replaces requests, a virtualenv first on PATH, a root-owned logs directory in
AIRFLOW_HOME, USER root). The archives are deterministic, so regenerating them changes no bytes.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar, write_docker_archive

TARGET = Path(__file__).resolve().parents[2] / "fixtures" / "example"


def extended() -> Image:
    pin = pairs.pinned_requests().layers[-1]
    venv = pairs.venv_on_path().layers[-1]
    logs = layer_tar([F("opt/airflow/logs/", kind="dir", mode=0o755, uid=0)])
    path = "PATH=/opt/airflow/venv/bin:/home/airflow/.local/bin:/usr/bin:/bin"
    return pairs.derived(
        [pin, venv, logs],
        [
            {"created_by": "/bin/sh -c pip install requests==2.28.1"},
            {"created_by": "/bin/sh -c python3 -m venv /opt/airflow/venv"},
            {"created_by": f"/bin/sh -c #(nop)  ENV {path}", "empty_layer": True},
            {"created_by": "/bin/sh -c #(nop)  USER root", "empty_layer": True},
            {"created_by": "/bin/sh -c mkdir -p /opt/airflow/logs"},
        ],
        User="root",
        Env=[path, "AIRFLOW_HOME=/opt/airflow"],
    )


def write(target: Path = TARGET) -> None:
    target.mkdir(parents=True, exist_ok=True)
    write_docker_archive(target / "airflow-base.tar", pairs.base_image(), "example/airflow-base:1")
    write_docker_archive(target / "airflow-extended.tar", extended(), "example/airflow-extended:1")


if __name__ == "__main__":
    write()
