"""A report as SARIF 2.1.0, the format GitHub code scanning and other result viewers read.

The driver lists the rule catalog; each finding becomes a result located at the path in the derived image it
concerns (relative to the ``IMAGE_ROOT`` base, which stands for the image's root directory) or, when it is
not about a path, at the image reference, with the layer and Dockerfile instruction as its logical location.
Pure function of the report: equal reports give equal bytes.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from layerdiff.report.wire import Finding, ImageSummary, Report
from layerdiff.rules.model import Rule
from layerdiff.rules.registry import all_rules
from layerdiff.rules.severity import Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
IMAGE_ROOT = "IMAGE_ROOT"
FINGERPRINT_KEY = "layerdiffFingerprint/v1"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub maps these onto its own critical/high/medium/low bands (>9.0, 7.0-8.9, 4.0-6.9, 0.1-3.9); it reads
# the property as a string holding a number.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
# Characters a URI keeps as they are; everything else (spaces, '#', '?', '%', non-ASCII) is percent-encoded
# so the text is a valid URI reference. An image path also encodes ':', which in a relative reference's first
# segment would read as a scheme; an image reference keeps it ("docker-archive:app.tar" is one).
_IMAGE_PATH_SAFE = "/-._~!$&'()*+,;=@"
_REFERENCE_SAFE = _IMAGE_PATH_SAFE + ":"


def render_sarif(report: Report) -> str:
    catalog = all_rules()
    rule_index = {rule.id: index for index, rule in enumerate(catalog)}
    derived = report.derived
    run = {
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "rules": [rule_descriptor(rule) for rule in catalog],
            }
        },
        "originalUriBaseIds": {
            IMAGE_ROOT: {
                "uri": "file:///",
                "description": {"text": f"The root directory of the derived image {derived.reference}"},
            }
        },
        "results": [result(finding, derived.reference, rule_index) for finding in report.findings],
        "properties": {
            "base": _image(report.base),
            "derived": _image(derived),
            "verdict": report.verdict.to_json(),
        },
    }
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": _pascal_case(rule.id),
        "shortDescription": {"text": rule.title},
        "help": {
            "text": f"{rule.remediation}\n\nSee {rule.doc}.",
            "markdown": f"{rule.remediation}\n\nSee [{rule.doc}]({rule.doc}).",
        },
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": ["security", "container-image"],
        },
    }


def _pascal_case(rule_id: str) -> str:
    # SARIF's rule name is an identifier ("ProvideRequiredLocationProperty"), the id is layerdiff's own.
    return "".join(part.capitalize() for part in rule_id.split("-"))


def result(finding: Finding, derived_reference: str, rule_index: dict[str, int]) -> dict[str, Any]:
    severity = Severity.parse(finding.severity)
    item: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVELS[severity],
        "message": {"text": finding.message},
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": artifact_location(finding, derived_reference)},
                "logicalLocations": [logical_location(finding)],
            }
        ],
        "properties": {
            "severity": severity.label,
            "security-severity": SECURITY_SEVERITY[severity],
            "subject": finding.subject,
        },
    }
    if waiver := finding.waived:
        # SARIF's own word for an accepted exception: viewers show the result as dismissed, with the reason.
        item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": waiver.reason}]
    # A finding of a rule this build does not know (a report from another version) keeps its ruleId only.
    if finding.rule in rule_index:
        item["ruleIndex"] = rule_index[finding.rule]
    return item


def artifact_location(finding: Finding, derived_reference: str) -> dict[str, Any]:
    path = image_path(finding)
    if path is None:
        return {"uri": quote(derived_reference, safe=_REFERENCE_SAFE)}
    return {"uri": quote(path.lstrip("/"), safe=_IMAGE_PATH_SAFE), "uriBaseId": IMAGE_ROOT}


def image_path(finding: Finding) -> str | None:
    """The absolute path in the image a finding is about: its evidence's path, else the first of its
    evidence's paths (a package's files), else its subject when that is a path. Subjects such as
    ``/usr/bin/python3.11:responses:requests`` (an environment, a distribution and a requirement) start
    with a slash too, so a subject with a colon counts as a composite key, not a path."""
    evidence = finding.evidence
    paths = evidence.get("paths")
    candidates = [evidence.get("path"), paths[0] if isinstance(paths, list) and paths else None]
    subject = finding.subject
    if ":" not in subject:
        candidates.append(subject)
    return next((str(c) for c in candidates if _is_absolute_path(c)), None)


def _is_absolute_path(value: object) -> bool:
    return isinstance(value, str) and value.startswith("/") and value != "/"


def logical_location(finding: Finding) -> dict[str, Any]:
    instruction = finding.instruction
    name = _layer_name(finding.layer, instruction)
    # no "kind": none of SARIF's well-known kinds (function, module, namespace, ...) is a layer
    location: dict[str, Any] = {"name": name}
    if instruction:
        location["fullyQualifiedName"] = f"{name}: {instruction}"
    return location


def _layer_name(layer: int | None, instruction: str | None) -> str:
    if layer is not None:
        return f"layer {layer}"
    # no layer: the finding comes from the image config (ENV, USER, ...) or from the image as a whole
    return "image config" if instruction else "image"


def _image(image: ImageSummary) -> dict[str, str | None]:
    return {"reference": image.reference, "image_id": image.image_id, "digest": image.manifest_digest}
