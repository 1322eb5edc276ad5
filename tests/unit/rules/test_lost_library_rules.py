"""One cause, one finding: an OS package whose library an object no longer finds is reported once, as the
object's library-unresolved finding, with the package's removal or deleted files as its cause."""

from __future__ import annotations

import hashlib
from pathlib import Path

from layerdiff.rules.libraries import library_unresolved
from layerdiff.rules.model import RuleContext
from layerdiff.rules.packages import os_package_dependency_broken, package_file_modified, package_removed
from layerdiff.rules.severity import Severity
from tests.support.elf_objects import Objects
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.rules import diff_context, findings

INFO = "var/lib/dpkg/info"
HELPER = b"#!/bin/sh\necho helper\n"


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def status(*packages: str) -> F:
    paragraphs = {
        "app": "Package: app\nStatus: install ok installed\nVersion: 2.0\nArchitecture: amd64\n"
        "Depends: libfoo1 (>= 1.0)\n\n",
        "libfoo1": "Package: libfoo1\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n",
    }
    return F("var/lib/dpkg/status", "".join(paragraphs[name] for name in packages).encode())


def listing(name: str, files: dict[str, bytes]) -> list[F]:
    sums = "".join(f"{md5(data)}  {path.lstrip('/')}\n" for path, data in files.items())
    return [
        F(f"{INFO}/{name}.list", "".join(f"{path}\n" for path in files).encode()),
        F(f"{INFO}/{name}.md5sums", sums.encode()),
    ]


def base_image(objects: Objects) -> Image:
    """The dpkg package app installs /usr/bin/app, which loads libfoo.so.1 of libfoo1 (with a helper)."""
    libfoo = {"/usr/lib/libfoo.so.1": objects.libfoo, "/usr/lib/libfoo1/helper": HELPER}
    layer = layer_tar(
        [
            F("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
            F("usr/lib/", kind="dir"),
            F("usr/lib/libfoo.so.1", objects.libfoo, mode=0o755),
            F("usr/lib/libfoo1/helper", HELPER, mode=0o755),
            F("usr/bin/app", objects.app, mode=0o755),
            status("app", "libfoo1"),
            *listing("app", {"/usr/bin/app": objects.app}),
            *listing("libfoo1", libfoo),
        ]
    )
    return Image(layers=[layer], config={"Cmd": ["app"], "Env": ["PATH=/usr/bin:/bin"]})


def context(tmp_path: Path, objects: Objects, *entries: F) -> RuleContext:
    base = base_image(objects)
    derived = Image(layers=[*base.layers, layer_tar(list(entries))], config=base.config)
    return diff_context(tmp_path, base, derived)


def test_a_library_deleted_outside_dpkg_is_one_finding_with_its_package_as_cause(
    tmp_path: Path, objects: Objects
) -> None:
    reviewed = context(tmp_path, objects, F("usr/lib/.wh.libfoo.so.1"))
    (finding,) = findings(library_unresolved, reviewed)
    assert finding.severity is Severity.HIGH and finding.subject == "/usr/bin/app:libfoo.so.1"
    assert finding.message == (
        "Running /usr/bin/app fails: libfoo.so.1 not found (it was /usr/lib/libfoo.so.1). "
        "/usr/lib/libfoo.so.1 of package libfoo1 was deleted or moved outside dpkg."
    )
    assert finding.evidence["cause"] == {
        "package": "libfoo1",
        "version": "1.0-1",
        "change": "files deleted or moved outside dpkg",
        "files_removed": None,
        "dpkg_verify": ["missing     /usr/lib/libfoo.so.1"],
        "apt_get_check": [],
    }
    assert findings(package_file_modified, reviewed) == []  # the same cause, not a second finding


def test_a_package_that_lost_more_than_the_library_is_still_its_own_finding(
    tmp_path: Path, objects: Objects
) -> None:
    reviewed = context(tmp_path, objects, F("usr/lib/.wh.libfoo.so.1"), F("usr/lib/libfoo1/.wh.helper"))
    (unresolved,) = findings(library_unresolved, reviewed)
    assert unresolved.evidence["cause"] is None
    assert unresolved.message.endswith("(it was /usr/lib/libfoo.so.1).")
    (modified,) = findings(package_file_modified, reviewed)
    assert modified.subject == "libfoo1"
    assert [f["path"] for f in modified.evidence["files"]] == [
        "/usr/lib/libfoo.so.1",
        "/usr/lib/libfoo1/helper",
    ]


def test_a_library_package_removed_with_force_depends_is_one_finding(
    tmp_path: Path, objects: Objects
) -> None:
    reviewed = context(
        tmp_path,
        objects,
        status("app"),
        F(f"{INFO}/.wh.libfoo1.list"),
        F(f"{INFO}/.wh.libfoo1.md5sums"),
        F("usr/lib/.wh.libfoo.so.1"),
        F("usr/lib/.wh.libfoo1"),
    )
    (finding,) = findings(library_unresolved, reviewed)
    assert finding.message == (
        "Running /usr/bin/app fails: libfoo.so.1 not found (it was /usr/lib/libfoo.so.1). "
        "libfoo1 1.0-1 was removed, though app depends on it."
    )
    cause = finding.evidence["cause"]
    assert cause["change"] == "removed" and cause["files_removed"] == 2
    assert cause["apt_get_check"] == ["app : Depends: libfoo1 (>= 1.0) but it is not installed"]
    assert findings(package_removed, reviewed) == []
    assert findings(os_package_dependency_broken, reviewed) == []


def test_a_removed_package_nothing_loads_from_is_reported_as_removed(
    tmp_path: Path, objects: Objects
) -> None:
    # dpkg's database no longer lists libfoo1, but its library stayed: nothing fails to load, so the removal
    # and the unmet dependency are findings of their own
    reviewed = context(
        tmp_path,
        objects,
        status("app"),
        F(f"{INFO}/.wh.libfoo1.list"),
        F(f"{INFO}/.wh.libfoo1.md5sums"),
        F("usr/lib/libfoo1/.wh.helper"),
    )
    assert findings(library_unresolved, reviewed) == []
    (removed,) = findings(package_removed, reviewed)
    assert removed.subject == "deb:libfoo1:amd64"
    (broken,) = findings(os_package_dependency_broken, reviewed)
    assert broken.subject == "deb:app:libfoo1"
