"""apk's installed database, version ordering and dependency checking, on a hand-written database in the
format Alpine 3.19 writes (no apk-tools here to ask), plus the shared dispatch and purls."""

from __future__ import annotations

import base64
import hashlib

import pytest

from layerdiff.inventory import apk
from layerdiff.inventory.apk import APK_INSTALLED
from layerdiff.inventory.ospkg import (
    broken_dependencies,
    canonical_purl,
    database_files,
    purl,
    read_os_packages,
)
from layerdiff.inventory.ospkg_interface import BreakReason, OsPackage, PackageRef


def q1(content: bytes) -> str:
    """apk's file checksum notation: "Q1" + base64 of the SHA-1."""
    return "Q1" + base64.b64encode(hashlib.sha1(content, usedforsecurity=False).digest()).decode()


MUSL_LOADER = b"\x7fELF musl loader"
BUSYBOX = b"\x7fELF busybox"

MUSL = f"""C:Q1SYrPqNpMPiCYCtC8V7ksVyvdBHY=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407278
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1700513386
c:7c7e2a2d3b1f03c8d7a9b1bd6cd0f4bf4ebc7df8
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:{q1(MUSL_LOADER)}
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=
"""

BUSYBOX_PKG = f"""C:Q1kpSCcdYsJmZ3QWFtyoUeX6DNnxs=
P:busybox
V:1.36.1-r15
A:x86_64
S:509834
I:946176
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1699463000
c:60b0e6bc6d9c3e1aa8d2a8d4b6e97d5d5d5d3d1c
D:so:libc.musl-x86_64.so.1
p:cmd:busybox=1.36.1-r15
r:busybox-initscripts
F:bin
R:busybox
a:0:0:755
Z:{q1(BUSYBOX)}
F:etc
R:securetty
Z:Q1TPsjmJMkOAjfGDOcGBpKnHaZlQI=
R:udhcpd.conf
Z:Q1wtZ9w8ETY8gYyG6gAKrQ8AyuE2o=
F:usr
F:usr/share
"""

BINSH = """C:Q1h8w7l2IKy3V+nTm/6bxrUZ3O5v8=
P:busybox-binsh
V:1.36.1-r15
A:x86_64
S:1549
I:1
T:busybox ash /bin/sh
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1699463000
c:60b0e6bc6d9c3e1aa8d2a8d4b6e97d5d5d5d3d1c
k:100
D:busybox=1.36.1-r15
p:/bin/sh cmd:sh=1.36.1-r15
F:bin
R:sh
a:0:0:777
Z:Q1pcfTfDNEbNKQc2s1tia7da05M8Q=
"""

LIBCRYPTO = """C:Q1xkPmVKt1TbC+WRYKfUi5XMvsWDI=
P:libcrypto3
V:3.1.4-r5
A:x86_64
S:1782370
I:4644864
T:Crypto library from openssl
U:https://www.openssl.org/
L:Apache-2.0
o:openssl
m:Ariadne Conill <ariadne@dereferenced.org>
t:1705414146
c:7b4d4a1e3b0d3e8a0d2c3d2b1e0f9e8d7c6b5a49
D:so:libc.musl-x86_64.so.1
p:so:libcrypto.so.3=3
r:libressl
F:usr
F:usr/lib
R:libcrypto.so.3
a:0:0:755
Z:Q1Tx5qkTjWEq6xXyZ7nJNRQ4dUIEY=
"""

SSL_CLIENT = """C:Q1Tw9hVhhaJ0RZP3gNa8NcVCNONqA=
P:ssl_client
V:1.36.1-r15
A:x86_64
S:4796
I:14336
T:EXternal ssl_client for busybox wget
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1699463000
c:60b0e6bc6d9c3e1aa8d2a8d4b6e97d5d5d5d3d1c
D:so:libc.musl-x86_64.so.1 so:libcrypto.so.3 libcrypto3>=3.1 !busybox-extras cmd:sh busybox@main
F:usr
F:usr/bin
R:ssl_client
a:0:0:755
Z:Q1KvFQYC3pcYFE9g5fMKW3ciRvlyQ=
"""

DATABASE = [MUSL, BUSYBOX_PKG, BINSH, LIBCRYPTO, SSL_CLIENT]


def installed(*blocks: str) -> list[OsPackage]:
    return apk.parse_installed("\n".join(blocks).encode())


