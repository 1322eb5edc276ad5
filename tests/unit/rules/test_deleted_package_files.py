"""base-file-deleted leaves files an OS package owns to the package rules."""

from __future__ import annotations

from pathlib import Path

from layerdiff.rules.deleted import BASE_FILE_DELETED
from layerdiff.rules.packages import package_file_modified, package_removed
from tests.support.imagebuilder import F
from tests.support.rules import diff_context, findings
from tests.unit.rules.test_package_rules import (
    APP_PARAGRAPH,
    LIBFOO,
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
    (removal,) = findings(package_removed, context)
    assert removal.subject == "deb:libfoo1:amd64"
    # what dpkg deleted with the package is counted in its one finding
    assert removal.evidence["removed"] == {
        "files_removed": 1,
        "bytes_removed": len(LIBFOO),
        "examples": ["/usr/lib/libfoo.so.1"],
    }
    assert removal.message == (
        "Whatever uses libfoo1 fails: deb package libfoo1 1.2-1 is no longer installed, which deleted 1 file "
        "of 1.2-1."
    )


def test_files_no_package_owns_are_still_reported(tmp_path: Path) -> None:
    base = base_image()
    context = diff_context(tmp_path, base, derived_image(base, F("etc/.wh.os-release")))
    assert [f.subject for f in findings(BASE_FILE_DELETED, context)] == ["/etc/os-release"]
