"""Layers laid out as Apache Airflow's images are from 2.9 on: Python in /usr/python, ``~/.local`` a venv
(PATH first, VIRTUAL_ENV) holding the installation, and the constraints it was built with at
``~/constraints.txt``."""

from __future__ import annotations

from typing import Any

from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.pyimage import PASSWD, dist

LOCAL = "home/airflow/.local"
SITE = f"{LOCAL}/lib/python3.12/site-packages"
CONSTRAINTS = b"""#
# This constraints file was automatically generated via "eager-upgrade" mechanism of PIP.
#
apache-airflow==2.9.3
requests==2.31.0
urllib3==2.2.2
certifi==2024.7.4
tomli==2.0.1 ; python_version < "3.11"
"""
ENV = ["PATH=/home/airflow/.local/bin:/usr/python/bin:/usr/bin:/bin", "VIRTUAL_ENV=/home/airflow/.local"]


def python_layer() -> bytes:
    return layer_tar(
        [
            F("etc/passwd", PASSWD),
            F("etc/group", b"root:x:0:\n"),
            F("usr/python/bin/python3.12", b"\x7fELF not really", mode=0o755),
            F("usr/python/bin/python3", kind="symlink", link="python3.12"),
            F("usr/python/lib/python3.12/os.py", b""),
            F("usr/python/lib/python3.12/lib-dynload/", kind="dir"),
            F("usr/python/lib/python3.12/site-packages/", kind="dir"),
            F("bin/sh", b"\x7fELF sh", mode=0o755),
        ]
    )


def installation_layer() -> bytes:
    return layer_tar(
        [
            F("home/airflow/", kind="dir", uid=50000),
            F(
                f"{LOCAL}/pyvenv.cfg",
                b"home = /usr/python/bin\ninclude-system-site-packages = false\nversion = 3.12.4\n",
                uid=50000,
            ),
            F(f"{LOCAL}/bin/python3.12", kind="symlink", link="/usr/python/bin/python3.12"),
            F(f"{LOCAL}/bin/python", kind="symlink", link="python3.12"),
            F(f"{LOCAL}/bin/python3", kind="symlink", link="python3.12"),
            *dist(SITE, "apache-airflow", "2.9.3", "requests>=2.27", "urllib3>=1.26"),
            *dist(SITE, "requests", "2.31.0", "urllib3<3,>=1.21.1"),
            *dist(SITE, "urllib3", "2.2.2"),
            F(
                f"{LOCAL}/bin/airflow",
                b"#!/home/airflow/.local/bin/python\nfrom airflow.__main__ import main\n",
                mode=0o755,
                uid=50000,
            ),
            F("home/airflow/constraints.txt", CONSTRAINTS, uid=50000),
        ]
    )


def base_image() -> Image:
    config: dict[str, Any] = {
        "User": "50000",
        "Env": ENV,
        "Entrypoint": ["/usr/bin/dumb-init", "--", "/entrypoint"],
        "Cmd": [],
    }
    history = [{"created_by": "/bin/sh -c #(nop) ADD python"}, {"created_by": "/bin/sh -c install airflow"}]
    return Image(layers=[python_layer(), installation_layer()], config=config, history=history)


def derived_image(instruction: str, layer: bytes | None, **config: Any) -> Image:
    base = base_image()
    assert base.history is not None
    if layer is None:
        step = {"created_by": f"/bin/sh -c #(nop)  {instruction}", "empty_layer": True}
        return Image(layers=base.layers, config={**base.config, **config}, history=[*base.history, step])
    history = [*base.history, {"created_by": f"/bin/sh -c {instruction}"}]
    return Image(layers=[*base.layers, layer], config={**base.config, **config}, history=history)


def pip_install(name: str, version: str, replaces: str | None = None) -> bytes:
    """What ``pip install NAME==VERSION`` leaves in the venv."""
    removed = [F(f"{SITE}/.wh.{name}-{replaces}.dist-info")] if replaces else []
    return layer_tar([*removed, *dist(SITE, name, version)])
