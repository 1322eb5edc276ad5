"""Small base/derived pairs built in Python that mirror the seed scenarios."""

from __future__ import annotations

from typing import Any

from tests.support.imagebuilder import F, Image, layer_tar

AIRFLOW_UID = 50000
SITE = "home/airflow/.local/lib/python3.11/site-packages"


def base_image() -> Image:
    os_layer = layer_tar(
        [
            F("etc/", kind="dir"),
            F("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\nairflow:x:50000:0::/home/airflow:/bin/bash\n"),
            F("etc/group", b"root:x:0:\n"),
            F("usr/bin/python3.11", b"\x7fELF python", mode=0o755),
            F("usr/bin/python3", kind="symlink", link="python3.11"),
            F("tmp/", kind="dir", mode=0o1777),
        ]
    )
    app_layer = layer_tar(
        [
            F("opt/airflow/", kind="dir", mode=0o775, uid=AIRFLOW_UID),
            F("opt/airflow/dags/", kind="dir", mode=0o775, uid=AIRFLOW_UID),
            F("home/airflow/", kind="dir", mode=0o755, uid=AIRFLOW_UID),
            F(
                f"{SITE}/requests-2.31.0.dist-info/METADATA",
                b"Name: requests\nVersion: 2.31.0\n",
                uid=AIRFLOW_UID,
            ),
            F(f"{SITE}/requests/__init__.py", b"__version__ = '2.31.0'\n", uid=AIRFLOW_UID),
            F("entrypoint", b'#!/bin/bash\nexec "$@"\n', mode=0o755),
        ]
    )
    return Image(
        layers=[os_layer, app_layer],
        config=_config(),
        history=[
            {"created_by": "", "comment": "Imported from -"},
            {"created_by": "/bin/sh -c pip install --user requests==2.31.0"},
            {"created_by": "/bin/sh -c #(nop)  USER 50000", "empty_layer": True},
            {"created_by": '/bin/sh -c #(nop)  ENTRYPOINT ["/entrypoint"]', "empty_layer": True},
        ],
    )


def _config(**changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "User": "50000",
        "Env": ["PATH=/home/airflow/.local/bin:/usr/bin:/bin", "AIRFLOW_HOME=/opt/airflow"],
        "Entrypoint": ["/entrypoint"],
        "Cmd": ["airflow", "scheduler"],
        "WorkingDir": "/opt/airflow",
        "Healthcheck": {"Test": ["CMD", "airflow", "jobs", "check"], "Interval": 30_000_000_000},
    }
    config.update(changes)
    return config


def derived(extra_layers: list[bytes], history: list[dict[str, Any]], **config: Any) -> Image:
    base = base_image()
    assert base.history is not None
    return Image(layers=base.layers + extra_layers, config=_config(**config), history=base.history + history)


def dag_only() -> Image:
    layer = layer_tar([F("opt/airflow/dags/example.py", b"from airflow import DAG\n", uid=AIRFLOW_UID)])
    return derived([layer], [{"created_by": "/bin/sh -c #(nop) COPY file:abc in /opt/airflow/dags/ "}])


def pinned_requests() -> Image:
    layer = layer_tar(
        [
            F(f"{SITE}/.wh.requests-2.31.0.dist-info"),
            F(
                f"{SITE}/requests-2.28.1.dist-info/METADATA",
                b"Name: requests\nVersion: 2.28.1\n",
                uid=AIRFLOW_UID,
            ),
            F(f"{SITE}/requests/__init__.py", b"__version__ = '2.28.1'\n", uid=AIRFLOW_UID),
        ]
    )
    return derived([layer], [{"created_by": "/bin/sh -c pip install requests==2.28.1"}])


def user_root() -> Image:
    return derived([], [{"created_by": "/bin/sh -c #(nop)  USER root", "empty_layer": True}], User="root")


def venv_on_path() -> Image:
    layer = layer_tar(
        [
            F("opt/airflow/venv/", kind="dir", uid=AIRFLOW_UID),
            F("opt/airflow/venv/pyvenv.cfg", b"home = /usr/bin\n", uid=AIRFLOW_UID),
            F("opt/airflow/venv/bin/python", kind="symlink", link="/usr/bin/python3", uid=AIRFLOW_UID),
        ]
    )
    path = "PATH=/opt/airflow/venv/bin:/home/airflow/.local/bin:/usr/bin:/bin"
    return derived(
        [layer],
        [
            {"created_by": "/bin/sh -c python3 -m venv /opt/airflow/venv"},
            {"created_by": f"/bin/sh -c #(nop)  ENV {path}", "empty_layer": True},
        ],
        Env=[path, "AIRFLOW_HOME=/opt/airflow"],
    )


def root_owned_logs() -> Image:
    layer = layer_tar(
        [
            F("opt/airflow/", kind="dir", mode=0o755, uid=0),
            F("opt/airflow/logs/", kind="dir", mode=0o755, uid=0),
        ]
    )
    return derived(
        [layer], [{"created_by": "/bin/sh -c mkdir -p /opt/airflow/logs && chown root /opt/airflow"}]
    )
