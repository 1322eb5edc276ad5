"""Reports far larger than a review of real images gives, built directly as the typed model (in well under a
second), for the renderers' size bounds: the saved example report with its lists replaced."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from layerdiff.report.wire import (
    ConfigChange,
    EntryState,
    FileChange,
    FileChangeCounts,
    Finding,
    Report,
    SeverityCounts,
)
from layerdiff.report.wire_inventory import LostDistribution, OsPackageChange
from layerdiff.rules.severity import Severity

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "review" / "example.json"
KINDS = ("added", "removed", "modified", "metadata")
# 500 findings: how many of each severity, most severe first
SEVERITY_MIX = {"critical": 5, "high": 45, "medium": 100, "low": 250, "info": 100}
# Text that escaping makes longest, characters outside the BMP (two UTF-16 units each), and Markdown and
# HTML syntax that must stay text.
HOSTILE_TEXT = "<details>&|`@x](javascript:alert(1))\n\U0001f600*_~\\"


def example_report() -> Report:
    return Report.from_json(json.loads(EXAMPLE.read_text()))


def long_text(length: int, serial: int) -> str:
    """``length`` characters, distinct per ``serial``."""
    unit = f"{serial}:{HOSTILE_TEXT}"
    return (unit * (length // len(unit) + 1))[:length]


def severities(mix: dict[str, int] = SEVERITY_MIX, seed: int = 0) -> list[str]:
    """The mix's severities in a shuffled order: the renderer must sort them itself."""
    found = [severity for severity, count in mix.items() for _ in range(count)]
    random.Random(seed).shuffle(found)
    return found


def findings(template: Finding, levels: Sequence[str], text_length: int = 0) -> tuple[Finding, ...]:
    """A finding per severity of ``levels``, each with its own subject and fingerprint; with
    ``text_length``, its subject, message, fix and instruction are that long."""
    made = []
    for serial, severity in enumerate(levels):
        subject = long_text(text_length, serial) if text_length else f"/opt/app/file-{serial}"
        made.append(
            dataclasses.replace(
                template,
                severity=severity,
                subject=subject,
                fingerprint=f"{serial:032x}",
                message=long_text(text_length, serial) if text_length else template.message,
                remediation=long_text(text_length, serial) if text_length else template.remediation,
                instruction=long_text(text_length, serial) if text_length else template.instruction,
            )
        )
    return tuple(made)


def file_changes(count: int, layers: Sequence[int | None]) -> tuple[FileChange, ...]:
    """``count`` changes, spread over ``layers`` and the four kinds; entry states are shared."""
    before = EntryState("file", "0644", 0, 0, 10, None, "ab" * 32, ())
    after = dataclasses.replace(before, size=20, sha256="cd" * 32)
    states = {"added": (None, after), "removed": (before, None), "modified": (before, after)}
    states["metadata"] = (before, dataclasses.replace(before, mode="0755"))
    changes = []
    for serial in range(count):
        kind = KINDS[serial % len(KINDS)]
        old, new = states[kind]
        fields = () if kind in ("added", "removed") else ("sha256", "size")
        changes.append(
            FileChange(f"/srv/f{serial:07d}", kind, layers[serial % len(layers)], fields, old, new)
        )
    return tuple(changes)


def with_findings(report: Report, found: tuple[Finding, ...], fail_on: str | None = "high") -> Report:
    """``report`` with ``found`` as its findings and a verdict that agrees with them."""
    counts = Counter(finding.severity for finding in found)
    failing = sum(1 for f in found if Severity.parse(f.severity) >= Severity.parse(fail_on)) if fail_on else 0
    status = "fail" if failing else ("review" if counts["critical"] + counts["high"] else "pass")
    verdict = dataclasses.replace(
        report.verdict,
        fail_on=fail_on,
        status=status,
        failing=failing,
        counts=SeverityCounts(*(counts[s.label] for s in sorted(Severity, reverse=True))),
        waived=0,
    )
    return dataclasses.replace(report, findings=found, verdict=verdict)


def big_report(
    *,
    files: int = 100_000,
    levels: Sequence[str] | None = None,
    packages: int = 5_000,
    config: int = 100,
    warnings: int = 100,
    text_length: int = 0,
) -> Report:
    """The example report grown: ``files`` file changes, a finding per severity of ``levels`` (500 by
    default), ``packages`` OS package changes, ``config`` ENV changes, ``warnings`` warnings, and 200
    distributions lost; with ``text_length``, every text a renderer shows is that long."""
    report = example_report()

    def text(serial: int, short: str) -> str:
        return long_text(text_length, serial) if text_length else short

    # a finding of the example whose message is of an ordinary length (about 190 characters)
    template = next(f for f in report.findings if f.rule == "runtime-user-lost-write")
    found = findings(template, severities() if levels is None else levels, text_length)
    changes = file_changes(files, [3, 4, 5, None])
    os_packages = tuple(
        OsPackageChange("deb", text(i, f"lib{i}"), "amd64", "upgraded", text(i, "1.0"), text(i, "2.0"))
        for i in range(packages)
    )
    lost = tuple(
        LostDistribution("/usr/bin/python3.11", text(i, f"dist{i}"), "1.0", "/site", "removed", None)
        for i in range(200)
    )
    env = tuple(
        ConfigChange(
            "Env", text(i, f"VAR_{i}"), text(i, "old"), text(i, "new"), 7, text(i, f"ENV VAR_{i}=new")
        )
        for i in range(config)
    )
    inventory = report.inventory
    python = dataclasses.replace(inventory.python, lost=lost)
    inventory = dataclasses.replace(
        inventory,
        python=python,
        os_packages=dataclasses.replace(inventory.os_packages, changes=os_packages),
    )
    kinds = Counter(change.kind for change in changes)
    summary = dataclasses.replace(
        report.summary,
        file_changes=FileChangeCounts(*(kinds[kind] for kind in KINDS)),
        config_changes=len(env),
    )
    derived = dataclasses.replace(report.derived, reference=text(0, report.derived.reference))
    grown = dataclasses.replace(
        report,
        derived=derived,
        file_changes=changes,
        config_changes=env,
        inventory=inventory,
        summary=summary,
        warnings=tuple(text(i, f"warning {i}") for i in range(warnings)),
    )
    return with_findings(grown, found)
