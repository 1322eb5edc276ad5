"""Build the report from a diff. Sorted and free of timestamps, so equal inputs give equal bytes; every string
of it passes the boundary (layerdiff.report.boundary) last."""

from __future__ import annotations

import json
from collections import Counter
from functools import partial
from importlib import resources
from typing import Any

from layerdiff import __version__
from layerdiff.diff.changes import FileChange, ImageDiff, LayerInfo
from layerdiff.diff.files import change_kinds_and_layers
from layerdiff.image.model import Entry, ImageSnapshot
from layerdiff.image.paths import display
from layerdiff.lazy_sequence import MappedSequence
from layerdiff.policy import DEFAULT_FAIL_ON, PolicyOutcome
from layerdiff.policy import Waiver as PolicyWaiver
from layerdiff.report import wire
from layerdiff.report.boundary import clean_report
from layerdiff.report.codec import copy_json
from layerdiff.report.dockerfile_map import locate
from layerdiff.report.inventory import inventory_section, packages_section
from layerdiff.report.json_text import report_text
from layerdiff.report.wire import (
    Comparison,
    DockerfileMap,
    EntryState,
    FileChangeCounts,
    Finding,
    ImageSummary,
    Inspection,
    PolicyInfo,
    Report,
    ReviewedLayer,
    SeverityCounts,
    Summary,
    Tool,
    Verdict,
    Waiver,
)
from layerdiff.rules.model import Finding as RuleFinding
from layerdiff.rules.severity import Severity
from layerdiff.text.redaction import Redactor

SCHEMA_VERSION = "2.0.0"
INSPECT_SCHEMA_VERSION = "1.6.0"  # `inspect`'s output did not change with the report's 2.0
TOOL = Tool("layerdiff", __version__)


def load_schema(name: str = "report") -> dict[str, Any]:
    """The JSON Schema of the ``report`` (diff) or ``inspect`` output."""
    text = resources.files("layerdiff.report").joinpath(f"{name}.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def build_report(
    base: ImageSnapshot,
    derived: ImageSnapshot,
    diff: ImageDiff,
    outcome: PolicyOutcome | None = None,
    policy: PolicyInfo | None = None,
    dockerfile: DockerfileMap | None = None,
    warnings: tuple[str, ...] = (),
) -> Report:
    """``outcome``: the findings after the policy (none when rules were not run); ``dockerfile``: where the
    derived image's history entries are in its Dockerfile, when the review was given it; ``warnings``: the
    review's own, after the diff's."""
    counts: Counter[str] = Counter()
    per_layer: Counter[int | None] = Counter()
    for kind, layer in change_kinds_and_layers(diff.file_changes):
        counts[kind.value] += 1
        per_layer[layer] += 1
    reviewed = [layer for layer in diff.derived_layers if layer.position >= _first_reviewed(diff)]
    shared: dict[Any, Any] = {}
    report = Report(
        schema_version=SCHEMA_VERSION,
        tool=TOOL,
        base=ImageSummary.from_json(image_summary(base, diff.base_layers)),
        derived=ImageSummary.from_json(image_summary(derived, diff.derived_layers)),
        comparison=Comparison(
            shared_layers=diff.shared_layers,
            extends_base=diff.extends_base,
            reviewed_layers=tuple(
                ReviewedLayer.from_attributes(
                    layer, entries=layer.entry_count, file_changes=per_layer.get(layer.position, 0)
                )
                for layer in reviewed
            ),
        ),
        summary=Summary(
            FileChangeCounts(*(counts.get(kind, 0) for kind in ("added", "removed", "modified", "metadata"))),
            config_changes=len(diff.config_changes),
        ),
        file_changes=MappedSequence(diff.file_changes, partial(file_change, shared=shared)),
        config_changes=tuple(
            wire.ConfigChange.from_attributes(c, before=copy_json(c.before), after=copy_json(c.after))
            for c in diff.config_changes
        ),
        verdict=verdict(outcome, policy),
        findings=_located(
            tuple(finding_entry(f, outcome.waiver_for(f.fingerprint)) for f in outcome.findings)
            if outcome
            else (),
            dockerfile,
        ),
        inventory=inventory_section(diff.base_inventory, diff.derived_inventory, diff.inventory),
        packages=packages_section(diff.sbom_tool, diff.packages),
        warnings=diff.warnings + warnings,
        dockerfile=dockerfile,
    )
    return clean_report(report, Redactor((base.runtime_config, derived.runtime_config)))


def _located(findings: tuple[Finding, ...], dockerfile: DockerfileMap | None) -> tuple[Finding, ...]:
    return locate(findings, dockerfile) if dockerfile is not None else findings


def _first_reviewed(diff: ImageDiff) -> int:
    return diff.shared_layers if diff.extends_base else 0


