"""The checker of GitHub code scanning's upload constraints (tests/support/sarif_github.py), checked itself:
for each constraint a log that meets it (at its limit, where it has one) passes and a log that breaks it is
reported, with the place and the reason."""

from __future__ import annotations

import base64
import copy
import random
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import sarif_github
from tests.support.sarif_github import github_upload_problems

Log = dict[str, Any]
Change = Callable[[Log], object]


def _rule(rule_id: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": "RuleName",
        "shortDescription": {"text": "short"},
        "fullDescription": {"text": "full"},
        "help": {"text": "help"},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["security"], "security-severity": "5.5"},
    }


def _location(uri: str = "src/main.py", **artifact: str) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": uri, **artifact}, "region": {"startLine": 2}}}


def _result(rule_id: str = "R1") -> dict[str, Any]:
    return {
        "ruleId": rule_id,
        "ruleIndex": 0,
        "message": {"text": "Something is wrong."},
        "locations": [_location()],
        "partialFingerprints": {"primaryLocationLineHash": "39fa2ee980eb94b0:1"},
    }


def _log() -> Log:
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "tool", "rules": [_rule("R1"), _rule("R2")]}},
                "automationDetails": {"id": "category/"},
                "results": [_result()],
            }
        ],
    }


def _run(log: Log) -> dict[str, Any]:
    run: dict[str, Any] = log["runs"][0]
    return run


def _rules(log: Log) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = _run(log)["tool"]["driver"]["rules"]
    return rules


def _first(log: Log) -> dict[str, Any]:
    result: dict[str, Any] = _run(log)["results"][0]
    return result


def _physical(log: Log) -> dict[str, Any]:
    physical: dict[str, Any] = _first(log)["locations"][0]["physicalLocation"]
    return physical


def _set(target: Callable[[Log], dict[str, Any]], key: str, value: Any) -> Change:
    return lambda log: target(log).__setitem__(key, value)


def _drop(target: Callable[[Log], dict[str, Any]], key: str) -> Change:
    return lambda log: target(log).pop(key)


def _text_of(field: str, text: str) -> Change:
    return lambda log: _rules(log)[0].__setitem__(field, {"text": text})


def _uri(uri: str, **artifact: str) -> Change:
    return lambda log: _first(log).__setitem__("locations", [_location(uri, **artifact)])


def _results(count: int) -> Change:
    return lambda log: _run(log).__setitem__("results", [_result() for _ in range(count)])


def _rule_count(count: int) -> Change:
    return lambda log: _run(log)["tool"]["driver"].__setitem__(
        "rules", [_rule("R1"), *(_rule(f"X{n}") for n in range(count - 1))]
    )


def _thread_flow(count: int) -> Change:
    flow = {"threadFlows": [{"locations": [{"location": _location()} for _ in range(count)]}]}
    return lambda log: _first(log).__setitem__("codeFlows", [flow])


def _noise(size: int) -> str:
    return base64.b64encode(random.Random(0).randbytes(size)).decode()


def _nothing(log: Log) -> None:
    return None


