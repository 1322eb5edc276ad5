"""The pre-deploy decision: do the approval records cover this image and every finding that would fail it?

It judges a finished report (what ``review()`` returned for the image about to ship) against the records
read for it and the policy's approval rules; it reads nothing and runs nothing itself. A record counts only
when it names this image (by manifest or config digest) and its base, has not expired, was given under the
same policy, and — when trusted keys are configured — is signed by one of them. A record that fails any of
these fails the gate, naming the record and why: a stale or forged record in front of the gate is a signal,
not noise. Each failing finding then needs as many distinct reviewers as the policy asks for its severity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from layerdiff.approval import UNVERIFIED, VERIFIED, Approval
from layerdiff.policy import DEFAULT_FAIL_ON, ApprovalRules
from layerdiff.report.wire import Finding, Report
from layerdiff.rules.severity import Severity


@dataclass(frozen=True)
class RecordCheck:
    """One approval record as the gate judged it."""

    source: str
    reviewer: str
    signature: str  # verified | unverified | unsigned
    keyid: str | None
    matched_by: str | None  # "manifest digest" | "config digest"; None when it names another image
    accepted: int  # how many findings it accepts
    problems: tuple[str, ...]  # why it does not count; none when it does

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "reviewer": self.reviewer,
            "signature": self.signature,
            "keyid": self.keyid,
            "matched_by": self.matched_by,
            "accepted": self.accepted,
            "counts": not self.problems,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class FindingApprovals:
    """A finding that fails the threshold, who approved it, and how many reviewers it needs."""

    fingerprint: str
    label: str  # "high runtime-user-root on USER"
    approved_by: tuple[str, ...]
    needed: int

    @property
    def covered(self) -> bool:
        return len(self.approved_by) >= self.needed

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "finding": self.label,
            "approved_by": list(self.approved_by),
            "needed": self.needed,
            "covered": self.covered,
        }


@dataclass(frozen=True)
class GateDecision:
    derived: str  # the derived image's ID
    base: str
    fail_on: str | None
    reviewer: str  # who approved, for the one-line summary: the reviewers of the records that count
    reasons: tuple[str, ...]  # why it fails; none when it passes
    image: str = ""  # the derived image as it was named to the gate
    # findings at or above DEFAULT_FAIL_ON that are neither approved nor waived, but the threshold (`none`,
    # or critical) does not enforce: the decision is then `review`, never `pass`
    unenforced: tuple[str, ...] = ()
    records: tuple[RecordCheck, ...] = ()
    findings: tuple[FindingApprovals, ...] = ()
    notes: tuple[str, ...] = field(default=())  # what the decision rests on (unverified records, ...)

    @property
    def status(self) -> str:
        if self.reasons:
            return "fail"
        return "review" if self.unenforced else "pass"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "image": self.image,
            "unenforced": list(self.unenforced),
            "derived": self.derived,
            "base": self.base,
            "fail_on": self.fail_on,
            "reviewer": self.reviewer,
            "reasons": list(self.reasons),
            "approvals": [record.to_json() for record in self.records],
            "findings": [finding.to_json() for finding in self.findings],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class GateInputs:
    """What the gate decides with besides the report: the records, those it could not read as trusted, and
    the rules."""

    approvals: Sequence[Approval]
    rejected: Sequence[str] = ()  # records that could not be read as trusted, each a line naming it and why
    rules: ApprovalRules = field(default_factory=ApprovalRules)
    keys_configured: bool = False  # --key or [reviewers]: every record must then be verified
    allow_policy_change: bool = False  # --allow-policy-change: a record under another policy still counts


def decide(report: Report, inputs: GateInputs, derived_name: str, today: date) -> GateDecision:
    """Fail when a record does not count (see the module docstring), or a finding at or above the report's
    threshold is neither waived by the policy nor accepted by enough distinct reviewers."""
    notes: list[str] = []
    checks = [_check(report, approval, inputs, today, notes) for approval in inputs.approvals]
    reasons = list(inputs.rejected)
    reasons += [f"{check.source}: {problem}" for check in checks for problem in check.problems]
    if not inputs.approvals and not inputs.rejected:
        reasons.append("no approval record was given")
    reviewers_of: dict[str, list[str]] = {}
    for approval, check in zip(inputs.approvals, checks, strict=True):
        if not check.problems:
            for fingerprint in approval.accepted:
                reviewers = reviewers_of.setdefault(fingerprint, [])
                if approval.reviewer not in reviewers:  # a reviewer counts once, however many records
                    reviewers.append(approval.reviewer)
    threshold = Severity.parse(report.verdict.fail_on) if report.verdict.fail_on else None
    unaccepted = [f for f in report.findings if f.waived is None]
    judged = []
    for finding in unaccepted:
        severity = Severity.parse(finding.severity)
        if threshold is None or severity < threshold:
            continue
        approvals = FindingApprovals(
            finding.fingerprint,
            _label(finding),
            tuple(sorted(reviewers_of.get(finding.fingerprint, ()))),
            inputs.rules.reviewers_needed(severity),
        )
        judged.append(approvals)
        if not approvals.covered:
            reasons.append(_missing(approvals))
    unenforced = tuple(
        f"{_label(f)} ({f.fingerprint}) is neither approved nor waived, "
        f"but fail-on {report.verdict.fail_on or 'none'} does not enforce it"
        for f in unaccepted
        if Severity.parse(f.severity) >= DEFAULT_FAIL_ON
        and (threshold is None or Severity.parse(f.severity) < threshold)
        and f.fingerprint not in reviewers_of
    )
    counted = sorted({check.reviewer for check in checks if not check.problems})
    return GateDecision(
        derived=report.derived.image_id,
        base=report.base.image_id,
        fail_on=report.verdict.fail_on,
        reviewer=", ".join(counted) or "nobody",
        reasons=tuple(reasons),
        image=derived_name,
        unenforced=unenforced,
        records=tuple(checks),
        findings=tuple(judged),
        notes=tuple(dict.fromkeys(notes)),
    )


def _check(
    report: Report, approval: Approval, inputs: GateInputs, today: date, notes: list[str]
) -> RecordCheck:
    derived = report.derived
    problems = []
    matched_by = None
    if derived.manifest_digest and approval.derived_manifest_digest == derived.manifest_digest:
        matched_by = "manifest digest"
    elif approval.derived_image_id == derived.image_id:
        matched_by = "config digest"
    else:
        approved = approval.derived_manifest_digest or approval.derived_image_id
        problems.append(f"approves {approved}, not this image ({derived.image_id})")
    if approval.base_image_id != report.base.image_id:
        problems.append(f"was given against the base {approval.base_image_id}, not {report.base.image_id}")
    if approval.is_expired(today):
        problems.append(f"the approval by {approval.reviewer} expired on {approval.expires}")
    policy = report.verdict.policy
    current = policy.digest if policy else None
    if approval.policy_digest != current:
        change = (
            f"was given under policy {approval.policy_digest or 'none'}, "
            f"the gate runs under {current or 'none'}"
        )
        if inputs.allow_policy_change or inputs.rules.on_policy_change == "warn":
            notes.append(f"{approval.source}: {change} (allowed)")
        else:
            problems.append(f"{change}: the policy changed since the approval")
    if approval.signature != VERIFIED:
        if inputs.keys_configured:
            problems.append(
                f"is {approval.signature}, but trusted keys are configured: only signed records count"
            )
        elif inputs.rules.require_signatures:
            problems.append(
                f"is {approval.signature}, and the policy requires signatures "
                "([approvals] require-signatures), but no trusted key was given (--key, or [reviewers])"
            )
        else:
            notes.append(
                "approvals are unverified: no trusted key was given (--key, or [reviewers] in the policy), "
                "so a record's reviewer is only what it says"
            )
    reviewer = approval.reviewer if approval.signature == VERIFIED else f"{approval.reviewer} (unverified)"
    if approval.signature == UNVERIFIED and not inputs.keys_configured:
        reviewer = f"{approval.reviewer} (signed, not verified)"
    return RecordCheck(
        approval.source,
        reviewer,
        approval.signature,
        approval.keyid,
        matched_by,
        len(approval.accepted),
        tuple(problems),
    )


def _label(finding: Finding) -> str:
    return f"{finding.severity} {finding.rule} on {finding.subject}"


def _missing(approvals: FindingApprovals) -> str:
    if not approvals.approved_by and approvals.needed == 1:
        return f"{approvals.label} ({approvals.fingerprint}) is neither approved nor waived"
    have = f"{len(approvals.approved_by)}" + (
        f" ({', '.join(approvals.approved_by)})" if approvals.approved_by else ""
    )
    return (
        f"{approvals.label} ({approvals.fingerprint}) needs {approvals.needed} distinct reviewers, has {have}"
    )
