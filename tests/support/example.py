"""Write the bundled example pair under fixtures/example (``python -m tests.support.example``).

Two small ``docker save`` archives: an airflow-like base (runtime user airflow, packages in its user site,
HEALTHCHECK and ENTRYPOINT), and an image extended the way the seed story does it: a pin that breaks a
requirement of the base, a virtualenv first on PATH, a logs directory recreated as root in AIRFLOW_HOME.
The archives are deterministic, so regenerating them changes no bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.cli import run
from tests.support.imagebuilder import F, Image, layer_tar, write_docker_archive
from tests.support.pyimage import USER_SITE, dist, os_layer, user_site_layer

TARGET = Path(__file__).resolve().parents[2] / "fixtures" / "example"
BASE_PATH = "PATH=/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"
VENV_PATH = "PATH=/opt/airflow/venv/bin:/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"


def example_report(*options: str) -> dict[str, Any]:
    """`layerdiff diff --format json` of the bundled pair, without SBOM or cache; ``options`` are added."""
    result = run(
        "diff",
        str(TARGET / "airflow-base.tar"),
        str(TARGET / "airflow-extended.tar"),
        *("--format", "json", "--no-cache", "--sbom", "none", *options),
    )
    assert result.code in (0, 1), result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _config(path: str) -> dict[str, Any]:
    return {
        "User": "airflow",
        "Env": [path, "AIRFLOW_HOME=/opt/airflow"],
        "Entrypoint": ["/entrypoint"],
        "Cmd": ["scheduler"],
        "WorkingDir": "/opt/airflow",
        "Healthcheck": {"Test": ["CMD", "airflow", "jobs", "check"], "Interval": 30_000_000_000},
    }


def _app_layer() -> bytes:
    return layer_tar(
        [
            F("opt/airflow/", kind="dir", mode=0o775, uid=50000),
            F("opt/airflow/logs/", kind="dir", mode=0o775, uid=50000),
            F("opt/airflow/dags/", kind="dir", mode=0o775, uid=50000),
            F("entrypoint", b'#!/bin/sh\nexec airflow "$@"\n', mode=0o755),
        ]
    )


BASE_HISTORY: list[dict[str, Any]] = [
    {"created_by": "", "comment": "Imported from -"},
    {"created_by": "/bin/sh -c pip install --user requests==2.31.0 responses==0.25.0"},
    {"created_by": "/bin/sh -c mkdir -p /opt/airflow/logs /opt/airflow/dags && chown airflow /opt/airflow"},
    {"created_by": "/bin/sh -c #(nop)  USER airflow", "empty_layer": True},
    {"created_by": '/bin/sh -c #(nop)  ENTRYPOINT ["/entrypoint"]', "empty_layer": True},
]


def base() -> Image:
    return Image([os_layer(), user_site_layer(), _app_layer()], _config(BASE_PATH), BASE_HISTORY)


def extended() -> Image:
    pin = layer_tar(
        [
            F(f"{USER_SITE}/.wh.requests-2.31.0.dist-info"),
            F(f"{USER_SITE}/.wh.urllib3-2.0.7.dist-info"),
            *dist(USER_SITE, "requests", "2.28.1", "urllib3<1.27,>=1.21.1"),
            *dist(USER_SITE, "urllib3", "1.26.18"),
        ]
    )
    venv = layer_tar(
        [
            F(
                "opt/airflow/venv/pyvenv.cfg",
                b"home = /usr/bin\ninclude-system-site-packages = false\n",
                uid=50000,
            ),
            F("opt/airflow/venv/bin/python", kind="symlink", link="/usr/bin/python3.11", uid=50000),
            F("opt/airflow/venv/bin/python3", kind="symlink", link="python", uid=50000),
            F("opt/airflow/venv/lib/python3.11/site-packages/", kind="dir", uid=50000),
        ]
    )
    logs = layer_tar([F("opt/airflow/logs/", kind="dir", mode=0o755, uid=0, gid=0)])
    history: list[dict[str, Any]] = [
        {"created_by": "/bin/sh -c pip install requests==2.28.1"},
        {"created_by": "/bin/sh -c python3 -m venv /opt/airflow/venv"},
        {"created_by": f"/bin/sh -c #(nop)  ENV {VENV_PATH}", "empty_layer": True},
        {"created_by": "/bin/sh -c #(nop)  USER root", "empty_layer": True},
        {"created_by": "/bin/sh -c mkdir -p /opt/airflow/logs"},
        {"created_by": "/bin/sh -c #(nop)  USER airflow", "empty_layer": True},
    ]
    return Image([*base().layers, pin, venv, logs], _config(VENV_PATH), BASE_HISTORY + history)


def write(target: Path = TARGET) -> None:
    target.mkdir(parents=True, exist_ok=True)
    write_docker_archive(target / "airflow-base.tar", base(), "example/airflow-base:1")
    write_docker_archive(target / "airflow-extended.tar", extended(), "example/airflow-extended:1")


if __name__ == "__main__":
    write()
