"""``layerdiff sbom-diff`` output: one line per package change, or the JSON document."""

from __future__ import annotations

import json
from typing import Any

from layerdiff.text.terminal import safe_line


def render_sbom_diff(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2, sort_keys=True) + "\n"
    lines = [
        f"{c['type']:<6} {c['name']:<40} {c['kind']:<10} "
        f"{(c['before'] or {}).get('version', '-')} -> {(c['after'] or {}).get('version', '-')}"
        for c in report["changes"]
    ]
    return "".join(safe_line(line) + "\n" for line in lines or ["no package changes"])