def image_summary(image: ImageSnapshot, layers: tuple[LayerInfo, ...]) -> dict[str, Any]:
    config = image.runtime_config
    return {
        "reference": image.reference,
        "image_id": image.image_id,
        "manifest_digest": image.manifest_digest,
        "platform": image.platform,
        "size": sum(layer.size for layer in layers),
        "user": config.get("User") or "",
        "entrypoint": config.get("Entrypoint") or None,
        "cmd": config.get("Cmd") or None,
        "healthcheck": config.get("Healthcheck") or None,
        "layers": [layer_summary(layer) for layer in layers],
    }


def layer_summary(layer: LayerInfo) -> dict[str, Any]:
    return {
        "position": layer.position,
        "diff_id": layer.diff_id,
        "size": layer.size,
        "entries": layer.entry_count,
        "instruction": layer.instruction,
        "created_by": layer.created_by,
    }


def entry_state(entry: Entry | None, shared: dict[Any, Any]) -> EntryState | None:
    """``shared``: one object for each value entries repeat (modes, owners), kept across calls."""
    if entry is None:
        return None
    mode = f"{entry.mode:04o}"
    return EntryState(
        type=entry.type.value,
        mode=shared.setdefault(mode, mode),
        uid=shared.setdefault(entry.uid, entry.uid),
        gid=shared.setdefault(entry.gid, entry.gid),
        size=entry.size,
        link=display(entry.link) if entry.link is not None else None,
        sha256=entry.sha256,
        xattrs=entry.xattrs,
    )


def file_change(change: FileChange, shared: dict[Any, Any]) -> wire.FileChange:
    shown = display(change.path)
    return wire.FileChange(
        path=shown,
        kind=change.kind.value,
        layer=change.layer,
        fields=shared.setdefault(change.fields, change.fields),
        before=entry_state(change.before, shared),
        after=entry_state(change.after, shared),
        path_hex=change.path.encode("utf-8", "surrogateescape").hex() if shown != change.path else None,
    )


def dumps(report: Report | Inspection) -> str:
    """The JSON text of a report (or an inspection): sorted keys, two-space indent (see json_text)."""
    return report_text(report)


def build_inspect(image: ImageSnapshot, layers: tuple[LayerInfo, ...]) -> Inspection:
    """One image on its own: identity, layers and runtime config (``layerdiff inspect``)."""
    config = image.runtime_config
    result = {
        "schema_version": INSPECT_SCHEMA_VERSION,
        "tool": TOOL.to_json(),
        "image": image_summary(image, layers),
        "config": {
            "user": config.get("User") or "",
            "entrypoint": config.get("Entrypoint") or None,
            "cmd": config.get("Cmd") or None,
            "workdir": config.get("WorkingDir") or None,
            "healthcheck": config.get("Healthcheck") or None,
            "env": list(config.get("Env") or []),
            "labels": dict(config.get("Labels") or {}),
            "exposed_ports": sorted(config.get("ExposedPorts") or {}),
            "volumes": sorted(config.get("Volumes") or {}),
        },
    }
    return clean_report(Inspection.from_json(result), Redactor((config,)))


def verdict_status(outcome: PolicyOutcome | None) -> str:
    """``fail``: a finding at or above the threshold is not waived. ``review``: nothing fails, but a finding
    at or above DEFAULT_FAIL_ON is there unwaived (the threshold is `none` or above it), so the verdict
    never says ``pass`` over it. ``pass`` otherwise."""
    if outcome is None:
        return "pass"
    if outcome.fails():
        return "fail"
    unenforced = (
        f.severity >= DEFAULT_FAIL_ON and outcome.waiver_for(f.fingerprint) is None for f in outcome.findings
    )
    return "review" if any(unenforced) else "pass"


def verdict(outcome: PolicyOutcome | None, policy: PolicyInfo | None) -> Verdict:
    findings = outcome.findings if outcome else ()
    counts = Counter(f.severity.label for f in findings)
    failing = outcome.failing() if outcome else ()
    fail_on = outcome.fail_on if outcome else None
    return Verdict(
        fail_on=fail_on.label if fail_on is not None else None,
        status=verdict_status(outcome),
        failing=len(failing),
        counts=SeverityCounts(*(counts.get(s.label, 0) for s in reversed(Severity))),
        waived=len(outcome.waived) if outcome else 0,
        expired_waivers=tuple(_waiver(w) for w in outcome.expired_waivers) if outcome else (),
        policy=policy,
    )


def _waiver(waiver: PolicyWaiver) -> Waiver:
    return Waiver(
        rule=waiver.rule,
        subject=waiver.subject,
        reason=waiver.reason,
        expires=waiver.expires.isoformat() if waiver.expires else None,
    )


def finding_entry(finding: RuleFinding, waiver: PolicyWaiver | None = None) -> Finding:
    from layerdiff.rules.registry import rule_by_id

    rule = rule_by_id(finding.rule)
    return Finding(
        rule=finding.rule,
        severity=finding.severity.label,
        title=rule.title,
        subject=finding.subject,
        message=finding.message,
        evidence=copy_json(finding.evidence),
        layer=finding.layer,
        instruction=finding.instruction,
        remediation=rule.remediation,
        fingerprint=finding.fingerprint,
        doc=rule.doc,
        waived=_waiver(waiver) if waiver else None,
    )
