"""python-file-modified and python-file-overwritten on images built in Python and run through the real
pipeline: distributions installed with a RECORD the way pip writes one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerdiff.rules.deleted import BASE_FILE_DELETED
from layerdiff.rules.model import Finding, Rule
from layerdiff.rules.python_integrity import python_file_modified, python_file_overwritten
from layerdiff.rules.severity import Severity
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.pyimage import USER_SITE, installed, os_layer, recorded, user_site_layer
from tests.support.rules import diff_context, findings

SITE = "/" + USER_SITE
PATH = "PATH=/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"
ALPHA = {"common/__init__.py": b"from common.parse import parse\n", "common/parse.py": b"def parse(): ...\n"}
BETA = {"common/__init__.py": b"NAME = 'beta'\n"}
RULES = (python_file_modified, python_file_overwritten)


def image(*layers: bytes, **config: Any) -> Image:
    """The base's two layers (Python, the airflow user's site) and ``layers``, one history entry each."""
    settings: dict[str, Any] = {"User": "airflow", "Env": [PATH], "Cmd": ["airflow", "scheduler"], **config}
    history = [{"created_by": "/bin/sh -c #(nop) ADD os"}, {"created_by": "/bin/sh -c pip install --user"}]
    history += [{"created_by": f"/bin/sh -c step {i}"} for i in range(len(layers))]
    return Image(layers=[os_layer(), user_site_layer(), *layers], config=settings, history=history)


def alpha(*requires: str) -> bytes:
    return layer_tar(installed(USER_SITE, "alpha", "1.0", ALPHA, *requires))


def run(rule: Rule, tmp_path: Path, base: Image, derived: Image) -> list[Finding]:
    return findings(rule, diff_context(tmp_path, base, derived))


def test_a_clean_pip_install_and_an_upgrade_raise_nothing(tmp_path: Path) -> None:
    base = image(alpha())
    upgrade = layer_tar(
        [
            F(f"{USER_SITE}/.wh.alpha-1.0.dist-info"),
            *installed(USER_SITE, "alpha", "1.1", {**ALPHA, "common/parse.py": b"def parse(): return 2\n"}),
        ]
    )
    derived = image(
        alpha(), upgrade, layer_tar(installed(USER_SITE, "tabulate", "0.9.0", {"tabulate.py": b""}))
    )
    context = diff_context(tmp_path, base, derived)
    assert [f for rule in RULES for f in findings(rule, context)] == []


def test_an_overwritten_distribution_another_requires_is_high_and_names_both(tmp_path: Path) -> None:
    consumer = layer_tar(
        installed(USER_SITE, "consumer", "3.0", {"consumer.py": b"import common\n"}, "alpha>=1")
    )
    base = image(alpha(), consumer)
    derived = image(alpha(), consumer, layer_tar(installed(USER_SITE, "beta", "2.0", BETA)))
    (finding,) = run(python_file_overwritten, tmp_path, base, derived)
    assert finding.severity is Severity.HIGH
    assert finding.subject == f"{SITE}:alpha:overwritten-by:beta"
    assert finding.message == (
        "`import common` now loads beta 2.0's code instead of alpha 1.0's (consumer 3.0 requires it): "
        "installing beta overwrote 1 file of alpha, and pip check does not notice."
    )
    assert finding.evidence["overwritten"]["name"] == "alpha" and finding.evidence["by"]["name"] == "beta"
    assert finding.evidence["files"] == [
        {
            "path": f"{SITE}/common/__init__.py",
            "recorded": recorded(ALPHA["common/__init__.py"]),
            "actual": recorded(BETA["common/__init__.py"]),
        }
    ]
    assert finding.evidence["required_by"] == ["consumer 3.0"] and finding.evidence["imported_by"] == []
    assert finding.layer == 4


def test_an_overwritten_distribution_nothing_uses_is_medium(tmp_path: Path) -> None:
    base = image(alpha())
    derived = image(alpha(), layer_tar(installed(USER_SITE, "beta", "2.0", BETA)))
    (finding,) = run(python_file_overwritten, tmp_path, base, derived)
    assert finding.severity is Severity.MEDIUM and finding.evidence["required_by"] == []


def test_an_overwritten_module_the_cmd_imports_is_high(tmp_path: Path) -> None:
    script = layer_tar(
        [
            F(
                "home/airflow/.local/bin/airflow",
                b"#!/usr/bin/python3\nimport requests\nimport common.parse\n",
                mode=0o755,
                uid=50000,
            )
        ]
    )
    base = image(alpha(), script)
    derived = image(alpha(), script, layer_tar(installed(USER_SITE, "beta", "2.0", BETA)))
    (finding,) = run(python_file_overwritten, tmp_path, base, derived)
    assert finding.severity is Severity.HIGH
    assert finding.evidence["imported_by"] == ["CMD runs airflow (#!/usr/bin/python3), which imports common"]
    assert "(airflow (CMD) imports it)" in finding.message


def test_a_file_edited_outside_pip_is_reported_once_for_its_distribution(tmp_path: Path) -> None:
    consumer = layer_tar(installed(USER_SITE, "consumer", "3.0", {"consumer.py": b""}, "alpha"))
    base = image(alpha(), consumer)
    edit = layer_tar(
        [
            F(f"{USER_SITE}/common/parse.py", b"def parse(): return 'patched'\n", uid=50000),
            F(f"{USER_SITE}/common/.wh.__init__.py"),
        ]
    )
    (finding,) = run(python_file_modified, tmp_path, base, image(alpha(), consumer, edit))
    assert finding.severity is Severity.HIGH
    assert finding.subject == f"{SITE}:alpha"
    assert finding.message == (
        "`import common` no longer loads what pip installed for alpha 1.0 (consumer 3.0 requires it): 1 file "
        "changed and 1 file deleted outside pip (common/__init__.py, common/parse.py), so its RECORD no "
        "longer matches."
    )
    assert finding.evidence["files_changed"] == 1 and finding.evidence["files_deleted"] == 1
    assert finding.evidence["record"] == f"{SITE}/alpha-1.0.dist-info/RECORD"
    assert [f["state"] for f in finding.evidence["files"]] == ["missing", "modified"]
    assert finding.evidence["files"][1]["recorded"] == recorded(ALPHA["common/parse.py"])
    assert finding.layer == 4


def test_an_edit_of_a_distribution_nothing_uses_is_medium(tmp_path: Path) -> None:
    edit = layer_tar([F(f"{USER_SITE}/common/parse.py", b"# patched\n", uid=50000)])
    (finding,) = run(python_file_modified, tmp_path, image(alpha()), image(alpha(), edit))
    assert finding.severity is Severity.MEDIUM


def test_tests_and_docs_deleted_to_slim_the_image_are_low(tmp_path: Path) -> None:
    files = {**ALPHA, "common/tests/test_parse.py": b"def test(): ...\n", "common/README.md": b"# alpha\n"}
    layer = layer_tar(installed(USER_SITE, "alpha", "1.0", files, uid=50000))
    slim = layer_tar([F(f"{USER_SITE}/common/.wh.tests"), F(f"{USER_SITE}/common/.wh.README.md")])
    (finding,) = run(python_file_modified, tmp_path, image(layer), image(layer, slim))
    assert finding.severity is Severity.LOW and finding.evidence["files_deleted"] == 2


def test_files_deleted_from_a_distribution_are_its_finding_not_base_file_deleted(tmp_path: Path) -> None:
    """One cause, one finding: python-file-modified names the distribution; base-file-deleted stays silent,
    for a module deleted by hand and for a whole tests/ directory deleted to slim the image."""
    files = {**ALPHA, "common/tests/test_parse.py": b"def test(): ...\n"}
    cache = F(f"{USER_SITE}/common/tests/__pycache__/test_parse.cpython-311.pyc", b"\x00", uid=50000)
    layer = layer_tar([*installed(USER_SITE, "alpha", "1.0", files, uid=50000), cache])
    delete = layer_tar([F(f"{USER_SITE}/common/.wh.parse.py"), F(f"{USER_SITE}/common/.wh.tests")])
    context = diff_context(tmp_path, image(layer), image(layer, delete))
    (modified,) = findings(python_file_modified, context)
    assert modified.evidence["files_deleted"] == 2
    assert findings(BASE_FILE_DELETED, context) == []


def test_a_deleted_file_no_record_lists_is_still_base_file_deleted(tmp_path: Path) -> None:
    extra = layer_tar([F(f"{USER_SITE}/common/local_settings.py", b"DEBUG = False\n", uid=50000)])
    delete = layer_tar([F(f"{USER_SITE}/common/.wh.local_settings.py")])
    context = diff_context(tmp_path, image(alpha(), extra), image(alpha(), extra, delete))
    assert findings(python_file_modified, context) == []
    (deleted,) = findings(BASE_FILE_DELETED, context)
    assert deleted.subject == f"{SITE}/common/local_settings.py"