# constraint -> (a change that still meets it, a change that breaks it, what the problem says)
CASES: dict[str, tuple[Change, Change, str]] = {
    "$schema present": (_nothing, _drop(lambda log: log, "$schema"), "$schema: required"),
    "$schema names 2.1.0": (
        _set(
            lambda log: log,
            "$schema",
            "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
        ),
        _set(lambda log: log, "$schema", "https://example.com/sarif-2.0.0.json"),
        "$schema",
    ),
    "version 2.1.0": (_nothing, _set(lambda log: log, "version", "2.0.0"), "version: must be 2.1.0"),
    "runs present": (_nothing, _set(lambda log: log, "runs", []), "runs: required"),
    "runs per file": (
        lambda log: log["runs"].extend(copy.deepcopy(log["runs"]) * 19),
        lambda log: log["runs"].extend(copy.deepcopy(log["runs"]) * 20),
        "runs: 21 runs, more than 20",
    ),
    "driver name": (_nothing, _set(lambda log: _run(log)["tool"]["driver"], "name", ""), "driver.name"),
    "rules present": (_nothing, _drop(lambda log: _run(log)["tool"]["driver"], "rules"), "driver.rules"),
    "rules per run": (_rule_count(25_000), _rule_count(25_001), "25001 rules, more than 25000"),
    "results present": (_nothing, _drop(_run, "results"), "results: required"),
    "results per run": (_results(25_000), _results(25_001), "25001 results, more than 25000"),
    "tool extensions per run": (
        _set(lambda log: _run(log)["tool"], "extensions", [{"name": "x"}] * 100),
        _set(lambda log: _run(log)["tool"], "extensions", [{"name": "x"}] * 101),
        "extensions: 101",
    ),
    "rule id": (_nothing, _drop(lambda log: _rules(log)[1], "id"), "rules[1].id: required"),
    "rule name length": (
        _set(lambda log: _rules(log)[0], "name", "n" * 255),
        _set(lambda log: _rules(log)[0], "name", "n" * 256),
        "rules[0].name",
    ),
    "shortDescription present": (
        _nothing,
        _text_of("shortDescription", ""),
        "shortDescription.text: required",
    ),
    "shortDescription length": (
        _text_of("shortDescription", "s" * 1024),
        _text_of("shortDescription", "s" * 1025),
        "1025 characters, more than 1024",
    ),
    "fullDescription present": (
        _nothing,
        _drop(lambda log: _rules(log)[0], "fullDescription"),
        "fullDescription.text: required",
    ),
    "fullDescription length": (
        _text_of("fullDescription", "f" * 1024),
        _text_of("fullDescription", "f" * 1025),
        "fullDescription.text: 1025",
    ),
    "help text": (
        _nothing,
        _set(lambda log: _rules(log)[0], "help", {"markdown": "x"}),
        "help.text: required",
    ),
    "default level": (
        _set(lambda log: _rules(log)[0], "defaultConfiguration", {"level": "error"}),
        _set(lambda log: _rules(log)[0], "defaultConfiguration", {"level": "fatal"}),
        "defaultConfiguration.level",
    ),
    "tags per rule": (
        _set(lambda log: _rules(log)[0], "properties", {"tags": [f"t{n}" for n in range(20)]}),
        _set(lambda log: _rules(log)[0], "properties", {"tags": [f"t{n}" for n in range(21)]}),
        "21 tags, more than 20",
    ),
    "security-severity a string score": (
        _set(lambda log: _rules(log)[0], "properties", {"security-severity": "9.5"}),
        _set(lambda log: _rules(log)[0], "properties", {"security-severity": 9.5}),
        "security-severity",
    ),
    "automationDetails id": (
        _set(_run, "automationDetails", {"id": "layerdiff/a -> b/"}),
        _set(_run, "automationDetails", {"id": ""}),
        "automationDetails.id",
    ),
    "message text": (_nothing, _set(_first, "message", {"text": ""}), "message.text: required"),
    "ruleId present": (_nothing, _drop(_first, "ruleId"), "ruleId: required"),
    "ruleId among the rules": (
        lambda log: _first(log).update(ruleId="R2", ruleIndex=1),
        lambda log: _first(log).update(ruleId="R3", ruleIndex=0),
        "'R3' is not among the driver's rules",
    ),
    "ruleIndex names the rule": (
        _drop(_first, "ruleIndex"),
        _set(_first, "ruleIndex", 1),
        "ruleIndex: names 'R2'",
    ),
    "partialFingerprints present": (_nothing, _drop(_first, "partialFingerprints"), "partialFingerprints"),
    "partialFingerprints strings": (
        _set(_first, "partialFingerprints", {"a": "1", "b": "2"}),
        _set(_first, "partialFingerprints", {"a": 1}),
        "every value must be a string",
    ),
    "a location": (_nothing, _set(_first, "locations", []), "at least one location is required"),
    "locations per result": (
        _set(_first, "locations", [_location()] * 1000),
        _set(_first, "locations", [_location()] * 1001),
        "1001 locations, more than 1000",
    ),
    "a physical location": (
        _nothing,
        _set(_first, "locations", [{"logicalLocations": [{"name": "layer 5"}]}]),
        "physicalLocation: required",
    ),
    "an artifact uri": (
        _nothing,
        _set(_physical, "artifactLocation", {"uriBaseId": "%SRCROOT%"}),
        "artifactLocation.uri: required",
    ),
    "a file uri scheme": (
        _uri("file:///home/runner/repo/Dockerfile"),
        _uri("docker:app:1"),
        "the scheme 'docker'",
    ),
    "an image reference is no path": (
        _uri("debian%3A12/usr/lib/x"),
        _uri("debian:12/usr/lib/x"),
        "the scheme 'debian'",
    ),
    "no web uri": (_uri("docs/x.md"), _uri("https://example.com/x.md"), "the scheme 'https'"),
    "encoded characters": (
        _uri("my%20dir/%231%25/%C3%A4"),
        _uri("my dir/#1%/ä"),
        "not a valid URI reference",
    ),
    "no base for an absolute uri": (
        _uri("Dockerfile", uriBaseId="%SRCROOT%"),
        _uri("file:///Dockerfile", uriBaseId="%SRCROOT%"),
        "an absolute URI takes no uriBaseId",
    ),
    "a region": (_nothing, _drop(_physical, "region"), "region.startLine: required"),
    "start line from 1": (
        _set(_physical, "region", {"startLine": 1}),
        _set(_physical, "region", {"startLine": 0}),
        "region.startLine: a number from 1",
    ),
    "end line from the start line": (
        _set(_physical, "region", {"startLine": 3, "endLine": 5}),
        _set(_physical, "region", {"startLine": 3, "endLine": 2}),
        "endLine: 2 is before startLine 3",
    ),
    "related locations are files": (
        _set(_first, "relatedLocations", [_location("src/other.py")]),
        _set(_first, "relatedLocations", [_location("git://host/x")]),
        "relatedLocations[0]",
    ),
    "thread flow locations per result": (_thread_flow(10_000), _thread_flow(10_001), "10001 locations"),
}


