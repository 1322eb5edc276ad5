from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from layerdiff.errors import ExitCode, UsageError
from layerdiff.policy import (
    Policy,
    Waiver,
    apply_policy,
    load_policy,
    path_glob,
    policy_digest,
)
from layerdiff.rules.model import Finding
from layerdiff.rules.registry import all_rules
from layerdiff.rules.severity import Severity

CATALOG = {rule.id: rule for rule in all_rules()}
TODAY = date(2026, 6, 1)

FULL_POLICY = """\
# the team's review policy
fail-on = "high"
disabled-rules = ["layer-waste"]
ignore-paths = [
    "/opt/airflow/dags/**",
    "/tmp/**",
]

[severity]
"ownership-changed" = "medium"
package-downgraded = "high"

[[waiver]]
rule = "runtime-user-root"
subject = "USER"
reason = "init container needs root"
expires = 2027-01-31

[[waiver]]
rule = "library-shadowed"
subject = "libssl.so.3:*"
reason = "our own OpenSSL build"
"""


def finding(rule: str, subject: str, evidence: dict[str, Any] | None = None) -> Finding:
    """A finding as the rule would make it: the catalog's default severity."""
    return Finding(
        rule=rule,
        severity=CATALOG[rule].severity,
        subject=subject,
        message=f"{rule} on {subject}",
        evidence=evidence if evidence is not None else {},
    )


def load(text: str) -> Policy:
    return load_policy(text, ".layerdiff.toml")


def usage_error(text: str) -> str:
    with pytest.raises(UsageError) as raised:
        load(text)
    message = str(raised.value)
    assert "\n" not in message
    assert raised.value.exit_code is ExitCode.USAGE
    return message


# --- parsing --------------------------------------------------------------------------------------------


def test_full_policy_round_trip() -> None:
    policy = load(FULL_POLICY)

    assert policy == Policy(
        fail_on=Severity.HIGH,
        disabled_rules=frozenset({"layer-waste"}),
        ignore_paths=("/opt/airflow/dags/**", "/tmp/**"),
        severity_overrides={"ownership-changed": Severity.MEDIUM, "package-downgraded": Severity.HIGH},
        waivers=(
            Waiver("runtime-user-root", "init container needs root", "USER", date(2027, 1, 31)),
            Waiver("library-shadowed", "our own OpenSSL build", "libssl.so.3:*"),
        ),
        source=".layerdiff.toml",
    )
    assert [waiver.line for waiver in policy.waivers] == [13, 19]


def test_empty_file_is_the_default_policy_and_the_default_threshold_is_high() -> None:
    assert load("") == Policy(source=".layerdiff.toml")
    default = Policy.default()
    assert default.fail_on is None and not default.disabled_rules and default.source is None
    outcome = apply_policy(default, [finding("runtime-user-root", "USER")], TODAY)
    assert outcome.fail_on is Severity.HIGH and outcome.fails()
    medium = apply_policy(default, [finding("runtime-user-changed", "USER")], TODAY)
    assert not medium.fails()


def test_fail_on_none_enforces_nothing_from_the_flag_or_the_file() -> None:
    root = [finding("runtime-user-root", "USER")]
    assert not apply_policy(Policy.default(), root, TODAY, fail_on="none").fails()
    from_file = load('fail-on = "None"\n')
    assert from_file.fail_on == "none" and apply_policy(from_file, root, TODAY).fail_on is None
    # the flag wins over the file, both ways
    assert apply_policy(from_file, root, TODAY, fail_on=Severity.CRITICAL).fail_on is Severity.CRITICAL
    assert apply_policy(load('fail-on = "low"\n'), root, TODAY, fail_on="none").fail_on is None


def test_waiver_subject_defaults_to_everything_and_severity_labels_ignore_case() -> None:
    policy = load('fail-on = "HIGH"\n[[waiver]]\nrule = "setuid-added"\nreason = "ping needs it"\n')
    assert policy.fail_on is Severity.HIGH
    assert policy.waivers == (Waiver("setuid-added", "ping needs it", "*"),)


def test_byte_order_mark_is_tolerated() -> None:
    assert load('\ufefffail-on = "low"\n').fail_on is Severity.LOW


