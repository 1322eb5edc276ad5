from __future__ import annotations

import pytest

from tests.support.engine import engine_client
from tests.support.scenarios import build_all


@pytest.fixture(scope="session")
def scenarios() -> dict[str, str]:
    """Scenario name -> engine tag; built (or reused) with the real engine."""
    return build_all(engine_client())
