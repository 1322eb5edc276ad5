"""A report as JUnit XML, so that CI systems show each rule as a passed or failed test.

One test suite, ``layerdiff``, with one test case per rule of the catalog. A rule's test case fails when it
has findings that fail the verdict (unwaived, at or above its threshold: the one threshold of
docs/exit-codes.md; none with ``--fail-on none``), and lists them in its ``<failure>``; its other findings go
to ``<system-out>``. Pure function of the report: equal reports give equal bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence, Set

from layerdiff.report.wire import Finding, Report
from layerdiff.rules.registry import all_rules
from layerdiff.rules.severity import Severity

SUITE_NAME = "layerdiff"
CLASSNAME = "layerdiff.rules"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# XML 1.0 cannot carry most control characters, not even escaped; a message quoting a binary file name
# must not make the whole document unparsable.
_NOT_XML_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: Report) -> str:
    threshold = report.verdict.fail_on or "none"
    failing = {id(finding) for finding in report.failing_findings()}
    by_rule: dict[str, list[Finding]] = {rule.id: [] for rule in all_rules()}
    for finding in report.findings:
        # A rule this build does not know (a report from another version) still gets its test case.
        by_rule.setdefault(finding.rule, []).append(finding)
    cases = [rule_test_case(rule_id, by_rule[rule_id], failing, threshold) for rule_id in sorted(by_rule)]
    failures = sum(1 for case in cases if case.find("failure") is not None)

    suites = ET.Element("testsuites", _counts(SUITE_NAME, len(cases), failures))
    suite = ET.SubElement(suites, "testsuite", _counts(SUITE_NAME, len(cases), failures))
    properties = ET.SubElement(suite, "properties")
    for name, value in _suite_properties(report, threshold):
        ET.SubElement(properties, "property", {"name": name, "value": _xml_text(value)})
    suite.extend(cases)
    ET.indent(suites)
    return XML_DECLARATION + ET.tostring(suites, encoding="unicode") + "\n"


def rule_test_case(
    rule_id: str, findings: Sequence[Finding], failing_ids: Set[int], threshold: str
) -> ET.Element:
    case = ET.Element("testcase", {"classname": CLASSNAME, "name": rule_id, "time": "0"})
    failing = [f for f in findings if id(f) in failing_ids]
    passing = [f for f in findings if id(f) not in failing_ids]
    if failing:
        worst = max(Severity.parse(f.severity) for f in failing)
        noun = "finding" if len(failing) == 1 else "findings"
        failure = ET.SubElement(
            case,
            "failure",
            {"message": f"{len(failing)} {noun} at or above {threshold}", "type": worst.label},
        )
        failure.text = _findings_text(failing)
    if passing:
        ET.SubElement(case, "system-out").text = _findings_text(passing)
    return case


def _findings_text(findings: Sequence[Finding]) -> str:
    return "\n".join(_finding_line(f) for f in findings)


def _finding_line(finding: Finding) -> str:
    where = f"layer {finding.layer}" if finding.layer is not None else "image config"
    if finding.instruction:
        where += f" ({finding.instruction})"
    if finding.dockerfile is not None:
        where = f"{finding.dockerfile.path}:{finding.dockerfile.line}, {where}"
    line = f"[{finding.severity}] {finding.subject}: {finding.message} — {where}"
    if waiver := finding.waived:
        line += f"; waived: {waiver.reason or 'no reason given'}"
    return _xml_text(f"{line}; fingerprint {finding.fingerprint}")


def _counts(name: str, tests: int, failures: int) -> dict[str, str]:
    return {
        "name": name,
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "skipped": "0",
        "time": "0",
    }


def _suite_properties(report: Report, threshold: str) -> list[tuple[str, str]]:
    base, derived = report.base, report.derived
    return [
        ("base.reference", base.reference),
        ("base.image_id", base.image_id or ""),
        ("derived.reference", derived.reference),
        ("derived.image_id", derived.image_id or ""),
        ("threshold", threshold),
        ("verdict", report.verdict.status),
    ]


def _xml_text(text: str) -> str:
    return _NOT_XML_CHARACTER.sub("\ufffd", text)
