"""The rules about credentials stored in the image: in ENV or in a file of any reviewed layer (a file a
later layer deletes is still in its layer's blob), and in the build history (``secret-in-history``).
What counts as a credential is ``layerdiff.text``'s to say (``secrets``, ``instruction_secrets``), and which
credential files each layer holds ``layerdiff.inventory.credentials``'s; values never reach the evidence."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from layerdiff.diff.changes import ConfigChange
from layerdiff.image.history import derived_history_start
from layerdiff.image.history import instruction as history_instruction
from layerdiff.image.history import keyword as history_keyword
from layerdiff.image.model import Entry
from layerdiff.inventory.credentials import StoredCredential, stored_credentials
from layerdiff.inventory.evidence import entry_evidence
from layerdiff.inventory.users import may
from layerdiff.rules.file_findings import file_finding, layer_evidence, reviewed_layers
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.instruction_secrets import InstructionCredential, instruction_credentials
from layerdiff.text.secrets import SecretMatch, classify_env_secret, redact_text

_READ = 4
_NAMED_IN_MESSAGE = 3  # credentials a file finding's message names; the evidence lists them all
_SUBJECT_CHARS = 160


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


def _secret_file_findings(context: RuleContext) -> Iterator[Finding]:
    tree = context.diff.derived_files.tree
    user = context.diff.derived_inventory.user
    credentials = context.diff.derived_inventory.env.get("GOOGLE_APPLICATION_CREDENTIALS")
    named = context.diff.derived_files.resolve(credentials) if credentials else None
    stored = stored_credentials(context.derived_indexes, reviewed_layers(context), named)
    for path, secret in sorted(stored.items()):
        final = tree.nodes.get(path)
        removed_by = tree.removed_by.get(path) if final is None else None
        if removed_by is not None:
            where = f"; layer {removed_by} deletes it, but it stays in layer {secret.layer}'s blob"
        elif final is not None and final.layer not in secret.layers:
            where = (
                f"; layer {final.layer} rewrites it without one, but it stays in layer {secret.layer}'s blob"
            )
        else:
            where = ""
        yield file_finding(
            SECRET_IN_IMAGE,
            context,
            subject=path,
            message=(
                f"Anyone who can pull the image can read {_what(secret)} in {path}, stored in layer "
                f"{secret.layer}{where}."
            ),
            evidence={
                "path": path,
                "kind": secret.kind,
                **_entry_without_digest(secret.entry),
                "layers": secret.layers,
                "in_final_filesystem": final is not None,
                "removed_by_layer": removed_by,
                "readable_by_runtime_user": may(user, final.entry, _READ) if final is not None else None,
                **_content_evidence(secret),
                **layer_evidence(context, secret.layer),
            },
            layer=secret.layer,
        )


def _what(secret: StoredCredential) -> str:
    """``a credential (.netrc (login credentials))``, or the credentials and the lines they are on:
    ``2 credentials (line 2: npm auth token, line 5: URL with a password)``. (A kind is never followed by
    a word: the redaction would take ``password on`` for a netrc line.)"""
    if not secret.hits:
        return f"a credential ({secret.kind})"
    shown = [f"line {hit.line}: {hit.kind}" for _, hit in secret.hits[:_NAMED_IN_MESSAGE]]
    more = len(secret.hits) + secret.omitted - len(shown)
    listed = ", ".join(shown) + (f"; {more} more" if more else "")
    count = len(secret.hits) + secret.omitted
    noun = "a credential" if count == 1 else f"{count} credentials"
    return f"{noun} ({listed})"


def _content_evidence(secret: StoredCredential) -> dict[str, Any]:
    if secret.unread is not None and not secret.hits:
        return {"content": secret.unread}
    credentials = [
        {"layer": layer, "line": hit.line, "kind": hit.kind, "setting": hit.setting}
        for layer, hit in secret.hits
    ]
    count = len(credentials) + secret.omitted
    return {
        "content": f"read: {count} credential{'s' if count != 1 else ''} found (values not shown)",
        "credentials": credentials,
    }


def _entry_without_digest(entry: Entry) -> dict[str, Any]:
    """The file's entry without its sha256: a digest of a short credential can be brute-forced."""
    return {key: value for key, value in (entry_evidence(entry) or {}).items() if key != "sha256"}


