"""dpkg database reading, file verification and dependency checking, against this Debian machine's own
database and, where the real tools are installed, against their verdicts: ``dpkg-query``, ``dpkg -L``,
``dpkg --compare-versions``, ``dpkg --verify`` (also on a tampered copy under ``--root``) and ``apt-get
check`` run on hand-written status files."""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import random
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from layerdiff.image.model import Entry, EntryType
from layerdiff.inventory import dpkg, dpkg_verify
from layerdiff.inventory.ospkg import purl
from layerdiff.inventory.ospkg_interface import BreakReason, OsPackage, PackageRef

HOST_STATUS = Path("/var/lib/dpkg/status")
HOST_INFO = Path("/var/lib/dpkg/info")

needs_host_dpkg = pytest.mark.skipif(
    not HOST_STATUS.is_file() or shutil.which("dpkg") is None, reason="needs a Debian host with dpkg"
)
needs_apt = pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt-get")


# --- helpers ------------------------------------------------------------------------------------------------


def host_packages() -> list[OsPackage]:
    return dpkg.parse_status(HOST_STATUS.read_bytes())


def host_package(name: str) -> OsPackage:
    found = [p for p in host_packages() if p.name == name]
    if not found:
        pytest.skip(f"{name} is not installed here")
    return found[0]


def host_info_files(package: OsPackage, info_dir: Path = HOST_INFO) -> dict[str, bytes]:
    """The package's captured info files, keyed by image path as the indexer would capture them."""
    files = {}
    for suffix in (".list", ".md5sums", ".conffiles"):
        for name in dpkg.info_file_names(package, suffix):
            if (info_dir / name).is_file():
                files[f"/var/lib/dpkg/info/{name}"] = (info_dir / name).read_bytes()
                break
    return files


def entry_of(root: Path, path: str) -> Entry | None:
    """An index Entry for ``path`` under ``root``, made the way lstat(2) sees it."""
    full = str(root).rstrip("/") + path
    try:
        info = os.lstat(full)
    except OSError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return Entry(path=path, type=EntryType.SYMLINK, link=os.readlink(full))
    if stat.S_ISDIR(info.st_mode):
        return Entry(path=path, type=EntryType.DIR)
    if stat.S_ISREG(info.st_mode):
        md5 = hashlib.md5(Path(full).read_bytes(), usedforsecurity=False).hexdigest()
        return Entry(path=path, type=EntryType.FILE, size=info.st_size, md5=md5)
    return Entry(path=path, type=EntryType.CHAR)


def lookup_under(root: Path) -> Callable[[str], Entry | None]:
    return functools.partial(entry_of, root)


def dpkg_verify_lines(package: str, root: Path | None = None) -> list[str]:
    command = ["dpkg", *([f"--root={root}"] if root else []), "--verify", package]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()


def status_text(*paragraphs: str) -> str:
    return "\n".join(p.strip("\n") + "\n" for p in paragraphs)


def only(name: str, paragraphs: list[str]) -> list[str]:
    return [p for p in paragraphs if p.startswith(f"Package: {name}\n")]


def parse(*paragraphs: str) -> list[OsPackage]:
    return dpkg.parse_status(status_text(*paragraphs).encode())


def broken_pairs(packages: list[OsPackage]) -> set[tuple[str, str]]:
    return {(b.package.name, b.field) for b in dpkg.unsatisfied_dependencies(packages)}