def test_digest_is_sha256_of_the_text() -> None:
    assert policy_digest("") == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert policy_digest(FULL_POLICY) != policy_digest(FULL_POLICY + "\n")


# --- errors: FILE:LINE: and a message that says what to fix ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            'fail-on = "high"\ndisabled-rules = ["layer-waste"\nx = 1\n',
            ".layerdiff.toml:3: TOML syntax error: ",
            id="toml-syntax",
        ),
        pytest.param(
            'fail-on = "high"\nfail-on = "low"\n',
            ".layerdiff.toml:2: TOML syntax error: Cannot overwrite a value",
            id="toml-duplicate-key",
        ),
        pytest.param(
            'fail-on = "high"\nfail_on = "low"\n',
            ".layerdiff.toml:2: unknown key 'fail_on'; did you mean 'fail-on'?",
            id="unknown-top-level-key",
        ),
        pytest.param(
            '\n[[waivers]]\nrule = "setuid-added"\n',
            ".layerdiff.toml:2: unknown key 'waivers'; did you mean 'waiver'?",
            id="unknown-top-level-table",
        ),
        pytest.param(
            'disabled-rules = [\n  "package-added",\n  "layer-wast",\n]\n',
            ".layerdiff.toml:3: unknown rule id 'layer-wast' in disabled-rules; did you mean 'layer-waste'?",
            id="unknown-disabled-rule",
        ),
        pytest.param(
            'disabled-rules = ["no-such-thing"]\n',
            ".layerdiff.toml:1: unknown rule id 'no-such-thing' in disabled-rules; `layerdiff rules` lists",
            id="unknown-rule-no-close-match",
        ),
        pytest.param(
            'fail-on = "high"\n\n[severity]\n"ownership-changed" = "medium"\nsetuid-add = "low"\n',
            ".layerdiff.toml:5: unknown rule id 'setuid-add' in [severity]; did you mean 'setuid-added'?",
            id="unknown-override-rule",
        ),
        pytest.param(
            '# threshold\nfail-on = "hihg"\n',
            ".layerdiff.toml:2: fail-on: unknown severity 'hihg'; did you mean 'high'? (one of info, low",
            id="bad-fail-on",
        ),
        pytest.param(
            '[severity]\nownership-changed = "urgent"\n',
            ".layerdiff.toml:2: severity of ownership-changed: unknown severity 'urgent' (one of info,",
            id="bad-override-severity",
        ),
        pytest.param(
            "fail-on = 3\n",
            ".layerdiff.toml:1: fail-on must be a string, one of info, low, medium, high, critical",
            id="fail-on-not-a-string",
        ),
        pytest.param(
            'ignore-paths = "/tmp/**"\n',
            ".layerdiff.toml:1: ignore-paths must be an array of strings",
            id="ignore-paths-not-a-list",
        ),
        pytest.param(
            'severity = "high"\n',
            ".layerdiff.toml:1: severity must be a table of rule id = severity",
            id="severity-not-a-table",
        ),
        pytest.param(
            '[waiver]\nrule = "setuid-added"\nreason = "x"\n',
            ".layerdiff.toml:1: waiver must be an array of tables: write [[waiver]] above each waiver",
            id="waiver-single-brackets",
        ),
        pytest.param(
            '[[waiver]]\nrule = "setuid-added"\nreason = "ok"\n\n[[waiver]]\nrule = "runtime-user-root"\n'
            'subject = "USER"\n',
            ".layerdiff.toml:5: waiver #2: missing 'reason' (say why the finding is accepted)",
            id="waiver-without-reason",
        ),
        pytest.param(
            '[[waiver]]\nrule = "setuid-added"\nreason = "   "\n',
            ".layerdiff.toml:3: waiver #1: 'reason' must be a non-empty string",
            id="waiver-blank-reason",
        ),
        pytest.param(
            '[[waiver]]\nreason = "ok"\n',
            ".layerdiff.toml:1: waiver #1: missing 'rule'",
            id="waiver-without-rule",
        ),
        pytest.param(
            '[[waiver]]\nrule = "runtime-user-rot"\nreason = "ok"\n',
            ".layerdiff.toml:2: unknown rule id 'runtime-user-rot' in waiver #1; did you mean",
            id="waiver-unknown-rule",
        ),
        pytest.param(
            '[[waiver]]\nrule = "setuid-added"\nreason = "ok"\nexpiry = 2027-01-01\n',
            ".layerdiff.toml:4: waiver #1: unknown key 'expiry'; did you mean 'expires'?",
            id="waiver-unknown-key",
        ),
        pytest.param(
            '[[waiver]]\nrule = "setuid-added"\nreason = "ok"\nexpires = "2027-01-31"\n',
            ".layerdiff.toml:4: waiver #1: expires must be a date, not '2027-01-31' (write a TOML date",
            id="waiver-quoted-date",
        ),
        pytest.param(
            '[[waiver]]\nrule = "setuid-added"\nreason = "ok"\nexpires = 2027-01-31T10:00:00\n',
            ".layerdiff.toml:4: waiver #1: expires must be a date",
            id="waiver-datetime",
        ),
        pytest.param(
            '[[waiver]]\nrule = "setuid-added"\nreason = "ok"\nsubject = ["/usr/bin/ping"]\n',
            ".layerdiff.toml:4: waiver #1: subject must be a non-empty glob string",
            id="waiver-subject-not-a-string",
        ),
    ],
)
def test_errors_name_file_and_line(text: str, expected: str) -> None:
    assert usage_error(text).startswith(expected)


