"""With syft, a docker: image is exported by the real engine once per diff: syft scans the copy of the export
layerdiff indexed, and the report is the one two exports gave."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from layerdiff.report.model import dumps
from layerdiff.review import ReviewOptions, review
from layerdiff.sources.engine import EngineSource
from tests.support.engine import engine_client
from tests.support.engine_proxy import counting_proxy

pytestmark = pytest.mark.engine


def test_the_engine_exports_each_image_once_and_the_report_is_unchanged(
    scenarios: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_client()  # skips without an engine
    base, derived = f"docker:{scenarios['airflow-base']}", f"docker:{scenarios['derived-pin']}"
    with counting_proxy(os.environ.get("DOCKER_HOST", ""), tmp_path) as proxy:
        monkeypatch.setenv("DOCKER_HOST", proxy.address)  # layerdiff's SDK and syft both go through it
        shared = dumps(review(base, derived, ReviewOptions(cache_dir=tmp_path / "shared")))
        assert proxy.total() == 2, proxy.exports  # base and derived, each once, for index and SBOM alike
        assert not list((tmp_path / "shared" / "tmp").iterdir())  # the copies are removed

        # as before: syft asks the engine for its own export of each image
        monkeypatch.setattr(EngineSource, "copy_export", lambda self, copy: False)
        twice = dumps(review(base, derived, ReviewOptions(cache_dir=tmp_path / "twice")))
        assert proxy.total() == 2 + 4, proxy.exports
    assert '"sbom_tool": "syft ' in shared
    assert shared == twice
