"""Hostile image content the merged tree and the inventory read: each case has a defined result, a one-line
error naming the limit (exit 3) or a report with a warning (exit 0), and finishes in well under 10 s.

Images are built in Python and reviewed through the command line in-process.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest

from layerdiff.fs.resolve import resolve
from layerdiff.fs.tree import build_tree
from layerdiff.fs.view import TreeView
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.model import Entry, EntryType, LayerIndex
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory import apk, dpkg, rpm
from layerdiff.inventory.collect import CAPTURE, collect
from layerdiff.inventory.ospkg import read_os_packages
from layerdiff.rules.model import capped_evidence
from tests.support.elfbuilder import shared_object
from tests.support.hostile import BASE, derived_with, review
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.rpmdb import STRING, STRING_ARRAY, HeaderEntries, rpmdb_bytes


def view_of(*entries: F, limits: Limits = DEFAULT_LIMITS) -> TreeView:
    indexes = [index_layer(io.BytesIO(layer_tar(list(entries))), None, "layer 0", CAPTURE)]
    return TreeView(build_tree(indexes, limits=limits), indexes, limits)


# --- symlinks -----------------------------------------------------------------------------------------------

DOT_PARTS = "./" * 200_000 + "etc/hostname"  # 400 KB of target that names /etc/hostname


def test_a_symlink_target_longer_than_path_max_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = review(tmp_path, capsys, derived_with(F("usr/bin/evil", kind="symlink", link=DOT_PARTS)))
    run.assert_limit("symlink-target-bytes")
    assert "layer 1: symlink /usr/bin/evil: a target of 400012 bytes" in run.err


def test_resolving_a_target_of_200k_parts_is_linear_once_the_limit_is_raised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    limits = Limits(symlink_target_bytes=1 << 20)
    view = view_of(F("etc/hostname", b"x"), F("link", kind="symlink", link=DOT_PARTS), limits=limits)
    started = time.process_time()
    assert view.resolve("/link") == "/etc/hostname"
    assert time.process_time() - started < 1  # the quadratic walk took minutes
    run = review(
        tmp_path,
        capsys,
        derived_with(F("usr/bin/evil", kind="symlink", link=DOT_PARTS)),
        "--limit",
        "symlink-target-bytes=1MiB",
    )
    assert run.code == 0, run.err
    assert [c["path"] for c in run.report["file_changes"]] == ["/usr", "/usr/bin", "/usr/bin/evil"]


def test_following_more_symlinks_than_symlink_hops_is_a_loop() -> None:
    chain = [F(f"l{i}", kind="symlink", link=f"l{i + 1}") for i in range(45)]
    entries = [*chain, F("l45", b"end")]
    assert view_of(*entries).resolve("/l0") is None  # 45 links: more than Linux's 40
    result = resolve(view_of(*entries).tree, "/l0")
    assert result.loop and result.node is None
    raised = Limits(symlink_hops=45)
    assert view_of(*entries, limits=raised).resolve("/l0") == "/l45"


def test_the_symlink_limit_error_names_the_layer() -> None:
    with pytest.raises(LimitExceeded, match=r"^layer 0: symlink /x: a target of 5000 bytes \(limit"):
        view_of(F("x", kind="symlink", link="a" * 5000))


# --- the dynamic loader: ld.so.conf and library search ------------------------------------------------------


def test_an_include_glob_that_climbs_and_fans_out_is_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dirs = [F(f"d{i}/", kind="dir") for i in range(40)]  # 40 * 40 * 40 * 40 paths: 3.9 GB, once
    conf = F("etc/ld.so.conf", b"include /*/../*/../*/../*\n")
    run = review(tmp_path, capsys, derived_with(*dirs, conf))
    run.assert_limit("ldso-include-matches")
    assert ":derived: /etc/ld.so.conf: include /*/../*/../*/../*: names more than 1000 paths" in run.err


def test_includes_nested_deeper_than_the_limit_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nested = [
        F(f"etc/ld.so.conf.d/{i}.conf", f"include /etc/ld.so.conf.d/{i + 1}.conf\n".encode())
        for i in range(12)
    ]
    conf = F("etc/ld.so.conf", b"include /etc/ld.so.conf.d/0.conf\n")
    run = review(tmp_path, capsys, derived_with(conf, *nested))
    run.assert_limit("ldso-include-depth")
    assert "/etc/ld.so.conf.d/7.conf: includes nested more than 8 deep" in run.err
    # an include cycle is no nesting: each file is read once, as ldconfig would
    cycle = F("etc/ld.so.conf.d/0.conf", b"/opt/lib\ninclude /etc/ld.so.conf\n")
    run = review(tmp_path / "cycle", capsys, derived_with(F("opt/lib/", kind="dir"), conf, cycle))
    assert run.code == 0, run.err


def test_library_search_work_per_object_is_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library_path = ":".join(f"/opt/l{i}" for i in range(1000))
    needy = F("usr/bin/needy", shared_object([f"lib{i}.so" for i in range(100_000)]), mode=0o755)
    derived = Image([*BASE.layers, layer_tar([needy])], config={"Env": [f"LD_LIBRARY_PATH={library_path}"]})
    run = review(tmp_path, capsys, derived)
    run.assert_limit("library-search-steps")
    assert (
        ":derived: /usr/bin/needy: resolving its libraries takes more than 100000 directory probes" in run.err
    )
    # what a real object needs stays far below it
    modest = F("usr/bin/modest", shared_object([f"lib{i}.so" for i in range(50)]), mode=0o755)
    derived = Image([*BASE.layers, layer_tar([modest])], config={"Env": [f"LD_LIBRARY_PATH={library_path}"]})
    assert review(tmp_path / "modest", capsys, derived).code == 0


# --- files too large to read --------------------------------------------------------------------------------


def status(*names: str) -> bytes:
    return "".join(
        f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"
        for name in names
    ).encode()


def test_a_package_database_over_the_captured_file_limit_is_a_warning_naming_what_is_lost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = status(*(f"pkg{i}" for i in range(100)))
    derived = derived_with(F("var/lib/dpkg/status", big))
    run = review(tmp_path, capsys, derived, "--limit", "captured-file-bytes=4K")
    assert run.code == 0, run.err
    (warning,) = run.report["warnings"]
    assert warning.endswith(
        f":derived: /var/lib/dpkg/status: {len(big)} bytes, more than the 4KiB a file the inventory "
        "reads may have, so the deb packages it records are not read (package changes, dependencies, "
        "package files) (limit captured-file-bytes; raise it with --limit captured-file-bytes=...)"
    )
    assert run.report["inventory"]["os_packages"]["changes"] == []
    # under the default limit, the same image lists every package
    run = review(tmp_path / "default", capsys, derived)
    assert run.report["warnings"] == []
    assert len(run.report["inventory"]["os_packages"]["changes"]) == 100


def test_a_file_the_indexer_did_not_keep_is_a_warning_too() -> None:
    # what the indexer gives for a 70 MiB status: the entry, without its content
    entry = Entry("/var/lib/dpkg/status", EntryType.FILE, mode=0o644, size=70 << 20, sha256="0" * 64)
    index = LayerIndex("sha256:" + "1" * 64, 1 << 30, (Entry("/", EntryType.DIR), entry))
    inventory = collect(TreeView(build_tree([index]), [index]), {})
    (warning,) = inventory.warnings
    assert warning.startswith(f"/var/lib/dpkg/status: {70 << 20} bytes, more than the 64MiB")
    assert inventory.os_packages == ()


def test_a_warning_said_of_both_images_is_said_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = Image([layer_tar([F("etc/passwd", b"root:x:0:0::/root:/bin/sh\n" * 200)])])
    derived = Image([*base.layers, layer_tar([F("etc/motd", b"hi")])])
    run = review(tmp_path, capsys, derived, "--limit", "captured-file-bytes=1K", base=base)
    (warning,) = run.report["warnings"]
    assert ":base and oci:" in warning and ":derived: /etc/passwd: 5200 bytes" in warning
    assert "the runtime user's name, groups and home directory are not known" in warning


# --- what one database or METADATA may produce --------------------------------------------------------------

SITE = "usr/lib/python3.11/site-packages"
PYTHON = [
    F("usr/bin/python3.11", b"\x7fELF", mode=0o755),
    F("usr/lib/python3.11/os.py", b""),
    F(f"{SITE}/", kind="dir"),
]


def test_a_status_of_more_packages_than_os_packages_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 60 MB of these gave a 672 MB report and took 4.7 GB
    tiny = b"".join(b"Package: p%d\nStatus: install ok installed\n\n" % i for i in range(30_000))
    run = review(tmp_path, capsys, derived_with(F("var/lib/dpkg/status", tiny)))
    run.assert_limit("os-packages")
    assert ":derived: /var/lib/dpkg/status: more than 20000 packages" in run.err


def test_a_package_with_too_many_dependencies_or_too_long_a_field_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    depends = ", ".join(f"missing{i}" for i in range(20_000))
    paragraph = f"Package: big\nStatus: install ok installed\nVersion: 1\nDepends: {depends}\n".encode()
    run = review(tmp_path, capsys, derived_with(F("var/lib/dpkg/status", paragraph)))
    run.assert_limit("package-relations")
    assert "/var/lib/dpkg/status: package big: more than 10000 dependency entries" in run.err
    long_version = b"Package: big\nStatus: install ok installed\nVersion: 1." + b"9" * 10_000 + b"\n"
    run = review(tmp_path / "version", capsys, derived_with(F("var/lib/dpkg/status", long_version)))
    run.assert_limit("package-field-bytes")
    assert "/var/lib/dpkg/status: package big: a field of more than 4096 bytes" in run.err


def test_a_description_of_a_million_lines_is_read_in_linear_time() -> None:
    paragraph = (
        b"Package: doc\nStatus: install ok installed\nVersion: 1\nDescription: x\n" + b" more\n" * 1_000_000
    )
    started = time.process_time()
    (package,) = dpkg.parse_status(paragraph)
    assert time.process_time() - started < 5  # joining line by line was quadratic
    assert package.name == "doc"


def test_a_metadata_of_100k_requirements_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 100,000 Requires-Dist lines gave a 149 MB report: one finding per unmet requirement
    metadata = "Metadata-Version: 2.1\nName: amp\nVersion: 1\n" + "Requires-Dist: r\n" * 100_000
    base = Image([layer_tar(PYTHON)])
    derived = Image([*base.layers, layer_tar([F(f"{SITE}/amp-1.dist-info/METADATA", metadata.encode())])])
    run = review(tmp_path, capsys, derived, base=base)
    run.assert_limit("package-relations")
    assert f":derived: /{SITE}/amp-1.dist-info: package amp: more than 10000 dependency entries" in run.err


def test_apk_directories_may_not_expand_past_the_captured_file_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # one 100 KB F: directory and 10,000 R: files below it: 1 GB of paths from a 200 KB database
    installed = (
        b"P:bomb\nV:1-r0\nA:x86_64\nF:"
        + b"d" * 100_000
        + b"\n"
        + b"".join(b"R:f%d\n" % i for i in range(10_000))
    )
    run = review(tmp_path, capsys, derived_with(F("lib/apk/db/installed", installed)))
    assert run.code == 0, run.err
    (warning,) = run.report["warnings"]
    assert warning.endswith(
        ":derived: /lib/apk/db/installed: not read, so its apk packages are left out: its file lists "
        "expand to more than 64MiB of paths (limit captured-file-bytes)"
    )
    tokens = " ".join(f"so:lib{i}.so" for i in range(20_000))
    run = review(
        tmp_path / "deps", capsys, derived_with(F("lib/apk/db/installed", f"P:x\nV:1\nD:{tokens}\n".encode()))
    )
    run.assert_limit("package-relations")
    assert "/lib/apk/db/installed: package x: more than 10000 dependency entries" in run.err


def test_rpm_databases_have_the_same_bounds() -> None:
    header: HeaderEntries = {
        rpm.NAME: (STRING, "p"),
        rpm.REQUIRENAME: (STRING_ARRAY, tuple(f"r{i}" for i in range(30))),
    }
    data = rpmdb_bytes(header, header, header)
    with pytest.raises(
        LimitExceeded, match=r"^/var/lib/rpm/rpmdb.sqlite: more than 2 packages \(limit os-packages="
    ):
        read_os_packages({"/var/lib/rpm/rpmdb.sqlite": data}, Limits(os_packages=2))
    with pytest.raises(
        LimitExceeded, match=r"package p: more than 20 dependency entries \(limit package-relations="
    ):
        read_os_packages({"/var/lib/rpm/rpmdb.sqlite": data}, Limits(package_relations=20))


# --- evidence lists -----------------------------------------------------------------------------------------


def test_evidence_lists_are_cut_at_evidence_items_and_say_how_many_were_left_out() -> None:
    evidence = {"paths": list(range(5)), "nested": {"copies": [{"groups": list(range(4))}] * 3}, "n": 1}
    assert capped_evidence(evidence, 2) == {
        "paths": [0, 1],
        "paths_omitted": 3,
        "nested": {"copies": [{"groups": [0, 1], "groups_omitted": 2}] * 2, "copies_omitted": 1},
        "n": 1,
    }
    assert capped_evidence(evidence, 5) == evidence  # nothing added when nothing is cut


def test_a_distribution_with_150_copies_gives_a_finding_of_bounded_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def dist(site: str, version: str) -> F:
        return F(f"{site}/foo-{version}.dist-info/METADATA", f"Name: foo\nVersion: {version}\n".encode())

    base = Image([layer_tar([*PYTHON, dist(SITE, "1")])])
    copies = [dist(f"opt/p{i}", "2") for i in range(150)]
    pth = F(f"{SITE}/many.pth", "".join(f"/opt/p{i}\n" for i in range(150)).encode())
    run = review(tmp_path, capsys, Image([*base.layers, layer_tar([*copies, pth])]), base=base)
    assert run.code == 0, run.err
    (finding,) = [f for f in run.report["findings"] if f["rule"] == "python-package-shadowed"]
    evidence = finding["evidence"]
    assert (len(evidence["shadowed"]), evidence["shadowed_omitted"]) == (100, 50)
    assert (len(evidence["sys_path"]), evidence["sys_path_omitted"]) == (100, 52)
    assert finding["message"].startswith(
        "The other copies of foo are never imported "
        "(2 in /opt/p0, 2 in /opt/p1, 2 in /opt/p2, 2 in /opt/p3, 2 in /opt/p4 and 145 more):"
    )


def test_replacing_thousands_of_distributions_takes_linear_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # each replaced distribution looked at every removed path, each lookup scanned every distribution
    def dist(i: int, version: int) -> F:
        return F(f"{SITE}/d{i}-{version}.dist-info/METADATA", f"Name: d{i}\nVersion: {version}\n".encode())

    count = 3000
    base = Image([layer_tar([*PYTHON, *(dist(i, 1) for i in range(count))])])
    upgrade = [F(f"{SITE}/.wh.d{i}-1.dist-info") for i in range(count)] + [dist(i, 2) for i in range(count)]
    started = time.process_time()
    run = review(tmp_path, capsys, Image([*base.layers, layer_tar(upgrade)]), base=base)
    assert time.process_time() - started < 6  # 6.4 s with 3000, and four times that with twice as many
    assert run.code == 0, run.err
    # each replacement is its distribution's one finding, the old metadata counted in its evidence
    assert [f for f in run.report["findings"] if f["rule"] == "base-file-deleted"] == []
    upgraded = [f for f in run.report["findings"] if f["rule"] == "package-upgraded"]
    assert len(upgraded) == count and {f["evidence"]["removed"]["files_removed"] for f in upgraded} == {1}


# --- versions -----------------------------------------------------------------------------------------------

HUGE = "9" * 5000  # more digits than int() converts


@pytest.mark.parametrize("compare", [dpkg.compare_versions, rpm.compare_evr, apk.compare_versions])
def test_versions_with_unicode_digits_or_thousands_of_digits_are_ordered(compare: Any) -> None:
    assert compare(f"1.{HUGE}", f"1.{HUGE[1:]}") > 0
    assert compare(f"1.{HUGE}", f"1.{HUGE}") == 0
    assert compare("1.²", "1.²") == 0  # "²".isdigit(), yet int("²") fails


@pytest.mark.parametrize("compare", [dpkg.compare_versions, rpm.compare_evr])
def test_epochs_of_thousands_of_digits_are_ordered(compare: Any) -> None:
    assert compare(f"{HUGE}:1", "1:1") > 0
    assert compare("²:1", "1") == 0  # an epoch that is no number counts as none


def test_a_python_version_of_thousands_of_digits_is_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def dist(name: str, version: str, *requires: str) -> F:
        lines = "".join(f"Requires-Dist: {r}\n" for r in requires)
        return F(f"{SITE}/{name}-1.dist-info/METADATA", f"Name: {name}\nVersion: {version}\n{lines}".encode())

    base = Image([layer_tar(PYTHON)])
    derived = Image([*base.layers, layer_tar([dist("a", f"1.{HUGE}"), dist("b", "1", f"a>=2.{HUGE}")])])
    run = review(tmp_path, capsys, derived, "--limit", "package-field-bytes=16K", base=base)
    assert run.code == 0, run.err
    changes = run.report["inventory"]["python"]["distribution_changes"]
    assert sorted(change["name"] for change in changes) == ["a", "b"]
    assert run.report["inventory"]["python"]["unsatisfied"] == []  # as pip check, which cannot compare them


def test_uids_that_are_no_32_bit_number_are_no_uid(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passwd = (
        b"root:x:0:0::/root:/bin/sh\nodd:x:\xc2\xb2:0::/home/odd:/bin/sh\nbig:x:"
        + b"9" * 5000
        + b":0::/:/bin/sh\n"
    )
    group = b"root:x:0:\nstaff:x:\xc2\xb2:root\n"
    base = Image([layer_tar([F("etc/passwd", passwd), F("etc/group", group)])])
    for user in ("²", "9" * 5000, "odd", "root:²"):
        derived = Image([*base.layers, layer_tar([F("etc/motd", b"hi")])], config={"User": user})
        run = review(tmp_path / str(len(user)) / user[:3], capsys, derived, base=base)
        assert run.code == 0, (user[:10], run.err)
        runtime = run.report["inventory"]["runtime_user"]["derived"]
        assert (runtime["uid"], runtime["gid"]) == (0, 0), user[:10]  # as for any user passwd does not name


def test_a_path_naming_one_directory_200k_times_lists_it_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = [F(f"usr/bin/tool{i}", b"#!/bin/sh\n", mode=0o755) for i in range(500)]
    path = ":".join(["/usr/bin", "/usr/../usr/bin"] * 100_000)
    derived = Image([*BASE.layers, layer_tar(tools)], config={"Env": [f"PATH={path}"]})
    started = time.process_time()
    run = review(tmp_path, capsys, derived)
    assert time.process_time() - started < 5  # 200,000 listings of 500 names took 36 s
    assert run.code == 0, run.err


def test_a_dependency_check_that_would_be_quadratic_is_bounded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1000 packages providing x, none in the version 2000 packages ask for: 2,000,000 comparisons
    providers = (
        f"Package: p{i}\nStatus: install ok installed\nVersion: 1\nProvides: x (= {i})\n" for i in range(1000)
    )
    askers = (
        f"Package: a{i}\nStatus: install ok installed\nVersion: 1\nDepends: x (>= 5000)\n"
        for i in range(2000)
    )
    text = "\n".join([*providers, *askers]).encode()
    run = review(tmp_path, capsys, derived_with(F("var/lib/dpkg/status", text)))
    run.assert_limit("dependency-checks")
    assert (
        ":derived: the deb packages: checking dependencies: more than 1000000 candidate packages examined"
        in run.err
    )
