"""python-constraint-violated, and the Airflow 2.9+ layout (``~/.local`` a venv) it is meant for."""

from __future__ import annotations

from pathlib import Path

import pytest

from layerdiff.image.limits import LimitExceeded, Limits
from layerdiff.inventory.constraints import read_constraints
from layerdiff.rules.constraints import python_constraint_violated
from layerdiff.rules.python import python_distribution_lost
from layerdiff.rules.registry import all_rules
from layerdiff.rules.severity import Severity
from tests.support import airflow29
from tests.support.airflow29 import SITE, base_image, derived_image, pip_install
from tests.support.imagebuilder import F, layer_tar
from tests.support.pyimage import dist, files_view, inventory
from tests.support.rules import diff_context, findings


def test_a_pin_outside_the_constraints_names_the_constraint(tmp_path: Path) -> None:
    derived = derived_image("pip install requests==2.28.1", pip_install("requests", "2.28.1", "2.31.0"))
    (finding,) = findings(python_constraint_violated, diff_context(tmp_path, base_image(), derived))
    assert finding.severity is Severity.MEDIUM
    assert finding.subject == f"/{SITE}:requests"
    assert finding.message == (
        "The image now runs requests 2.28.1 (the base has 2.31.0), which the constraints the base was built "
        "and tested with exclude: requests==2.31.0 (/home/airflow/constraints.txt line 5)."
    )
    assert finding.evidence["constraint"] == "requests==2.31.0" and finding.evidence["line"] == 5
    assert finding.evidence["environment"]["venv"] == "/home/airflow/.local"
    assert finding.evidence["change"] == "downgraded" and finding.layer == 2


def test_what_the_constraints_allow_or_do_not_name_is_not_reported(tmp_path: Path) -> None:
    layer = layer_tar(
        [
            *dist(SITE, "certifi", "2024.7.4"),  # new, at the version the constraints pin
            *dist(SITE, "tabulate", "0.9.0"),  # not constrained at all
            *dist(SITE, "tomli", "2.1.0"),  # constrained only for Python < 3.11
        ]
    )
    derived = derived_image("pip install ...", layer)
    assert findings(python_constraint_violated, diff_context(tmp_path, base_image(), derived)) == []


def test_a_venv_of_the_derived_image_s_own_is_not_the_constrained_installation(tmp_path: Path) -> None:
    venv = "opt/tools"
    layer = layer_tar(
        [
            F(f"{venv}/pyvenv.cfg", b"home = /usr/python/bin\ninclude-system-site-packages = false\n"),
            F(f"{venv}/bin/python", kind="symlink", link="/usr/python/bin/python3.12"),
            *dist(f"{venv}/lib/python3.12/site-packages", "requests", "2.32.3"),
        ]
    )
    derived = derived_image("python -m venv /opt/tools && ...", layer)
    assert findings(python_constraint_violated, diff_context(tmp_path, base_image(), derived)) == []


def test_user_root_keeps_the_venv_everything_runs_in(tmp_path: Path) -> None:
    # ~/.local is a venv first on PATH: another HOME hides nothing that runs (the plain interpreter's user
    # site was the venv's site-packages)
    context = diff_context(tmp_path, base_image(), derived_image("USER root", None, User="root"))
    assert findings(python_distribution_lost, context) == []
    assert {f.rule for rule in all_rules() for f in findings(rule, context)} == {"runtime-user-root"}


def test_the_constraints_file_is_read_from_the_runtime_user_s_home() -> None:
    inv = inventory(airflow29.python_layer(), airflow29.installation_layer(), User="50000", Env=airflow29.ENV)
    assert inv.constraints is not None and inv.constraints.path == "/home/airflow/constraints.txt"
    assert sorted(inv.constraints.by_name) == ["apache-airflow", "certifi", "requests", "tomli", "urllib3"]
    assert inventory(airflow29.python_layer(), User="50000", Env=airflow29.ENV).constraints is None


def test_a_constraints_file_of_too_many_pins_is_an_error_naming_it() -> None:
    files = files_view(layer_tar([F("root/constraints.txt", b"".join(b"p%d==1\n" % i for i in range(30)))]))
    with pytest.raises(LimitExceeded, match=r"/root/constraints.txt: .*limit package-relations=20"):
        read_constraints(files, "/root", Limits(package_relations=20))
