"""Write the reports the review app's snapshot tests render (``python -m tests.support.review_reports``).

Snapshots are exact renderings, so they are drawn from saved reports rather than fresh runs, whose syft
version and scenario tags may change. Two reports between them fill every tab: the bundled example pair
(findings, files, packages, Python, config) and the derived-purge scenario (OS packages, a broken library,
a broken dependency). tests/unit/test_tui_snapshots.py checks that both still match the report schema.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import run
from tests.support.engine import engine_client
from tests.support.example import TARGET
from tests.support.scenarios import build_all

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "tests" / "data" / "review"


def _diff(base: str, derived: str, name: str) -> None:
    # From the repository root with relative paths, so the saved references name no machine's directories.
    result = run("diff", base, derived, "--format", "json", "--fail-on", "high", "--no-cache", cwd=ROOT)
    assert result.code in (0, 1), result.stderr
    report = json.loads(result.stdout)
    (REPORTS / f"{name}.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")


def main() -> None:
    REPORTS.mkdir(parents=True, exist_ok=True)
    example = TARGET.relative_to(ROOT)
    _diff(str(example / "airflow-base.tar"), str(example / "airflow-extended.tar"), "example")
    tags = build_all(engine_client())
    _diff(f"docker:{tags['airflow-base']}", f"docker:{tags['derived-purge']}", "purge")


if __name__ == "__main__":
    main()
