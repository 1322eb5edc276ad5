"""Rules about files, permissions, credentials and layer waste, on images built in Python and run through the
pipeline."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from layerdiff.inventory.capabilities import describe_capabilities
from layerdiff.rules import config as config_rules
from layerdiff.rules.credentials import SECRET_IN_IMAGE
from layerdiff.rules.deleted import BASE_FILE_DELETED
from layerdiff.rules.model import Finding, Rule
from layerdiff.rules.permissions import (
    CAPABILITY_ADDED,
    OWNERSHIP_CHANGED,
    RUNTIME_USER_LOST_WRITE,
    SETUID_ADDED,
    WORLD_WRITABLE_ADDED,
)
from layerdiff.rules.severity import Severity
from layerdiff.rules.waste import CACHE_LEFT_BEHIND, LAYER_WASTE
from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.rules import diff_context, findings

UID = pairs.AIRFLOW_UID
SITE = pairs.SITE
FILESYSTEM_RULES = (
    RUNTIME_USER_LOST_WRITE,
    SETUID_ADDED,
    CAPABILITY_ADDED,
    WORLD_WRITABLE_ADDED,
    BASE_FILE_DELETED,
    OWNERSHIP_CHANGED,
    SECRET_IN_IMAGE,
    LAYER_WASTE,
    CACHE_LEFT_BEHIND,
)
ALL_MY_RULES = (
    *FILESYSTEM_RULES,
    config_rules.RUNTIME_USER_ROOT,
    config_rules.RUNTIME_USER_CHANGED,
    config_rules.LOADER_ENV_CHANGED,
    config_rules.HEALTHCHECK_CHANGED,
    config_rules.ENTRYPOINT_CHANGED,
)


def run(command: str) -> dict[str, Any]:
    return {"created_by": f"/bin/sh -c {command}"}


def nop(instruction: str) -> dict[str, Any]:
    return {"created_by": f"/bin/sh -c #(nop)  {instruction}", "empty_layer": True}


def image(*layers: tuple[list[F], str], **config: Any) -> Image:
    """The airflow-like base plus one layer per (entries, RUN command)."""
    return pairs.derived(
        [layer_tar(entries) for entries, _ in layers], [run(cmd) for _, cmd in layers], **config
    )


def check(rule: Rule, tmp_path: Path, derived: Image) -> list[Finding]:
    return findings(rule, diff_context(tmp_path, pairs.base_image(), derived))


def by_subject(found: list[Finding]) -> dict[str, Finding]:
    return {f.subject: f for f in found}


def only(found: list[Finding]) -> Finding:
    assert len(found) == 1, found
    return found[0]


def test_dag_only_raises_nothing_medium_or_higher(tmp_path: Path) -> None:
    context = diff_context(tmp_path, pairs.base_image(), pairs.dag_only())
    serious = [f for rule in ALL_MY_RULES for f in findings(rule, context) if f.severity >= Severity.MEDIUM]
    assert serious == []


# --- runtime-user-lost-write --------------------------------------------------------------------------------


def test_root_owned_airflow_home_and_logs(tmp_path: Path) -> None:
    found = by_subject(check(RUNTIME_USER_LOST_WRITE, tmp_path, pairs.root_owned_logs()))
    assert set(found) == {"/opt/airflow", "/opt/airflow/logs"}
    home = found["/opt/airflow"]
    assert (home.rule, home.severity, home.layer) == ("runtime-user-lost-write", Severity.HIGH, 2)
    directory = {"type": "dir", "size": 0, "link": None, "sha256": None, "xattrs": {}}
    assert home.evidence["before"] == {**directory, "uid": UID, "gid": 0, "mode": "0775"}
    assert home.evidence["after"] == {**directory, "uid": 0, "gid": 0, "mode": "0755"}
    assert home.evidence["user"]["uid"] == UID and home.evidence["user"]["groups"] == [0]
    assert "AIRFLOW_HOME=/opt/airflow" in home.evidence["writable_because"]
    assert home.instruction == "RUN mkdir -p /opt/airflow/logs && chown root /opt/airflow"
    logs = found["/opt/airflow/logs"]
    assert logs.evidence["before"] is None and logs.evidence["after"]["mode"] == "0755"
    # what stops working first, in Airflow's words where AIRFLOW_HOME tells them
    assert home.message == (
        "Files can no longer be written to /opt/airflow: it is now uid 0, gid 0, mode 0755, which the "
        "runtime user uid 50000 (airflow) cannot write (the base's runtime user uid 50000 (airflow) could)."
    )
    assert logs.message.startswith("Task logs cannot be written to /opt/airflow/logs: layer 2 created it as ")


def test_new_directory_owned_by_the_runtime_user_is_fine(tmp_path: Path) -> None:
    derived = image(
        ([F("opt/airflow/logs/", kind="dir", mode=0o775, uid=UID)], "mkdir logs && chown airflow logs")
    )
    assert check(RUNTIME_USER_LOST_WRITE, tmp_path, derived) == []


def test_group_writable_directory_counts_as_writable(tmp_path: Path) -> None:
    # the airflow user is in group 0 (root), as in the official image: g+w is enough
    derived = image(([F("opt/airflow/logs/", kind="dir", mode=0o775, uid=0, gid=0)], "mkdir -m 775 logs"))
    assert check(RUNTIME_USER_LOST_WRITE, tmp_path, derived) == []


def test_chown_r_of_home_is_one_finding_with_a_count(tmp_path: Path) -> None:
    entries = [
        F("home/airflow/", kind="dir", mode=0o755, uid=0),
        F(f"{SITE}/requests/__init__.py", b"__version__ = '2.31.0'\n", uid=0),
        F(f"{SITE}/requests-2.31.0.dist-info/METADATA", b"Name: requests\nVersion: 2.31.0\n", uid=0),
    ]
    finding = only(check(RUNTIME_USER_LOST_WRITE, tmp_path, image((entries, "chown -R root /home/airflow"))))
    assert finding.subject == "/home/airflow"
    assert finding.evidence["also_affected"] == 2
    assert "HOME=/home/airflow" in finding.evidence["writable_because"]


def test_user_change_loses_write_without_a_file_change(tmp_path: Path) -> None:
    passwd = (
        b"root:x:0:0:root:/root:/bin/bash\n"
        b"airflow:x:50000:0::/home/airflow:/bin/bash\n"
        b"etl:x:1000:1000::/tmp:/bin/sh\n"
    )
    derived = pairs.derived(
        [layer_tar([F("etc/passwd", passwd)])], [run("useradd etl"), nop("USER etl")], User="etl"
    )
    found = by_subject(check(RUNTIME_USER_LOST_WRITE, tmp_path, derived))
    assert {"/opt/airflow", "/home/airflow"} <= set(found)
    assert found["/opt/airflow"].layer is None and found["/opt/airflow"].instruction == "USER etl"
    assert found["/opt/airflow"].evidence["user"]["uid"] == 1000


# --- setuid-added / capability-added ------------------------------------------------------------------------


def test_setuid_on_new_file_and_on_existing_file(tmp_path: Path) -> None:
    entries = [
        F("usr/local/bin/helper", b"\x7fELF", mode=0o4755),
        F("usr/bin/python3.11", b"\x7fELF python", mode=0o6755),  # same content, chmod ug+s
    ]
    found = by_subject(check(SETUID_ADDED, tmp_path, image((entries, "chmod ug+s ..."))))
    assert set(found) == {"/usr/local/bin/helper", "/usr/bin/python3.11"}
    helper, python = found["/usr/local/bin/helper"], found["/usr/bin/python3.11"]
    assert helper.severity is Severity.HIGH and helper.evidence["bits_added"] == ["setuid"]
    assert helper.evidence["mode_before"] is None and helper.evidence["mode_after"] == "4755"
    assert python.evidence["mode_before"] == "0755" and python.evidence["bits_added"] == ["setuid", "setgid"]
    assert python.layer == 2


def test_setgid_directory_and_plain_executables_are_not_setuid(tmp_path: Path) -> None:
    entries = [
        F("opt/airflow/shared/", kind="dir", mode=0o2775, uid=UID),
        F("usr/local/bin/tool", b"x", mode=0o755),
    ]
    assert check(SETUID_ADDED, tmp_path, image((entries, "install"))) == []


def capability(*bits: int, effective: bool = True) -> bytes:
    permitted = sum(1 << bit for bit in bits)
    return struct.pack("<5I", 0x02000000 | int(effective), permitted & 0xFFFFFFFF, 0, permitted >> 32, 0)


def test_capability_added_is_decoded_like_getcap(tmp_path: Path) -> None:
    entries = [F("usr/local/bin/web", b"\x7fELF", mode=0o755, xattrs={"security.capability": capability(10)})]
    finding = only(check(CAPABILITY_ADDED, tmp_path, image((entries, "setcap cap_net_bind_service=ep web"))))
    assert (finding.severity, finding.subject) == (Severity.HIGH, "/usr/local/bin/web")
    assert finding.evidence["capabilities_after"] == "cap_net_bind_service=ep"
    assert finding.evidence["capabilities_before"] is None


def test_other_xattrs_are_not_capabilities(tmp_path: Path) -> None:
    entries = [F("usr/local/bin/web", b"\x7fELF", mode=0o755, xattrs={"user.origin": b"build"})]
    assert check(CAPABILITY_ADDED, tmp_path, image((entries, "install"))) == []


def test_describe_capabilities() -> None:
    assert describe_capabilities(capability(12, 13).hex()) == "cap_net_admin,cap_net_raw=ep"
    assert describe_capabilities(capability(21, effective=False).hex()) == "cap_sys_admin=p"
    assert describe_capabilities("zz") == "zz"


# --- world-writable-added -----------------------------------------------------------------------------------


def test_world_writable_severity_depends_on_where(tmp_path: Path) -> None:
    entries = [
        F("opt/airflow/shared/", kind="dir", mode=0o777, uid=UID),
        F("opt/airflow/shared/data.csv", b"a,b\n", mode=0o666, uid=UID),
        F("usr/bin/airflow-wrapper", b"#!/bin/sh\n", mode=0o777),
        F("var/spool/drop/", kind="dir", mode=0o1777),
    ]
    found = by_subject(check(WORLD_WRITABLE_ADDED, tmp_path, image((entries, "chmod -R 777 ..."))))
    assert set(found) == {"/opt/airflow/shared", "/usr/bin/airflow-wrapper", "/var/spool/drop"}
    assert found["/opt/airflow/shared"].severity is Severity.MEDIUM
    assert found["/opt/airflow/shared"].evidence["also_affected"] == 1  # data.csv, collapsed
    assert found["/usr/bin/airflow-wrapper"].severity is Severity.HIGH
    assert found["/usr/bin/airflow-wrapper"].evidence["inside"] == "PATH directory /usr/bin"
    assert found["/var/spool/drop"].severity is Severity.LOW
    assert found["/var/spool/drop"].evidence["after"]["mode"] == "1777"


def test_base_tmp_and_symlinks_are_not_new_world_writable(tmp_path: Path) -> None:
    entries = [F("tmp/", kind="dir", mode=0o1777), F("usr/bin/py", kind="symlink", link="python3")]
    assert check(WORLD_WRITABLE_ADDED, tmp_path, image((entries, "ln -s python3 /usr/bin/py"))) == []


# --- base-file-deleted / ownership-changed ------------------------------------------------------------------


def test_deleted_base_file_and_collapsed_directory(tmp_path: Path) -> None:
    entries = [F(".wh.entrypoint"), F(f"{SITE}/.wh.requests")]
    found = by_subject(check(BASE_FILE_DELETED, tmp_path, image((entries, "rm -rf /entrypoint requests"))))
    assert set(found) == {"/entrypoint", f"/{SITE}/requests"}
    entrypoint = found["/entrypoint"]
    assert (entrypoint.severity, entrypoint.layer) == (Severity.MEDIUM, 2)
    assert entrypoint.evidence["before"]["mode"] == "0755"
    package = found[f"/{SITE}/requests"]
    assert package.evidence["entries_removed"] == 2
    assert package.evidence["examples"] == [f"/{SITE}/requests/__init__.py"]


def test_pip_replacing_a_distribution_deletes_no_base_file(tmp_path: Path) -> None:
    # its files are the version change's evidence (tests/unit/rules/test_pip_files.py)
    assert check(BASE_FILE_DELETED, tmp_path, pairs.pinned_requests()) == []


def test_ownership_change_of_a_base_directory(tmp_path: Path) -> None:
    entries = [F("opt/airflow/dags/", kind="dir", mode=0o755, uid=0)]
    finding = only(check(OWNERSHIP_CHANGED, tmp_path, image((entries, "chown root /opt/airflow/dags"))))
    assert (finding.severity, finding.subject) == (Severity.LOW, "/opt/airflow/dags")
    assert finding.evidence["changed"] == ["mode", "uid"]
    assert finding.evidence["before"]["mode"] == "0775" and finding.evidence["after"]["uid"] == 0


def test_rewriting_identical_metadata_is_no_ownership_change(tmp_path: Path) -> None:
    entries = [
        F("opt/airflow/", kind="dir", mode=0o775, uid=UID),
        F("opt/airflow/dags/", kind="dir", mode=0o775, uid=UID),
    ]
    assert check(OWNERSHIP_CHANGED, tmp_path, image((entries, "mkdir -p /opt/airflow/dags"))) == []


# --- secret-in-image ----------------------------------------------------------------------------------------

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
DB_PASSWORD = "Tr0ub4dor-and-3"
CONN_PASSWORD = "s3cr3tConnPw"
NETRC_PASSWORD = "Zebra123secret"


def test_secrets_in_env_are_redacted(tmp_path: Path) -> None:
    env = [
        "PATH=/home/airflow/.local/bin:/usr/bin:/bin",
        "AIRFLOW_HOME=/opt/airflow",
        f"AWS_ACCESS_KEY_ID={AWS_KEY}",
        f"DB_PASSWORD={DB_PASSWORD}",
        f"AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql://airflow:{CONN_PASSWORD}@db/airflow",
        "AIRFLOW__SECRETS__BACKEND=airflow.providers.amazon.aws.secrets.SecretsManagerBackend",
    ]
    history = [
        nop(f"ENV AWS_ACCESS_KEY_ID={AWS_KEY} DB_PASSWORD={DB_PASSWORD}"),
        nop(f"ENV AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql://airflow:{CONN_PASSWORD}@db/airflow"),
        nop("ENV AIRFLOW__SECRETS__BACKEND=airflow.providers.amazon.aws.secrets.SecretsManagerBackend"),
    ]
    found = by_subject(check(SECRET_IN_IMAGE, tmp_path, pairs.derived([], history, Env=env)))
    assert set(found) == {
        "ENV:AWS_ACCESS_KEY_ID",
        "ENV:DB_PASSWORD",
        "ENV:AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    }
    aws = found["ENV:AWS_ACCESS_KEY_ID"]
    assert (aws.rule, aws.severity) == ("secret-in-image", Severity.HIGH)
    assert aws.evidence["kind"] == "AWS access key id" and aws.evidence["value"] == "AKIA… (20 characters)"
    assert found["ENV:DB_PASSWORD"].evidence["kind"] == "password/token variable"
    assert found["ENV:AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].evidence["kind"] == "URL with a password"
    for finding in found.values():
        for secret in (AWS_KEY, DB_PASSWORD, CONN_PASSWORD):
            assert secret not in str(finding)


def test_secret_files_including_one_deleted_later(tmp_path: Path) -> None:
    first = (
        [
            F(
                "home/airflow/.netrc",
                f"machine pypi login u password {NETRC_PASSWORD}\n".encode(),
                mode=0o600,
                uid=UID,
            ),
            F("root/.ssh/id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\n", mode=0o600),
            F("root/.pypirc", b"[pypi]\npassword = x\n"),
        ],
        f'echo "machine pypi login u password {NETRC_PASSWORD}" > /home/airflow/.netrc',
    )
    second = ([F("root/.wh..pypirc")], "rm /root/.pypirc")
    found = by_subject(check(SECRET_IN_IMAGE, tmp_path, image(first, second)))
    assert set(found) == {"/home/airflow/.netrc", "/root/.ssh/id_rsa", "/root/.pypirc"}
    netrc = found["/home/airflow/.netrc"]
    assert netrc.layer == 2 and netrc.evidence["kind"] == ".netrc (login credentials)"
    assert netrc.evidence["mode"] == "0600" and netrc.evidence["readable_by_runtime_user"] is True
    assert found["/root/.ssh/id_rsa"].evidence["kind"] == "private key (SSH identity)"
    pypirc = found["/root/.pypirc"]
    assert pypirc.evidence["in_final_filesystem"] is False and pypirc.evidence["removed_by_layer"] == 3
    for finding in found.values():
        assert NETRC_PASSWORD not in str(finding)


def test_look_alike_files_and_variables_are_not_secrets(tmp_path: Path) -> None:
    entries = [
        F("root/.ssh/id_rsa.pub", b"ssh-rsa AAAA\n"),
        F(f"{SITE}/tornado/test/test.key", b"fixture"),
        F("usr/share/keyrings/vendor.key", b"public"),
        F("opt/airflow/dags/keys.py", b"KEYS = []\n", uid=UID),
    ]
    env = [
        "PATH=/usr/bin:/bin",
        "AIRFLOW_HOME=/opt/airflow",
        "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        "DB_PASSWORD_FILE=/run/secrets/db",
    ]
    assert check(SECRET_IN_IMAGE, tmp_path, image((entries, "install"), Env=env)) == []


def test_file_named_by_google_application_credentials(tmp_path: Path) -> None:
    entries = [F("opt/airflow/creds/gcp.json", b"{}", uid=UID)]
    env = [*pairs_env(), "GOOGLE_APPLICATION_CREDENTIALS=/opt/airflow/creds/gcp.json"]
    finding = only(check(SECRET_IN_IMAGE, tmp_path, image((entries, "copy creds"), Env=env)))
    assert finding.subject == "/opt/airflow/creds/gcp.json"
    assert finding.evidence["kind"] == "GCP credentials (GOOGLE_APPLICATION_CREDENTIALS)"


def pairs_env() -> list[str]:
    return ["PATH=/home/airflow/.local/bin:/usr/bin:/bin", "AIRFLOW_HOME=/opt/airflow"]


# --- layer-waste / cache-left-behind ------------------------------------------------------------------------


def test_bytes_deleted_and_overwritten_by_later_layers(tmp_path: Path) -> None:
    build = (
        [
            F("tmp/build/wheel.whl", b"w" * 10_000),
            F("tmp/build/obj.o", b"o" * 5_000),
            F("opt/airflow/data.bin", b"d" * 8_000, uid=UID),
        ],
        "build",
    )
    clean = ([F("tmp/.wh.build")], "rm -rf /tmp/build")
    chown = ([F("opt/airflow/data.bin", b"d" * 8_000, uid=0)], "chown root /opt/airflow/data.bin")
    found = by_subject(check(LAYER_WASTE, tmp_path, image(build, clean, chown)))
    assert set(found) == {"/tmp/build", "/opt/airflow/data.bin"}
    removed = found["/tmp/build"]
    assert (removed.severity, removed.layer) == (Severity.LOW, 3)
    assert (removed.evidence["bytes"], removed.evidence["files"]) == (15_000, 2)
    (pair,) = removed.evidence["wasted"]
    assert (pair["layer_added"], pair["layer_removed"], pair["how"]) == (2, 3, ["deleted"])
    assert pair["removed_by"] == "RUN rm -rf /tmp/build"
    assert pair["largest"][0] == {"path": "/tmp/build/wheel.whl", "size": 10_000}
    overwritten = found["/opt/airflow/data.bin"]
    assert overwritten.evidence["wasted"][0]["how"] == ["overwritten"] and overwritten.layer == 4


def test_no_waste_for_small_files_or_base_files(tmp_path: Path) -> None:
    small = ([F("tmp/stamp", b"x" * 100)], "touch /tmp/stamp")
    clean = ([F("tmp/.wh.stamp"), F(".wh.entrypoint")], "rm /tmp/stamp /entrypoint")
    assert check(LAYER_WASTE, tmp_path, image(small, clean)) == []


def test_caches_left_behind_one_finding_per_directory(tmp_path: Path) -> None:
    entries = [
        F(
            "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
            b"p" * 3000,
        ),
        F("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", b"r" * 1000),
        F("var/lib/apt/lists/lock", b""),
        F("var/cache/apt/archives/curl_7.88_amd64.deb", b"c" * 2000),
        F("root/.cache/pip/http-v2/a/b/c", b"h" * 500),
    ]
    found = by_subject(
        check(CACHE_LEFT_BEHIND, tmp_path, image((entries, "apt-get update && apt-get install curl")))
    )
    assert set(found) == {"/var/lib/apt/lists", "/var/cache/apt/archives", "/root/.cache/pip"}
    lists = found["/var/lib/apt/lists"]
    assert (lists.severity, lists.layer) == (Severity.LOW, 2)
    assert (lists.evidence["files"], lists.evidence["bytes"]) == (2, 4000)  # the lock is not cache
    assert found["/root/.cache/pip"].evidence["kind"] == "pip cache"


def test_cleaned_caches_are_not_left_behind(tmp_path: Path) -> None:
    entries = [
        F("var/lib/apt/lists/", kind="dir"),
        F("var/lib/apt/lists/lock", b""),
        F("var/lib/apt/lists/partial/", kind="dir", mode=0o700),
        F("usr/bin/curl", b"\x7fELF curl", mode=0o755),
    ]
    assert (
        check(CACHE_LEFT_BEHIND, tmp_path, image((entries, "apt-get install curl && rm -rf lists/*"))) == []
    )
