"""rpm database reading: headers built by a small writer (tests/support/rpmdb.py) in an in-memory database,
and, where ``rpmbuild`` and ``rpm`` are installed, a real ``rpmdb.sqlite`` that rpm itself wrote, checked
against ``rpm -q`` queries, ``rpm -Va --nofiles`` and rpm's own version comparison."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from layerdiff.inventory import rpm
from layerdiff.inventory.ospkg import canonical_purl, purl, read_os_packages
from layerdiff.inventory.ospkg_interface import BreakReason, OsPackage, PackageRef
from layerdiff.inventory.rpm import RPMDB_PATHS
from tests.support.rpmdb import (
    BASH,
    INT32,
    RPMSENSE_EQUAL,
    RPMSENSE_GREATER,
    STRING,
    STRING_ARRAY,
    HeaderEntries,
    header_blob,
    rpmdb_bytes,
)

GLIBC: HeaderEntries = {
    rpm.NAME: (STRING, "glibc"),
    rpm.VERSION: (STRING, "2.34"),
    rpm.RELEASE: (STRING, "60.el9"),
    rpm.ARCH: (STRING, "x86_64"),
    rpm.OLDFILENAMES: (STRING_ARRAY, ("/usr/lib64/libc.so.6",)),
    rpm.PROVIDENAME: (STRING_ARRAY, ("glibc", "libc.so.6()(64bit)")),
    rpm.PROVIDEFLAGS: (INT32, (RPMSENSE_EQUAL, 0)),
    rpm.PROVIDEVERSION: (STRING_ARRAY, ("2.34-60.el9", "")),
    rpm.REQUIRENAME: (STRING_ARRAY, ("bash",)),
    rpm.REQUIREFLAGS: (INT32, (RPMSENSE_GREATER | RPMSENSE_EQUAL,)),
    rpm.REQUIREVERSION: (STRING_ARRAY, ("1:5.2",)),
}


# --- headers ------------------------------------------------------------------------------------------------


def test_header_round_trip_gives_identity_files_and_relations() -> None:
    package = rpm.package_from_header(rpm.parse_header(header_blob(BASH)))
    assert (package.ecosystem, package.name, package.version, package.architecture) == (
        "rpm",
        "bash",
        "1:5.1.8-6.el9_1",
        "x86_64",
    )
    assert package.source == "bash-5.1.8-6.el9_1.src.rpm"
    assert package.files == ("/etc/skel/.bashrc", "/usr/bin/bash", "/usr/bin/sh", "/usr/share/doc/bash")
    assert package.conffiles == {"/etc/skel/.bashrc"}
    assert package.digests == (
        ("/etc/skel/.bashrc", "sha256:" + "aa" * 32),
        ("/usr/bin/bash", "sha256:" + "bb" * 32),
    )
    # rpmlib() and install-time-only (%pre) requirements do not bind an installed package
    assert [r.text for r in package.depends] == ["libc.so.6()(64bit)", "filesystem"]
    assert package.provides[1] == PackageRef("bash", "=", "1:5.1.8-6.el9_1")
    assert package.provides[0] == PackageRef("/bin/bash")


def test_old_style_file_names_and_missing_epoch() -> None:
    package = rpm.package_from_header(rpm.parse_header(header_blob(GLIBC)))
    assert package.version == "2.34-60.el9"
    assert package.files == ("/usr/lib64/libc.so.6",)
    assert package.digests == ()


def test_a_truncated_header_is_an_error() -> None:
    with pytest.raises(rpm.RpmHeaderError):
        rpm.parse_header(header_blob(BASH)[:-40])


def test_rpmdb_sqlite_is_read_in_memory_even_in_wal_mode() -> None:
    data = bytearray(rpmdb_bytes(BASH, GLIBC))
    data[18:20] = b"\x02\x02"  # what rpm's database says: write-ahead logging
    packages = rpm.parse_rpmdb(bytes(data))
    assert [(p.name, p.version) for p in packages] == [("bash", "1:5.1.8-6.el9_1"), ("glibc", "2.34-60.el9")]


def test_dispatch_prefers_the_sysimage_database() -> None:
    captured = {RPMDB_PATHS[0]: rpmdb_bytes(BASH), "/var/lib/rpm/rpmdb.sqlite": rpmdb_bytes(GLIBC)}
    assert [p.name for p in read_os_packages(captured).packages] == ["bash"]


def test_purl_lines_up_with_syft() -> None:
    package = rpm.package_from_header(rpm.parse_header(header_blob(BASH)))
    syft = "pkg:rpm/redhat/bash@5.1.8-6.el9_1?arch=x86_64&epoch=1&upstream=bash-5.1.8-6.el9_1.src.rpm"
    syft += "&distro=rhel-9.3"
    assert purl(package, "rhel-9.3") == canonical_purl(syft)
    assert purl(package, "rocky-9.3").startswith("pkg:rpm/rocky/bash@5.1.8-6.el9_1?")


# --- versions and dependencies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("5.1.8-6.el9", "5.1.8-6.el9_1"),
        ("5.1.8-6.el9_1", "5.1.8-10.el9"),
        ("1.0~rc1", "1.0"),
        ("1.0", "1.0^git1"),
        ("1.0^git1", "1.0.1"),
        ("1.0a", "1.0.1"),
        ("2.0", "1:1.0"),
        ("1.0", "1.0-1"),
    ],
)
def test_rpm_version_order(older: str, newer: str) -> None:
    assert rpm.compare_evr(older, newer) == -1
    assert rpm.compare_evr(newer, older) == 1


def test_version_ranges() -> None:
    assert rpm.ranges_overlap(PackageRef("bash", "=", "1:5.1.8-6.el9"), PackageRef("bash", ">=", "1:5.1"))
    assert not rpm.ranges_overlap(PackageRef("bash", "=", "1:5.1.8-6.el9"), PackageRef("bash", ">=", "1:5.2"))
    assert rpm.ranges_overlap(
        PackageRef("bash", "=", "1:5.1.8-6.el9"), PackageRef("bash", ">=", "5.2")
    )  # epoch
    assert rpm.ranges_overlap(PackageRef("x", "=", "1.0-5"), PackageRef("x", "=", "1.0"))  # no release: any
    assert not rpm.ranges_overlap(PackageRef("x", "=", "1.0-5"), PackageRef("x", ">", "1.0"))
    assert rpm.ranges_overlap(PackageRef("x"), PackageRef("x", ">=", "9"))  # unversioned provides match all


def test_unsatisfied_dependencies_by_name_file_and_version() -> None:
    packages = rpm.parse_rpmdb(rpmdb_bytes(BASH, GLIBC))
    filesystem, problem = sorted(rpm.unsatisfied_dependencies(packages), key=lambda b: b.package.name)
    assert (filesystem.package.name, filesystem.relation.text) == ("bash", "filesystem")
    assert (problem.package.name, problem.relation.text) == ("glibc", "bash >= 1:5.2")
    assert problem.reason is BreakReason.VERSION
    assert problem.installed_version == "1:5.1.8-6.el9_1"
    broken = rpm.unsatisfied_dependencies([p for p in packages if p.name != "glibc"])
    assert {b.relation.text for b in broken} == {"libc.so.6()(64bit)", "filesystem"}
    assert all(b.reason is BreakReason.MISSING for b in broken)


# --- against rpm itself -------------------------------------------------------------------------------------

needs_rpm = pytest.mark.skipif(
    shutil.which("rpm") is None or shutil.which("rpmbuild") is None,
    reason="needs rpm and rpmbuild (apt: rpm)",
)

DEMO_SPEC = """Name: layerdiff-demo
Epoch: 2
Version: 1.2.3
Release: 4.el9
Summary: demo
License: MIT
Requires: layerdiff-base >= 1.0
Requires: bash
Requires(pre): shadow-utils
Provides: demo-virtual = 1.0
Provides: demo-unversioned

