"""What GitHub code scanning would refuse, or not show, in a SARIF log: its documented upload constraints.

Sources (the numbers and required fields are taken from these pages as published):

- "SARIF support for code scanning",
  https://docs.github.com/en/code-security/reference/code-scanning/sarif-files/sarif-support-for-code-scanning
  (formerly /code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
  the required properties ("the empty string is not supported for required properties"): ``$schema``,
  ``version`` 2.1.0, ``runs``, ``tool.driver.name``, ``tool.driver.rules``, ``results``, rule ``id``,
  ``shortDescription.text`` and ``fullDescription.text`` (1024 characters at most), ``help.text``, rule
  ``name`` (255 at most), result ``message.text``, ``locations`` (at least one), ``partialFingerprints``,
  ``location.physicalLocation``, ``artifactLocation.uri`` and ``region.startLine``; a
  ``defaultConfiguration.level`` of ``note``, ``warning`` or ``error``; ``security-severity`` a string
  holding a score; relative URIs read from the repository root and absolute ones converted from the
  checkout's ``file:`` URI (a different scheme rejects the upload); at most 10 MB per gzip-compressed file.
- The limits table on that page and "SARIF results exceed one or more limits"
  (https://docs.github.com/en/code-security/code-scanning/troubleshooting-sarif-uploads/results-exceed-limit):
  runs per file 20, results per run 25,000, rules per run 25,000, tool extensions per run 100, thread flow
  locations per result 10,000, locations per result 1,000, tags per rule 20.
- The "GitHub ingestion rules" of the Microsoft SARIF validator that the page points to (GH1001 a location
  with ``physicalLocation.artifactLocation.uri``, GH1003 ``region.startLine``, GH1005 relative or ``file``
  URIs, GH1011 a ``$schema`` naming the final 2.1.0 schema), and GitHub's rejections seen in practice:
  ``locationFromSarifResult: expected at least one location`` / ``expected a physical location`` /
  ``expected artifact location``, ``SARIF URI scheme "debian" did not match the checkout URI scheme "file"``.

Columns are not required here although the page's table marks them so: GitHub's own examples leave them
out, and SARIF's defaults (the whole line) apply. A ``ruleId`` is required, and must name one of the
driver's ``rules`` (the table marks it optional, but an alert without it has no rule to filter by or to
explain it), and a ``ruleIndex`` the same rule.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import Any, TypeGuard

MAX_RUNS = 20
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_EXTENSIONS = 100
MAX_LOCATIONS = 1_000
MAX_THREAD_FLOW_LOCATIONS = 10_000
MAX_TAGS = 20
MAX_GZIP_BYTES = 10_000_000  # "10 MB": the smaller reading, so that a file that passes here passes there
MAX_NAME = 255
MAX_DESCRIPTION = 1024
LEVELS = ("note", "warning", "error")

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# RFC 3986 characters of a URI reference, and '%' only as the start of an escape
_URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#\[\]]|%[0-9A-Fa-f]{2})*")


def github_upload_problems(log: dict[str, Any], *, text: str | None = None) -> list[str]:
    """Every documented constraint ``log`` breaks, one line each ("where: what"); empty when GitHub would
    take it. ``text``: the file as written, for the size limit (else ``log`` serialized as layerdiff does)."""
    problems: list[str] = []
    if not _text(log.get("$schema")) or not str(log["$schema"]).endswith(("2.1.0", "2.1.0.json")):
        problems.append("$schema: required, the URI of the SARIF 2.1.0 schema")
    if log.get("version") != "2.1.0":
        problems.append(f"version: must be 2.1.0, not {log.get('version')!r}")
    runs = log.get("runs")
    if not isinstance(runs, list) or not runs:
        problems.append("runs: required, one or more")
        runs = []
    elif len(runs) > MAX_RUNS:
        problems.append(f"runs: {len(runs)} runs, more than {MAX_RUNS} per file")
    for index, run in enumerate(runs):
        problems += _run_problems(run, f"runs[{index}]")
    written = text if text is not None else json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False)
    size = len(gzip.compress(written.encode("utf-8", "surrogatepass"), mtime=0))
    if size > MAX_GZIP_BYTES:
        problems.append(f"file: {size:,} bytes gzip-compressed, more than {MAX_GZIP_BYTES:,}")
    return problems


def _text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value != ""


def _run_problems(run: Any, where: str) -> list[str]:
    if not isinstance(run, dict):
        return [f"{where}: not an object"]
    problems: list[str] = []
    tool = run.get("tool")
    driver = tool.get("driver") if isinstance(tool, dict) else None
    if not isinstance(driver, dict):
        driver = {}
    if not _text(driver.get("name")):
        problems.append(f"{where}.tool.driver.name: required")
    extensions = tool.get("extensions", []) if isinstance(tool, dict) else []
    if isinstance(extensions, list) and len(extensions) > MAX_EXTENSIONS:
        problems.append(f"{where}.tool.extensions: {len(extensions)}, more than {MAX_EXTENSIONS}")
    rules = _array(driver.get("rules"), f"{where}.tool.driver.rules", "rules", MAX_RULES, problems)
    for index, rule in enumerate(rules):
        problems += _rule_problems(rule, f"{where}.tool.driver.rules[{index}]")
    rule_ids = [rule.get("id") if isinstance(rule, dict) else None for rule in rules]
    automation = run.get("automationDetails")
    if automation is not None and not (isinstance(automation, dict) and _text(automation.get("id"))):
        problems.append(f"{where}.automationDetails.id: empty")
    results = _array(run.get("results"), f"{where}.results", "results", MAX_RESULTS, problems)
    known = set(rule_ids)
    for index, result in enumerate(results):
        problems += _result_problems(result, f"{where}.results[{index}]", rule_ids, known)
    return problems


def _array(value: Any, where: str, items: str, limit: int, problems: list[str]) -> list[Any]:
    """A required array of at most ``limit`` items; [] when it is missing (which is a problem too)."""
    if not isinstance(value, list):
        problems.append(f"{where}: required")
        return []
    if len(value) > limit:
        problems.append(f"{where}: {len(value)} {items}, more than {limit}")
    return value


def _rule_problems(rule: Any, where: str) -> list[str]:
    if not isinstance(rule, dict):
        return [f"{where}: not an object"]
    problems: list[str] = []
    if not _text(rule.get("id")):
        problems.append(f"{where}.id: required")
    name = rule.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME):
        problems.append(f"{where}.name: a string of at most {MAX_NAME} characters")
    for field in ("shortDescription", "fullDescription"):
        value = rule.get(field)
        text = value.get("text") if isinstance(value, dict) else None
        if not _text(text):
            problems.append(f"{where}.{field}.text: required")
        elif len(text) > MAX_DESCRIPTION:
            problems.append(f"{where}.{field}.text: {len(text)} characters, more than {MAX_DESCRIPTION}")
    help_ = rule.get("help")
    if not isinstance(help_, dict) or not _text(help_.get("text")):
        problems.append(f"{where}.help.text: required")
    configuration = rule.get("defaultConfiguration")
    if isinstance(configuration, dict) and configuration.get("level", "warning") not in LEVELS:
        problems.append(f"{where}.defaultConfiguration.level: one of {', '.join(LEVELS)}")
    properties = rule.get("properties", {})
    properties = properties if isinstance(properties, dict) else {}
    tags = properties.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        problems.append(f"{where}.properties.tags: an array of strings")
    elif len(tags) > MAX_TAGS:
        problems.append(f"{where}.properties.tags: {len(tags)} tags, more than {MAX_TAGS}")
    if "security-severity" in properties and not _is_score(properties["security-severity"]):
        problems.append(f"{where}.properties.security-severity: a string holding a score from 0.0 to 10.0")
    return problems


def _is_score(value: Any) -> bool:
    try:
        return isinstance(value, str) and 0.0 <= float(value) <= 10.0
    except ValueError:
        return False


def _result_problems(result: Any, where: str, rule_ids: list[Any], known: set[Any]) -> list[str]:
    if not isinstance(result, dict):
        return [f"{where}: not an object"]
    problems: list[str] = []
    message = result.get("message")
    if not isinstance(message, dict) or not _text(message.get("text")):
        problems.append(f"{where}.message.text: required")
    rule_id = result.get("ruleId")
    if not _text(rule_id):
        problems.append(f"{where}.ruleId: required")
    elif rule_ids and rule_id not in known:
        problems.append(f"{where}.ruleId: {rule_id!r} is not among the driver's rules")
    index = result.get("ruleIndex")
    if index is not None and not (isinstance(index, int) and 0 <= index < len(rule_ids)):
        problems.append(f"{where}.ruleIndex: {index!r} is not an index of the driver's rules")
    elif index is not None and rule_ids[index] != rule_id:
        problems.append(f"{where}.ruleIndex: names {rule_ids[index]!r}, not the ruleId {rule_id!r}")
    fingerprints = result.get("partialFingerprints")
    if not isinstance(fingerprints, dict) or not fingerprints:
        problems.append(f"{where}.partialFingerprints: required")
    elif not all(isinstance(value, str) for value in fingerprints.values()):
        problems.append(f"{where}.partialFingerprints: every value must be a string")
    locations = result.get("locations")
    if not isinstance(locations, list) or not locations:
        problems.append(f"{where}.locations: at least one location is required")
        locations = []
    elif len(locations) > MAX_LOCATIONS:
        problems.append(f"{where}.locations: {len(locations)} locations, more than {MAX_LOCATIONS}")
    for number, location in enumerate(locations):
        problems += _location_problems(location, f"{where}.locations[{number}]")
    for number, location in enumerate(result.get("relatedLocations", [])):
        if isinstance(location, dict) and "physicalLocation" in location:
            problems += _location_problems(location, f"{where}.relatedLocations[{number}]")
    for flow_number, flow in enumerate(result.get("codeFlows", [])):
        for thread_number, thread in enumerate(flow.get("threadFlows", []) if isinstance(flow, dict) else []):
            steps = thread.get("locations", []) if isinstance(thread, dict) else []
            if len(steps) > MAX_THREAD_FLOW_LOCATIONS:
                problems.append(
                    f"{where}.codeFlows[{flow_number}].threadFlows[{thread_number}].locations: "
                    f"{len(steps)} locations, more than {MAX_THREAD_FLOW_LOCATIONS}"
                )
    return problems


def _location_problems(location: Any, where: str) -> list[str]:
    physical = location.get("physicalLocation") if isinstance(location, dict) else None
    if not isinstance(physical, dict):
        return [f"{where}.physicalLocation: required"]
    artifact = physical.get("artifactLocation")
    uri = artifact.get("uri") if isinstance(artifact, dict) else None
    problems: list[str] = []
    if not _text(uri):
        problems.append(f"{where}.physicalLocation.artifactLocation.uri: required")
    else:
        problems += [f"{where}.physicalLocation.artifactLocation.uri: {p}" for p in uri_problems(uri)]
        if _SCHEME.match(uri) and isinstance(artifact, dict) and "uriBaseId" in artifact:
            problems.append(f"{where}.physicalLocation.artifactLocation: an absolute URI takes no uriBaseId")
    region = physical.get("region")
    if not isinstance(region, dict):
        problems.append(f"{where}.physicalLocation.region.startLine: required")
        return problems
    for field in ("startLine", "endLine", "startColumn", "endColumn"):
        value = region.get(field)
        if (field == "startLine" or value is not None) and not (isinstance(value, int) and value >= 1):
            problems.append(f"{where}.physicalLocation.region.{field}: a number from 1, not {value!r}")
    start, end = region.get("startLine"), region.get("endLine")
    if isinstance(start, int) and isinstance(end, int) and end < start:
        problems.append(f"{where}.physicalLocation.region.endLine: {end} is before startLine {start}")
    return problems


def uri_problems(uri: str) -> list[str]:
    """What keeps ``uri`` from being a location GitHub accepts: a scheme other than ``file``, or characters
    a URI reference cannot hold (a space, a raw non-ASCII character, a ``%`` that starts no escape)."""
    problems = []
    scheme = _SCHEME.match(uri)
    if scheme is not None and scheme.group(1).lower() != "file":
        problems.append(
            f"{uri!r} has the scheme {scheme.group(1)!r}; only relative and file: URIs are accepted"
        )
    if not _URI_CHARACTERS.fullmatch(uri):
        problems.append(f"{uri!r} is not a valid URI reference (unencoded characters)")
    return problems
