"""The package rules on images built in Python and run through the real pipeline: dpkg databases written into
layers (status, info/*.list, info/*.md5sums) and, for SBOM changes, the real syft scanning both images."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from layerdiff.rules.commands import path_command_shadowed
from layerdiff.rules.launch import entrypoint_provider_changed
from layerdiff.rules.libraries import library_shadowed, library_unresolved
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.packages import (
    os_package_dependency_broken,
    package_added,
    package_downgraded,
    package_file_modified,
    package_removed,
    package_upgraded,
)
from layerdiff.rules.python import (
    python_distribution_lost,
    python_package_shadowed,
    python_requirement_broken,
)
from layerdiff.rules.severity import Severity
from layerdiff.sbom.syft import find_syft
from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.rules import diff_context, findings

INFO = "var/lib/dpkg/info"
TOOL = b"#!/bin/sh\necho tool 1.0\n"
TOOL_CONF = b"verbose = no\n"
COPYRIGHT = b"Copyright: the tool authors\n"
LIBFOO = b"\x7fELF libfoo 1.2\n"
ALL_RULES = (
    python_requirement_broken,
    python_distribution_lost,
    python_package_shadowed,
    path_command_shadowed,
    library_unresolved,
    library_shadowed,
    package_file_modified,
    os_package_dependency_broken,
    package_downgraded,
    package_removed,
    package_added,
    package_upgraded,
    entrypoint_provider_changed,
)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def paragraph(name: str, version: str, extra: str = "") -> str:
    return (
        f"Package: {name}\nStatus: install ok installed\nVersion: {version}\nArchitecture: amd64\n{extra}\n"
    )


def database(*paragraphs: str) -> F:
    return F("var/lib/dpkg/status", "".join(paragraphs).encode())


def package_files(name: str, files: dict[str, bytes], conffiles: dict[str, bytes] | None = None) -> list[F]:
    """The files themselves and the package's info/NAME.list and info/NAME.md5sums (conffiles' md5s are in
    the status file instead, as dpkg keeps them)."""
    everything = {**files, **(conffiles or {})}
    listed = "".join(f"{path}\n" for path in everything).encode()
    sums = "".join(f"{md5(data)}  {path.lstrip('/')}\n" for path, data in files.items()).encode()
    entries = [F(f"{INFO}/{name}.list", listed), F(f"{INFO}/{name}.md5sums", sums)]
    return entries + [F(path.lstrip("/"), data, mode=0o755) for path, data in everything.items()]


TOOL_PARAGRAPH = paragraph("tool", "1.0", f"Conffiles:\n /etc/tool.conf {md5(TOOL_CONF)}\n")
APP_PARAGRAPH = paragraph("app", "1.0", "Depends: libfoo1 (>= 1.0)\n")


def base_image() -> Image:
    layer = layer_tar(
        [
            F("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
            database(TOOL_PARAGRAPH, paragraph("libfoo1", "1.2-1"), APP_PARAGRAPH),
            *package_files(
                "tool",
                {"/usr/bin/tool": TOOL, "/usr/share/doc/tool/copyright": COPYRIGHT},
                conffiles={"/etc/tool.conf": TOOL_CONF},
            ),
            *package_files("libfoo1", {"/usr/lib/libfoo.so.1": LIBFOO}),
        ]
    )
    return Image(layers=[layer], config={"Cmd": ["tool"], "Env": ["PATH=/usr/bin:/bin"]})


def derived_image(base: Image, *entries: F) -> Image:
    return Image(layers=[*base.layers, layer_tar(list(entries))], config=base.config)


def by_subject(found: list[Finding]) -> dict[str, Finding]:
    return {finding.subject: finding for finding in found}


# --- package-file-modified ----------------------------------------------------------------------------------


def test_files_changed_outside_dpkg_are_reported_like_dpkg_verify(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(
        base,
        F("usr/bin/tool", b"#!/bin/sh\necho patched\n", mode=0o755),
        F("etc/tool.conf", b"verbose = yes\n"),
        F("usr/lib/.wh.libfoo.so.1"),
    )
    found = by_subject(findings(package_file_modified, diff_context(tmp_path, base, derived)))
    # one finding per package, its conffiles apart
    assert sorted(found) == ["libfoo1", "tool", "tool:conffiles"]
    binary = found["tool"]
    assert binary.severity is Severity.HIGH and binary.layer == 1
    assert binary.evidence["dpkg_verify"] == "??5??????   /usr/bin/tool"
    assert binary.evidence["expected_md5"] == md5(TOOL)
    assert binary.evidence["before"]["sha256"] != binary.evidence["after"]["sha256"]
    assert binary.evidence["after"]["mode"] == "0755"  # as chmod takes it, like every mode in a report
    assert binary.message == (
        "Whatever uses /usr/bin/tool gets content tool did not install: /usr/bin/tool of package tool was "
        "changed (its md5 differs from the package's) outside dpkg."
    )
    deleted = found["libfoo1"]
    assert (
        deleted.severity is Severity.HIGH
        and deleted.evidence["dpkg_verify"] == "missing     /usr/lib/libfoo.so.1"
    )
    assert deleted.evidence["after"] is None
    conffile = found["tool:conffiles"]
    assert (
        conffile.severity is Severity.LOW and conffile.evidence["dpkg_verify"] == "??5?????? c /etc/tool.conf"
    )


def test_files_of_one_package_deleted_together_are_one_finding(tmp_path: Path) -> None:
    libraries = {"/usr/lib/libbar.so.2": b"\x7fELF bar", "/usr/lib/libbar.so.2.1": b"\x7fELF bar 2.1"}
    base = Image(
        layers=[layer_tar([database(paragraph("libbar2", "2.1-1")), *package_files("libbar2", libraries)])],
        config={"Cmd": ["tool"]},
    )
    derived = derived_image(base, F("usr/lib/.wh.libbar.so.2"), F("usr/lib/.wh.libbar.so.2.1"))
    (finding,) = findings(package_file_modified, diff_context(tmp_path, base, derived))
    assert finding.subject == "libbar2" and finding.severity is Severity.HIGH and finding.layer == 1
    assert [f["dpkg_verify"] for f in finding.evidence["files"]] == [
        "missing     /usr/lib/libbar.so.2",
        "missing     /usr/lib/libbar.so.2.1",
    ]
    assert finding.message == (
        "Programs that load libbar.so.2 fail to start: 2 files of package libbar2 were deleted "
        "(/usr/lib/libbar.so.2, /usr/lib/libbar.so.2.1) outside dpkg."
    )


def test_deleted_documentation_and_untouched_files_are_not_reported(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(base, F("usr/share/doc/tool/.wh.copyright"), F("opt/app/readme", b"local file\n"))
    context = diff_context(tmp_path, base, derived)
    assert [p.path for p in context.diff.inventory.package_file_problems] == ["/usr/share/doc/tool/copyright"]
    assert findings(package_file_modified, context) == []


def test_files_of_a_package_the_derived_image_installed_are_its_own(tmp_path: Path) -> None:
    base = base_image()
    extra = paragraph("extra", "1.0")
    derived = derived_image(
        base,
        database(TOOL_PARAGRAPH, paragraph("libfoo1", "1.2-1"), APP_PARAGRAPH, extra),
        F(f"{INFO}/extra.list", b"/usr/share/extra/data\n"),  # excluded by dpkg's path-exclude, say
    )
    assert findings(package_file_modified, diff_context(tmp_path, base, derived)) == []


# --- os-package-dependency-broken ---------------------------------------------------------------------------


def test_a_dependency_removed_behind_apts_back_is_reported_like_apt_get_check(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(
        base,
        database(TOOL_PARAGRAPH, APP_PARAGRAPH),
        F(f"{INFO}/.wh.libfoo1.list"),
        F(f"{INFO}/.wh.libfoo1.md5sums"),
        F("usr/lib/.wh.libfoo.so.1"),
    )
    (finding,) = findings(os_package_dependency_broken, diff_context(tmp_path, base, derived))
    assert finding.severity is Severity.HIGH and finding.subject == "deb:app:libfoo1"
    assert finding.evidence["apt_get_check"] == "app : Depends: libfoo1 (>= 1.0) but it is not installed"
    assert finding.evidence["reason"] == "missing" and finding.layer == 1
    assert finding.message == (
        "app may fail at run time: deb package app 1.0 Depends: libfoo1 (>= 1.0), which is not met "
        "(not installed)."
    )


def test_a_dependency_downgraded_below_the_constraint(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(base, database(TOOL_PARAGRAPH, paragraph("libfoo1", "0.9-1"), APP_PARAGRAPH))
    (finding,) = findings(os_package_dependency_broken, diff_context(tmp_path, base, derived))
    assert finding.evidence["apt_get_check"] == "app : Depends: libfoo1 (>= 1.0) but 0.9-1 is installed"
    assert finding.evidence["installed"] == "0.9-1"


def test_an_upgrade_that_meets_every_dependency_breaks_nothing(tmp_path: Path) -> None:
    base = base_image()
    derived = derived_image(base, database(TOOL_PARAGRAPH, paragraph("libfoo1", "1.3-1"), APP_PARAGRAPH))
    assert findings(os_package_dependency_broken, diff_context(tmp_path, base, derived)) == []


# --- package changes from the dpkg database (no SBOM) -------------------------------------------------------


@pytest.fixture(scope="module")
def database_changes(tmp_path_factory: pytest.TempPathFactory) -> RuleContext:
    """libfoo1 downgraded, tool upgraded, app removed, extra added; the dpkg database is the only source."""
    base = base_image()
    derived = derived_image(
        base,
        database(
            paragraph("tool", "1.1", f"Conffiles:\n /etc/tool.conf {md5(TOOL_CONF)}\n"),
            paragraph("libfoo1", "1.1-1"),
            paragraph("extra", "2.0"),
        ),
    )
    return diff_context(tmp_path_factory.mktemp("database"), base, derived)


def test_version_changes_from_the_dpkg_database(database_changes: RuleContext) -> None:
    (downgrade,) = findings(package_downgraded, database_changes)
    assert downgrade.severity is Severity.MEDIUM and downgrade.subject == "deb:libfoo1:amd64"
    assert downgrade.message == (
        "Whatever uses libfoo1 now gets an older version, 1.1-1 instead of 1.2-1: deb package libfoo1 was "
        "downgraded."
    )
    assert downgrade.evidence["source"] == "deb database" and downgrade.layer == 1
    (removal,) = findings(package_removed, database_changes)
    assert removal.severity is Severity.MEDIUM and removal.subject == "deb:app:amd64"
    assert removal.message == "Whatever uses app fails: deb package app 1.0 is no longer installed."
    (addition,) = findings(package_added, database_changes)
    assert addition.severity is Severity.INFO and addition.subject == "deb:extra:amd64"
    # tool is what the image's CMD runs: its upgrade is entrypoint-provider-changed's one finding
    assert findings(package_upgraded, database_changes) == []
    (upgrade,) = findings(entrypoint_provider_changed, database_changes)
    assert upgrade.severity is Severity.MEDIUM and upgrade.subject == "deb:tool:amd64"
    assert (upgrade.evidence["before"], upgrade.evidence["after"]) == ("1.0", "1.1")
    assert upgrade.evidence["version_change"]["source"] == "deb database"
    assert upgrade.message == (
        "The image runs another tool than its base: CMD's tool now comes from deb package tool 1.1, not 1.0 "
        "(upgraded) as in the base."
    )


def test_an_unchanged_database_has_no_version_changes(tmp_path: Path) -> None:
    base = base_image()
    context = diff_context(tmp_path, base, derived_image(base, F("opt/app/readme", b"x")))
    rules = (package_downgraded, package_removed, package_added, package_upgraded)
    assert [f for rule in rules for f in findings(rule, context)] == []


# --- SBOM changes (real syft) -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def needs_syft() -> None:
    try:
        find_syft()
    except Exception:
        pytest.skip("needs syft")


def test_sbom_downgrades_of_any_ecosystem_each_reported_once(tmp_path: Path, needs_syft: None) -> None:
    """The pinned-requests image with libfoo1 downgraded too: syft and dpkg both see the deb change."""
    airflow, pinned = pairs.base_image(), pairs.pinned_requests()
    assert airflow.history is not None and pinned.history is not None
    installed = layer_tar(
        [F("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'), database(paragraph("libfoo1", "1.2-1"))]
    )
    base = Image(
        layers=[*airflow.layers, installed],
        config=airflow.config,
        history=[*airflow.history, {"created_by": "/bin/sh -c apt-get install libfoo1"}],
    )
    assert base.history is not None
    downgraded = layer_tar([database(paragraph("libfoo1", "1.1-1"))])
    derived = Image(
        layers=[*base.layers, pinned.layers[-1], downgraded],
        config=base.config,
        history=[
            *base.history,
            pinned.history[-1],
            {"created_by": "/bin/sh -c apt-get install --allow-downgrades libfoo1=1.1-1"},
        ],
    )
    context = diff_context(tmp_path, base, derived, sbom=True)
    assert [c.name for c in context.diff.inventory.os_packages] == ["libfoo1"]
    found = by_subject(findings(package_downgraded, context))
    site = "/home/airflow/.local/lib/python3.11/site-packages"
    assert sorted(found) == ["deb:libfoo1:amd64", f"pypi:requests:{site}"]
    deb, pypi = found["deb:libfoo1:amd64"], found[f"pypi:requests:{site}"]
    assert deb.evidence["source"].startswith("syft ") and deb.layer == 4
    assert deb.evidence["purl_after"].startswith("pkg:deb/debian/libfoo1@1.1-1")
    assert pypi.message == (
        f"Code using requests now gets an older version, 2.28.1 instead of 2.31.0: pypi package requests was "
        f"downgraded in {site}, which deleted 1 file of 2.31.0."
    )
    assert pypi.evidence["removed"]["examples"] == [f"{site}/requests-2.31.0.dist-info/METADATA"]
    assert pypi.layer == 3 and pypi.instruction == "RUN pip install requests==2.28.1"


def test_a_dag_only_image_raises_nothing_of_medium_or_higher(tmp_path: Path, needs_syft: None) -> None:
    context = diff_context(tmp_path, pairs.base_image(), pairs.dag_only(), sbom=True)
    found = [f for rule in ALL_RULES for f in findings(rule, context)]
    assert [f for f in found if f.severity >= Severity.MEDIUM] == []
