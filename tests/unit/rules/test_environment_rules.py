"""The environment rules on images built in Python and run through the real pipeline: Python environments
laid out as Debian and pip lay them out, commands on PATH, and ELF objects compiled here with gcc."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerdiff.rules.commands import path_command_shadowed
from layerdiff.rules.libraries import library_shadowed, library_unresolved
from layerdiff.rules.model import Finding, Rule
from layerdiff.rules.python import (
    python_distribution_lost,
    python_package_shadowed,
    python_requirement_broken,
)
from layerdiff.rules.severity import Severity
from tests.support import pairs
from tests.support.elf_objects import Objects
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.pyimage import SYSTEM_SITE, USER_SITE, dist, os_layer, user_site_layer
from tests.support.rules import diff_context, findings

SYSTEM = "/usr/bin/python3.11"
ENVIRONMENT_RULES = (
    python_requirement_broken,
    python_distribution_lost,
    python_package_shadowed,
    path_command_shadowed,
    library_unresolved,
    library_shadowed,
)
PATH = "PATH=/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"
VENV = "opt/airflow/venv"
VENV_PATH = f"PATH=/{VENV}/bin:/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"


def config(**changes: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {"User": "airflow", "Env": [PATH], "Cmd": ["airflow", "scheduler"]}
    settings.update(changes)
    return settings


def base_image() -> Image:
    """An airflow-like image: python3.11 with requests, responses and urllib3 in the airflow user's site."""
    history = [
        {"created_by": "/bin/sh -c #(nop) ADD os"},
        {"created_by": "/bin/sh -c pip install --user ..."},
    ]
    return Image(layers=[os_layer(), user_site_layer()], config=config(), history=history)


def derived_image(base: Image, steps: list[tuple[str, bytes | None]], **changes: Any) -> Image:
    """``base`` plus one history entry per (instruction, layer or None for config-only instructions)."""
    assert base.history is not None
    history = list(base.history)
    layers = list(base.layers)
    for instruction, layer in steps:
        if layer is None:
            history.append({"created_by": f"/bin/sh -c #(nop)  {instruction}", "empty_layer": True})
        else:
            history.append({"created_by": f"/bin/sh -c {instruction.removeprefix('RUN ')}"})
            layers.append(layer)
    return Image(layers=layers, config={**base.config, **changes}, history=history)


def run(rule: Rule, tmp_path: Path, base: Image, derived: Image) -> list[Finding]:
    return findings(rule, diff_context(tmp_path, base, derived))


def venv_layer() -> bytes:
    return layer_tar(
        [
            F(
                f"{VENV}/pyvenv.cfg",
                b"home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n",
            ),
            F(f"{VENV}/bin/python", kind="symlink", link="/usr/bin/python3"),
            F(f"{VENV}/bin/python3", kind="symlink", link="python"),
            F(f"{VENV}/lib/python3.11/site-packages/", kind="dir"),
            *dist(f"{VENV}/lib/python3.11/site-packages", "tabulate", "0.9.0"),
        ]
    )


# --- no false positives -------------------------------------------------------------------------------------


def test_adding_a_dag_raises_nothing(tmp_path: Path) -> None:
    context = diff_context(tmp_path, pairs.base_image(), pairs.dag_only())
    assert [f for rule in ENVIRONMENT_RULES for f in findings(rule, context)] == []


def test_an_added_file_and_an_added_distribution_raise_nothing(tmp_path: Path) -> None:
    added = layer_tar(
        [
            F("opt/airflow/dags/example.py", b"from airflow import DAG\n", uid=50000),
            *dist(USER_SITE, "tabulate", "0.9.0", "wcwidth; extra == 'widechars'"),
            F("usr/local/bin/newtool", b"#!/bin/sh\n", mode=0o755),
        ]
    )
    base = base_image()
    derived = derived_image(base, [("RUN pip install --user tabulate", added)])
    context = diff_context(tmp_path, base, derived)
    assert [f for rule in ENVIRONMENT_RULES for f in findings(rule, context)] == []


# --- python-requirement-broken ------------------------------------------------------------------------------


