"""The rule about credentials stored in the image, in ENV or in a file of any reviewed layer (a file a
later layer deletes is still in its layer's blob). What counts as a credential is
``layerdiff.text.secrets``'s to say; values never reach the evidence."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from layerdiff.diff.changes import ConfigChange
from layerdiff.image.model import Entry
from layerdiff.inventory.evidence import entry_evidence
from layerdiff.inventory.users import may
from layerdiff.rules.file_findings import FILE_TYPES, file_finding, layer_evidence, reviewed_layers
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.secrets import SecretMatch, classify_env_secret, redact_text, secret_file_kind

_READ = 4


@rule(
    "secret-in-image",
    Severity.HIGH,
    "A credential is stored in the image",
    "Never put credentials in ENV, COPY or RUN: use build secrets (`RUN --mount=type=secret,id=pypirc,"
    "target=/root/.pypirc pip install ...`) and inject runtime credentials from the orchestrator. A file "
    "deleted in a later layer is still in the earlier layer's blob: rotate the credential.",
)
def SECRET_IN_IMAGE(context: RuleContext) -> Iterator[Finding]:
    yield from _secret_env_findings(context)
    yield from _secret_file_findings(context)


def env_secrets(context: RuleContext) -> Iterator[tuple[ConfigChange, SecretMatch]]:
    """ENV variables the derived image set or changed to a credential-looking value."""
    for change in context.diff.config_changes:
        if change.field != "Env" or change.key is None or not isinstance(change.after, str):
            continue
        match = classify_env_secret(change.key, change.after)
        if match is not None:
            yield change, match


def _secret_env_findings(context: RuleContext) -> Iterator[Finding]:
    for change, match in env_secrets(context):
        instruction = redact_text(change.instruction, change.after or "")
        yield SECRET_IN_IMAGE.finding(
            context,
            subject=f"ENV:{change.key}",
            message=(
                f"ENV {change.key} holds a credential ({match.kind}) that every container and "
                "`docker inspect` shows."
            ),
            evidence={
                "variable": change.key,
                "kind": match.kind,
                "value": match.redacted,
                "instruction": instruction,
            },
            instruction=instruction,
        )


@dataclass
class _StoredSecret:
    kind: str
    entry: Entry
    layer: int
    layers: list[int] = field(default_factory=list)


def _stored_secrets(context: RuleContext) -> dict[str, _StoredSecret]:
    """Credential files in every reviewed layer: one deleted later is still in its layer's blob."""
    credentials = context.diff.derived_inventory.env.get("GOOGLE_APPLICATION_CREDENTIALS")
    named = context.diff.derived_files.resolve(credentials) if credentials else None
    found: dict[str, _StoredSecret] = {}
    for position in reviewed_layers(context):
        for entry in context.derived_indexes[position].entries:
            if entry.type not in FILE_TYPES:
                continue
            kind = secret_file_kind(entry.path)
            if kind is None and entry.path == named:
                kind = "GCP credentials (GOOGLE_APPLICATION_CREDENTIALS)"
            if kind is not None:
                found.setdefault(entry.path, _StoredSecret(kind, entry, position)).layers.append(position)
    return found


def _secret_file_findings(context: RuleContext) -> Iterator[Finding]:
    tree = context.diff.derived_files.tree
    user = context.diff.derived_inventory.user
    for path, secret in sorted(_stored_secrets(context).items()):
        final = tree.nodes.get(path)
        removed_by = tree.removed_by.get(path) if final is None else None
        if removed_by is not None:
            where = f"; layer {removed_by} deletes it, but it stays in layer {secret.layer}'s blob"
        else:
            where = ""
        yield file_finding(
            SECRET_IN_IMAGE,
            context,
            subject=path,
            message=f"{path} looks like a credential ({secret.kind}) stored in layer {secret.layer}{where}.",
            evidence={
                "path": path,
                "kind": secret.kind,
                **_entry_without_digest(secret.entry),
                "layers": secret.layers,
                "in_final_filesystem": final is not None,
                "removed_by_layer": removed_by,
                "readable_by_runtime_user": may(user, final.entry, _READ) if final is not None else None,
                "content": "not read (recognised by its path)",
                **layer_evidence(context, secret.layer),
            },
            layer=secret.layer,
        )


def _entry_without_digest(entry: Entry) -> dict[str, Any]:
    """The file's entry without its sha256: a digest of a short credential can be brute-forced."""
    return {key: value for key, value in (entry_evidence(entry) or {}).items() if key != "sha256"}
