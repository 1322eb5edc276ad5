"""A report as SARIF 2.1.0, the format GitHub code scanning and other result viewers read.

The driver lists the rule catalog, each with its documentation (``helpUri``, ``help``). Each finding is one
result with one location, and every location is a file GitHub accepts (layerdiff.render.sarif_locations):

- With ``--dockerfile``, the finding's Dockerfile lines (``region.startLine``/``endLine``), at the
  Dockerfile's path relative to the repository root (base ``%SRCROOT%``), or a ``file://`` URI when the
  path given was absolute, which GitHub makes relative to the checkout. A finding without a line of its own
  is anchored at the final stage's ``FROM``. A path that climbs out of the working directory has no
  repository form: such a finding is located as without a Dockerfile, its message naming the line.
- Without it: GitHub's documentation marks ``locations``, ``physicalLocation``, ``artifactLocation.uri`` and
  ``region.startLine`` required, and it rejects the whole upload for a result without them or with a
  non-file URI. So the result names a stand-in: the derived image's name as a relative path (``my-app`` for
  ``docker:my-app:1.2``), line 1. GitHub matches relative paths against the repository's files; the stand-in
  normally matches none, and the alert is listed under the image's name without a source annotation. The
  path in the image, the layer and its instruction are in ``logicalLocations`` and in the message.

``partialFingerprints`` carries the finding's fingerprint (rule id + subject) twice: as
``layerdiffFingerprint/v1``, and as ``primaryLocationLineHash``, the only key GitHub reads. Without that,
upload-sarif hashes the located line, and two findings of one rule on one Dockerfile line (or on the stand-in)
would be a single alert. ``automationDetails.id`` names the image pair (layerdiff.render.sarif_locations
.automation_id); the run's properties carry the verdict and its threshold. A run holds at most GitHub's
25,000 results and 10 MB gzip-compressed, most severe first; the run's properties say how many were left out.
Pure function of the report: equal reports give equal bytes.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from typing import Any

from layerdiff.render import sarif_locations as where
from layerdiff.report.wire import Finding, ImageSummary, Report
from layerdiff.rules.documentation import DOCUMENTATION_URL, packaged_rule_doc
from layerdiff.rules.model import Rule
from layerdiff.rules.registry import all_rules
from layerdiff.rules.severity import Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "layerdiffFingerprint/v1"
GITHUB_FINGERPRINT_KEY = "primaryLocationLineHash"
# GitHub code scanning's limits: it rejects a run over 25,000 results and a file over 10 MB gzip-compressed.
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_GZIP_BYTES = 10_000_000
TAGS = ("security", "container-image")
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_DESCRIPTION_CHARS = 1024  # GitHub's limit on shortDescription and fullDescription

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


def render_sarif(report: Report) -> str:
    catalog = all_rules()
    findings, unknown = _selected(report.findings, {rule.id for rule in catalog})
    rules = [rule_descriptor(rule) for rule in catalog] + [unknown_rule_descriptor(f) for f in unknown]
    rule_index = {rule["id"]: index for index, rule in enumerate(rules)}
    # by identity: failing_findings() returns the report's own Finding objects
    failing = {id(finding) for finding in report.failing_findings()}
    results = [result(finding, report, rule_index, id(finding) in failing) for finding in findings]
    total = len(report.findings)
    text = _dumps(_log(report, rules, results, total))
    # Rarely needed (long paths in every one of thousands of results): keep the share of the results that
    # fits, less a tenth for the results not being alike; a pass or two.
    size = _size_for_github(text)
    while results and size > MAX_GZIP_BYTES:
        results = results[: min(len(results) - 1, len(results) * MAX_GZIP_BYTES * 9 // (size * 10))]
        text = _dumps(_log(report, rules, results, total))
        size = _size_for_github(text)
    return text


def _selected(findings: Sequence[Finding], known: set[str]) -> tuple[list[Finding], list[Finding]]:
    """The findings a run can hold (GitHub's limits on results and rules; the report's order is most
    severe first), and for each rule among them that the catalog lacks (a report from another version of
    layerdiff), its first finding."""
    kept: list[Finding] = []
    unknown: dict[str, Finding] = {}
    for finding in findings:
        if len(kept) == MAX_RESULTS:
            break
        if finding.rule not in known and finding.rule not in unknown:
            if len(known) + len(unknown) == MAX_RULES:
                continue
            unknown[finding.rule] = finding
        kept.append(finding)
    return kept, list(unknown.values())


def _size_for_github(text: str) -> int:
    """The file's gzip-compressed size, or its size when that is well under the limit."""
    data = text.encode("utf-8")
    if len(data) <= MAX_GZIP_BYTES * 99 // 100:
        return len(data)  # gzip adds well under 1% to what does not compress: no need to compress
    return len(gzip.compress(data, mtime=0))


