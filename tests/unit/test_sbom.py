from __future__ import annotations

import json
from pathlib import Path

import pytest

from layerdiff.diff.packages import diff_packages
from layerdiff.errors import ToolError
from layerdiff.index.cache import IndexCache
from layerdiff.sbom import syft as syft_runner
from layerdiff.sbom.cyclonedx import read_cyclonedx
from layerdiff.sbom.jobs import SbomJobs
from layerdiff.sbom.model import SbomPackage
from layerdiff.sbom.syft import find_syft, scan
from layerdiff.sources.transports import open_source, parse_ref
from tests.support import pairs
from tests.support.cli import assert_one_line_error, run
from tests.support.imagebuilder import write_oci_archive, write_oci_layout


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    return write_oci_layout(tmp_path / "layout", {"base": pairs.base_image(), "pin": pairs.pinned_requests()})


def test_real_syft_finds_the_downgrade_and_its_layer(layout: Path, tmp_path: Path) -> None:
    result = run(
        "diff",
        f"oci:{layout}:base",
        f"oci:{layout}:pin",
        "--format",
        "json",
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert result.code == 0, result.stderr
    packages = json.loads(result.stdout)["packages"]
    assert packages["sbom_tool"].startswith("syft ")
    (change,) = packages["changes"]
    assert (change["type"], change["name"], change["kind"], change["layer"]) == (
        "pypi",
        "requests",
        "downgraded",
        2,
    )
    assert (change["before"]["version"], change["after"]["version"]) == ("2.31.0", "2.28.1")


def test_sbom_none_skips_syft(layout: Path) -> None:
    result = run(
        "diff",
        f"oci:{layout}:base",
        f"oci:{layout}:pin",
        "--format",
        "json",
        "--no-cache",
        "--sbom",
        "none",
        env={"LAYERDIFF_SYFT": "/nonexistent/syft"},
    )
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["packages"] == {"sbom_tool": None, "changes": []}


def test_missing_syft_is_a_tool_error(layout: Path) -> None:
    result = run(
        "diff",
        f"oci:{layout}:base",
        f"oci:{layout}:pin",
        "--no-cache",
        env={"LAYERDIFF_SYFT": "/nonexistent/syft"},
    )
    assert_one_line_error(result, 4, "is not a working syft")


def test_syft_cannot_pick_a_tag_inside_an_oci_archive(tmp_path: Path) -> None:
    archive = write_oci_archive(
        tmp_path / "two.tar", {"base": pairs.base_image(), "pin": pairs.pinned_requests()}, tmp_path
    )
    result = run("diff", f"oci-archive:{archive}:base", f"oci-archive:{archive}:pin", "--no-cache")
    assert_one_line_error(result, 4, "cannot pick tag 'base' inside an OCI archive")


def test_sboms_are_cached_by_image_id(layout: Path, tmp_path: Path) -> None:
    cache = IndexCache(tmp_path / "cache")
    ref = parse_ref(f"oci:{layout}:pin")
    snapshot = open_source(ref).snapshot()
    first = SbomJobs(find_syft(), cache, None)
    first.start(ref, snapshot)
    packages = first.packages(snapshot)
    first.close()
    assert cache.get_sbom(snapshot.image_id, first.cache_key) is not None
    assert first.cache_key == f"{first.tool}; SYFT_FILE_METADATA_SELECTION=none"  # the settings it ran with
    second = SbomJobs(find_syft(), cache, None)
    second.start(ref, snapshot)
    assert second.packages(snapshot) == packages  # served from the cache: no scan was started
    assert second._pool._work_queue.qsize() == 0 and not second._pool._threads
    second.close()
    assert not list((tmp_path / "cache" / "tmp").iterdir())  # syft's scratch space is gone


def test_reader_takes_syft_cyclonedx(layout: Path) -> None:
    document = scan(find_syft(), parse_ref(f"oci:{layout}:pin"), None, None)
    (package,) = [p for p in read_cyclonedx(document, "test") if p.name == "requests"]
    assert package.purl == "pkg:pypi/requests@2.28.1" and package.layers and package.paths
    assert package.key == ("pypi", "requests", "", "/home/airflow/.local/lib/python3.11/site-packages")


def test_scans_without_file_catalogers_find_the_same_packages(
    layout: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ref = parse_ref(f"oci:{layout}:pin")
    lean = scan(find_syft(), ref, None, None)
    monkeypatch.setattr(syft_runner, "SCAN_SETTINGS", {})  # syft as its defaults have it
    plain = scan(find_syft(), ref, None, None)
    packages = read_cyclonedx(lean, "lean")
    assert packages == read_cyclonedx(plain, "plain")
    assert any(p.name == "requests" and p.layers and p.paths for p in packages)


def test_a_document_cached_under_other_syft_settings_is_not_used(layout: Path, tmp_path: Path) -> None:
    cache = IndexCache(tmp_path / "cache")
    ref = parse_ref(f"oci:{layout}:pin")
    snapshot = open_source(ref).snapshot()
    jobs = SbomJobs(find_syft(), cache, None)
    cache.put_sbom(snapshot.image_id, jobs.tool, "not the document of these settings")
    jobs.start(ref, snapshot)
    assert any(p.name == "requests" for p in jobs.packages(snapshot))  # scanned, not read from the cache
    jobs.close()


def _package(name: str, version: str, layer: str, where: str = "", kind: str = "deb") -> SbomPackage:
    return SbomPackage(
        f"pkg:{kind}/{name}@{version}", kind, name, version, (kind, name, "", where), (layer,), ()
    )


def test_classification() -> None:
    base = [
        _package("libc6", "2.36-9+deb12u3", "L0"),
        _package("curl", "7.88.1-10", "L0"),
        _package("bash", "5.2.15-2", "L0"),
        _package("tzdata", "2024a-0", "L0"),
    ]
    derived = [
        _package("libc6", "2.36-9+deb12u4", "L1"),
        _package("bash", "5.2.15-2", "L1"),
        _package("tzdata", "2024a-0", "L0"),
        _package("jq", "1.6-2.1", "L1"),
        _package("requests", "2.28.1", "L1", "/usr/local/lib/python3.11/dist-packages", "pypi"),
    ]
    changes = {
        (c.name, c.kind, c.layer) for c in diff_packages(base, derived, {"L0": 0, "L1": 1}, first_reviewed=1)
    }
    assert changes == {
        ("libc6", "upgraded", 1),
        ("curl", "removed", None),
        ("bash", "rebuilt", 1),
        ("jq", "added", 1),
        ("requests", "added", 1),
    }


def test_a_rewritten_shared_database_does_not_make_every_package_rebuilt() -> None:
    from packageurl import PackageURL

    from layerdiff.sbom.model import sbom_package

    def deb(name: str, own_layer: str, status_layer: str) -> SbomPackage:
        purl = PackageURL(
            type="deb", namespace="debian", name=name, version="1.0", qualifiers={"arch": "amd64"}
        )
        return sbom_package(
            purl,
            [("/var/lib/dpkg/status", status_layer), (f"/var/lib/dpkg/info/{name}.list", own_layer)],
        )

    # `dpkg --purge other` in L1 rewrote the status file every package lists as evidence
    base = [deb("adduser", "L0", "L0"), deb("other", "L0", "L0")]
    derived = [deb("adduser", "L0", "L1")]
    assert derived[0].layers == ("L0",)
    changes = {(c.name, c.kind) for c in diff_packages(base, derived, {"L0": 0, "L1": 1}, first_reviewed=1)}
    assert changes == {("debian/other", "removed")}


def test_syft_documents_read_as_plain_json_give_the_library_packages(layout: Path) -> None:
    from layerdiff.sbom import cyclonedx

    document = json.loads(scan(find_syft(), parse_ref(f"oci:{layout}:pin"), None, None))
    plain = cyclonedx._syft_packages(json.loads(json.dumps(document)))
    assert plain is not None and plain == cyclonedx._library_packages(document, "library")
    assert any(p.name == "requests" for p in plain)


def _syft_document(*components: dict[str, object]) -> dict[str, object]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "name": "syft", "version": "1"}]}},
        "components": list(components),
    }


