"""layerdiff's inventory agrees with the real tools run inside the scenario containers."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerdiff.index.cache import IndexCache
from layerdiff.inventory.collect import Inventory
from layerdiff.pipeline import inventory, load_image
from layerdiff.refs import parse_ref
from layerdiff.sources.open import open_source
from tests.support.engine import engine_client
from tests.support.oracles import command_v, pip_check, run_in

pytestmark = pytest.mark.engine
PYTHON_SCENARIOS = ["airflow-base", "derived-pin", "derived-root", "derived-venv", "derived-syspkg", "derived-dag"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> IndexCache:
    return IndexCache(tmp_path_factory.mktemp("cache"))


def inventory_of(tag: str, cache: IndexCache) -> Inventory:
    source = open_source(parse_ref(f"docker:{tag}"))
    try:
        return inventory(load_image(source, cache))
    finally:
        source.close()


@pytest.mark.parametrize("scenario", PYTHON_SCENARIOS)
def test_offline_pip_check_agrees_with_pip_check(scenario: str, scenarios: dict[str, str], cache: IndexCache) -> None:
    inv = inventory_of(scenarios[scenario], cache)
    # `pip` on PATH runs in the environment python3 on PATH starts (the venv's own pip in derived-venv)
    environment = inv.python_env(inv.python_on_path["python3"])
    assert environment is not None
    ours = {u.message() for u in environment.unsatisfied}
    assert ours == pip_check(engine_client(), scenarios[scenario])
    if scenario == "derived-pin":
        assert "responses 0.25.0 has requirement requests<3.0,>=2.30.0, but you have requests 2.28.1." in ours


@pytest.mark.parametrize("scenario", PYTHON_SCENARIOS)
def test_path_resolution_agrees_with_command_v(scenario: str, scenarios: dict[str, str], cache: IndexCache) -> None:
    inv = inventory_of(scenarios[scenario], cache)
    names = ["python", "python3", "pip", "airflow", "sh", "dpkg", "ldconfig"]
    expected = command_v(engine_client(), scenarios[scenario], names)
    ours = {name: inv.commands[name].path if name in inv.commands else None for name in names}
    assert ours == expected


def test_user_site_still_wins_over_system_site(scenarios: dict[str, str], cache: IndexCache) -> None:
    inv = inventory_of(scenarios["derived-syspkg"], cache)
    environment = inv.python_env("/usr/bin/python3.11")
    assert environment is not None
    (shadow,) = [s for s in environment.shadowed if s.name == "requests"]
    location = run_in(engine_client(), scenarios["derived-syspkg"],
                      "python3 -c 'import requests, os; print(os.path.dirname(os.path.dirname(requests.__file__)))'")
    assert shadow.winner.location == location.strip() == "/home/airflow/.local/lib/python3.11/site-packages"
    assert [h.version for h in shadow.hidden] == ["2.28.1"]
    assert shadow.hidden[0].location == "/usr/local/lib/python3.11/dist-packages"
