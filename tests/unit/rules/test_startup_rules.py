"""python-startup-code on images built in Python and run through the real pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerdiff.rules.severity import Severity
from layerdiff.rules.startup import python_startup_code
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.pyimage import USER_SITE, installed, os_layer, user_site_layer
from tests.support.rules import diff_context, findings

SITE = "/" + USER_SITE
PATH = "PATH=/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"
DEBIAN = b"# install the apport exception handler if available\ntry:\n    import apport_python_hook\n"
PTH = b"import os; os.environ.setdefault('TZ', 'UTC')\n"


def debian_layer() -> bytes:
    return layer_tar(
        [
            F("usr/lib/python3.11/sitecustomize.py", kind="symlink", link="/etc/python3.11/sitecustomize.py"),
            F("etc/python3.11/sitecustomize.py", DEBIAN),
            F("usr/lib/python3/dist-packages/distutils-precedence.pth", PTH),
        ]
    )


def image(*layers: bytes, **config: Any) -> Image:
    settings: dict[str, Any] = {"User": "airflow", "Env": [PATH], "Cmd": ["airflow", "scheduler"], **config}
    history = [{"created_by": f"/bin/sh -c step {i}"} for i in range(3 + len(layers))]
    return Image(
        layers=[os_layer(), user_site_layer(), debian_layer(), *layers], config=settings, history=history
    )


def run(tmp_path: Path, base: Image, derived: Image) -> list[Any]:
    return findings(python_startup_code, diff_context(tmp_path, base, derived))


def test_pth_code_the_cmd_loads_is_high_with_its_line_as_evidence(tmp_path: Path) -> None:
    pth = layer_tar(
        [F(f"{USER_SITE}/zz-hook.pth", b"/opt/airflow/plugins\nimport hook; hook.install()\n", uid=50000)]
    )
    (finding,) = run(tmp_path, image(), image(pth))
    assert finding.severity is Severity.HIGH
    assert finding.subject == f"startup:{SITE}/zz-hook.pth"
    assert finding.message == (
        f"airflow (CMD) now runs the code in {SITE}/zz-hook.pth before its own code (new in the derived "
        "image): `import hook; hook.install()`."
    )
    assert finding.evidence["kind"] == "pth" and finding.evidence["status"] == "new"
    assert finding.evidence["lines"] == ["import hook; hook.install()"]
    assert finding.evidence["environments"] == ["/usr/bin/python3.11"]
    assert finding.evidence["reached_by"] == ["CMD runs airflow (#!/usr/bin/python3)"]
    assert finding.layer == 3


def test_code_only_the_healthcheck_loads_is_medium(tmp_path: Path) -> None:
    custom = layer_tar([F(f"{USER_SITE}/usercustomize.py", b"import sys\nsys.dont_write_bytecode = True\n")])
    config = {"Cmd": ["/bin/sh", "-c", "sleep infinity"], "Healthcheck": {"Test": ["CMD", "airflow", "jobs"]}}
    (finding,) = run(tmp_path, image(**config), image(custom, **config))
    assert finding.severity is Severity.MEDIUM and finding.evidence["kind"] == "usercustomize"
    assert finding.evidence["reached_by"] == ["HEALTHCHECK runs airflow (#!/usr/bin/python3)"]
    assert finding.evidence["lines"] == ["import sys", "sys.dont_write_bytecode = True"]


def test_an_interpreter_started_without_the_user_site_does_not_load_its_code(tmp_path: Path) -> None:
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
    pth = layer_tar([F(f"{USER_SITE}/zz-hook.pth", b"import hook\n", uid=50000)])
    (finding,) = run(tmp_path, image(isolated), image(isolated, pth))
    assert finding.severity is Severity.MEDIUM and finding.evidence["reached_by"] == []
    assert finding.message.startswith("Every start of /usr/bin/python3.11 now runs the code in")


def test_a_changed_sitecustomize_names_the_base_digest_and_cuts_credentials(tmp_path: Path) -> None:
    changed = layer_tar(
        [
            F(
                "etc/python3.11/sitecustomize.py",
                b"import os\nos.environ['API_TOKEN'] = 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'\n",
            )
        ]
    )
    (finding,) = run(tmp_path, image(), image(changed))
    assert finding.subject == "startup:/usr/lib/python3.11/sitecustomize.py"
    assert finding.evidence["status"] == "changed" and finding.evidence["sha256_in_base"]
    assert "ghp_abcdefghijklmnopqrstuvwxyz0123456789" not in str(finding.evidence)
    assert "ghp_" not in finding.message


def test_a_venv_running_the_code_the_base_already_runs_is_not_new(tmp_path: Path) -> None:
    venv = "opt/airflow/venv"
    layer = layer_tar(
        [
            F(
                f"{venv}/pyvenv.cfg",
                b"home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n",
            ),
            F(f"{venv}/bin/python", kind="symlink", link="/usr/bin/python3"),
            F(f"{venv}/lib/python3.11/site-packages/distutils-precedence.pth", PTH),
        ]
    )
    assert run(tmp_path, image(), image(layer)) == []


def test_a_distribution_that_installs_start_up_code_is_named(tmp_path: Path) -> None:
    layer = layer_tar(
        installed(USER_SITE, "hooky", "1.0", {"hooky.pth": b"import hooky_boot\n", "hooky_boot.py": b""})
    )
    (finding,) = run(tmp_path, image(), image(layer))
    assert finding.evidence["installed_by"] == "hooky-1.0"


def test_a_pth_that_only_adds_a_directory_runs_nothing(tmp_path: Path) -> None:
    layer = layer_tar([F(f"{USER_SITE}/plugins.pth", b"/opt/airflow/plugins\n", uid=50000)])
    assert run(tmp_path, image(), image(layer)) == []
