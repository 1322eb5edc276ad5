"""Layers that lay out Python installations the way Debian and pip do, for collector tests."""

from __future__ import annotations

import io
from typing import Any

from layerdiff.fs.tree import build_tree
from layerdiff.fs.view import TreeView
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE, Inventory, collect
from tests.support.imagebuilder import F, layer_tar

USER_SITE = "home/airflow/.local/lib/python3.11/site-packages"
SYSTEM_SITE = "usr/local/lib/python3.11/dist-packages"
PASSWD = b"root:x:0:0:root:/root:/bin/bash\nairflow:x:50000:0::/home/airflow:/bin/bash\n"


def dist(site: str, name: str, version: str, *requires: str, uid: int = 50000) -> list[F]:
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    folder = f"{site}/{name.replace('-', '_')}-{version}.dist-info"
    return [F(f"{folder}/", kind="dir", uid=uid), F(f"{folder}/METADATA", metadata.encode(), uid=uid)]


def os_layer() -> bytes:
    return layer_tar(
        [
            F("etc/passwd", PASSWD),
            F("etc/group", b"root:x:0:\n"),
            F("usr/bin/python3.11", b"\x7fELF not really", mode=0o755),
            F("usr/bin/python3", kind="symlink", link="python3.11"),
            F("usr/lib/python3.11/os.py", b""),
            F("usr/lib/python3.11/lib-dynload/", kind="dir"),
            F("usr/lib/python3/dist-packages/", kind="dir"),
            F("usr/bin/secret-tool", b"#!/bin/sh\n", mode=0o700),
            F("bin/sh", b"\x7fELF sh", mode=0o755),
        ]
    )


def user_site_layer() -> bytes:
    return layer_tar(
        [
            F("home/airflow/", kind="dir", uid=50000),
            *dist(USER_SITE, "requests", "2.31.0", "urllib3<3,>=1.21.1", "PySocks!=1.5.7; extra == 'socks'"),
            *dist(USER_SITE, "urllib3", "2.0.7"),
            *dist(
                USER_SITE,
                "responses",
                "0.25.0",
                "requests<3.0,>=2.30.0",
                "urllib3<3.0,>=1.25.10",
                'tomli; python_version < "3.11"',
            ),
            F(
                "home/airflow/.local/bin/airflow",
                b"#!/usr/bin/python3\nimport requests\n",
                mode=0o755,
                uid=50000,
            ),
        ]
    )


def inventory(*layers: bytes, **config: Any) -> Inventory:
    indexes = [index_layer(io.BytesIO(layer), None, f"layer {i}", CAPTURE) for i, layer in enumerate(layers)]
    settings: dict[str, Any] = {
        "User": "airflow",
        "Env": ["PATH=/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"],
    }
    settings.update(config)
    return collect(TreeView(build_tree(indexes), indexes), settings)