def test_syntax_error_keeps_tomllib_message_and_column() -> None:
    message = usage_error('fail-on = "high"\nfail-on high\n')
    assert message == (
        ".layerdiff.toml:2: TOML syntax error: Expected '=' after a key in a key/value pair (column 9)"
    )


def test_error_at_end_of_document_points_at_last_line() -> None:
    assert usage_error('fail-on = "high"\nignore-paths = [').startswith(
        ".layerdiff.toml:2: TOML syntax error"
    )


def test_error_without_a_findable_line_still_names_the_file() -> None:
    # An inline array of waivers has no [[waiver]] header; the key line is the best there is.
    message = usage_error('waiver = [{ rule = "setuid-added" }]\n')
    assert message.startswith(".layerdiff.toml:1: waiver #1: missing 'reason'")


# --- applying --------------------------------------------------------------------------------------------


def test_severity_overrides_raise_and_lower() -> None:
    policy = load('[severity]\nownership-changed = "high"\nruntime-user-root = "low"\n')
    outcome = apply_policy(
        policy,
        [finding("runtime-user-root", "USER"), finding("ownership-changed", "/opt/airflow")],
        TODAY,
    )
    severities = {f.rule: f.severity for f in outcome.findings}
    assert severities == {"ownership-changed": Severity.HIGH, "runtime-user-root": Severity.LOW}
    assert [f.rule for f in outcome.findings] == ["ownership-changed", "runtime-user-root"]  # re-sorted


def test_disabled_rules_produce_no_findings() -> None:
    waste = finding("layer-waste", "/var/cache/apt")
    outcome = apply_policy(
        load('disabled-rules = ["layer-waste"]\n'), [waste, finding("setuid-added", "/usr/bin/x")], TODAY
    )
    assert [f.rule for f in outcome.findings] == ["setuid-added"]
    assert [(d.finding, d.reason) for d in outcome.dropped] == [(waste, "rule layer-waste is disabled")]


def test_ignore_paths_match_subject_or_evidence_path() -> None:
    policy = load('ignore-paths = ["/opt/airflow/dags/**", "/tmp/**"]\n')
    by_subject = finding("ownership-changed", "/tmp/build/x")
    by_evidence = finding(
        "package-file-modified", "libc6:/opt/airflow/dags/a.py", {"path": "/opt/airflow/dags/a.py"}
    )
    tree_root = finding("world-writable-added", "/opt/airflow/dags")
    kept = [
        finding("ownership-changed", "/tmpfile"),
        finding("runtime-user-root", "USER", {"path": {"base": "/tmp/a", "derived": "/tmp/b"}}),
    ]
    outcome = apply_policy(policy, [by_subject, by_evidence, tree_root, *kept], TODAY)
    assert {f.subject for f in outcome.findings} == {"/tmpfile", "USER"}
    assert {d.reason for d in outcome.dropped} == {
        "ignore-paths '/tmp/**'",
        "ignore-paths '/opt/airflow/dags/**'",
    }


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/tmp/**", "/tmp", True),
        ("/tmp/**", "/tmp/a/b/c", True),
        ("/tmp/**", "/tmpx", False),
        ("/opt/*/cache", "/opt/app/cache", True),
        ("/opt/*/cache", "/opt/app/x/cache", False),  # * stays in one segment
        ("/opt/**/cache", "/opt/cache", True),
        ("/opt/**/cache", "/opt/a/b/cache", True),
        ("**/*.pyc", "/usr/lib/x.pyc", True),
        ("/etc/ssl/cert?.pem", "/etc/ssl/cert1.pem", True),
        ("/etc/[!a]*", "/etc/passwd", True),
        ("/etc/[!p]*", "/etc/passwd", False),
        ("/a[b", "/a[b", True),  # an unclosed bracket is literal
    ],
)
def test_path_globs(pattern: str, path: str, matches: bool) -> None:
    assert bool(path_glob(pattern).match(path)) is matches


