"""Approval records: a reviewer's acceptance of a diff's findings, as an in-toto Statement that existing
signers (cosign attest, ...) can sign and attach to the image.

The subject is the derived image identified by its config digest (the image ID), which every source —
engine, archives, layouts, registries — agrees on; the manifest digest is recorded too when known.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from layerdiff.errors import UsageError
from layerdiff.image.json_depth import check_document_depth
from layerdiff.report.wire import Report

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://layerdiff.dev/approval/v1"


@dataclass(frozen=True)
class Approval:
    derived_image_id: str
    base_image_id: str
    base_reference: str
    accepted: frozenset[str]  # finding fingerprints
    policy_digest: str | None
    reviewer: str
    reason: str
    expires: date | None

    def is_expired(self, today: date) -> bool:
        return has_expired(self.expires, today)


def has_expired(expires: date | None, today: date) -> bool:
    """An approval counts through its expiry day and stops the day after."""
    return expires is not None and today > expires


def build_statement(
    report: Report | Mapping[str, Any],
    reviewer: str,
    reason: str,
    expires: date | None,
    now: datetime,
    only: Collection[str] | None = None,
) -> dict[str, Any]:
    """Approve the findings of ``report`` (a diff report, or its JSON form) for exactly these images: all of
    them, or those whose fingerprints are in ``only``."""
    if not reviewer.strip() or not reason.strip():
        raise UsageError("an approval needs a --reviewer and a --reason")
    if expires is not None and expires < now.date():
        raise UsageError(f"expires {expires.isoformat()} is in the past: the approval would never count")
    if not isinstance(report, Report):
        report = Report.from_json(report)
    derived, base = report.derived, report.base
    chosen = [f for f in report.findings if only is None or f.fingerprint in only]
    if only is not None:
        unknown = sorted(set(only) - {f.fingerprint for f in report.findings})
        if unknown:
            raise UsageError(f"the report has no finding with fingerprint {', '.join(unknown)}")
        if not chosen:
            raise UsageError("no finding of the report is selected for approval")
    accepted = [
        {"fingerprint": f.fingerprint, "rule": f.rule, "subject": f.subject, "severity": f.severity}
        for f in sorted(chosen, key=lambda f: f.fingerprint)
    ]
    policy = report.verdict.policy
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": derived.reference, "digest": {"sha256": _hex(derived.image_id)}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "derived": {
                "reference": derived.reference,
                "image_id": derived.image_id,
                "manifest_digest": derived.manifest_digest,
            },
            "base": {"reference": base.reference, "image_id": base.image_id},
            "accepted": accepted,
            "policy_digest": policy.digest if policy else None,
            "reviewer": reviewer,
            "reason": reason,
            "approved_at": now.astimezone(UTC).replace(microsecond=0).isoformat(),
            "expires": expires.isoformat() if expires else None,
            "report_schema_version": report.schema_version,
        },
    }


def statement_text(statement: Mapping[str, Any]) -> str:
    return json.dumps(statement, indent=2, sort_keys=True) + "\n"


def read_approval(text: str, source: str) -> Approval:
    """Parse an approval record; anything malformed is a one-line UsageError naming the file."""
    check_document_depth(text, source, UsageError)
    try:
        statement = json.loads(text)
        predicate = statement["predicate"]
        if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
            raise ValueError(f"not a layerdiff approval ({PREDICATE_TYPE} in an in-toto Statement)")
        subject_digest = "sha256:" + str(statement["subject"][0]["digest"]["sha256"])
        if subject_digest != predicate["derived"]["image_id"]:
            raise ValueError("the subject digest and the predicate's derived image disagree")
        expires = date.fromisoformat(predicate["expires"]) if predicate.get("expires") else None
        return Approval(
            derived_image_id=subject_digest,
            base_image_id=str(predicate["base"]["image_id"]),
            base_reference=str(predicate["base"]["reference"]),
            accepted=frozenset(str(item["fingerprint"]) for item in predicate["accepted"]),
            policy_digest=predicate.get("policy_digest"),
            reviewer=str(predicate["reviewer"]),
            reason=str(predicate["reason"]),
            expires=expires,
        )
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(f"{source}: invalid approval record ({detail})") from exc


def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64:
        raise UsageError(f"unexpected image digest {digest!r} in the report")
    return value
