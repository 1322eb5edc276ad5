"""One test per escape the fuzzer found: the smallest input that shows it, which must get a result or a
layerdiff error. Not fixed yet: marked ``escapes(SIGNATURE)`` (tests/fuzz/known.py), so that the fix makes
the test fail until the mark is removed."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path
from typing import Any

from layerdiff.index.tar_index import index_layer
from layerdiff.inventory import rpm
from layerdiff.inventory.collect import CAPTURE
from layerdiff.inventory.rpm import RPMDB_PATHS
from tests.fuzz.hostile import (
    contained,
    deeply_nested,
    docker_archive_with_manifest,
    inventory_with,
    manifest_of,
    minimal_image,
    oci_with,
    pax_layer,
    review_pair,
    snapshot,
    write_image,
)
from tests.fuzz.mutate_tar import fix_checksum, header_block, pax_record
from tests.fuzz.seeds import RPM_HEADERS
from tests.fuzz.targets_inventory import METADATA_PATH, rpmdb_of
from tests.support.imagebuilder import F, layer_tar
from tests.support.rpmdb import INT32, STRING, STRING_ARRAY, HeaderEntries, header_blob

# --- manifests, indexes and configs as the sources read them ------------------------------------------------


def test_deeply_nested_config(tmp_path: Path) -> None:
    contained(lambda: snapshot(oci_with(tmp_path, config=deeply_nested())))


def test_deeply_nested_manifest_json(tmp_path: Path) -> None:
    contained(lambda: snapshot(docker_archive_with_manifest(tmp_path, deeply_nested())))


def test_manifest_json_layers_not_a_list(tmp_path: Path) -> None:
    reference = docker_archive_with_manifest(tmp_path, lambda manifest: [{**manifest[0], "Layers": True}])
    contained(lambda: snapshot(reference))


def test_manifest_json_entries_not_objects(tmp_path: Path) -> None:
    contained(lambda: snapshot(docker_archive_with_manifest(tmp_path, lambda manifest: [[], []])))


def test_manifest_json_entry_null(tmp_path: Path) -> None:
    contained(lambda: snapshot(docker_archive_with_manifest(tmp_path, lambda manifest: [None])))


def test_manifest_json_entry_a_list_of_strings(tmp_path: Path) -> None:
    contained(lambda: snapshot(docker_archive_with_manifest(tmp_path, lambda manifest: [["abc"]])))


def test_oci_index_manifests_not_a_list(tmp_path: Path) -> None:
    reference = write_image(tmp_path, minimal_image(), "oci")
    (tmp_path / "index.json").write_text('{"schemaVersion": 2, "manifests": true}')
    contained(lambda: snapshot(reference))


def _manifest(**fields: Any) -> dict[str, Any]:
    return {**manifest_of(minimal_image()), **fields}


def test_oci_manifest_layer_not_an_object(tmp_path: Path) -> None:
    contained(lambda: snapshot(oci_with(tmp_path, manifest=_manifest(layers=[1.5]))))


def test_oci_manifest_layers_not_a_list(tmp_path: Path) -> None:
    contained(lambda: snapshot(oci_with(tmp_path, manifest=_manifest(layers=5))))


def test_oci_manifest_config_not_an_object(tmp_path: Path) -> None:
    contained(lambda: snapshot(oci_with(tmp_path, manifest=_manifest(config=1.5))))


def test_oci_manifest_media_type_not_a_string(tmp_path: Path) -> None:
    contained(lambda: snapshot(oci_with(tmp_path, manifest=_manifest(mediaType=[]))))


def test_config_history_not_a_list(tmp_path: Path) -> None:
    contained(lambda: snapshot(oci_with(tmp_path, history=1.5)))


def _layer_blob(tmp_path: Path) -> tuple[str, Path]:
    reference = write_image(tmp_path, minimal_image(), "oci")
    digest = manifest_of(minimal_image())["layers"][0]["digest"].split(":", 1)[1]
    blob = tmp_path / "blobs" / "sha256" / digest
    blob.unlink()
    return reference, blob


def test_layer_blob_is_a_fifo(tmp_path: Path) -> None:
    reference, blob = _layer_blob(tmp_path)
    os.mkfifo(blob)
    contained(lambda: snapshot(reference))


def test_layer_blob_is_a_directory(tmp_path: Path) -> None:
    reference, blob = _layer_blob(tmp_path)
    blob.mkdir()
    contained(lambda: snapshot(reference))


def test_layer_blob_links_to_dev_zero(tmp_path: Path) -> None:
    reference, blob = _layer_blob(tmp_path)
    blob.symlink_to("/dev/zero")
    contained(lambda: snapshot(reference))


# --- layer tars ---------------------------------------------------------------------------------------------


def _index(layer: bytes) -> None:
    index_layer(io.BytesIO(layer), None, "layer", CAPTURE)


def test_pax_sparse_map_not_numbers() -> None:
    contained(lambda: _index(pax_layer((b"GNU.sparse.map", b"abc"))))


def test_pax_hdrcharset_not_utf8() -> None:
    contained(lambda: _index(pax_layer((b"hdrcharset", b"\xff"))))


def test_pax_record_length_huge() -> None:
    record = b"99999999999999999999 path=x\n"
    pax = bytes(header_block(b"././@PaxHeader", b"x", len(record))) + record.ljust(512, b"\0")
    contained(lambda: _index(pax + bytes(header_block(b"file", b"0", 0)) + bytes(1024)))


def test_thousands_of_consecutive_pax_headers() -> None:
    record = pax_record(b"comment", b"x")
    header = bytes(header_block(b"././@PaxHeader", b"x", len(record))) + record.ljust(512, b"\0")
    contained(lambda: _index(header * 5000 + bytes(header_block(b"file", b"0", 0)) + bytes(1024)))


def test_negative_entry_size() -> None:
    header = header_block(b"file", b"0", 0)
    header[124:136] = b"\xff\xfe" + bytes(10)  # base-256, negative
    fix_checksum(header)
    contained(lambda: _index(bytes(header) + bytes(header_block(b"next", b"0", 0)) + bytes(1024)))


def test_sparse_file_of_a_terabyte_in_a_few_bytes() -> None:
    layer = pax_layer((b"GNU.sparse.map", b"0,0"), (b"GNU.sparse.size", str(1 << 40).encode()))
    contained(lambda: _index(layer))


# --- config fields of the wrong type (docker rejects these images; layerdiff must say so) ---------------


def test_entrypoint_not_a_list(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"Entrypoint": 5}))


def test_entrypoint_an_object(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"Entrypoint": {"a": 1}}))


def test_healthcheck_interval_beyond_a_float(tmp_path: Path) -> None:
    interval = 10**400  # nanoseconds: JSON numbers have no bound
    contained(lambda: review_pair(tmp_path, {"Healthcheck": {"Test": ["CMD", "true"], "Interval": interval}}))


def test_entrypoint_item_not_a_string(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"Entrypoint": ["/app", -1]}))


def test_config_value_nested_nine_hundred_deep(tmp_path: Path) -> None:
    value: Any = 1
    for _ in range(900):  # what json.loads still reads
        value = {"a": value}
    contained(lambda: review_pair(tmp_path, {"Labels": {"deep": value}}))


def test_user_not_a_string(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"User": ["root"]}))


def test_env_item_not_a_string(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"Env": [1]}))


def test_env_not_a_list(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"Env": True}))


def test_exposed_ports_not_an_object(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"ExposedPorts": [1]}))


def test_labels_become_a_list(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"Labels": [1]}, base_config={"Labels": {"a": "b"}}))


def test_labels_become_a_string(tmp_path: Path) -> None:
    contained(lambda: review_pair(tmp_path, {"Labels": "abc"}, base_config={"Labels": {"a": "b"}}))


# --- inventory readers --------------------------------------------------------------------------------------


def test_metadata_name_not_ascii() -> None:
    contained(lambda: inventory_with({METADATA_PATH: b"Name: caf\xe9\nVersion: 1\n"}))


def test_requires_dist_not_ascii() -> None:
    contained(lambda: inventory_with({METADATA_PATH: b"Name: a\nVersion: 1\nRequires-Dist: caf\xe9\n"}))


def _rpmdb(*blobs: object, schema: str = "") -> None:
    inventory_with({RPMDB_PATHS[0]: rpmdb_of(blobs, schema)})


def _entry_header(tag: int, kind: int, offset: int, count: int, store: bytes) -> bytes:
    return struct.pack(">IIIIII", 1, len(store), tag, kind, offset, count) + store


def test_rpm_header_counts_past_its_end() -> None:
    contained(lambda: _rpmdb(struct.pack(">II", 1000, 0)))


def test_rpm_header_integers_past_the_data() -> None:
    contained(lambda: _rpmdb(_entry_header(rpm.EPOCH, INT32, 0, 5, bytes(4))))


def test_rpm_header_string_unterminated() -> None:
    contained(lambda: _rpmdb(_entry_header(rpm.NAME, STRING, 0, 1, b"abc")))


def test_rpm_header_string_of_count_zero() -> None:
    contained(lambda: _rpmdb(_entry_header(rpm.NAME, STRING, 0, 0, b"abc\0")))


def test_rpm_header_dir_index_out_of_range() -> None:
    header: HeaderEntries = {
        rpm.NAME: (STRING, "x"),
        rpm.VERSION: (STRING, "1"),
        rpm.RELEASE: (STRING, "1"),
        rpm.DIRNAMES: (STRING_ARRAY, ("/",)),
        rpm.BASENAMES: (STRING_ARRAY, ("a",)),
        rpm.DIRINDEXES: (INT32, (7,)),
    }
    contained(lambda: _rpmdb(header_blob(header)))


def test_rpmdb_packages_table_without_blob_column() -> None:
    contained(
        lambda: _rpmdb(schema="ALTER TABLE Packages RENAME TO Old; CREATE TABLE Packages (hnum, other)")
    )


def test_rpmdb_malformed() -> None:
    damaged = rpmdb_of(RPM_HEADERS)[:4096] + b"\xff" * 4096
    contained(lambda: inventory_with({RPMDB_PATHS[0]: damaged}))


def test_rpmdb_null_blob() -> None:
    schema = (
        "ALTER TABLE Packages RENAME TO Old; CREATE TABLE Packages (hnum INTEGER, blob BLOB);"
        " INSERT INTO Packages VALUES (NULL, NULL)"
    )
    contained(lambda: _rpmdb(schema=schema))


# --- findings -----------------------------------------------------------------------------------------------


def test_non_utf8_file_name_with_a_finding(tmp_path: Path) -> None:
    setuid = layer_tar([F("usr/bin/\udcff", b"x", mode=0o4755)])
    contained(lambda: review_pair(tmp_path, None, setuid))
