"""The names code imports, for messages in the user's terms: the top-level modules a distribution installs
(``python-dateutil`` is ``import dateutil``), read from its RECORD, and the module an extension file is
(``psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so`` is part of ``import psycopg2``)."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from layerdiff.fs.view import ImageFiles
from layerdiff.inventory.python import Distribution

_MODULE_SUFFIXES = (".py", ".pyc")
_NOT_MODULES = ("__pycache__", "..", "")
MAX_RECORD_LINES = 100_000  # RECORD lines read for one distribution's names (a hostile RECORD may have more)


def import_names(files: ImageFiles, distribution: Distribution) -> tuple[str, ...]:
    """The top-level names ``import`` finds of ``distribution``, public ones first; its own name when the
    RECORD says nothing (an egg-info, or no RECORD)."""
    record = files.read(posixpath.join(distribution.metadata, "RECORD"))
    names: dict[str, None] = {}
    for number, line in enumerate((record or b"").decode("utf-8", "replace").splitlines()):
        if number >= MAX_RECORD_LINES:
            break
        name = _top_level(line.split(",", 1)[0])
        if name is not None:
            names.setdefault(name)
    found = sorted(names, key=lambda n: (n.startswith("_"), n.lower()))
    return tuple(found) or (distribution.display_name.replace("-", "_").lower(),)


def _top_level(relative: str) -> str | None:
    first, slash, _ = relative.partition("/")
    if first in _NOT_MODULES or first.endswith((".dist-info", ".egg-info", ".data")):
        return None
    if slash:
        return first if first.isidentifier() else None
    if first.endswith(_MODULE_SUFFIXES):
        stem = first.rsplit(".", 1)[0]
    elif ".so" in first or first.endswith(".pyd"):
        stem = first.split(".", 1)[0]  # _cffi_backend.cpython-311-x86_64-linux-gnu.so
    else:
        return None  # a .pth file, a stray data file
    return stem if stem.isidentifier() else None


def first_import_name(files: ImageFiles, distribution: Distribution) -> str:
    return import_names(files, distribution)[0]


def extension_module(path: str, site_dirs: Iterable[str]) -> str | None:
    """The top-level package an extension module file belongs to when it lies in one of ``site_dirs``
    (``psycopg2`` for ``.../dist-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so``)."""
    if ".so" not in posixpath.basename(path):
        return None
    for directory in site_dirs:
        prefix = directory.rstrip("/") + "/"
        if path.startswith(prefix):
            relative = path[len(prefix) :]
            first = relative.split("/", 1)[0]
            name = first.split(".", 1)[0] if "/" not in relative else first
            return name if name.isidentifier() else None
    return None