def apt_check(status: str, tmp_path: Path) -> set[tuple[str, str]]:
    """(package, field) pairs ``apt-get check`` finds unmet in ``status``, read instead of the host's."""
    (tmp_path / "lists" / "partial").mkdir(parents=True)
    (tmp_path / "cache" / "archives" / "partial").mkdir(parents=True)
    (tmp_path / "sources.d").mkdir()
    (tmp_path / "sources.list").write_text("")
    (tmp_path / "status").write_text(status)
    options = {
        "Dir::State::status": tmp_path / "status",
        "Dir::State::Lists": tmp_path / "lists",
        "Dir::Cache": tmp_path / "cache",
        "Dir::Etc::SourceList": tmp_path / "sources.list",
        "Dir::Etc::SourceParts": tmp_path / "sources.d",
        "Debug::NoLocking": "1",
        "APT::Architecture": "amd64",
        "APT::Architectures::": "amd64",
    }
    command = ["apt-get", *(arg for k, v in options.items() for arg in ("-o", f"{k}={v}"))]
    command += ["-o", "APT::Architectures::=i386", "check"]  # a second architecture, for Multi-Arch cases
    output = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    pairs, current = set(), None
    for line in output.splitlines():
        if match := re.match(r"^ (\S+) : (PreDepends|Depends): ", line):
            current = match.group(1).split(":")[0]
            pairs.add((current, match.group(2)))
        elif (match := re.match(r"^\s+(PreDepends|Depends): ", line)) and current:
            pairs.add((current, match.group(1)))
    return {(name, "Pre-Depends" if field == "PreDepends" else field) for name, field in pairs}


# --- parsing ------------------------------------------------------------------------------------------------

UTIL_LINUX = """
Package: bsdutils
Essential: yes
Status: install ok installed
Priority: required
Section: utils
Installed-Size: 335
Maintainer: util-linux packagers <util-linux@packages.debian.org>
Architecture: amd64
Multi-Arch: foreign
Source: util-linux (2.38.1-5)
Version: 1:2.38.1-5+b1
Replaces: bash-completion (<< 1:2.1-4.1~)
Provides: bsd-tools (= 1:2.38.1-5+b1), bsdmainutils-dummy
Pre-Depends: libc6 (>= 2.34),
 libsystemd0
Depends: libpython3.11-stdlib:any, awk | mawk (>= 1.3.4)
Conffiles:
 /etc/default/hwclock 3916544450533eca69131f894db0ca12
 /etc/init.d/hwclock.sh 1ca5c0743fa797ffa364db95bb8d8d8e obsolete
 /etc/with space.conf 0123456789abcdef0123456789abcdef remove-on-upgrade
Description: basic utilities from 4.4BSD-Lite
 This package contains the bits and pieces from 4.4BSD-Lite.
 .
 A second paragraph.
"""


def test_parse_status_reads_every_field_a_rule_needs() -> None:
    (package,) = parse(UTIL_LINUX)
    assert (package.ecosystem, package.name, package.version, package.architecture) == (
        "deb",
        "bsdutils",
        "1:2.38.1-5+b1",
        "amd64",
    )
    assert (package.source, package.source_version) == ("util-linux", "2.38.1-5")
    assert package.multi_arch == "foreign"
    assert [r.text for r in package.pre_depends] == ["libc6 (>= 2.34)", "libsystemd0"]
    python, awk = package.depends
    assert python.alternatives == (PackageRef("libpython3.11-stdlib", arch="any"),)
    assert awk.text == "awk | mawk (>= 1.3.4)"
    assert awk.alternatives == (PackageRef("awk"), PackageRef("mawk", ">=", "1.3.4"))
    bsd_tools = PackageRef("bsd-tools", "=", "1:2.38.1-5+b1")
    assert package.provides == (bsd_tools, PackageRef("bsdmainutils-dummy"))
    assert package.conffiles == {"/etc/default/hwclock", "/etc/init.d/hwclock.sh", "/etc/with space.conf"}
    assert ("/etc/with space.conf", "md5:0123456789abcdef0123456789abcdef") in package.digests


def test_purl_lines_up_with_syft() -> None:
    (package,) = parse(UTIL_LINUX)
    assert purl(package, "debian-12") == (
        "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5"
    )


def test_only_present_packages_are_kept_and_partial_installs_are_reported() -> None:
    states = ["installed", "unpacked", "half-configured", "config-files", "not-installed", "triggers-pending"]
    paragraphs = [
        f"Package: p{i}\nStatus: install ok {s}\nVersion: 1\nArchitecture: all" for i, s in enumerate(states)
    ]
    packages = parse(*paragraphs)
    assert [(p.name, p.state) for p in packages] == [
        ("p0", "installed"),
        ("p1", "unpacked"),
        ("p2", "half-configured"),
        ("p5", "triggers-pending"),
    ]
    assert [p.name for p in dpkg.incomplete_installs(packages)] == ["p1", "p2", "p5"]


