"""entrypoint-provider-changed: the distribution or OS package providing what the image runs changed
version; one finding for that package, which the package rules then leave out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerdiff.inventory.providers import launched_programs
from layerdiff.rules.launch import entrypoint_provider_changed
from layerdiff.rules.packages import package_downgraded
from layerdiff.rules.severity import Severity
from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.rules import diff_context, findings

UID = pairs.AIRFLOW_UID
SITE = pairs.SITE
SCRIPT = "/home/airflow/.local/bin/normalizer"
HEALTHCHECK = {"Test": ["CMD", "normalizer", "--version"], "Interval": 30_000_000_000}


def charset_normalizer(version: str) -> list[F]:
    """What `pip install --user charset-normalizer==VERSION` writes: metadata, RECORD, a console script."""
    info = f"{SITE}/charset_normalizer-{version}.dist-info"
    record = (
        f"charset_normalizer/__init__.py,,\n{info.rsplit('/', 1)[1]}/METADATA,,\n"
        f"{info.rsplit('/', 1)[1]}/RECORD,,\n../../../bin/normalizer,sha256=x,60\n"
    )
    return [
        F(f"{info}/METADATA", f"Name: charset-normalizer\nVersion: {version}\n".encode(), uid=UID),
        F(f"{info}/RECORD", record.encode(), uid=UID),
        F(f"{SITE}/charset_normalizer/__init__.py", f"__version__ = '{version}'\n".encode(), uid=UID),
        F(SCRIPT.lstrip("/"), f"#!/usr/bin/python3\n# {version}\n".encode(), mode=0o755, uid=UID),
    ]


def images(**config: Any) -> tuple[Image, Image]:
    base = pairs.base_image()
    assert base.history is not None
    settings = {**base.config, **config}
    installed = Image(
        layers=[*base.layers, layer_tar(charset_normalizer("3.3.2"))],
        config=settings,
        history=[*base.history, {"created_by": "/bin/sh -c pip install --user charset-normalizer==3.3.2"}],
    )
    assert installed.history is not None
    downgrade = layer_tar([F(f"{SITE}/.wh.charset_normalizer-3.3.2.dist-info"), *charset_normalizer("2.1.1")])
    derived = Image(
        layers=[*installed.layers, downgrade],
        config=settings,
        history=[
            *installed.history,
            {"created_by": "/bin/sh -c pip install --user charset-normalizer==2.1.1"},
        ],
    )
    return installed, derived


def test_the_healthchecks_console_script_from_a_downgraded_distribution(tmp_path: Path) -> None:
    context = diff_context(tmp_path, *images(Healthcheck=HEALTHCHECK))
    (finding,) = findings(entrypoint_provider_changed, context)
    assert finding.severity is Severity.MEDIUM
    assert finding.subject == f"pypi:charset-normalizer:/{SITE}"
    (program,) = finding.evidence["programs"]
    assert (program["used_by"], program["word"], program["command_v"]) == (
        "HEALTHCHECK",
        "normalizer",
        SCRIPT,
    )
    assert program["before"]["version"] == "3.3.2" and program["after"]["version"] == "2.1.1"
    assert program["after"]["listed_in"] == f"/{SITE}/charset_normalizer-2.1.1.dist-info/RECORD"
    assert (finding.evidence["before"], finding.evidence["after"]) == ("3.3.2", "2.1.1")
    assert finding.evidence["version_change"]["removed"]["files_removed"] == 2  # the old METADATA and RECORD
    assert finding.message == (
        "The image runs another normalizer than its base: HEALTHCHECK's normalizer now comes from pypi "
        "package charset-normalizer 2.1.1, not 3.3.2 (downgraded) as in the base."
    )
    assert finding.layer == 3 and finding.instruction == "RUN pip install --user charset-normalizer==2.1.1"
    # one cause, one finding: the downgrade is not package-downgraded's too
    assert findings(package_downgraded, context) == []


def test_the_provider_is_the_distribution_whose_record_lists_the_script(tmp_path: Path) -> None:
    context = diff_context(tmp_path, *images(Healthcheck=HEALTHCHECK))
    inventory, files = context.diff.derived_inventory, context.diff.derived_files
    by_word = {p.word: p for p in launched_programs(inventory, files)}
    assert by_word["normalizer"].provider is not None
    assert by_word["normalizer"].provider.version == "2.1.1"
    assert by_word["/entrypoint"].provider is None  # copied into the image: no package lists it


def test_a_downgrade_the_image_does_not_run_is_package_downgraded(tmp_path: Path) -> None:
    context = diff_context(tmp_path, *images())
    assert findings(entrypoint_provider_changed, context) == []
    (downgrade,) = findings(package_downgraded, context)
    assert downgrade.subject == f"pypi:charset-normalizer:/{SITE}"


def test_a_program_no_package_provides_has_no_provider_change(tmp_path: Path) -> None:
    base, derived = images(Healthcheck={"Test": ["CMD", "/entrypoint"]})
    assert findings(entrypoint_provider_changed, diff_context(tmp_path, base, derived)) == []