def test_a_log_of_what_github_documents_as_required_passes() -> None:
    assert github_upload_problems(_log()) == []


@pytest.mark.parametrize("constraint", sorted(CASES))
def test_a_log_that_meets_a_constraint_passes(constraint: str) -> None:
    log = _log()
    CASES[constraint][0](log)
    assert github_upload_problems(log) == []


@pytest.mark.parametrize("constraint", sorted(CASES))
def test_a_log_that_breaks_a_constraint_is_reported(constraint: str) -> None:
    log = _log()
    _, breaks, expected = CASES[constraint]
    breaks(log)
    problems = github_upload_problems(log)
    assert problems and any(expected in problem for problem in problems), problems


def test_the_size_limit_is_on_the_gzip_compressed_file() -> None:
    # base64 of random bytes compresses to about three quarters: 7 MB of bytes fit, 11 MB do not
    fits, too_big = _log(), _log()
    _first(fits)["message"] = {"text": _noise(7_000_000)}
    _first(too_big)["message"] = {"text": _noise(11_000_000)}
    assert github_upload_problems(fits) == []
    problems = github_upload_problems(too_big)
    assert len(problems) == 1 and problems[0].startswith("file: ") and "gzip-compressed" in problems[0]
    # the file as written is what is measured, when it is given
    assert github_upload_problems(_log(), text="x" * (sarif_github.MAX_GZIP_BYTES * 2)) == []
    assert github_upload_problems(_log(), text=_noise(11_000_000))[0].startswith("file: ")