def test_distroless_status_d_holds_bare_control_files() -> None:
    files = {
        "/var/lib/dpkg/status.d/libssl3": b"Package: libssl3\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64",
        "/var/lib/dpkg/status.d/tzdata": b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n\n"
        b"Package: tzdata-legacy\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
        "/var/lib/dpkg/status.d/libssl3.md5sums": b"d41d8cd98f00b204e9800998ecf8427e  usr/lib/libssl.so.3\n",
    }
    packages = dpkg.parse_status_d(files)
    assert [(p.name, p.state) for p in packages] == [
        ("libssl3", "installed"),
        ("tzdata", "installed"),
        ("tzdata-legacy", "installed"),
    ]
    attached = dpkg.attach_files(packages, {}, files)
    assert attached[0].files == ("/usr/lib/libssl.so.3",)
    assert dpkg.read_database(files)[0].files == ("/usr/lib/libssl.so.3",)


def test_md5sums_and_lists_become_absolute_paths() -> None:
    sums = b"0123456789abcdef0123456789abcdef  usr/bin/with space\nABCDEF0123456789ABCDEF0123456789  /etc/x\n"
    assert dpkg.parse_md5sums(sums) == {
        "/usr/bin/with space": "0123456789abcdef0123456789abcdef",
        "/etc/x": "abcdef0123456789abcdef0123456789",
    }
    assert dpkg.parse_list(b"/.\n/usr\n/usr/bin\n/usr/bin/x\n") == ("/usr", "/usr/bin", "/usr/bin/x")


@needs_host_dpkg
def test_host_status_matches_dpkg_query() -> None:
    fields = "Package Architecture Version source:Package source:Version db:Status-Status Multi-Arch Depends"
    fields += " Pre-Depends Provides"
    query = "\t".join(f"${{{f}}}" for f in fields.split()) + "\n"
    output = subprocess.run(["dpkg-query", "-W", "-f", query], capture_output=True, text=True, check=True)
    rows = [line.split("\t") for line in output.stdout.splitlines()]
    expected = sorted(row for row in rows if row[5] in dpkg.PRESENT_STATES)
    mine = sorted(
        [
            p.name,
            p.architecture,
            p.version,
            p.source or p.name,
            p.source_version or p.version,
            p.state,
            p.multi_arch or "no",
            ", ".join(r.text for r in p.depends),
            ", ".join(r.text for r in p.pre_depends),
            ", ".join(str(ref) for ref in p.provides),
        ]
        for p in host_packages()
    )
    assert mine == expected


@needs_host_dpkg
@pytest.mark.parametrize("name", ["base-files", "libc6", "sed"])
def test_host_file_lists_match_dpkg_listfiles(name: str) -> None:
    package = host_package(name)
    [attached] = dpkg.attach_files([package], host_info_files(package))
    listed = subprocess.run(["dpkg", "-L", name], capture_output=True, text=True, check=True)
    assert attached.files == tuple(path for path in listed.stdout.splitlines() if path != "/.")


@needs_host_dpkg
def test_read_database_attaches_every_host_list() -> None:
    captured = {"/var/lib/dpkg/status": HOST_STATUS.read_bytes()}
    captured |= {f"/var/lib/dpkg/info/{f.name}": f.read_bytes() for f in HOST_INFO.glob("*.list")}
    packages = dpkg.read_database(captured)
    assert len(packages) == len(host_packages())
    assert all(p.files for p in packages)


# --- versions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("2.36-9+deb12u4", "2.36-9+deb12u10"),
        ("2.38.1-5+deb12u2", "1:2.38.1-5+deb12u2"),
        ("3.0.11-1~deb12u2", "3.0.11-1"),
        ("1.0~rc1", "1.0"),
        ("1.0", "1.0+b1"),
        ("1.0", "1.0a"),
        ("1.0a", "1.0."),
        ("9", "1:0.1"),
    ],
)
def test_debian_version_order(older: str, newer: str) -> None:
    assert dpkg.compare_versions(older, newer) < 0 < dpkg.compare_versions(newer, older)