def packages_by_name(*blocks: str) -> dict[str, OsPackage]:
    return {p.name: p for p in installed(*blocks)}


def without(name: str) -> list[str]:
    return [block for block in DATABASE if f"\nP:{name}\n" not in block]


# --- parsing ------------------------------------------------------------------------------------------------


def test_parse_installed_reads_identity_and_relations() -> None:
    packages = packages_by_name(*DATABASE)
    assert list(packages) == ["musl", "busybox", "busybox-binsh", "libcrypto3", "ssl_client"]
    musl = packages["musl"]
    assert (musl.ecosystem, musl.version, musl.architecture, musl.source) == (
        "apk",
        "1.2.4_git20230717-r4",
        "x86_64",
        "musl",
    )
    assert musl.checksum == "Q1SYrPqNpMPiCYCtC8V7ksVyvdBHY="
    assert musl.provides == (PackageRef("so:libc.musl-x86_64.so.1", "=", "1"),)
    client = packages["ssl_client"]
    assert [r.text for r in client.depends] == [
        "so:libc.musl-x86_64.so.1",
        "so:libcrypto.so.3",
        "libcrypto3>=3.1",
        "cmd:sh",
        "busybox@main",
    ]  # "!busybox-extras" is a conflict, not a dependency
    assert client.depends[2].alternatives == (PackageRef("libcrypto3", ">=", "3.1"),)
    assert client.depends[4].alternatives == (PackageRef("busybox"),)
    assert packages["busybox-binsh"].provides == (
        PackageRef("/bin/sh"),
        PackageRef("cmd:sh", "=", "1.36.1-r15"),
    )


def test_folders_and_files_become_absolute_paths_with_their_digests() -> None:
    busybox = packages_by_name(*DATABASE)["busybox"]
    assert busybox.files == (
        "/bin",
        "/bin/busybox",
        "/etc",
        "/etc/securetty",
        "/etc/udhcpd.conf",
        "/usr",
        "/usr/share",
    )
    digests = dict(busybox.digests)
    assert digests["/bin/busybox"] == "sha1:" + hashlib.sha1(BUSYBOX, usedforsecurity=False).hexdigest()
    assert set(digests) == {"/bin/busybox", "/etc/securetty", "/etc/udhcpd.conf"}
    musl = packages_by_name(*DATABASE)["musl"]
    assert dict(musl.digests)["/lib/ld-musl-x86_64.so.1"].startswith("sha1:")


def test_checksums_decode_to_hex_with_their_algorithm() -> None:
    content = b"hello"
    assert (
        apk.decode_checksum(q1(content)) == "sha1:" + hashlib.sha1(content, usedforsecurity=False).hexdigest()
    )
    q2 = "Q2" + base64.b64encode(hashlib.sha256(content).digest()).decode()
    assert apk.decode_checksum(q2) == "sha256:" + hashlib.sha256(content).hexdigest()
    assert apk.decode_checksum("Q1not base64!") == "Q1not base64!"


def test_purls_line_up_with_syft() -> None:
    packages = packages_by_name(*DATABASE)
    assert purl(packages["musl"], "alpine-3.19.1") == (
        "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1"
    )
    syft = "pkg:apk/alpine/busybox-binsh@1.36.1-r15?arch=x86_64&upstream=busybox&distro=alpine-3.19.1"
    assert purl(packages["busybox-binsh"], "alpine-3.19.1") == canonical_purl(syft)


# --- versions -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("1.36.1-r5", "1.36.1-r15"),
        ("1.2.4_git20230717-r4", "1.2.4_git20230717-r5"),
        ("1.2.4_rc1", "1.2.4"),  # pre-release suffixes sort before the release
        ("1.2.4", "1.2.4_p1"),  # post-release ones after it
        ("1.2.4_git20230717", "1.2.4_p1"),
        ("1.2.4", "1.2.4a"),
        ("1.2.4z", "1.2.5"),
        ("1.2.9", "1.2.10"),
        ("1.01", "1.1"),  # a leading zero compares as text, like a fraction
        ("3.1.4-r5", "3.1.4.1-r0"),
        ("0.4.8_pre1-r0", "0.4.8-r0"),
        ("1.0~abc123", "1.0~abc124"),
    ],
)
def test_apk_version_order(older: str, newer: str) -> None:
    assert apk.compare_versions(older, newer) == -1
    assert apk.compare_versions(newer, older) == 1