def _pypi(version: str, path: str, ref: str) -> dict[str, object]:
    return {
        "bom-ref": ref,
        "type": "library",
        "name": "requests",
        "version": version,
        "purl": f"pkg:pypi/requests@{version}",
        "properties": [
            {"name": "syft:location:0:path", "value": path},
            {"name": "syft:location:0:layerID", "value": f"sha256:{ref}"},
        ],
    }


def test_packages_whose_order_the_library_decides_are_read_by_the_library() -> None:
    from layerdiff.sbom import cyclonedx

    site = "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"
    tied = _syft_document(_pypi("2.31.0", site, "b"), _pypi("2.31.0", site, "a"))
    assert cyclonedx._syft_packages(json.loads(json.dumps(tied))) is None  # same key and version twice
    read = read_cyclonedx(json.dumps(tied), "tied")
    assert read == cyclonedx._library_packages(tied, "tied") and len(read) == 2
    distinct = _syft_document(_pypi("2.31.0", site, "b"), _pypi("2.28.1", site, "a"))
    assert cyclonedx._syft_packages(json.loads(json.dumps(distinct))) == read_cyclonedx(
        json.dumps(distinct), "distinct"
    )
    other = {**distinct, "metadata": {"tools": {"components": [{"type": "application", "name": "trivy"}]}}}
    assert cyclonedx._syft_packages(other) is None  # another producer: the library reads it


def test_a_syft_document_with_an_invalid_purl_is_refused_as_the_library_refuses_it() -> None:
    broken = _syft_document({**_pypi("1", "/x", "a"), "purl": "not a purl"})
    with pytest.raises(ToolError, match="not a CycloneDX JSON document"):
        read_cyclonedx(json.dumps(broken), "broken")