def test_debian_version_equality_is_numeric_not_textual() -> None:
    # univers' DebianVersion says "1.002" != "1.2"; dpkg says equal, and "=" constraints depend on it
    assert dpkg.compare_versions("1.002", "1.2") == 0
    assert dpkg.compare_versions("0:1.0-0", "1.0") == 0
    assert dpkg.version_satisfies("1.002", "=", "1.2")


@needs_host_dpkg
def test_version_order_agrees_with_dpkg_compare_versions() -> None:
    versions = re.findall(r"^Version: (.+)$", HOST_STATUS.read_text(), re.MULTILINE)
    versions += ["2.36-9+deb12u4", "1:2.38.1-5+deb12u2", "3.0.11-1~deb12u2", "1.0~~", "1.0~", "1.0", "1.0-0"]
    sample = random.Random(7).sample(sorted(set(versions)), 150)
    ordered = sorted(sample, key=functools.cmp_to_key(dpkg.compare_versions))
    for lower, higher in itertools.pairwise(ordered):
        relation = "eq" if dpkg.compare_versions(lower, higher) == 0 else "lt"
        dpkg_agrees = subprocess.run(["dpkg", "--compare-versions", lower, relation, higher], check=False)
        assert dpkg_agrees.returncode == 0, (lower, relation, higher)


# --- dpkg --verify ------------------------------------------------------------------------------------------


def test_verify_files_reports_what_dpkg_would() -> None:
    package = OsPackage(
        ecosystem="deb",
        name="demo",
        version="1",
        architecture="amd64",
        files=("/usr", "/usr/bin", "/usr/bin/demo", "/usr/bin/gone", "/usr/doc", "/etc/demo.conf", "/link"),
        conffiles=frozenset({"/etc/demo.conf"}),
        digests=(("/etc/demo.conf", "md5:" + "c" * 32),),
    )
    entries = {
        "/usr": Entry("/usr", EntryType.DIR),
        "/usr/bin": Entry("/usr/bin", EntryType.DIR),
        "/usr/bin/demo": Entry("/usr/bin/demo", EntryType.FILE, md5="b" * 32),
        "/etc/demo.conf": Entry("/etc/demo.conf", EntryType.FILE, md5="d" * 32),
        "/link": Entry("/link", EntryType.SYMLINK, link="usr/bin/demo"),
    }
    md5sums = {"/usr/bin/demo": "a" * 32, "/usr/bin/gone": "e" * 32, "/link": "b" * 32}
    problems = dpkg_verify.verify_files(package, md5sums, entries.get)
    assert [p.dpkg_line() for p in problems] == [
        "??5??????   /usr/bin/demo",
        "missing     /usr/bin/gone",
        "missing     /usr/doc",
        "??5?????? c /etc/demo.conf",
        "?M.??????   /link",
    ]
    assert [p.conffile for p in problems] == [False, False, False, True, False]
    assert problems[0].expected_md5 == "a" * 32 and problems[0].actual_md5 == "b" * 32


def test_verify_files_skips_files_whose_digest_the_index_lacks() -> None:
    package = OsPackage("deb", "demo", "1", "amd64", files=("/x",))
    assert dpkg_verify.verify_files(package, {"/x": "a" * 32}, {"/x": Entry("/x", EntryType.FILE)}.get) == []


def copy_package_tree(paths: Iterable[str], root: Path) -> None:
    for path in paths:
        source, target = Path(path), root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_dir():
            target.mkdir(exist_ok=True)
        elif source.is_file():
            shutil.copy2(source, target)