def test_waiver_globs_match_subjects() -> None:
    policy = load(FULL_POLICY)
    shadowed = finding("library-shadowed", "libssl.so.3:shadowed:/usr/local/lib/libssl.so.3")
    other_library = finding("library-shadowed", "libz.so.1:shadowed:/usr/local/lib/libz.so.1")
    root = finding("runtime-user-root", "USER")
    outcome = apply_policy(policy, [shadowed, other_library, root], TODAY)

    assert set(outcome.waived) == {shadowed.fingerprint, root.fingerprint}
    waiver = outcome.waiver_for(root.fingerprint)
    assert waiver is not None
    assert (waiver.reason, waiver.expires, waiver.line) == (
        "init container needs root",
        date(2027, 1, 31),
        13,
    )
    assert outcome.waiver_for(other_library.fingerprint) is None
    assert outcome.by_fingerprint[other_library.fingerprint] == other_library
    assert outcome.failing() == (other_library,)
    assert outcome.unused_waivers == () and outcome.expired_waivers == ()


def test_expired_waiver_does_not_count_and_is_reported() -> None:
    policy = load(FULL_POLICY)
    root = finding("runtime-user-root", "USER")

    on_last_day = apply_policy(policy, [root], date(2027, 1, 31))
    assert not on_last_day.fails()

    day_after = apply_policy(policy, [root], date(2027, 2, 1))
    assert day_after.waived == {}
    assert [w.rule for w in day_after.expired_waivers] == ["runtime-user-root"]
    assert [w.rule for w in day_after.unused_waivers] == ["library-shadowed"]
    assert day_after.failing() == (root,)


def test_threshold_pass_and_fail_with_waivers_and_approvals() -> None:
    downgrade = finding("package-downgraded", "pypi:requests")  # medium
    setuid = finding("setuid-added", "/usr/bin/ping")  # high
    findings = [downgrade, setuid]

    high = load('fail-on = "high"\n')
    assert apply_policy(high, findings, TODAY).failing() == (setuid,)
    assert not apply_policy(high, [downgrade], TODAY).fails()
    assert apply_policy(high, findings, TODAY).fails()
    assert not apply_policy(high, findings, TODAY).fails(approved={setuid.fingerprint})

    waived = load(
        'fail-on = "medium"\n[[waiver]]\nrule = "setuid-added"\nsubject = "/usr/bin/*"\nreason = "ping"\n'
    )
    outcome = apply_policy(waived, findings, TODAY)
    assert outcome.failing() == (downgrade,)
    assert not outcome.fails(approved=frozenset({downgrade.fingerprint}))
    assert setuid in outcome.findings  # waived findings stay in the report


def test_flag_threshold_wins_over_the_file() -> None:
    policy = load('fail-on = "critical"\n')
    setuid = finding("setuid-added", "/usr/bin/ping")
    assert not apply_policy(policy, [setuid], TODAY).fails()
    outcome = apply_policy(policy, [setuid], TODAY, fail_on=Severity.HIGH)
    assert outcome.fail_on is Severity.HIGH and outcome.fails()


def test_the_documented_example_is_valid() -> None:
    document = (Path(__file__).parents[2] / "docs" / "policy.md").read_text()
    example = document.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = load(example)
    assert policy.fail_on is Severity.HIGH
    assert [waiver.rule for waiver in policy.waivers] == ["runtime-user-root", "library-shadowed"]