def _dumps(log: dict[str, Any]) -> str:
    return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _log(
    report: Report, rules: list[dict[str, Any]], results: list[dict[str, Any]], total: int
) -> dict[str, Any]:
    derived = report.derived
    verdict = report.verdict
    properties: dict[str, Any] = {
        "base": _image(report.base),
        "derived": _image(derived),
        "verdict": verdict.status,
        "fail-on": verdict.fail_on or "none",
        "failing": verdict.failing,
        "waived": verdict.waived,
    }
    if report.dockerfile is not None:
        dockerfile = report.dockerfile
        properties["dockerfile"] = {
            "path": dockerfile.path,
            "digest": dockerfile.digest,
            "stage": dockerfile.stage,
        }
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "informationUri": DOCUMENTATION_URL,
                "rules": rules,
            }
        },
        "automationDetails": {"id": where.automation_id(report.base.reference, derived.reference)},
        "originalUriBaseIds": {
            where.SRCROOT: {"description": {"text": "The repository root: the directory layerdiff ran in"}}
        },
        "results": results,
        "properties": properties,
    }
    if len(results) < total:
        left_out = total - len(results)
        properties["results-omitted"] = left_out
        note = (
            f"{left_out} of {total} findings are left out (the least severe): GitHub code scanning takes at "
            f"most {MAX_RESULTS:,} results and 10 MB gzip-compressed per file; the JSON report has them all."
        )
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "warning", "message": {"text": note}}],
            }
        ]
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": _pascal_case(rule.id),
        "shortDescription": {"text": _capped(rule.title)},
        "fullDescription": {"text": _capped(what_it_detects(rule) or rule.title)},
        "helpUri": rule.doc,
        "help": {
            "text": f"{rule.title}\n\n{rule.remediation}\n\nDocumentation: {rule.doc}",
            "markdown": f"**{rule.title}**\n\n{rule.remediation}\n\nDocumentation: [{rule.id}]({rule.doc})",
        },
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "tags": list(TAGS),
        },
    }


def unknown_rule_descriptor(finding: Finding) -> dict[str, Any]:
    """A rule this build does not know, described by its finding (a report from another version)."""
    severity = Severity.parse(finding.severity)
    title = _capped(finding.title or finding.rule)
    advice = finding.remediation or title
    descriptor: dict[str, Any] = {
        "id": finding.rule,
        "name": _pascal_case(finding.rule),
        "shortDescription": {"text": title},
        "fullDescription": {"text": title},
        "help": {"text": f"{advice}\n\nDocumentation: {finding.doc}", "markdown": advice},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"security-severity": SECURITY_SEVERITY[severity], "tags": list(TAGS)},
    }
    if finding.doc.startswith(("https://", "http://")):  # older reports named a file of the checkout
        descriptor["helpUri"] = finding.doc
        descriptor["help"]["markdown"] = f"{advice}\n\nDocumentation: [{finding.rule}]({finding.doc})"
    return descriptor


def what_it_detects(rule: Rule) -> str | None:
    """The first paragraph of the "What it detects" section of the rule's packaged documentation, as plain
    sentences (links as their text); None when there is none, or it only leads into a list."""
    document = packaged_rule_doc(rule.id)
    if document is None:
        return None
    _, found, section = document.partition("\n## What it detects\n")
    paragraph = " ".join(section.strip().split("\n\n", 1)[0].split()) if found else ""
    if not paragraph or paragraph.endswith(":"):
        return None
    return _MARKDOWN_LINK.sub(r"\1", paragraph)


def _capped(text: str) -> str:
    if len(text) <= _DESCRIPTION_CHARS:
        return text
    return text[: _DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _pascal_case(rule_id: str) -> str:
    # SARIF's rule name is an identifier ("ProvideRequiredLocationProperty"), the id is layerdiff's own.
    return "".join(part.capitalize() for part in rule_id.split("-"))


def result(finding: Finding, report: Report, rule_index: dict[str, int], fails: bool) -> dict[str, Any]:
    severity = Severity.parse(finding.severity)
    derived_reference = report.derived.reference
    source = where.source_line(finding, report.dockerfile)
    location: dict[str, Any] = {
        "physicalLocation": where.physical_location(source, derived_reference),
        "logicalLocations": where.logical_locations(finding, derived_reference),
    }
    if source is not None:
        location["message"] = {"text": where.line_text(source)}
    properties: dict[str, Any] = {
        "severity": severity.label,
        "security-severity": SECURITY_SEVERITY[severity],
        "subject": finding.subject,
        "fails-verdict": fails,
    }
    if source is not None:
        properties["dockerfile-confidence"] = source.confidence
    summary = finding.message.strip() or finding.title
    item: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": LEVELS[severity],
        "message": {"text": f"{summary}\n\n{where.where_text(finding, derived_reference, source)}"},
        "partialFingerprints": {
            FINGERPRINT_KEY: finding.fingerprint,
            GITHUB_FINGERPRINT_KEY: f"{finding.fingerprint}:1",
        },
        "locations": [location],
        "properties": properties,
    }
    if waiver := finding.waived:
        # SARIF's own word for an accepted exception: viewers show the result as dismissed, with the reason.
        item["suppressions"] = [{"kind": "external", "status": "accepted", "justification": waiver.reason}]
    item["ruleIndex"] = rule_index[finding.rule]
    return item


def _image(image: ImageSummary) -> dict[str, str | None]:
    return {"reference": image.reference, "image_id": image.image_id, "digest": image.manifest_digest}
