"""Approval records: a reviewer's acceptance of a diff's findings, as an in-toto Statement, signed (a DSSE
envelope, as cosign attest and in-toto write them; see layerdiff.signing) or not.

The Statement's subjects name the derived image by its manifest digest when the source knew it (what
registries, cosign and admission controllers identify an image by) and by its config digest (the image ID,
which every source agrees on) always; the gate matches either. A signed record's reviewer is the owner of
the trusted key that verifies it, never the free-text field it carries.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from layerdiff.errors import UsageError
from layerdiff.image.json_depth import check_document_depth
from layerdiff.report.wire import Report

if TYPE_CHECKING:  # signing imports the cryptography libraries: only for records that use it
    from layerdiff.signing import ApprovalSigner, TrustedKey

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
SUBJECTS = 16  # a record names the derived image by one or two digests; more are not read
PREDICATE_TYPE = "https://layerdiff.dev/approval/v1"


# How a record's reviewer is known: the signature verified with a trusted key; signed, but no trusted key
# was given to check it with; or not signed at all.
VERIFIED, UNVERIFIED, UNSIGNED = "verified", "unverified", "unsigned"


@dataclass(frozen=True)
class Approval:
    derived_image_id: str
    base_image_id: str
    base_reference: str
    accepted: frozenset[str]  # finding fingerprints
    policy_digest: str | None
    reviewer: str  # the trusted key's owner when verified; else the name the record gives
    reason: str
    expires: date | None
    derived_manifest_digest: str | None = None
    source: str = ""  # the file it was read from
    signature: str = UNSIGNED  # verified | unverified | unsigned
    keyid: str | None = None  # the key that verified it
    claimed_reviewer: str = ""  # the record's own reviewer field

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
    # the manifest digest first: what `cosign verify-attestation` and admission controllers look up
    digests = [d for d in (derived.manifest_digest, derived.image_id) if d]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": derived.reference, "digest": {"sha256": _hex(d)}} for d in digests],
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


def signed_record(statement: Mapping[str, Any], signer: ApprovalSigner) -> dict[str, Any]:
    """``statement`` in a DSSE envelope signed by ``signer``."""
    from layerdiff.signing import sign_envelope

    return sign_envelope(statement_text(statement).encode(), signer)


def read_approval(text: str, source: str, trusted: Sequence[TrustedKey] = ()) -> Approval:
    """Parse an approval record, a DSSE envelope or a bare Statement; anything malformed is a one-line
    UsageError naming the file, and an envelope no trusted key verifies a SignatureError. Without trusted
    keys an envelope is read unverified (``signature`` says so)."""
    check_document_depth(text, source, UsageError)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{source}: invalid approval record ({exc})") from exc
    signature, keyid, owner = UNSIGNED, None, None
    if _is_envelope(document):
        from layerdiff.signing import unverified_payload, verify_envelope

        if trusted:
            verified = verify_envelope(document, trusted, source)
            payload, signature, keyid, owner = (
                verified.payload,
                VERIFIED,
                verified.key.keyid,
                verified.key.owner,
            )
        else:
            payload, signature = unverified_payload(document, source), UNVERIFIED
        try:
            text = payload.decode("utf-8")
            check_document_depth(text, f"{source} (its payload)", UsageError)  # nested deeper than bounded
            document = json.loads(text)
        except ValueError as exc:  # UnicodeDecodeError too
            raise UsageError(f"{source}: the envelope's payload is not JSON ({exc})") from exc
    approval = _statement(document, source)
    return replace(
        approval,
        source=source,
        signature=signature,
        keyid=keyid,
        reviewer=owner if owner is not None else approval.reviewer,
    )


def _is_envelope(document: object) -> bool:
    # DSSE's own keys, which a Statement has none of (as layerdiff.signing.is_envelope says, without
    # importing the cryptography libraries for a bare record)
    return isinstance(document, dict) and any(k in document for k in ("payloadType", "payload", "signatures"))


@lru_cache(maxsize=1)
def predicate_schema() -> dict[str, Any]:
    """The predicate's JSON Schema as published with the package (``$id`` the predicate type)."""
    text = resources.files("layerdiff.report").joinpath("approval.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def predicate_problem(predicate: object) -> str | None:
    """Where ``predicate`` departs from the published schema (approval.schema.json), or None."""
    import jsonschema

    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(predicate_schema()).iter_errors(predicate)
    )
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "the predicate"
    return f"{where}: {error.message[:200]}"


def _statement(statement: Any, source: str) -> Approval:
    try:
        predicate = statement["predicate"]
        if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
            raise ValueError(f"not a layerdiff approval ({PREDICATE_TYPE} in an in-toto Statement)")
        if (problem := predicate_problem(predicate)) is not None:
            raise ValueError(problem)
        derived = predicate["derived"]
        image_id, manifest = str(derived["image_id"]), derived.get("manifest_digest")
        subjects = {"sha256:" + str(s["digest"]["sha256"]) for s in statement["subject"][:SUBJECTS]}
        if image_id not in subjects and manifest not in subjects:
            raise ValueError("the subject digests and the predicate's derived image disagree")
        expires = date.fromisoformat(predicate["expires"]) if predicate.get("expires") else None
        reviewer = str(predicate["reviewer"])
        return Approval(
            derived_image_id=image_id,
            base_image_id=str(predicate["base"]["image_id"]),
            base_reference=str(predicate["base"]["reference"]),
            accepted=frozenset(str(item["fingerprint"]) for item in predicate["accepted"]),
            policy_digest=predicate.get("policy_digest"),
            reviewer=reviewer,
            reason=str(predicate["reason"]),
            expires=expires,
            derived_manifest_digest=str(manifest) if manifest else None,
            claimed_reviewer=reviewer,
        )
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UsageError(f"{source}: invalid approval record ({detail})") from exc


def _hex(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    if algorithm != "sha256" or len(value) != 64:
        raise UsageError(f"unexpected image digest {digest!r} in the report")
    return value
