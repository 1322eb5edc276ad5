"""The pre-deploy decision: does an approval cover this image and every finding that would fail it?

It judges a finished report (what ``review()`` returned for the image about to ship) against an approval
record; it reads nothing and runs nothing itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from layerdiff.approval import Approval
from layerdiff.policy import DEFAULT_FAIL_ON
from layerdiff.report.wire import Report
from layerdiff.rules.severity import Severity


@dataclass(frozen=True)
class GateDecision:
    derived: str  # the derived image's ID
    base: str
    fail_on: str | None
    reviewer: str
    reasons: tuple[str, ...]  # why it fails; none when it passes
    image: str = ""  # the derived image as it was named to the gate
    # findings at or above DEFAULT_FAIL_ON that are neither approved nor waived, but the threshold (`none`,
    # or critical) does not enforce: the decision is then `review`, never `pass`
    unenforced: tuple[str, ...] = ()

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
        }


def decide(report: Report, approval: Approval, derived_name: str, today: date) -> GateDecision:
    """Fail when the images are not the approved ones, the approval has expired, or a finding at or above
    the report's threshold is neither waived by the policy nor accepted by the approval."""
    derived_id, base_id = report.derived.image_id, report.base.image_id
    reasons = []
    if derived_id != approval.derived_image_id:
        reasons.append(f"{derived_name} is {derived_id}, but the approval is for {approval.derived_image_id}")
    if base_id != approval.base_image_id:
        reasons.append(f"the base is {base_id}, but the approval was given against {approval.base_image_id}")
    expired = approval.is_expired(today)
    if expired:
        reasons.append(f"the approval by {approval.reviewer} expired on {approval.expires}")
    accepted = frozenset() if expired else approval.accepted
    threshold = Severity.parse(report.verdict.fail_on) if report.verdict.fail_on else None
    unaccepted = [f for f in report.findings if f.waived is None and f.fingerprint not in accepted]
    reasons += [
        f"{f.severity} {f.rule} on {f.subject} ({f.fingerprint}) is neither approved nor waived"
        for f in unaccepted
        if threshold is not None and Severity.parse(f.severity) >= threshold
    ]
    unenforced = tuple(
        f"{f.severity} {f.rule} on {f.subject} ({f.fingerprint}) is neither approved nor waived, "
        f"but fail-on {report.verdict.fail_on or 'none'} does not enforce it"
        for f in unaccepted
        if Severity.parse(f.severity) >= DEFAULT_FAIL_ON
        and (threshold is None or Severity.parse(f.severity) < threshold)
    )
    return GateDecision(
        derived_id,
        base_id,
        report.verdict.fail_on,
        approval.reviewer,
        tuple(reasons),
        derived_name,
        unenforced,
    )