@rule(
    "secret-in-history",
    Severity.HIGH,
    "A credential is written in the image's build history",
    "Pass build-time credentials as BuildKit secrets (`RUN --mount=type=secret,id=token,env=TOKEN ...`), "
    "never on the RUN line, as an ARG or in ENV: every instruction, and every ARG value a RUN used, is kept "
    "in the image's history, which `docker history --no-trunc` prints to anyone who can pull the image. "
    "Rotate the credential: rebuilding does not un-publish the image that has it.",
)
def SECRET_IN_HISTORY(context: RuleContext) -> Iterator[Finding]:
    # an ENV value that is a credential is secret-in-image's finding (ENV:NAME), not a second one here
    reported = tuple(str(change.after) for change, _ in env_secrets(context) if change.after)
    found: dict[str, list[tuple[int, int | None, list[InstructionCredential]]]] = {}
    instructions: dict[str, str | None] = {}
    for index, layer, created_by in _derived_history(context):
        credentials = instruction_credentials(created_by)
        if history_keyword(created_by) == "ENV":
            credentials = [c for c in credentials if not _inside(created_by, c, reported)]
        if not credentials:
            continue
        text = history_instruction(created_by)
        subject = _subject(redact_text(text, *reported) or "")
        found.setdefault(subject, []).append((index, layer, credentials))
        instructions.setdefault(subject, redact_text(text))
    for subject, entries in found.items():
        index, layer, credentials = entries[0]
        kinds = sorted({c.kind for c in credentials})
        if layer is not None:
            where = f"the instruction that wrote layer {layer}"
        else:
            where = f"history entry {index}, an instruction that wrote no layer,"
        yield SECRET_IN_HISTORY.finding(
            context,
            subject=subject,
            message=(
                f"Anyone who can pull the image can read {_counted(len(credentials))} ({', '.join(kinds)}) "
                f"in its history (`docker history --no-trunc`): {where} holds it."
            ),
            evidence={
                "history": [{"history_index": i, "layer": p} for i, p, _ in entries],
                "credentials": [{"kind": c.kind, "name": redact_text(c.name)} for c in credentials],
                "instruction": instructions[subject],
                "layer": layer,
            },
            layer=layer,
            instruction=instructions[subject],
        )


def _derived_history(context: RuleContext) -> Iterator[tuple[int, int | None, str]]:
    """(history index, layer position or None, created_by) of each entry the derived Dockerfile wrote."""
    history = context.derived.history
    start = derived_history_start(context.base.history, history, context.diff.shared_layers)
    layered = [index for index, entry in enumerate(history) if not entry.empty_layer]
    layer_of = (
        {index: position for position, index in enumerate(layered)}
        if len(layered) == len(context.derived.layers)
        else {}
    )
    for index in range(start, len(history)):
        yield index, layer_of.get(index), history[index].created_by


def _inside(text: str, credential: InstructionCredential, values: tuple[str, ...]) -> bool:
    """Whether the credential's value lies in one of ``values`` as written in ``text``."""
    for value in values:
        start = text.rfind(value, 0, credential.end)
        if start >= 0 and start <= credential.start and credential.end <= start + len(value):
            return True
    return False


def _subject(instruction: str) -> str:
    """The redacted instruction on one line: stable across rebuilds and rotations. A long one is cut, with
    a digest of the whole so that two instructions that start alike stay apart."""
    line = " ".join(instruction.split())
    if len(line) <= _SUBJECT_CHARS:
        return line
    digest = hashlib.sha256(line.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{line[:_SUBJECT_CHARS]}… ({digest})"


def _counted(count: int) -> str:
    return "a credential" if count == 1 else f"{count} credentials"