def pin(version: str) -> bytes:
    """What ``pip install --user requests==VERSION`` leaves: the base's 2.31.0 metadata replaced."""
    return layer_tar([F(f"{USER_SITE}/.wh.requests-2.31.0.dist-info"), *dist(USER_SITE, "requests", version)])


def test_a_pin_that_breaks_a_requirement_is_reported_with_the_pip_check_line(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(base, [("RUN pip install --user requests==2.28.1", pin("2.28.1"))])
    (finding,) = run(python_requirement_broken, tmp_path, base, derived)
    assert finding.severity is Severity.HIGH
    assert finding.subject == f"{SYSTEM}:responses:requests"
    line = "responses 0.25.0 has requirement requests<3.0,>=2.30.0, but you have requests 2.28.1."
    # what breaks first, then the pip check line as pip prints it
    assert finding.message == (
        f"`import responses` may fail or misbehave with requests 2.28.1: pip check fails for {SYSTEM}: {line}"
    )
    assert finding.evidence["pip_check"] == line
    assert finding.evidence["requirement"] == "requests<3.0,>=2.30.0"
    assert finding.evidence["installed"]["version"] == "2.28.1"
    assert finding.evidence["installed_in_base"]["version"] == "2.31.0"
    assert finding.evidence["environment"]["interpreter"] == SYSTEM
    assert finding.layer == 2 and finding.instruction == "RUN pip install --user requests==2.28.1"


def test_a_pin_every_requirement_accepts_is_not_reported(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(base, [("RUN pip install --user requests==2.32.3", pin("2.32.3"))])
    assert run(python_requirement_broken, tmp_path, base, derived) == []


# --- python-distribution-lost -------------------------------------------------------------------------------


def test_user_root_hides_the_user_site_from_the_interpreter_cmd_runs(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(base, [("USER root", None)], User="root")
    (finding,) = run(python_distribution_lost, tmp_path, base, derived)
    assert finding.severity is Severity.HIGH
    assert finding.subject == f"{SYSTEM}:hidden:/{USER_SITE}"
    assert finding.instruction == "USER root" and finding.layer is None
    assert finding.evidence["cause"] == "user-site"
    assert finding.evidence["user"]["derived"]["home"] == "/root"
    assert finding.evidence["user_site"] == {"base": f"/{USER_SITE}", "derived": None}
    assert [d["name"] for d in finding.evidence["distributions"]] == ["requests", "responses", "urllib3"]
    assert finding.evidence["reached_by"] == ["CMD runs airflow (#!/usr/bin/python3)"]
    # what breaks first, in the words of whoever runs the image; then why
    assert finding.message == (
        "`airflow` — the CMD — fails with ModuleNotFoundError when it imports any of `requests`, "
        f"`responses`, `urllib3`: {SYSTEM} running as root (HOME /root) no longer sees the user site "
        f"/{USER_SITE}, hiding 3 distributions (requests 2.31.0, responses 0.25.0, urllib3 2.0.7)."
    )


def test_a_venv_first_on_path_hides_the_base_packages_from_python3(tmp_path: Path) -> None:
    base = base_image()
    steps = [("RUN python3 -m venv /opt/airflow/venv", venv_layer()), (f"ENV {VENV_PATH}", None)]
    # CMD's console script names its interpreter by absolute path, so only python3 lookups are affected
    (unused,) = run(
        python_distribution_lost, tmp_path / "a", base, derived_image(base, steps, Env=[VENV_PATH])
    )
    assert unused.severity is Severity.MEDIUM and unused.evidence["reached_by"] == []
    assert unused.subject == f"{SYSTEM}:hidden:python on PATH"
    assert unused.instruction == f"ENV {VENV_PATH}"
    assert unused.evidence["after"]["path"] == f"/{VENV}/bin/python3"
    assert unused.evidence["now_starts"] == f"/{VENV}"
    healthcheck = {"Test": ["CMD-SHELL", "python3 -c 'import requests'"]}
    derived = derived_image(base, steps, Env=[VENV_PATH], Healthcheck=healthcheck)
    (used,) = run(python_distribution_lost, tmp_path / "b", base, derived)
    assert used.severity is Severity.HIGH
    assert used.evidence["reached_by"] == [
        f"HEALTHCHECK runs python3 (python3 on PATH is /{VENV}/bin/python3)"
    ]
    assert used.message.startswith("`python3` — the HEALTHCHECK — fails with ModuleNotFoundError")
    assert unused.message.startswith(f"Python code run by {SYSTEM} fails with ModuleNotFoundError")


def test_an_uninstalled_distribution_is_reported_by_name(tmp_path: Path) -> None:
    base = base_image()
    removal = layer_tar([F(f"{USER_SITE}/.wh.responses-0.25.0.dist-info")])
    (finding,) = run(
        python_distribution_lost,
        tmp_path,
        base,
        derived_image(base, [("RUN pip uninstall -y responses", removal)]),
    )
    assert finding.subject == f"{SYSTEM}:removed:responses"
    assert finding.severity is Severity.HIGH and finding.layer == 2
    assert finding.evidence["distributions"][0]["version"] == "0.25.0"
    assert finding.message.startswith(
        "`airflow` — the CMD — fails with ModuleNotFoundError for `responses`: responses 0.25.0 was removed"
    )


def test_an_image_that_keeps_its_user_and_path_loses_nothing(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(
        base, [("USER airflow", None), ("RUN pip install --user requests==2.32.3", pin("2.32.3"))]
    )
    assert run(python_distribution_lost, tmp_path, base, derived) == []


# --- python-package-shadowed --------------------------------------------------------------------------------


def system_requests(version: str) -> bytes:
    return layer_tar([F(f"{SYSTEM_SITE}/", kind="dir"), *dist(SYSTEM_SITE, "requests", version, uid=0)])


def test_a_user_site_copy_that_now_wins_over_the_base_copy_is_high(tmp_path: Path) -> None:
    base = Image(layers=[os_layer(), system_requests("2.31.0")], config=config())
    user_copy = layer_tar([F("home/airflow/", kind="dir", uid=50000), *dist(USER_SITE, "requests", "2.28.1")])
    derived = Image(layers=[*base.layers, user_copy], config=config())
    (finding,) = run(python_package_shadowed, tmp_path, base, derived)
    # subject: the environment and the site dir it now imports from (one finding for all it takes from there)
    assert finding.severity is Severity.HIGH and finding.subject == f"{SYSTEM}:/{USER_SITE}"
    assert finding.evidence["names"] == ["requests"]
    assert finding.message == (
        f"`import requests` in {SYSTEM} now gets requests 2.28.1 from /{USER_SITE} instead of 2.31.0 from "
        f"/{SYSTEM_SITE} (other copies: 2.31.0 in /{SYSTEM_SITE})."
    )
    assert finding.evidence["imported"]["location"] == f"/{USER_SITE}"
    assert finding.evidence["imported_in_base"]["location"] == f"/{SYSTEM_SITE}"
    assert [c["version"] for c in finding.evidence["shadowed"]] == ["2.31.0"]
    assert finding.layer == 2


def test_an_install_the_user_site_still_shadows_is_medium(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(
        base, [("RUN pip install requests==2.28.1", system_requests("2.28.1"))], User="airflow"
    )
    (finding,) = run(python_package_shadowed, tmp_path, base, derived)
    assert finding.severity is Severity.MEDIUM
    assert finding.evidence["imported"]["version"] == "2.31.0"
    assert finding.message == (
        f"requests 2.28.1 in /{SYSTEM_SITE} is never imported: `import requests` in {SYSTEM} still gets "
        f"2.31.0 from /{USER_SITE}."
    )


def test_one_root_install_of_several_distributions_the_user_site_hides_is_one_finding(tmp_path: Path) -> None:
    base = base_image()
    installed = layer_tar(
        [
            F(f"{SYSTEM_SITE}/", kind="dir"),
            *dist(SYSTEM_SITE, "requests", "2.28.1", uid=0),
            *dist(SYSTEM_SITE, "urllib3", "1.26.18", uid=0),
        ]
    )
    derived = derived_image(base, [("RUN pip install requests==2.28.1", installed)], User="airflow")
    (finding,) = run(python_package_shadowed, tmp_path, base, derived)
    assert finding.severity is Severity.MEDIUM and finding.subject == f"{SYSTEM}:/{SYSTEM_SITE}"
    assert finding.evidence["names"] == ["requests", "urllib3"]
    assert [e["shadowed"][0]["version"] for e in finding.evidence["each"]] == ["2.28.1", "1.26.18"]
    assert finding.message == (
        f"requests 2.28.1, urllib3 1.26.18 in /{SYSTEM_SITE} are never imported: `import requests`, "
        f"`import urllib3` in {SYSTEM} still get the copies in /{USER_SITE}."
    )
    assert finding.layer == 2


def test_an_upgrade_in_place_shadows_nothing(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(base, [("RUN pip install --user requests==2.32.3", pin("2.32.3"))])
    assert run(python_package_shadowed, tmp_path, base, derived) == []


# --- path-command-shadowed ----------------------------------------------------------------------------------


def test_python3_from_a_venv_is_medium_when_unused_and_high_when_the_healthcheck_runs_it(
    tmp_path: Path,
) -> None:
    base = base_image()
    steps = [("RUN python3 -m venv /opt/airflow/venv", venv_layer()), (f"ENV {VENV_PATH}", None)]
    unused = {
        f.subject: f
        for f in run(path_command_shadowed, tmp_path / "a", base, derived_image(base, steps, Env=[VENV_PATH]))
    }
    # one finding for the venv's bin directory; the venv's python is a new name: it shadows nothing
    assert sorted(unused) == [f"/{VENV}/bin"]
    (shadowed,) = unused.values()
    assert shadowed.severity is Severity.MEDIUM and shadowed.evidence["commands"] == ["python3"]
    assert shadowed.evidence["before"]["path"] == "/usr/bin/python3"
    assert shadowed.evidence["after"]["path"] == f"/{VENV}/bin/python3"
    healthcheck = {"Test": ["CMD", "python3", "-c", "import airflow"]}
    derived = derived_image(base, steps, Env=[VENV_PATH], Healthcheck=healthcheck)
    (used,) = run(path_command_shadowed, tmp_path / "b", base, derived)
    assert used.severity is Severity.HIGH and used.evidence["used_by"] == ["HEALTHCHECK runs python3"]
    assert used.instruction == f"ENV {VENV_PATH}"


def test_a_command_used_through_env_shebang_is_high(tmp_path: Path) -> None:
    tool = layer_tar(
        [
            F("usr/bin/report", b"#!/usr/bin/env tabulate\n", mode=0o755),
            F("usr/bin/tabulate", b"x", mode=0o755),
        ]
    )
    base = Image(layers=[os_layer(), tool], config=config(Cmd=["report"]))
    shadow = layer_tar([F("usr/local/bin/tabulate", b"#!/bin/sh\n", mode=0o755)])
    derived = Image(layers=[*base.layers, shadow], config=base.config)
    (finding,) = run(path_command_shadowed, tmp_path, base, derived)
    # one finding for the directory whose file now wins, naming the command
    assert finding.subject == "/usr/local/bin" and finding.severity is Severity.HIGH
    assert finding.evidence["commands"] == ["tabulate"]
    assert finding.evidence["used_by"] == ["CMD runs report (#!/usr/bin/env tabulate)"]
    assert finding.layer == 2


def test_a_used_command_that_disappears_is_reported(tmp_path: Path) -> None:
    base = base_image()
    removal = layer_tar([F("home/airflow/.local/bin/.wh.airflow")])
    (finding,) = run(
        path_command_shadowed, tmp_path, base, derived_image(base, [("RUN rm airflow", removal)])
    )
    assert finding.subject == "airflow" and finding.severity is Severity.HIGH
    assert finding.evidence["after"] is None and finding.layer == 2
    assert finding.message == (
        "Running airflow fails with 'command not found' (CMD runs airflow): it is no longer on PATH "
        "(was /home/airflow/.local/bin/airflow)."
    )


def test_the_same_file_through_another_path_entry_is_not_reported(tmp_path: Path) -> None:
    merged = layer_tar(
        [
            F("usr/bin/", kind="dir"),
            F("usr/bin/tool", b"\x7fELF", mode=0o755),
            F("bin", kind="symlink", link="usr/bin"),
        ]
    )
    base = Image(layers=[merged], config={"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["tool"]})
    derived = Image(layers=[merged], config={"Env": ["PATH=/bin:/usr/bin"], "Cmd": ["tool"]})
    context = diff_context(tmp_path, base, derived)
    assert [c.name for c in context.diff.inventory.commands] == ["tool"]  # /bin/tool is /usr/bin/tool
    assert findings(path_command_shadowed, context) == []


# --- libraries: objects compiled here -----------------------------------------------------------------------


def library_base(objects: Objects) -> Image:
    """/usr/bin/app loading /usr/lib/libfoo.so.1, which the dpkg package libfoo1 installed."""
    layer = layer_tar(
        [
            F("usr/lib/", kind="dir"),
            F("usr/lib/libfoo.so.1", objects.libfoo, mode=0o755),
            F("usr/bin/app", objects.app, mode=0o755),
            *libfoo_database("1.0-1"),
        ]
    )
    return Image(layers=[layer], config={"Cmd": ["app"]})


def libfoo_database(version: str) -> list[F]:
    status = f"Package: libfoo1\nStatus: install ok installed\nVersion: {version}\nArchitecture: amd64\n\n"
    return [
        F("var/lib/dpkg/status", status.encode()),
        F("var/lib/dpkg/info/libfoo1.list", b"/usr/lib/libfoo.so.1\n"),
    ]


def test_a_removed_library_leaves_its_users_unresolved(tmp_path: Path, objects: Objects) -> None:
    base = library_base(objects)
    removal = layer_tar([F("usr/lib/.wh.libfoo.so.1")])
    derived = Image(layers=[*base.layers, removal], config=base.config)
    (finding,) = run(library_unresolved, tmp_path, base, derived)
    assert finding.severity is Severity.HIGH and finding.subject == "/usr/bin/app:libfoo.so.1"
    assert finding.evidence["ldd"] == "libfoo.so.1 => not found"
    assert finding.evidence["before"]["path"] == "/usr/lib/libfoo.so.1"
    assert finding.evidence["before"]["via"] == "default"
    assert finding.evidence["before_package"] == "libfoo1"
    assert finding.evidence["searched"] == [  # no cache, no multiarch: glibc's own trusted directories
        f"default directory {directory}/libfoo.so.1: no such file"
        for directory in ("/lib64", "/usr/lib64", "/lib", "/usr/lib")
    ]
    assert finding.layer == 1
    assert finding.message == (
        "Running /usr/bin/app fails: libfoo.so.1 not found (it was /usr/lib/libfoo.so.1). "
        "/usr/lib/libfoo.so.1 of package libfoo1 was deleted or moved outside dpkg."
    )


def test_a_new_object_that_never_loaded_is_medium(tmp_path: Path, objects: Objects) -> None:
    base = library_base(objects)
    plugin = layer_tar([F("usr/lib/plugins/plugin.so", objects.plugin, mode=0o755)])
    derived = Image(layers=[*base.layers, plugin], config=base.config)
    (finding,) = run(library_unresolved, tmp_path, base, derived)
    assert finding.severity is Severity.MEDIUM and finding.evidence["before"] is None
    assert finding.message == (
        "Loading /usr/lib/plugins/plugin.so fails: libmissing.so.1 not found (the object is new in the "
        "derived image)."
    )


def test_libraries_that_still_resolve_are_not_unresolved(tmp_path: Path, objects: Objects) -> None:
    base = library_base(objects)
    unrelated = layer_tar([F("usr/lib/libother.so", b"not elf")])
    derived = Image(layers=[*base.layers, unrelated], config=base.config)
    context = diff_context(tmp_path, base, derived)
    assert findings(library_unresolved, context) == [] and findings(library_shadowed, context) == []


def test_a_copy_found_first_through_ld_library_path_shadows_the_system_library(
    tmp_path: Path, objects: Objects
) -> None:
    base = library_base(objects)
    copy = layer_tar([F("opt/lib/libfoo.so.1", objects.libfoo_other, mode=0o755)])
    derived = Image(
        layers=[*base.layers, copy],
        config={**base.config, "Env": ["LD_LIBRARY_PATH=/opt/lib"]},
        history=[
            {"created_by": "/bin/sh -c #(nop) ADD base"},
            {"created_by": "/bin/sh -c #(nop) COPY libfoo.so.1 /opt/lib/"},
            {"created_by": "/bin/sh -c #(nop)  ENV LD_LIBRARY_PATH=/opt/lib", "empty_layer": True},
        ],
    )
    (finding,) = run(library_shadowed, tmp_path, base, derived)
    assert finding.severity is Severity.HIGH
    assert finding.subject == "libfoo.so.1:shadowed:/opt/lib/libfoo.so.1"
    assert finding.evidence["after"]["via"] == "LD_LIBRARY_PATH"
    assert finding.evidence["objects"][0]["before"]["path"] == "/usr/lib/libfoo.so.1"
    assert finding.evidence["ld_library_path"] == {"base": None, "derived": "/opt/lib"}
    assert finding.instruction == "ENV LD_LIBRARY_PATH=/opt/lib"


def test_a_library_replaced_in_place_outside_the_package_manager(tmp_path: Path, objects: Objects) -> None:
    base = library_base(objects)
    # the copied file is no package's: the derived layer dropped the package from dpkg's database
    replaced = layer_tar(
        [F("usr/lib/libfoo.so.1", objects.libfoo_other, mode=0o755), F("var/lib/dpkg/info/.wh.libfoo1.list")]
    )
    derived = Image(layers=[*base.layers, replaced], config=base.config)
    (finding,) = run(library_shadowed, tmp_path, base, derived)
    assert finding.subject == "libfoo.so.1:replaced:/usr/lib/libfoo.so.1" and finding.layer == 1
    before_sha = finding.evidence["objects"][0]["before"]["sha256"]
    assert before_sha and before_sha != finding.evidence["after"]["sha256"]


def test_a_library_the_package_manager_upgraded_is_not_shadowed(tmp_path: Path, objects: Objects) -> None:
    base = library_base(objects)
    upgrade = layer_tar(
        [F("usr/lib/libfoo.so.1", objects.libfoo_other, mode=0o755), *libfoo_database("1.1-1")]
    )
    derived = Image(layers=[*base.layers, upgrade], config=base.config)
    assert run(library_shadowed, tmp_path, base, derived) == []


def test_a_script_that_now_starts_python_without_the_user_site_loses_its_distributions(
    tmp_path: Path,
) -> None:
    isolated = layer_tar(
        [
            F(
                "home/airflow/.local/bin/airflow",
                b"#!/usr/bin/python3 -s\nimport requests\n",
                mode=0o755,
                uid=50000,
            )
        ]
    )
    base = base_image()
    derived = derived_image(base, [("RUN sed -i '1s/$/ -s/' /home/airflow/.local/bin/airflow", isolated)])
    (finding,) = run(python_distribution_lost, tmp_path, base, derived)
    assert finding.severity is Severity.HIGH
    assert finding.subject == "airflow:hidden:start"
    assert finding.message == (
        "airflow (CMD) now starts Python with -s instead of without flags, so it cannot import 3 "
        "distributions it could in the base (requests 2.31.0, responses 0.25.0, urllib3 2.0.7)."
    )
    assert finding.evidence["flags"] == {"base": "", "derived": "-s"}
    assert f"/{USER_SITE}" in finding.evidence["sys_path"]["base"]
    assert f"/{USER_SITE}" not in finding.evidence["sys_path"]["derived"]
    assert finding.layer == 2


def test_an_entrypoint_that_isolates_python_is_reported_with_its_instruction(tmp_path: Path) -> None:
    base = derived_image(base_image(), [], Entrypoint=["python3", "-m", "airflow"], Cmd=[])
    instruction = 'ENTRYPOINT ["python3", "-I", "-m", "airflow"]'
    derived = derived_image(base, [(instruction, None)], Entrypoint=["python3", "-I", "-m", "airflow"])
    (finding,) = run(python_distribution_lost, tmp_path, base, derived)
    assert finding.subject == "python3:hidden:start" and finding.severity is Severity.HIGH
    assert finding.evidence["flags"] == {"base": "", "derived": "-E -s -P"}
    assert finding.instruction == instruction
    assert finding.message.startswith("python3 (ENTRYPOINT) now starts Python with -E -s -P instead of")
