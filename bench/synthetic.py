"""Synthetic ``file_changes`` in the report's shape, for benchmarks that need many of them.

A few hundred directories shaped like a Python application image (site-packages, docs, locales, an
application tree), filled unevenly the way real packages are: a handful of big ones, a long tail of small
ones. Kinds are mixed roughly as a ``pip install`` on top of a base image mixes them.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

EXAMPLE_REPORT = Path(__file__).resolve().parents[1] / "tests" / "data" / "review" / "example.json"

_KIND_WEIGHTS = (("added", 70), ("removed", 10), ("modified", 12), ("metadata", 8))
_SUFFIXES = (".py", ".pyc", ".so", ".txt", ".json", ".pyi", "")
_STEMS = ("__init__", "core", "util", "models", "api", "config", "types", "io", "base", "errors", "compat")


def _directories(rng: random.Random) -> list[str]:
    site = "/usr/lib/python3/site-packages"
    directories: list[str] = []
    for package in range(220):
        root = f"{site}/pkg{package:03d}"
        directories.append(root)
        if package % 3 == 0:
            directories.extend(f"{root}/{sub}" for sub in ("tests", "_vendor", "data"))
    directories.extend(f"/usr/share/doc/lib{index:03d}" for index in range(40))
    directories.extend(
        f"/usr/share/locale/{lang}/LC_MESSAGES" for lang in ("de", "fr", "ja", "pt_BR", "zh_CN")
    )
    directories.extend(f"/opt/app/{part}" for part in ("bin", "lib", "static/css", "static/js", "templates"))
    directories.extend(("/etc", "/etc/ssl/certs", "/usr/bin", "/usr/local/bin", "/var/lib/dpkg/info"))
    rng.shuffle(directories)
    return directories


def _state(rng: random.Random, entry_type: str = "file", mode: str = "0644") -> dict[str, Any]:
    size = int(rng.paretovariate(1.2) * 800) if entry_type == "file" else 0
    return {
        "type": entry_type,
        "mode": mode,
        "uid": 0,
        "gid": 0,
        "size": size,
        "link": None,
        "sha256": f"{rng.getrandbits(256):064x}" if entry_type == "file" else None,
        "xattrs": {},
    }


def _change(rng: random.Random, path: str, kind: str, layer: int) -> dict[str, Any]:
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    fields: list[str] = []
    directory, name = path.rsplit("/", 1)
    mode = "0755" if directory.endswith("/bin") or "." not in name or name.endswith(".so") else "0644"
    if kind == "added":
        after = _state(rng, mode=mode)
    elif kind == "removed":
        before = _state(rng, mode=mode)
    elif kind == "modified":
        before = _state(rng, mode=mode)
        after = {**_state(rng, mode=mode), "mode": mode}
        fields = ["sha256", "size"] if before["size"] != after["size"] else ["sha256"]
    else:
        before = _state(rng, mode=mode)
        after = dict(before)
        if rng.random() < 0.5:
            after["mode"] = "0755" if mode == "0644" else "0644"
            fields.append("mode")
        else:
            after["uid"] = after["gid"] = 1000
            fields.extend(("uid", "gid"))
    return {"path": path, "kind": kind, "layer": layer, "fields": fields, "before": before, "after": after}


def synthetic_changes(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` distinct changed paths, sorted by path like a report's, each with ``before``/``after``
    entry states as ``layerdiff.report.model.entry_state`` writes them."""
    rng = random.Random(seed)
    directories = _directories(rng)
    kinds = [kind for kind, _ in _KIND_WEIGHTS]
    weights = [weight for _, weight in _KIND_WEIGHTS]
    # Zipf-like sizes: the first directories after the shuffle take most of the files.
    directory_weights = [1 / (rank + 1) ** 0.9 for rank in range(len(directories))]
    picks = rng.choices(directories, directory_weights, k=n)
    changes: list[dict[str, Any]] = []
    for serial, directory in enumerate(picks):
        name = f"{rng.choice(_STEMS)}_{serial}{rng.choice(_SUFFIXES)}"
        changes.append(_change(rng, f"{directory}/{name}", rng.choices(kinds, weights)[0], 3 + serial % 3))
    changes.sort(key=lambda change: change["path"])
    return changes


def synthetic_report(changes: list[dict[str, Any]]) -> dict[str, Any]:
    """The saved example report with its file changes replaced by ``changes``."""
    report: dict[str, Any] = json.loads(EXAMPLE_REPORT.read_text())
    report["file_changes"] = changes
    report["summary"]["file_changes"] = dict(Counter(change["kind"] for change in changes))
    for kind in ("added", "removed", "modified", "metadata"):
        report["summary"]["file_changes"].setdefault(kind, 0)
    return report
