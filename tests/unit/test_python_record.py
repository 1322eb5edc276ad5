"""Python distributions' RECORDs checked against the files, as a hash check inside the image would."""

from __future__ import annotations

import hashlib

import pytest

from layerdiff.diff.inventory import diff_inventories
from layerdiff.image.limits import LimitExceeded, Limits
from layerdiff.inventory.python_record import FileState, read_record, record_digest, top_level_name
from tests.support.imagebuilder import F, layer_tar
from tests.support.pyimage import USER_SITE, installed, inventory, os_layer, recorded, user_site_layer

SITE = "/" + USER_SITE
ALPHA = {"common/__init__.py": b"from common.parse import parse\n", "common/parse.py": b"def parse(): ...\n"}
BETA = {"common/__init__.py": b"NAME = 'beta'\n", "beta_cli.py": b"print('beta')\n"}


def base_layer() -> bytes:
    return layer_tar(installed(USER_SITE, "alpha", "1.0", ALPHA))


def test_record_digests_are_urlsafe_base64_without_padding() -> None:
    data = b"print('hi')\n"
    assert record_digest(hashlib.sha256(data).hexdigest()) == recorded(data)
    assert "=" not in recorded(data).removeprefix("sha256=") and "+" not in recorded(data)


def test_only_hashed_entries_are_read_and_paths_are_made_absolute() -> None:
    record = (
        b"pkg/__init__.py,sha256=abc,3\n"
        b"pkg/__pycache__/__init__.cpython-311.pyc,,\n"
        b"../../../bin/tool,sha256=def,9\n"
        b"pkg-1.0.dist-info/RECORD,,\n"
        b"odd.py,md5=0123,3\n"
    )
    rows = read_record(record, "/usr/local/lib/python3.11/dist-packages", "RECORD")
    assert [(r.path, r.digest) for r in rows] == [
        ("/usr/local/lib/python3.11/dist-packages/pkg/__init__.py", "sha256=abc"),
        ("/usr/local/bin/tool", "sha256=def"),
    ]


def test_a_record_longer_than_its_limit_is_an_error_naming_it() -> None:
    record = b"".join(b"f%d.py,sha256=x,1\n" % i for i in range(11))
    with pytest.raises(LimitExceeded, match=r"RECORD: more than 10 entries \(limit record-entries=10"):
        read_record(record, "/site", "/site/x-1.dist-info/RECORD", Limits(record_entries=10))


def test_top_level_names_are_what_import_finds() -> None:
    assert top_level_name(SITE, f"{SITE}/common/parse.py") == "common"
    assert top_level_name(SITE, f"{SITE}/six.py") == "six"
    assert top_level_name(SITE, f"{SITE}/_cffi.cpython-311-x86_64-linux-gnu.so") == "_cffi"
    assert top_level_name(SITE, f"{SITE}/alpha-1.0.dist-info/METADATA") is None
    assert top_level_name(SITE, "/home/airflow/.local/bin/tool") is None


def test_an_untouched_install_verifies() -> None:
    inv = inventory(os_layer(), user_site_layer(), base_layer())
    assert inv.record_problems == () and inv.record_overwrites == ()


def test_changed_and_deleted_files_are_problems_of_their_distribution() -> None:
    edit = layer_tar(
        [
            F(f"{USER_SITE}/common/parse.py", b"def parse(): return 1\n", uid=50000),
            F(f"{USER_SITE}/common/.wh.__init__.py"),
        ]
    )
    inv = inventory(os_layer(), user_site_layer(), base_layer(), edit)
    assert [(p.distribution.name, p.path, p.state) for p in inv.record_problems] == [
        ("alpha", f"{SITE}/common/__init__.py", FileState.MISSING),
        ("alpha", f"{SITE}/common/parse.py", FileState.MODIFIED),
    ]
    changed = inv.record_problems[1]
    assert changed.expected == recorded(ALPHA["common/parse.py"])
    assert changed.actual == recorded(b"def parse(): return 1\n")


