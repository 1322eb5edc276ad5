"""Layers that lay out Python installations the way Debian and pip do, for collector tests."""

from __future__ import annotations

import base64
import hashlib
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


def recorded(data: bytes) -> str:
    """A file's digest as RECORD writes it."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def installed(
    site: str, name: str, version: str, files: dict[str, bytes], *requires: str, uid: int = 50000
) -> list[F]:
    """What pip leaves of a wheel: ``dist()``'s metadata, ``files`` (paths relative to ``site``) and a
    RECORD listing each with its digest (and METADATA, the RECORD itself and a .pyc without one)."""
    entries = dist(site, name, version, *requires, uid=uid)
    folder = entries[0].name.rstrip("/").rsplit("/", 1)[1]
    metadata = entries[1].data
    rows = [f"{path},{recorded(data)},{len(data)}" for path, data in files.items()]
    rows += [f"{folder}/METADATA,{recorded(metadata)},{len(metadata)}", f"{folder}/RECORD,,"]
    rows += [f"{path.rsplit('/', 1)[0]}/__pycache__/x.cpython-311.pyc,," for path in files if "/" in path][:1]
    entries.append(F(f"{site}/{folder}/RECORD", ("\n".join(rows) + "\n").encode(), uid=uid))
    entries += [F(f"{site}/{path}", data, uid=uid) for path, data in files.items()]
    return entries


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


def files_view(*layers: bytes) -> TreeView:
    """The merged view of ``layers``, indexed as the pipeline indexes them."""
    indexes = [index_layer(io.BytesIO(layer), None, f"layer {i}", CAPTURE) for i, layer in enumerate(layers)]
    return TreeView(build_tree(indexes), indexes)


def inventory(*layers: bytes, **config: Any) -> Inventory:
    indexes = [index_layer(io.BytesIO(layer), None, f"layer {i}", CAPTURE) for i, layer in enumerate(layers)]
    settings: dict[str, Any] = {
        "User": "airflow",
        "Env": ["PATH=/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"],
    }
    settings.update(config)
    return collect(TreeView(build_tree(indexes), indexes), settings)