%description
demo

%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc %{buildroot}/usr/share/demo
printf '#!/bin/sh\\necho demo\\n' > %{buildroot}/usr/bin/demo
chmod 755 %{buildroot}/usr/bin/demo
ln -s demo %{buildroot}/usr/bin/demo-link
echo 'key=value' > %{buildroot}/etc/demo.conf
echo 'data' > %{buildroot}/usr/share/demo/data.txt

%files
/usr/bin/demo
/usr/bin/demo-link
%config(noreplace) /etc/demo.conf
%dir /usr/share/demo
/usr/share/demo/data.txt
"""

BASE_SPEC = """Name: layerdiff-base
Version: 0.9
Release: 1
Summary: base
License: MIT
BuildArch: noarch
Provides: bash

%description
base

%install
mkdir -p %{buildroot}/bin
printf '#!/bin/true\\n' > %{buildroot}/bin/sh

%files
/bin/sh
"""


@pytest.fixture(scope="module")
def real_rpmdb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database rpm wrote itself, holding the two packages above (installed --justdb: no files)."""
    top = tmp_path_factory.mktemp("rpmbuild")
    for name, spec in (("demo", DEMO_SPEC), ("base", BASE_SPEC)):
        (top / f"{name}.spec").write_text(spec)
        build = ["rpmbuild", "--quiet", "--define", f"_topdir {top}", "-bb", str(top / f"{name}.spec")]
        subprocess.run(build, check=True, capture_output=True)
    dbpath = top / "db"
    subprocess.run(["rpm", "--dbpath", str(dbpath), "--initdb"], check=True)
    install = ["rpm", "--dbpath", str(dbpath), "-i", "--justdb", "--nodeps", "--noscripts"]
    subprocess.run([*install, *map(str, top.glob("RPMS/*/*.rpm"))], check=True, capture_output=True)
    return dbpath


