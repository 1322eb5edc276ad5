"""The review app's table rows, jump targets and overview, built from reports without running the app."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console, RenderableType
from rich.text import Text

from layerdiff.render.units import human_size
from layerdiff.report.wire import ConfigChange, Finding, Report
from layerdiff.report.wire_inventory import (
    Distribution,
    DistributionChange,
    LibraryChange,
    LostDistribution,
    OsPackages,
    Packages,
)
from layerdiff.tui.cells import clip, fit_widths
from layerdiff.tui.links import CONFIG, FILES, LIBRARIES, PACKAGES, PYTHON, best_match, jump_target
from layerdiff.tui.overview import overview
from layerdiff.tui.packages import package_records
from layerdiff.tui.records import config_records, library_records, python_records
from tests.support.example import example_report


@pytest.fixture(scope="module")
def report() -> Report:
    return Report.from_json(example_report())


def jump_finding(rule: str, subject: str) -> Finding:
    """A finding with only what a jump reads: its rule and subject (no evidence)."""
    return Finding(
        rule=rule,
        severity="medium",
        title="",
        subject=subject,
        message="",
        evidence={},
        layer=None,
        instruction=None,
        remediation="",
        fingerprint="0" * 32,
        doc="",
        waived=None,
    )


def with_packages(report: Report, packages: dict[str, Any], os_packages: dict[str, Any]) -> Report:
    """``report`` with these SBOM package changes and OS package database findings, and no Python
    distribution changes (without an SBOM entry they would be package changes too)."""
    python = replace(report.inventory.python, distribution_changes=())
    inventory = replace(report.inventory, os_packages=OsPackages.from_json(os_packages), python=python)
    return replace(report, packages=Packages.from_json(packages), inventory=inventory)


def plain(renderable: RenderableType, width: int = 100) -> str:
    console = Console(width=width, no_color=True, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_overview_shows_verdict_images_and_reviewed_layers(report: Report) -> None:
    text = plain(overview(report))
    assert report.verdict.status == "fail" and text.startswith("FAIL (fail on high)")
    assert all(f"{count} {severity}" in text for severity, count in report.verdict.counts.items())
    assert "docker-archive:" in text and report.derived.image_id[:19] in text
    assert "derived layers after the 3 shared with the base" in text  # the layer list follows, a table
    assert "USER" in text and "HEALTHCHECK" in text
    assert "airflow jobs check (every 30s)" in text  # the check's timing, not only its command
    assert "1 config change;" in text  # singular
    # docker save archives carry no manifest digest; a registry or engine source does.
    assert "digest" not in text
    digested = replace(report, derived=replace(report.derived, manifest_digest="sha256:" + "5" * 64))
    assert re.search(r"(?m)^\s*digest\s+-\s+sha256:555555555555\b", plain(overview(digested)))


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 2_500_000, 3 * 10**9)] == [
        "0 B",
        "999 B",
        "1.0 kB",
        "2.5 MB",
        "3.0 GB",
    ]


def test_python_rows_put_broken_requirements_first(report: Report) -> None:
    records = python_records(report)
    kinds = [record.group for record in records]
    assert kinds[0] == "broken" and "lost" in kinds and kinds.index("lost") > 0
    broken = records[0]
    assert "responses" in broken.keys and "requests" in plain(broken.detail())
    assert "/usr/bin/python3.11:responses" in broken.keys
    downgrade = next(record for record in records if record.group == "downgraded")
    detail = plain(downgrade.detail())
    assert "version: 2.31.0 -> 2.28.1" in detail or "version: 2.0.7 -> 1.26.18" in detail
    assert "location: /home/airflow/.local/lib/python3.11/site-packages\n" in detail and "{" not in detail


def test_config_rows_split_path_entry_by_entry(report: Report) -> None:
    records = config_records(report)
    path = next(record for record in records if "ENV:PATH" in record.keys)
    detail = plain(path.detail())
    assert "+ /opt/airflow/venv/bin" in detail
    assert "  /usr/local/bin" in detail  # kept entries are not marked
    commands = [record for record in records if record.group == "commands"]
    assert {"python3"} <= {key for record in commands for key in record.keys}


def test_package_rows_prefer_syft_and_add_only_what_syft_missed(report: Report) -> None:
    packages = {
        "sbom_tool": "syft 1.0",
        "changes": [
            {
                "type": "deb",
                "name": "debian/libpq5",
                "kind": "removed",
                "before": {"version": "15.5", "purl": "pkg:deb/debian/libpq5@15.5", "paths": []},
                "after": None,
                "layer": 4,
            }
        ],
    }
    os_packages = {
        "changes": [
            {"ecosystem": "deb", "name": "libpq5", "architecture": "amd64", "kind": "removed"}
            | {"before": "15.5", "after": None},
            {"ecosystem": "deb", "name": "curl", "architecture": "amd64", "kind": "added"}
            | {"before": None, "after": "7.88"},
        ],
        "broken_dependencies": [
            {
                "package": "libpq5",
                "version": "15.5",
                "field": "Depends",
                "relation": "libpq5 (>= 15)",
                "reason": "missing",
                "installed": None,
                "detail": "python3-psycopg2 depends on it",
            }
        ],
        "modified_files": [],
    }
    records = package_records(with_packages(report, packages, os_packages))
    assert [(r.cells[0], r.cells[1]) for r in records] == [("deb", "curl"), ("deb", "debian/libpq5")]
    # syft names the package with its namespace, the database without: its problems are on syft's row.
    assert "python3-psycopg2 depends on it" in plain(records[1].detail())
    assert "deb:libpq5" in records[1].keys


def test_without_an_sbom_the_python_environments_changes_are_package_changes(report: Report) -> None:
    # The example report is made with --sbom none: the Packages tab lists what Markdown and CycloneDX list.
    assert report.packages.sbom_tool is None
    records = package_records(report)
    listed = sorted((c.type, c.name) for c in report.package_changes())
    assert listed and [(r.cells[0], r.cells[1]) for r in records] == listed
    requests = next(r for r in records if r.cells[:2] == ("pypi", "requests"))
    assert "pypi:requests" in requests.keys
    detail = plain(requests.detail())
    assert "environment" in detail and "/usr/bin/python3.11" in detail


@pytest.mark.parametrize(
    ("rule", "kind", "name"),
    [("python-distribution-lost", "lost", "requests"), ("python-requirement-broken", "broken", "responses")],
)
def test_python_findings_lead_to_a_row_of_their_kind(report: Report, rule: str, kind: str, name: str) -> None:
    records = python_records(report)
    finding = next(f for f in report.findings if f.rule == rule)
    target = jump_target(finding)
    assert target is not None and target.tab == PYTHON
    row = best_match(target.keys, [record.keys for record in records])
    assert row is not None and (str(records[row].cells[0]), records[row].cells[2]) == (kind, name)


def test_unchanged_packages_with_broken_dependencies_or_changed_files_get_a_row(report: Report) -> None:
    removed = {"ecosystem": "deb", "name": "libpq5", "architecture": "amd64", "kind": "removed"}
    os_packages = {
        "changes": [removed | {"before": "15.5", "after": None}],
        "broken_dependencies": [
            {
                "package": "python3-psycopg2",
                "ecosystem": "deb",
                "version": "2.9.5-1+b1",
                "field": "Depends",
                "relation": "libpq5 (>= 10~~)",
                "reason": "missing",
                "installed": None,
                "detail": "libpq5 (>= 10~~) but it is not installed",
            }
        ],
        "modified_files": [
            {"package": "base-files", "path": "/etc/issue", "conffile": True, "missing": False}
            | {
                "expected_md5": "a" * 32,
                "actual_md5": "b" * 32,
                "dpkg_verify": "??5?????? c /etc/issue",
            }
        ],
    }
    packages: dict[str, Any] = {"sbom_tool": None, "changes": []}
    records = package_records(with_packages(report, packages, os_packages))
    rows = [(r.cells[0], r.cells[1], str(r.cells[2]), r.cells[3], r.cells[4]) for r in records]
    assert rows == [
        ("deb", "base-files", "files changed", "-", "-"),
        ("deb", "libpq5", "removed", "15.5", "-"),
        ("deb", "python3-psycopg2", "broken", "2.9.5-1+b1", "2.9.5-1+b1"),
    ]
    detail = plain(records[2].detail())
    assert "broken dependencies" in detail and "libpq5 (>= 10~~) but it is not installed" in detail
    assert "??5?????? c /etc/issue" in plain(records[0].detail())
    # The finding about the broken dependency leads to the package that has it, not to libpq5.
    target = jump_target(jump_finding("os-package-dependency-broken", "deb:python3-psycopg2:libpq5"))
    assert target is not None and target.tab == PACKAGES
    assert best_match(target.keys, [record.keys for record in records]) == 2


def test_library_rows(report: Report) -> None:
    change = {
        "object": "/usr/lib/x/_psycopg.so",
        "soname": "libpq.so.5",
        "kind": "unresolved",
        "before": {"path": "/usr/lib/libpq.so.5", "real_path": None, "via": "default", "sha256": None},
        "after": {"path": None, "real_path": None, "via": "not found", "sha256": None},
    }
    libraries = (LibraryChange.from_json(change),)
    report = replace(report, inventory=replace(report.inventory, libraries=libraries))
    (record,) = library_records(report)
    assert record.cells[3] == "/usr/lib/libpq.so.5" and record.cells[4] == "-"
    assert "/usr/lib/x/_psycopg.so:libpq.so.5" in record.keys
    assert "resolves to" in plain(record.detail())


@pytest.mark.parametrize(
    ("rule", "subject", "tab", "first_key", "paths"),
    [
        ("runtime-user-lost-write", "/opt/airflow/logs", FILES, "/opt/airflow/logs", ("/opt/airflow/logs",)),
        (
            "package-downgraded",
            "pypi:requests:/home/a/site",
            PACKAGES,
            "pypi:requests:/home/a/site",
            ("/home/a/site",),
        ),
        (
            "library-unresolved",
            "/usr/lib/x.so:libpq.so.5",
            LIBRARIES,
            "/usr/lib/x.so:libpq.so.5",
            ("/usr/lib/x.so",),
        ),
        (
            "python-requirement-broken",
            "/usr/bin/python3.11:responses:requests",
            PYTHON,
            "broken:/usr/bin/python3.11:responses",
            None,
        ),
        ("secret-in-image", "ENV:AWS_SECRET_ACCESS_KEY", CONFIG, "ENV:AWS_SECRET_ACCESS_KEY", ()),
        ("path-command-shadowed", "python3", CONFIG, "python3", ()),
    ],
)
def test_jump_targets(
    rule: str, subject: str, tab: str, first_key: str | None, paths: tuple[str, ...] | None
) -> None:
    target = jump_target(jump_finding(rule, subject))
    assert target is not None and target.tab == tab
    assert target.keys[0] == (first_key or subject)
    if paths is not None:
        assert target.paths == paths


def test_an_unknown_rule_has_no_jump() -> None:
    assert jump_target(jump_finding("from-the-future", "x")) is None


def test_best_match_prefers_the_row_naming_most_candidates() -> None:
    rows = [frozenset({"requests"}), frozenset({"requests", "pypi:requests"}), frozenset({"urllib3"})]
    assert best_match(("pypi:requests", "requests"), rows) == 1
    assert best_match(("urllib3",), rows) == 2
    assert best_match(("six",), rows) is None


def test_clip_shortens_paths_in_the_middle() -> None:
    # the start says where it is, the end what it is: a suffix alone loses the first
    path = "/home/airflow/.local/lib/python3.11/site-packages/requests/adapters.py"
    assert clip(path, 31) == "/home/airf…requests/adapters.py"
    subject = "pypi:requests:/home/airflow/.local/lib/python3.11/site-packages"
    assert clip(subject, 32) == "pypi:requests:/home…ite-packages"
    sentence = "requests 2.31.0 at /usr/lib/python3/dist-packages no longer imports"
    assert clip(sentence, 30) == sentence[:29] + "…"  # a sentence keeps its start
    assert all(len(clip(path, width)) == width for width in range(1, len(path)))
    assert clip("short") == "short"
    assert clip("x" * 60, 10) == "x" * 9 + "…"


def test_clip_keeps_the_start_of_search_paths_and_cuts_styled_cells() -> None:
    # PATH's first entries decide what runs, so they are what a narrow column must keep.
    assert clip("/opt/venv/bin:/usr/local/bin:/usr/bin:/bin", 16) == "/opt/venv/bin:/…"
    assert clip("/usr/bin/python3.11:responses:requests", 16) == "/usr/…s:requests"
    cut = clip(Text("python-requirement-broken", style="red"), 10)
    assert isinstance(cut, Text) and cut.plain == "python-re…" and cut.style == "red"


def test_fit_widths_narrows_the_widest_columns_first() -> None:
    assert fit_widths([6, 8, 27, 48, 5], 200) == [6, 8, 27, 48, 5]
    fitted = fit_widths([6, 8, 27, 48, 5], 68)
    assert fitted == [6, 8, 24, 24, 5] and sum(fitted) <= 68
    assert fit_widths([6, 8, 27, 48, 5], 60) == [6, 8, 20, 20, 5]
    # Too narrow for everything: no column goes below the minimum (or its own smaller width).
    assert fit_widths([6, 30, 30], 10) == [6, 8, 8]


def test_only_search_paths_are_split_at_colons(report: Report) -> None:
    change = {"field": "Env", "history_index": 3, "instruction": "ENV DB=postgresql://db:5432/airflow"}
    config = ConfigChange.from_json(
        change | {"key": "DB", "before": None, "after": "postgresql://db:5432/airflow"}
    )
    inventory = replace(report.inventory, commands=())
    report = replace(report, config_changes=(config,), inventory=inventory)
    (record,) = config_records(report)
    detail = plain(record.detail())
    assert "postgresql://db:5432/airflow" in detail and "entries, in search order" not in detail


def test_an_uninstalled_distribution_is_one_python_row(report: Report) -> None:
    """Lost because uninstalled is one row that says so, not also a removed row; a hidden one is only lost."""
    python = report.inventory.python
    environment = python.environments[0].key
    site = "/usr/lib/python3/dist-packages"
    gone = LostDistribution(environment, "six", "1.16.0", site, "removed", None)
    # lost to python3 on PATH, and its environment gone from the image with it
    moved = LostDistribution(environment, "idna", "3.6", site, "hidden", "python3 on PATH")
    removals = tuple(
        DistributionChange(environment, name, "removed", Distribution(name, version, site), None)
        for name, version in (("six", "1.16.0"), ("idna", "3.6"))
    )
    changed = replace(
        python,
        lost=(*python.lost, gone, moved),
        distribution_changes=(*python.distribution_changes, *removals),
    )
    records = python_records(replace(report, inventory=replace(report.inventory, python=changed)))
    for name in ("six", "idna"):
        rows = [record for record in records if name in record.keys]
        assert [record.group for record in rows] == ["lost"]
        assert "no longer imports (uninstalled)" in plain(rows[0].detail())
    assert len(records) == len(python.lost) + 2 + len(python.unsatisfied) + len(python.distribution_changes)
    hidden = [record for record in records if record.group == "lost" and not {"six", "idna"} & record.keys]
    assert hidden and all("(hidden)" in plain(record.detail()) for record in hidden)
    assert not [record for record in records if record.group == "removed"]