@needs_host_dpkg
def test_verify_files_matches_dpkg_verify_on_a_tampered_root(tmp_path: Path) -> None:
    package = host_package("base-files")
    admin = tmp_path / "var/lib/dpkg"
    (admin / "info").mkdir(parents=True)
    (admin / "updates").mkdir()
    (admin / "status").write_text(status_text(*only("base-files", HOST_STATUS.read_text().split("\n\n"))))
    info = host_info_files(package)
    for path, data in info.items():
        (admin / "info" / Path(path).name).write_bytes(data)
    [attached] = dpkg.attach_files([package], info)
    copy_package_tree(attached.files, tmp_path)

    with (tmp_path / "etc/issue").open("a") as conffile:
        conffile.write("edited by the admin\n")
    (tmp_path / "etc/host.conf").unlink()
    (tmp_path / "usr/share/base-files/motd").write_text("changed\n")
    (tmp_path / "usr/share/base-files/profile").unlink()
    (tmp_path / "usr/share/base-files/profile").symlink_to("nowhere")
    (tmp_path / "usr/share/common-licenses/GPL-3").unlink()
    (tmp_path / "usr/share/dict").rmdir()
    # same content, but behind a symlink: dpkg flags the type ("M") and still checks the digest (".")
    bashrc = tmp_path / "usr/share/base-files/dot.bashrc"
    bashrc.rename(bashrc.with_name("dot.bashrc.real"))
    bashrc.symlink_to("dot.bashrc.real")

    md5sums = dpkg.package_md5sums(attached, info)
    problems = dpkg_verify.verify_files(attached, md5sums, lookup_under(tmp_path))
    assert [p.dpkg_line() for p in problems] == dpkg_verify_lines("base-files", root=tmp_path)
    assert len(problems) == 7


@needs_host_dpkg
@pytest.mark.parametrize("name", ["base-files", "libc6", "login", "sed"])
def test_verify_files_matches_dpkg_verify_on_this_machine(name: str) -> None:
    package = host_package(name)
    info = host_info_files(package)
    [attached] = dpkg.attach_files([package], info)
    problems = dpkg_verify.verify_files(
        attached, dpkg.package_md5sums(attached, info), lookup_under(Path("/"))
    )
    assert [p.dpkg_line() for p in problems] == dpkg_verify_lines(name)


# --- dependencies -------------------------------------------------------------------------------------------


def paragraph(name: str, version: str, arch: str = "amd64", **fields: str) -> str:
    """An installed package's status paragraph; ``multi_arch="same"`` becomes ``Multi-Arch: same``."""
    lines = [
        f"Package: {name}",
        "Status: install ok installed",
        f"Architecture: {arch}",
        f"Version: {version}",
    ]
    lines += [f"{key.replace('_', '-').title()}: {value}" for key, value in fields.items()]
    return "\n".join(lines)


BASE = [
    paragraph("libc6", "2.36-9+deb12u4", multi_arch="same"),
    paragraph("libc-bin", "2.36-9+deb12u4", multi_arch="foreign", depends="libc6 (>> 2.36), libc6 (<< 2.37)"),
    paragraph("dpkg", "1.21.22", pre_depends="libc6 (>= 2.34)"),
    paragraph(
        "mawk", "1.3.4.20200120-3.1", multi_arch="foreign", provides="awk", pre_depends="libc6 (>= 2.29)"
    ),
    paragraph("base-files", "12.4+deb12u5", multi_arch="foreign", pre_depends="awk"),
    paragraph("debconf", "1.5.82", "all", multi_arch="foreign", provides="debconf-2.0"),
    paragraph(
        "tzdata", "2024a-0+deb12u1", "all", multi_arch="foreign", depends="debconf (>= 0.5) | debconf-2.0"
    ),
    paragraph("python3.11", "3.11.2-6", multi_arch="allowed", depends="libc6 (>= 2.36)"),
    paragraph("python3-six", "1.16.0-4", "all", depends="python3.11:any"),
    paragraph(
        "libssl3",
        "3.0.11-1~deb12u2",
        multi_arch="same",
        provides="libssl-abi (= 3)",
        depends="libc6 (>= 2.34)",
    ),
    paragraph("curl", "7.88.1-10+deb12u5", depends="libssl3 (>= 3.0.0), libssl-abi (>= 3), libc6"),
]


def without(name: str, paragraphs: list[str] = BASE) -> list[str]:
    return [p for p in paragraphs if not p.startswith(f"Package: {name}\n")]


def replaced(name: str, old: str, new: str, paragraphs: list[str] = BASE) -> list[str]:
    return [p.replace(old, new) if p.startswith(f"Package: {name}\n") else p for p in paragraphs]


