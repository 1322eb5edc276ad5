"""A finding's evidence in words (layerdiff.tui.evidence): every rule's documented evidence example, the
shared facts as phrases, before and after, long lists as their first entries and a count."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from layerdiff.report.wire import Report
from layerdiff.rules.documentation import packaged_rule_doc
from layerdiff.rules.registry import all_rules
from layerdiff.tui.app import ReviewApp
from layerdiff.tui.evidence import FIRST_ITEMS, evidence_text, phrase
from tests.support.example import example_report
from tests.unit.test_tui import detail_text, drive

# What each rule's documented evidence must read as: one labelled line at least, in words.
EXPECTED: dict[str, list[str]] = {
    "base-file-deleted": [
        "path: /entrypoint",
        "before: file, mode 0755, owner 0:0, 22 bytes",
        "bytes removed: 22",
    ],
    "cache-left-behind": ["kind: apt package lists", "layers (1):", "- layer 2, instruction RUN apt-get"],
    "capability-added": ["capabilities: none → cap_net_bind_service=ep", "mode: 0755"],
    "entrypoint-changed": ["before: /entrypoint", "after: /usr/bin/dumb-init"],
    "entrypoint-provider-changed": [
        "programs (1):",
        "- used by: HEALTHCHECK",
        "before: pypi charset-normalizer 3.3.2 in /home/airflow/.local/lib/python3.11/site-packages",
        "files removed: 9",
    ],
    "healthcheck-changed": ["change: disabled", "Test: NONE"],
    "layer-waste": ["wasted (1):", "removed by: RUN rm -rf /tmp/build", "largest (2):"],
    "library-cache-stale": ["stale (1):", "after ldconfig: /usr/local/lib/libpq.so.5"],
    "library-shadowed": [
        "after: /opt/lib/libfoo.so.1, found via LD_LIBRARY_PATH",
        "LD_LIBRARY_PATH: none → /opt/lib",
        "ld.so searches: the object's RPATH, LD_LIBRARY_PATH",
    ],
    "library-unresolved": [
        "ldd says: libpq.so.5 => not found",
        "real file /usr/lib/x86_64-linux-gnu/libpq.so.5.15, found via ld.so.cache",
        "after: none",
        "LD_LIBRARY_PATH: none in base or derived",
        "ld.so tried, in order (5):",
        "1. /etc/ld.so.cache: no entry",
        "change: removed",
        "apt-get check says (1):",
    ],
    "loader-env-changed": ["variable: LD_PRELOAD", "after: /usr/lib/libjemalloc.so.2"],
    "os-package-dependency-broken": ["relation: libpq5 (>= 10~~)", "apt-get check says: python3-psycopg2"],
    "ownership-changed": ["owner: 50000:0 → 0:0", "mode: 0775 → 0755", "type: dir (unchanged)"],
    "package-added": ["name: libpq5", "after: 15.5-0+deb12u1"],
    "package-downgraded": ["before: 2.31.0", "after: 2.28.1", "purl: pkg:pypi/requests@2.31.0 → pkg:pypi"],
    "package-file-modified": ["dpkg --verify says: ??5??????", "size: 25 → 26", "mode: 0755 (unchanged)"],
    "package-removed": ["before: 15.5-0+deb12u1", "after: none", "architecture: amd64"],
    "package-upgraded": ["before: 1.0", "after: 1.1"],
    "path-command-shadowed": [
        "before: /usr/bin/python3 → /usr/bin/python3.11",
        "after: /opt/airflow/venv/bin/python3 → /usr/bin/python3.11",
        "derived: /opt/airflow/venv/bin:",
    ],
    "python-constraint-violated": [
        "distribution: requests 2.28.1 in /home/airflow/.local/lib/python3.12/site-packages",
        "constraint: requests==2.31.0",
        "environment: the venv /home/airflow/.local",
    ],
    "python-distribution-lost": [
        "distributions (1):",
        "- requests 2.31.0 in /home/airflow/.local/lib/python3.11/site-packages",
        "base: airflow (uid 50000, gid 0, groups 0, home /home/airflow)",
        "derived: root (uid 0, gid 0, groups 0, home /root)",
    ],
    "python-file-modified": ["record: /home/airflow", "files changed: 1", "required by: responses 0.25.0"],
    "python-file-overwritten": ["overwritten: PyJWT 2.8.0 in", "by: jwt 1.3.1 in", "modules: jwt"],
    "python-package-shadowed": [
        "shadowed (1):",
        "in the base: requests 2.31.0",
        "sys.path, searched in order (4):",
        "4. /usr/local/lib/python3.11/dist-packages",
    ],
    "python-requirement-broken": [
        "requires: requests<3.0,>=2.30.0",
        "what is installed for it:",
        "in the base: requests 2.31.0",
        "now: requests 2.28.1",
    ],
    "python-startup-code": ["kind: pth", "sha256: none → 5b0d7c2f…", "reached by (2):"],
    "runtime-user-changed": ["uid: 50000 → 1000", "home: /home/airflow → /home/etl", "gid: 0 → 1000"],
    "runtime-user-lost-write": ["owner: 50000:0 → 0:0", "writable because: AIRFLOW_HOME=/opt/airflow"],
    "runtime-user-root": ["uid: 50000 → 0", "gid: 0 (unchanged)"],
    "secret-in-history": ["credentials (1):", "- kind URL with a password, name https://pypi.example.com"],
    "secret-in-image": ["value: <redacted: 14 characters>", "readable by the runtime user: yes"],
    "setuid-added": ["bits added: setuid", "mode: none → 4755"],
    "world-writable-added": [
        "after: file, mode 0777, owner 0:0, 10 bytes",
        "inside: PATH directory /usr/bin",
    ],
}


def documented_evidence(rule: str) -> list[dict[str, Any]]:
    markdown = packaged_rule_doc(rule)
    assert markdown is not None
    section = markdown.split("## Evidence", 1)[1]
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", section, re.S)]


def test_every_rule_has_its_evidence_checked_in_words() -> None:
    assert set(EXPECTED) == {rule.id for rule in all_rules()}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_each_rules_evidence_reads_as_labelled_fields(rule: str) -> None:
    examples = documented_evidence(rule)
    assert examples
    lines = "\n".join(evidence_text(example).plain for example in examples)
    for expected in EXPECTED[rule]:
        assert expected in lines, f"{rule}: {expected!r} not in\n{lines}"
    assert '": ' not in lines and not any(line.lstrip().startswith("{") for line in lines.splitlines())
    assert "instruction: " not in lines.splitlines()[0]  # the detail pane's "caused by" has it


def test_long_lists_show_their_first_entries_and_count_the_rest() -> None:
    paths = [f"/usr/lib/python3/dist-packages/name{n}" for n in range(12)]
    text = evidence_text({"examples": paths, "examples_omitted": 88}).plain
    assert "for example (100):" in text
    assert paths[FIRST_ITEMS - 1] in text and paths[FIRST_ITEMS] not in text
    assert f"… and {100 - FIRST_ITEMS} more" in text


def test_a_short_list_reads_on_one_line() -> None:
    assert evidence_text({"names": ["requests", "urllib3"]}).plain.strip() == "names: requests, urllib3"


def test_nesting_is_bounded() -> None:
    deep: dict[str, Any] = {"leaf": "x"}
    for _ in range(50):
        deep = {"inner": deep}
    text = evidence_text(deep).plain
    assert len(text.splitlines()) < 10 and '"leaf": "x"' in text


def test_a_mapping_that_is_not_a_shared_fact_has_no_phrase() -> None:
    assert phrase({"name": "requests"}) is None
    assert phrase({"path": "/usr/bin/python3", "target": None, "interpreter": None}) == "/usr/bin/python3"


def test_the_detail_pane_gives_the_consequence_first_and_the_raw_json_behind_r() -> None:
    report = Report.from_json(example_report("--fail-on", "high"))
    first = report.findings[0]

    async def steps(app: ReviewApp, pilot: Any) -> None:
        lines = detail_text(app).splitlines()
        assert lines[1] == first.message.splitlines()[0]  # what breaks, right under severity and rule
        assert "evidence (r: as JSON)" in lines and '": ' not in detail_text(app)
        await pilot.press("r")
        assert json.dumps(first.evidence, indent=2, sort_keys=True) in detail_text(app)
        await pilot.press("j")  # the choice holds while moving
        assert json.dumps(report.findings[1].evidence, indent=2, sort_keys=True) in detail_text(app)
        await pilot.press("r")
        assert '": ' not in detail_text(app)

    drive(ReviewApp(report), steps, size=(160, 48))