def test_a_second_distribution_shipping_the_same_module_overwrites_the_first() -> None:
    inv = inventory(
        os_layer(), user_site_layer(), base_layer(), layer_tar(installed(USER_SITE, "beta", "2.0", BETA))
    )
    assert inv.record_problems == ()
    (overwrite,) = inv.record_overwrites
    assert overwrite.path == f"{SITE}/common/__init__.py"
    assert (overwrite.overwritten.name, overwrite.by.name) == ("alpha", "beta")
    assert overwrite.expected == recorded(ALPHA["common/__init__.py"])
    assert overwrite.actual == recorded(BETA["common/__init__.py"])


def test_the_same_content_installed_twice_overwrites_nothing() -> None:
    shared = {"common/__init__.py": ALPHA["common/__init__.py"]}
    inv = inventory(
        os_layer(), user_site_layer(), base_layer(), layer_tar(installed(USER_SITE, "gamma", "1.0", shared))
    )
    assert inv.record_overwrites == () and inv.record_problems == ()


def test_a_shared_file_neither_install_wrote_is_changed_for_both() -> None:
    beta = layer_tar(
        [
            *installed(USER_SITE, "beta", "2.0", BETA),
            F(f"{USER_SITE}/common/__init__.py", b"# patched by hand\n", uid=50000),
        ]
    )
    inv = inventory(os_layer(), user_site_layer(), base_layer(), beta)
    assert inv.record_overwrites == ()
    assert [(p.distribution.name, p.state) for p in inv.record_problems] == [
        ("alpha", FileState.MODIFIED),
        ("beta", FileState.MODIFIED),
    ]


def test_what_the_base_already_fails_is_the_baseline() -> None:
    # Debian's pip lists ../scripts/pip, which Debian never installs: the base has the same problem
    quirk = installed("usr/lib/python3/dist-packages", "pip", "23.0.1", {"pip/__init__.py": b""}, uid=0)
    record = next(f for f in quirk if f.name.endswith("RECORD"))
    record.data += b"../scripts/pip,sha256=bR8ZsX7zq5ttNTK-IZh2a7FwnIPaamaEFSuK8ZMNpvo,221\n"
    base = inventory(os_layer(), layer_tar(quirk))
    edit = layer_tar([F("usr/lib/python3/dist-packages/pip/__init__.py", b"# edited\n")])
    derived = inventory(os_layer(), layer_tar(quirk), edit)
    assert [p.path for p in base.record_problems] == ["/usr/lib/python3/scripts/pip"]
    diff = diff_inventories(base, derived)
    assert [(p.path, p.state) for p in diff.record_problems] == [
        ("/usr/lib/python3/dist-packages/pip/__init__.py", FileState.MODIFIED)
    ]


def test_a_file_replaced_by_a_directory_is_not_a_file() -> None:
    swap = layer_tar(
        [F(f"{USER_SITE}/common/.wh.parse.py"), F(f"{USER_SITE}/common/parse.py/", kind="dir", uid=50000)]
    )
    inv = inventory(os_layer(), user_site_layer(), base_layer(), swap)
    assert [(p.path, p.state, p.actual) for p in inv.record_problems] == [
        (f"{SITE}/common/parse.py", FileState.NOT_A_FILE, None)
    ]


def test_a_malformed_record_ends_where_csv_stops_reading_it() -> None:
    # an unterminated quote swallows the rest of the file as one field: nothing after it is listed
    record = b'ok.py,sha256=abc,3\n"unterminated,sha256=def,3\nlater.py,sha256=ghi,3\n'
    assert [r.path for r in read_record(record, "/site", "RECORD")] == ["/site/ok.py"]
    # bytes that are not UTF-8 are read as replacement characters, never an error
    assert [r.digest for r in read_record(b"\x00\xff,sha256=x,1\n", "/site", "RECORD")] == ["sha256=x"]