def query(dbpath: Path, *args: str) -> list[str]:
    result = subprocess.run(
        ["rpm", "--dbpath", str(dbpath), "-q", *args], capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()


def real_packages(dbpath: Path) -> dict[str, OsPackage]:
    return {p.name: p for p in rpm.parse_rpmdb((dbpath / "rpmdb.sqlite").read_bytes())}


@needs_rpm
def test_identity_matches_rpm_query(real_rpmdb: Path) -> None:
    expected = query(real_rpmdb, "-a", "--qf", "%{NAME}\t%{EVR}\t%{ARCH}\t%{SOURCERPM}\n")
    mine = [
        f"{p.name}\t{p.version}\t{p.architecture}\t{p.source}" for p in real_packages(real_rpmdb).values()
    ]
    assert sorted(mine) == sorted(expected)


@needs_rpm
@pytest.mark.parametrize("name", ["layerdiff-demo", "layerdiff-base"])
def test_files_conffiles_digests_and_provides_match_rpm_query(real_rpmdb: Path, name: str) -> None:
    package = real_packages(real_rpmdb)[name]
    assert list(package.files) == query(real_rpmdb, "-l", name)
    assert sorted(package.conffiles) == [
        line for line in query(real_rpmdb, "-c", name) if line.startswith("/")
    ]
    algorithm = {"8": "sha256", "1": "md5"}[query(real_rpmdb, "--qf", "%{FILEDIGESTALGO}\n", name)[0]]
    digests = query(real_rpmdb, "--qf", "[%{FILENAMES}\t%{FILEDIGESTS}\n]", name)
    expected = [tuple(line.split("\t")) for line in digests if line.split("\t")[1]]
    assert [(path, digest.split(":")[1]) for path, digest in package.digests] == expected
    assert all(digest.startswith(f"{algorithm}:") for _, digest in package.digests)
    provides = [" ".join(filter(None, (r.name, r.operator, r.version))) for r in package.provides]
    assert sorted(provides) == sorted(query(real_rpmdb, "--provides", name))


@needs_rpm
def test_run_time_requires_are_rpms_less_rpmlib_and_scriptlet_ones(real_rpmdb: Path) -> None:
    package = real_packages(real_rpmdb)["layerdiff-demo"]
    every = set(query(real_rpmdb, "--requires", "layerdiff-demo"))
    assert {r.text for r in package.depends} == {
        r for r in every if not r.startswith(("rpmlib(", "shadow-utils"))
    }


@needs_rpm
def test_unsatisfied_dependencies_match_rpm_verify(real_rpmdb: Path) -> None:
    verify = subprocess.run(
        ["rpm", "--dbpath", str(real_rpmdb), "-Va", "--nofiles"], capture_output=True, text=True, check=False
    )
    expected = set(re.findall(r"^\t(.+) is needed by \(installed\) (\S+)-[^-]+-[^-]+$", verify.stdout, re.M))
    broken = rpm.unsatisfied_dependencies(list(real_packages(real_rpmdb).values()))
    assert (
        {(b.relation.text, b.package.name) for b in broken}
        == expected
        == {("layerdiff-base >= 1.0", "layerdiff-demo")}
    )


@needs_rpm
def test_version_order_agrees_with_rpm() -> None:
    versions = [
        "1.0",
        "1.0.0",
        "1.0a",
        "1.0~rc1",
        "1.0~~",
        "1.0^",
        "1.0^git1",
        "1.01",
        "1.10",
        "1_0",
        "1.0-1",
    ]
    versions += ["2:1.0", "0:1.0", "a", "1a", "5.1.8-6.el9", "5.1.8-6.el9_1", "5.1.8-10.el9", "1.0+x", "1..0"]
    pairs = list(itertools.product(versions, versions))
    script = "".join(f'print(rpm.vercmp("{a}", "{b}").." ")\n' for a, b in pairs)
    output = subprocess.run(
        ["rpm", "--eval", f"%{{lua:{script}}}"], capture_output=True, text=True, check=True
    )
    assert [rpm.compare_evr(a, b) for a, b in pairs] == [int(word) for word in output.stdout.split()]
