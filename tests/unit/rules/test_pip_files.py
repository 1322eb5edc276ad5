"""What pip deletes replacing or uninstalling a distribution is that distribution's one finding, with the
files counted in its evidence; what is deleted behind pip's back is base-file-deleted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerdiff.rules.deleted import BASE_FILE_DELETED
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.packages import package_downgraded, package_removed, package_upgraded
from layerdiff.rules.python_integrity import python_file_modified
from layerdiff.rules.severity import Severity
from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.rules import diff_context, findings

UID = pairs.AIRFLOW_UID
SITE = pairs.SITE
REQUESTS = f"pypi:requests:/{SITE}"
RECORD = (
    "requests/__init__.py,sha256=a,23\n"
    "requests/old.py,sha256=b,6\n"
    "requests/__pycache__/old.cpython-311.pyc,,\n"
    "requests-2.31.0.dist-info/METADATA,sha256=c,32\n"
    "requests-2.31.0.dist-info/RECORD,,\n"
    "../../../bin/requests-tool,sha256=d,5\n"
)


def run(command: str) -> dict[str, Any]:
    return {"created_by": f"/bin/sh -c {command}"}


def base_with_record() -> Image:
    """The airflow-like base whose requests 2.31.0 has a RECORD, a module 2.28.1 lacks and a script."""
    base = pairs.base_image()
    assert base.history is not None
    files = layer_tar(
        [
            F(f"{SITE}/requests-2.31.0.dist-info/RECORD", RECORD.encode(), uid=UID),
            F(f"{SITE}/requests/old.py", b"old()\n", uid=UID),
            F(f"{SITE}/requests/__pycache__/", kind="dir", uid=UID),
            F(f"{SITE}/requests/__pycache__/old.cpython-311.pyc", b"\x00" * 10, uid=UID),
            F("home/airflow/.local/bin/requests-tool", b"#!/usr/bin/python3\n", mode=0o755, uid=UID),
        ]
    )
    return Image(
        layers=[*base.layers, files], config=base.config, history=[*base.history, run("pip install more")]
    )


def derived_from(base: Image, entries: list[F], command: str) -> Image:
    assert base.history is not None
    return Image(
        layers=[*base.layers, layer_tar(entries)], config=base.config, history=[*base.history, run(command)]
    )


def context_for(tmp_path: Path, entries: list[F], command: str) -> RuleContext:
    base = base_with_record()
    return diff_context(tmp_path, base, derived_from(base, entries, command))


def only(found: list[Finding]) -> Finding:
    assert len(found) == 1, found
    return found[0]


DOWNGRADE = [
    F(f"{SITE}/.wh.requests-2.31.0.dist-info"),
    F(f"{SITE}/requests-2.28.1.dist-info/METADATA", b"Name: requests\nVersion: 2.28.1\n", uid=UID),
    F(f"{SITE}/requests/__init__.py", b"__version__ = '2.28.1'\n", uid=UID),
    F(f"{SITE}/requests/.wh.old.py"),
    F(f"{SITE}/requests/.wh.__pycache__"),
    F("home/airflow/.local/bin/requests-tool", b"#!/usr/bin/python3\n#2\n", mode=0o755, uid=UID),
]


def test_a_pip_downgrade_is_one_finding_with_the_files_pip_deleted(tmp_path: Path) -> None:
    context = context_for(tmp_path, DOWNGRADE, "pip install requests==2.28.1")
    assert findings(BASE_FILE_DELETED, context) == []  # not one finding per file pip removed
    downgrade = only(findings(package_downgraded, context))
    assert downgrade.subject == REQUESTS and downgrade.severity is Severity.MEDIUM
    assert downgrade.evidence["source"] == "python site dir"  # no SBOM: the site dir tells it
    # the old metadata (METADATA, RECORD), the module 2.28.1 lacks and the __pycache__ pip emptied
    removed = downgrade.evidence["removed"]
    assert removed["files_removed"] == 4
    # the distribution's own files first, then its metadata
    assert removed["examples"] == [
        f"/{SITE}/{name}"
        for name in (
            "requests/__pycache__/old.cpython-311.pyc",
            "requests/old.py",
            "requests-2.31.0.dist-info/METADATA",
            "requests-2.31.0.dist-info/RECORD",
        )
    ]
    assert downgrade.message.startswith(
        "Code using requests now gets an older version, 2.28.1 instead of 2.31.0"
    )
    assert "which deleted 4 files of 2.31.0" in downgrade.message
    assert downgrade.layer == 3 and downgrade.instruction == "RUN pip install requests==2.28.1"


def test_pip_uninstall_is_package_removed_not_deleted_files(tmp_path: Path) -> None:
    entries = [
        F(f"{SITE}/.wh.requests-2.31.0.dist-info"),
        F(f"{SITE}/.wh.requests"),
        F("home/airflow/.local/bin/.wh.requests-tool"),
    ]
    context = context_for(tmp_path, entries, "pip uninstall -y requests")
    assert findings(BASE_FILE_DELETED, context) == []
    removal = only(findings(package_removed, context))
    assert removal.subject == REQUESTS
    assert removal.evidence["removed"]["files_removed"] == 6  # RECORD's five files and the script
    assert removal.message.startswith("Code using requests fails: pypi package requests 2.31.0 is no longer")


def test_deleting_an_installed_distributions_file_is_behind_pips_back(tmp_path: Path) -> None:
    # one cause, one finding: the distribution whose RECORD lists the file, not a second base-file-deleted
    context = context_for(tmp_path, [F(f"{SITE}/requests/.wh.old.py")], "rm requests/old.py")
    assert findings(BASE_FILE_DELETED, context) == []
    finding = only(findings(python_file_modified, context))
    assert finding.subject == f"/{SITE}:requests" and finding.evidence["files_deleted"] == 1
    assert finding.evidence["files"][0]["path"] == f"/{SITE}/requests/old.py"


def test_removing_the_whole_site_dir_is_behind_pips_back(tmp_path: Path) -> None:
    context = context_for(tmp_path, [F("home/airflow/.local/lib/python3.11/.wh.site-packages")], "rm -rf")
    finding = only(findings(BASE_FILE_DELETED, context))
    assert finding.subject == f"/{SITE}" and finding.evidence["entries_removed"] > 5


def test_an_emptied_directory_with_another_owners_file_stays_a_deletion(tmp_path: Path) -> None:
    # requests/__pycache__ also held a file no RECORD lists: the directory is not pip's alone
    base = base_with_record()
    stray = layer_tar([F(f"{SITE}/requests/__pycache__/stray.pyc", b"x", uid=UID)])
    assert base.history is not None
    base = Image(layers=[*base.layers, stray], config=base.config, history=[*base.history, run("touch")])
    context = diff_context(tmp_path, base, derived_from(base, DOWNGRADE, "pip install requests==2.28.1"))
    finding = only(findings(BASE_FILE_DELETED, context))
    assert finding.subject == f"/{SITE}/requests/__pycache__"
    assert finding.message.startswith(f"Whatever the base reads from /{SITE}/requests/__pycache__ is gone")
    assert only(findings(package_downgraded, context)).evidence["removed"]["files_removed"] == 4


def test_pip_replacing_an_egg_info_with_a_python_tag_is_its_upgrade(tmp_path: Path) -> None:
    # egg-info folders carry a Python tag after the version: foo-1.0-py3.11.egg-info names "foo"
    def egg(version: str) -> F:
        metadata = f"Metadata-Version: 1.1\nName: foo\nVersion: {version}\n".encode()
        return F(f"{SITE}/foo-{version}-py3.11.egg-info/PKG-INFO", metadata, uid=UID)

    base = pairs.base_image()
    assert base.history is not None
    base = Image(
        layers=[*base.layers, layer_tar([egg("1.0")])],
        config=base.config,
        history=[*base.history, run("pip install --user foo==1.0")],
    )
    derived = derived_from(
        base, [F(f"{SITE}/.wh.foo-1.0-py3.11.egg-info"), egg("2.0")], "pip install foo==2.0"
    )
    context = diff_context(tmp_path, base, derived)
    assert findings(BASE_FILE_DELETED, context) == []
    upgrade = only(findings(package_upgraded, context))
    assert upgrade.subject == f"pypi:foo:/{SITE}" and upgrade.severity is Severity.INFO
    assert upgrade.evidence["removed"]["examples"] == [f"/{SITE}/foo-1.0-py3.11.egg-info/PKG-INFO"]
