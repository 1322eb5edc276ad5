"""Credential files reduced by the indexer to where their credentials are (line, kind, setting), never the
value: for every file kind a credential is found on its line and its look-alike without one gives none; the
layer index and the cache keep no value; hostile content stays bounded."""

from __future__ import annotations

import io
import sqlite3
import time
import zlib
from pathlib import Path

import pytest

from layerdiff.image.model import LayerIndex
from layerdiff.index.cache import IndexCache
from layerdiff.index.capture import Capture, CaptureSpec
from layerdiff.index.credentials import (
    MAX_CREDENTIAL_FILE_BYTES,
    MAX_HITS,
    scan_credentials,
    without_credentials,
)
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from layerdiff.text.credential_files import credential_format
from tests.support.credentials import FILES, PlantedFile
from tests.support.imagebuilder import F, layer_tar


@pytest.mark.parametrize("planted", FILES, ids=lambda planted: planted.path)
def test_each_credential_file_kind_is_found_on_its_line(planted: PlantedFile) -> None:
    scan = scan_credentials(planted.path, planted.text.encode())
    assert scan is not None
    assert [(hit.line, hit.kind) for hit in scan.hits] == [(planted.line, planted.kind)]
    assert planted.secret not in repr(scan)
    assert planted.secret.encode() not in without_credentials(planted.path, planted.text.encode())


@pytest.mark.parametrize("planted", FILES, ids=lambda planted: planted.path)
def test_the_same_file_without_a_credential_has_none(planted: PlantedFile) -> None:
    scan = scan_credentials(planted.path, planted.clean.encode())
    assert scan is not None and scan.hits == (), scan


def test_every_planted_path_is_one_the_indexer_reads() -> None:
    for planted in FILES:
        assert CAPTURE.wants_credentials(planted.path, len(planted.text)), planted.path
    assert not CAPTURE.wants_credentials("/etc/pip.conf", MAX_CREDENTIAL_FILE_BYTES + 1)


def test_settings_name_where_the_credential_is_without_its_value() -> None:
    settings = {
        planted.path: [hit.setting for hit in scan.hits]
        for planted in FILES
        if (scan := scan_credentials(planted.path, planted.text.encode())) is not None
    }
    assert settings["/etc/pip.conf"] == ["[global] index-url (https://pypi.example.com)"]
    assert settings["/home/airflow/.npmrc"] == ["//registry.npmjs.org/:_authToken"]
    assert settings["/home/airflow/.netrc"] == ["machine pypi.example.com"]
    assert settings["/root/.docker/config.json"] == ["auths.registry.example.com.auth"]
    assert settings["/root/.aws/credentials"] == ["[default] aws_secret_access_key"]
    assert settings["/root/.kube/config"] == ["user ci: token"]
    assert settings["/home/airflow/.pgpass"] == ["db.example.com:5432:airflow:airflow"]


def test_files_that_are_not_credential_files() -> None:
    for path in (
        "/opt/airflow/airflow.cfg",
        "/usr/lib/python3/dist-packages/tornado/test/test.key",
        "/home/airflow/.local/lib/python3.11/site-packages/certifi/cacert.pem",
        "/root/.ssh/id_rsa.pub",
        "/root/.ssh/known_hosts",
        "/usr/share/keyrings/debian.key",
    ):
        assert credential_format(path) is None, path
        assert scan_credentials(path, b"password = x\n-----BEGIN PRIVATE KEY-----\n") is None


def test_more_placeholders_and_empty_values_are_none() -> None:
    cases = {
        "/root/.netrc": "machine a login u password ${NETRC_PASSWORD}\nmacdef init\npassword in-a-macro\n\n",
        "/root/.npmrc": "//r/:_authToken=\n//r/:_auth=${NPM_AUTH}\n; _password=commented\n",
        "/root/.pypirc": "[pypi]\npassword = <your token>\n",
        "/root/.git-credentials": "https://git@github.com\nhttps://u:${GIT_TOKEN}@github.com\n",
        "/root/.kube/config": "users:\n- name: a\n  user:\n    token: ''\n    password: '{{ kube_pw }}'\n",
        "/root/.pgpass": "#db:5432:airflow:airflow:commented\n*:*:*:*:*****\n",
    }
    for path, text in cases.items():
        scan = scan_credentials(path, text.encode())
        assert scan is not None and scan.hits == (), (path, scan)


def test_a_credential_file_holds_several_and_counts_what_it_does_not_keep() -> None:
    text = "".join(f"machine m{i} login u password pw{i}secret\n" for i in range(MAX_HITS + 7))
    scan = scan_credentials("/root/.netrc", text.encode())
    assert scan is not None and len(scan.hits) == MAX_HITS and scan.omitted == 7
    assert [hit.line for hit in scan.hits[:3]] == [1, 2, 3]


def test_hostile_content_is_scanned_in_linear_time() -> None:
    for path, text in (
        ("/etc/pip.conf", "a." * 300_000),
        ("/etc/pip.conf", "x://" * 200_000),
        ("/root/.docker/config.json", '"' * 400_000),
        ("/root/.netrc", "macdef " * 100_000),
        ("/root/.kube/config", " " * 500_000 + "token:" + " " * 400_000),
        ("/root/.pgpass", "\\" * 900_000),
        ("/opt/k.pem", "-----BEGIN PRIVATE KEY-----" * 30_000),
    ):
        started = time.process_time()
        scan_credentials(path, text.encode())
        assert time.process_time() - started < 5, path


def test_undecodable_bytes_are_read_as_what_they_are() -> None:
    scan = scan_credentials("/root/.netrc", b"machine \xff\xfe login u password pw\xffsecret\n")
    assert scan is not None and [hit.kind for hit in scan.hits] == ["netrc password"]


def _index(entries: list[F], capture: CaptureSpec = CAPTURE) -> LayerIndex:
    return index_layer(io.BytesIO(layer_tar(entries)), None, "layer", capture)


def test_the_layer_index_and_the_cache_keep_where_credentials_are_never_their_values(tmp_path: Path) -> None:
    index = _index([planted.entry() for planted in FILES])
    scans = index.credentials
    assert {path: [(h.line, h.kind) for h in scan.hits] for path, scan in scans.items()} == {
        planted.path: [(planted.line, planted.kind)] for planted in FILES
    }
    assert not set(index.contents) & {planted.path for planted in FILES}
    cache = IndexCache(tmp_path / "cache")
    cache.put(index, CAPTURE)
    assert cache.get(index.diff_id, CAPTURE) == index
    cache.close()
    with sqlite3.connect(tmp_path / "cache" / "layers.sqlite3") as db:
        rows = db.execute("SELECT payload, contents FROM layer_index").fetchall()
    stored = b"".join(zlib.decompress(value) for row in rows for value in row)
    assert b"npm auth token" in stored
    for planted in FILES:
        assert planted.secret.encode() not in stored, planted.path


def test_a_credential_file_another_collector_keeps_is_kept_without_its_credentials() -> None:
    netrc = FILES[6]
    assert netrc.path == "/home/airflow/.netrc"
    both = CaptureSpec([*CAPTURE.captures, Capture(paths=(netrc.path,))])
    index = _index([netrc.entry()], both)
    kept = index.contents[netrc.path]
    assert netrc.secret.encode() not in kept and b"password <redacted>" in kept


def test_a_file_too_large_for_the_scan_is_not_read() -> None:
    big = F("root/.netrc", b"machine a login u password pw\n" + b"#" * MAX_CREDENTIAL_FILE_BYTES)
    index = _index([big])
    assert index.credentials == {}