CASES = {
    "consistent": (BASE, set()),
    "libc6 removed": (
        without("libc6"),
        {("libc-bin", "Depends"), ("dpkg", "Pre-Depends"), ("mawk", "Pre-Depends"), ("python3.11", "Depends")}
        | {("libssl3", "Depends"), ("curl", "Depends")},
    ),
    "libc6 too old": (
        replaced("libc6", "Version: 2.36-9+deb12u4", "Version: 2.31-13+deb11u8"),
        {("libc-bin", "Depends"), ("dpkg", "Pre-Depends"), ("python3.11", "Depends"), ("libssl3", "Depends")},
    ),
    "virtual awk gone with mawk": (without("mawk"), {("base-files", "Pre-Depends")}),
    "second alternative via Provides": (
        [*without("debconf"), paragraph("cdebconf", "0.270", provides="debconf-2.0")],
        set(),
    ),
    "no alternative left": (without("debconf"), {("tzdata", "Depends")}),
    "versioned relation, unversioned Provides": (
        replaced("base-files", "Pre-Depends: awk", "Pre-Depends: awk (>= 1.3)"),
        {("base-files", "Pre-Depends")},
    ),
    "versioned Provides too low": (
        replaced("curl", "libssl-abi (>= 3)", "libssl-abi (>= 4)"),
        {("curl", "Depends")},
    ),
    ":any needs Multi-Arch allowed": (
        replaced("python3.11", "Multi-Arch: allowed", "Multi-Arch: same"),
        {("python3-six", "Depends")},
    ),
    "foreign-arch depender": (
        [
            *BASE,
            paragraph("zlib1g", "1:1.2.13", "i386", multi_arch="same", depends="libc6 (>= 2.14), libc-bin"),
        ],
        {("zlib1g", "Depends")},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_unsatisfied_dependencies(case: str) -> None:
    paragraphs, expected = CASES[case]
    assert broken_pairs(parse(*paragraphs)) == expected


@needs_apt
@pytest.mark.parametrize("case", CASES)
def test_unsatisfied_dependencies_agree_with_apt_get_check(case: str, tmp_path: Path) -> None:
    paragraphs, _ = CASES[case]
    assert broken_pairs(parse(*paragraphs)) == apt_check(status_text(*paragraphs), tmp_path)


def test_broken_dependency_says_what_is_installed_instead() -> None:
    packages = parse(*replaced("libc6", "Version: 2.36-9+deb12u4", "Version: 2.31-13+deb11u8"))
    broken = {b.package.name: b for b in dpkg.unsatisfied_dependencies(packages)}
    assert broken["python3.11"].reason is BreakReason.VERSION
    assert broken["python3.11"].installed_version == "2.31-13+deb11u8"
    assert broken["python3.11"].relation.text == "libc6 (>= 2.36)"
    assert broken["python3.11"].detail == "libc6 (>= 2.36) but 2.31-13+deb11u8 is installed"
    gone = dpkg.unsatisfied_dependencies(parse(*without("debconf")))
    assert gone[0].reason is BreakReason.MISSING
    assert gone[0].detail == "debconf (>= 0.5) but it is not installed or debconf-2.0 but it is not installed"


@needs_host_dpkg
@needs_apt
def test_this_machines_dependencies_agree_with_apt_and_dpkg_audit(tmp_path: Path) -> None:
    packages = host_packages()
    assert broken_pairs(packages) == apt_check(HOST_STATUS.read_text(), tmp_path)
    audit = subprocess.run(["dpkg", "--audit"], capture_output=True, text=True, check=False).stdout
    if not audit:  # dpkg --audit also reports missing info files, so only "all clear" carries over
        assert dpkg.incomplete_installs(packages) == []


@needs_host_dpkg
@needs_apt
def test_removing_a_host_library_breaks_what_apt_says(tmp_path: Path) -> None:
    paragraphs = [p for p in HOST_STATUS.read_text().split("\n\n") if p.strip()]
    if not any(p.startswith("Package: libacl1\n") for p in paragraphs):
        pytest.skip("libacl1 is not installed here")
    remaining = without("libacl1", paragraphs)
    mine = broken_pairs(parse(*remaining))
    assert mine
    assert mine == apt_check(status_text(*remaining), tmp_path)
