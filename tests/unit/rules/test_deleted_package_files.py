"""base-file-deleted leaves files an OS package owns to the package rules."""

from __future__ import annotations

from pathlib import Path

from layerdiff.rules.deleted import BASE_FILE_DELETED
from layerdiff.rules.packages import package_file_modified, package_removed
from tests.support.imagebuilder import F
from tests.support.rules import diff_context, findings
from tests.unit.rules.test_package_rules import (
    APP_PARAGRAPH,
    TOOL_PARAGRAPH,
    base_image,
    database,
    derived_image,
)


def test_a_file_removed_behind_dpkgs_back_is_one_package_finding(tmp_path: Path) -> None:
    base = base_image()
    context = diff_context(
        tmp_path, base, derived_image(base, F("usr/lib/.wh.libfoo.so.1"), F("opt/.wh.nothing"))
    )
    assert findings(BASE_FILE_DELETED, context) == []
    (finding,) = findings(package_file_modified, context)
    assert finding.subject == "libfoo1" and finding.evidence["path"] == "/usr/lib/libfoo.so.1"


def test_a_package_purged_is_package_removed_not_a_pile_of_deleted_files(tmp_path: Path) -> None:
    base = base_image()
    purged = derived_image(
        base,
        database(TOOL_PARAGRAPH, APP_PARAGRAPH),
        F("usr/lib/.wh.libfoo.so.1"),
        F("var/lib/dpkg/info/.wh.libfoo1.list"),
        F("var/lib/dpkg/info/.wh.libfoo1.md5sums"),
    )
    context = diff_context(tmp_path, base, purged)
    assert findings(BASE_FILE_DELETED, context) == []
    assert [f.subject for f in findings(package_removed, context)] == ["deb:libfoo1:amd64"]


def test_files_no_package_owns_are_still_reported(tmp_path: Path) -> None:
    base = base_image()
    context = diff_context(tmp_path, base, derived_image(base, F("etc/.wh.os-release")))
    assert [f.subject for f in findings(BASE_FILE_DELETED, context)] == ["/etc/os-release"]
