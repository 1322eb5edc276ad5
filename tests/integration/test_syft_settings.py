"""syft runs without its file catalogers (``SCAN_SETTINGS``): on real images with OS and Python packages the
packages layerdiff reads are those a scan with syft's defaults gives."""

from __future__ import annotations

import pytest

from layerdiff.sbom import syft as syft_runner
from layerdiff.sbom.cyclonedx import read_cyclonedx
from layerdiff.sbom.syft import find_syft, scan
from layerdiff.sources.transports import parse_ref
from tests.support.engine import engine_client

pytestmark = pytest.mark.engine


@pytest.mark.parametrize("scenario", ["derived-syspkg", "derived-venv"])
def test_the_packages_are_those_of_a_scan_with_syft_defaults(
    scenarios: dict[str, str], scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine_client()  # skips without an engine
    syft, ref = find_syft(), parse_ref(f"docker:{scenarios[scenario]}")
    lean = read_cyclonedx(scan(syft, ref, None, None), "lean")
    monkeypatch.setattr(syft_runner, "SCAN_SETTINGS", {})
    assert lean == read_cyclonedx(scan(syft, ref, None, None), "syft's defaults")
    assert {package.type for package in lean} >= {"deb", "pypi"}