def test_apk_version_constraints() -> None:
    assert apk.version_satisfies("3.1.4-r5", ">=", "3.1")
    assert not apk.version_satisfies("3.0.12-r0", ">=", "3.1")
    assert apk.version_satisfies("3.1.4-r5", "~", "3.1")  # fuzzy: any 3.1.x
    assert not apk.version_satisfies("3.2.0-r0", "~", "3.1")
    assert apk.version_satisfies("1.0-r1", "<", "1.0-r2")
    assert apk.version_satisfies("1.0-r1", "=", "1.0-r1")
    assert apk.version_satisfies("1.0-r1", None, None)


# --- dependencies -------------------------------------------------------------------------------------------


def broken(*blocks: str) -> set[tuple[str, str]]:
    return {(b.package.name, b.relation.text) for b in apk.unsatisfied_dependencies(installed(*blocks))}


def test_a_consistent_database_has_no_broken_dependency() -> None:
    assert broken(*DATABASE) == set()


def test_removing_the_libc_breaks_every_so_dependency() -> None:
    assert broken(*without("musl")) == {
        ("busybox", "so:libc.musl-x86_64.so.1"),
        ("libcrypto3", "so:libc.musl-x86_64.so.1"),
        ("ssl_client", "so:libc.musl-x86_64.so.1"),
    }


def test_cmd_and_package_dependencies_break_with_their_provider() -> None:
    assert broken(*without("busybox-binsh")) == {("ssl_client", "cmd:sh")}
    assert broken(*without("busybox")) == {
        ("busybox-binsh", "busybox=1.36.1-r15"),
        ("ssl_client", "busybox@main"),
    }


def test_version_constraint_failure_reports_the_installed_version() -> None:
    old = LIBCRYPTO.replace("V:3.1.4-r5", "V:3.0.12-r4")
    (problem,) = apk.unsatisfied_dependencies(installed(MUSL, BUSYBOX_PKG, BINSH, old, SSL_CLIENT))
    assert (problem.package.name, problem.relation.text) == ("ssl_client", "libcrypto3>=3.1")
    assert problem.reason is BreakReason.VERSION
    assert problem.installed_version == "3.0.12-r4"


def test_unversioned_provides_answer_only_unversioned_dependencies() -> None:
    wants_versioned_sh = SSL_CLIENT.replace(" cmd:sh ", " /bin/sh>=1 ")
    assert ("ssl_client", "/bin/sh>=1") in broken(MUSL, BUSYBOX_PKG, BINSH, LIBCRYPTO, wants_versioned_sh)
    wants_sh = SSL_CLIENT.replace(" cmd:sh ", " /bin/sh ")
    assert broken(MUSL, BUSYBOX_PKG, BINSH, LIBCRYPTO, wants_sh) == set()


def test_checksum_pinned_dependency() -> None:
    pinned = SSL_CLIENT.replace(" busybox@main", " busybox><Q1kpSCcdYsJmZ3QWFtyoUeX6DNnxs=")
    assert broken(MUSL, BUSYBOX_PKG, BINSH, LIBCRYPTO, pinned) == set()
    other = SSL_CLIENT.replace(" busybox@main", " busybox><Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    assert broken(MUSL, BUSYBOX_PKG, BINSH, LIBCRYPTO, other) == {
        ("ssl_client", "busybox><Q1AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    }


# --- dispatch -----------------------------------------------------------------------------------------------


class FakeImage:
    """Just enough of layerdiff.fs.view.ImageFiles: captured files by path."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def listdir(self, path: str) -> list[str]:
        prefix = path.rstrip("/") + "/"
        return sorted({p[len(prefix) :].split("/")[0] for p in self.files if p.startswith(prefix)})

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)


def test_dispatch_reads_and_checks_an_alpine_image() -> None:
    image = FakeImage({APK_INSTALLED: "\n".join(without("musl")).encode(), "/etc/os-release": b"ID=alpine\n"})
    captured = database_files(image)
    assert list(captured) == [APK_INSTALLED]
    packages = read_os_packages(captured).packages
    assert {p.ecosystem for p in packages} == {"apk"}
    assert {b.package.name for b in broken_dependencies(packages)} == {"busybox", "libcrypto3", "ssl_client"}
