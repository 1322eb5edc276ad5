"""Build the JSON report from a diff. Sorted and free of timestamps, so equal inputs give equal bytes."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from typing import Any

from layerdiff import __version__
from layerdiff.diff.changes import ConfigChange, FileChange, ImageDiff, LayerInfo
from layerdiff.index.paths import display
from layerdiff.model import Entry, ImageSnapshot
from layerdiff.policy import PolicyOutcome, Waiver
from layerdiff.report.inventory import inventory_section, packages_section
from layerdiff.report.redact import Redactor, redact_inspect, redact_report
from layerdiff.rules.model import Finding, Severity

SCHEMA_VERSION = "1.3.0"


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
) -> dict[str, Any]:
    """``outcome``: the findings after the policy (none when rules were not run)."""
    reviewed = [layer for layer in diff.derived_layers if layer.position >= _first_reviewed(diff)]
    counts = Counter(change.kind.value for change in diff.file_changes)
    per_layer = Counter(change.layer for change in diff.file_changes)
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "layerdiff", "version": __version__},
        "base": image_summary(base, diff.base_layers),
        "derived": image_summary(derived, diff.derived_layers),
        "comparison": {
            "shared_layers": diff.shared_layers,
            "extends_base": diff.extends_base,
            "reviewed_layers": [
                {**layer_summary(layer), "file_changes": per_layer.get(layer.position, 0)}
                for layer in reviewed
            ],
        },
        "summary": {
            "file_changes": {
                kind: counts.get(kind, 0) for kind in ("added", "removed", "modified", "metadata")
            },
            "config_changes": len(diff.config_changes),
        },
        "file_changes": [file_change(change) for change in diff.file_changes],
        "config_changes": [config_change(change) for change in diff.config_changes],
        "verdict": verdict(outcome, policy),
        "findings": [finding_entry(f, outcome.waiver_for(f.fingerprint)) for f in outcome.findings]
        if outcome
        else [],
        "inventory": inventory_section(diff.base_inventory, diff.derived_inventory, diff.inventory),
        "packages": packages_section(diff.sbom_tool, diff.packages),
        "warnings": list(diff.warnings),
    }
    return redact_report(report, Redactor((base.runtime_config, derived.runtime_config)))


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


def entry_state(entry: Entry | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {
        "type": entry.type.value,
        "mode": f"{entry.mode:04o}",
        "uid": entry.uid,
        "gid": entry.gid,
        "size": entry.size,
        "link": display(entry.link) if entry.link is not None else None,
        "sha256": entry.sha256,
        "xattrs": dict(entry.xattrs),
    }


def file_change(change: FileChange) -> dict[str, Any]:
    shown = display(change.path)
    item: dict[str, Any] = {
        "path": shown,
        "kind": change.kind.value,
        "layer": change.layer,
        "fields": list(change.fields),
        "before": entry_state(change.before),
        "after": entry_state(change.after),
    }
    if shown != change.path:
        item["path_hex"] = change.path.encode("utf-8", "surrogateescape").hex()
    return item


def config_change(change: ConfigChange) -> dict[str, Any]:
    return {
        "field": change.field,
        "key": change.key,
        "before": change.before,
        "after": change.after,
        "history_index": change.history_index,
        "instruction": change.instruction,
    }


def dumps(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def build_inspect(image: ImageSnapshot, layers: tuple[LayerInfo, ...]) -> dict[str, Any]:
    """One image on its own: identity, layers and runtime config (``layerdiff inspect``)."""
    config = image.runtime_config
    result = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "layerdiff", "version": __version__},
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
    return redact_inspect(result, Redactor((config,)))


@dataclass(frozen=True)
class PolicyInfo:
    source: str
    digest: str


def verdict(outcome: PolicyOutcome | None, policy: PolicyInfo | None) -> dict[str, Any]:
    findings = outcome.findings if outcome else ()
    counts = Counter(f.severity.label for f in findings)
    failing = outcome.failing() if outcome else ()
    fail_on = outcome.fail_on if outcome else None
    return {
        "fail_on": fail_on.label if fail_on is not None else None,
        "status": "fail" if failing else "pass",
        "failing": len(failing),
        "waived": len(outcome.waived) if outcome else 0,
        "expired_waivers": [_waiver(w) for w in outcome.expired_waivers] if outcome else [],
        "counts": {s.label: counts.get(s.label, 0) for s in reversed(Severity)},
        "policy": {"source": policy.source, "digest": policy.digest} if policy else None,
    }


def _waiver(waiver: Waiver) -> dict[str, Any]:
    return {
        "rule": waiver.rule,
        "subject": waiver.subject,
        "reason": waiver.reason,
        "expires": waiver.expires.isoformat() if waiver.expires else None,
    }


def finding_entry(finding: Finding, waiver: Waiver | None = None) -> dict[str, Any]:
    from layerdiff.rules.registry import rule_by_id

    rule = rule_by_id(finding.rule)
    return {
        "rule": finding.rule,
        "severity": finding.severity.label,
        "title": rule.title,
        "subject": finding.subject,
        "message": finding.message,
        "evidence": dict(finding.evidence),
        "layer": finding.layer,
        "instruction": finding.instruction,
        "remediation": rule.remediation,
        "fingerprint": finding.fingerprint,
        "doc": rule.doc,
        "waived": _waiver(waiver) if waiver else None,
    }
