"""The rule about the file each command name on PATH runs, as ``command -v`` finds it for the runtime user.

Evidence names commands by path, so that a reviewer can confirm a finding with ``command -v`` inside the
derived image.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerdiff.diff.inventory import CommandChange
from layerdiff.inventory.commands import config_keyword, shebang_program
from layerdiff.inventory.evidence import command_evidence
from layerdiff.inventory.launches import environment_of, resolve_word
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.words import listed


@rule(
    "path-command-shadowed",
    Severity.HIGH,
    "A command name on PATH runs another file than in the base",
    "Keep the base's directories first on PATH (append new ones: ENV PATH=$PATH:/opt/tool/bin), call the "
    "new tool by its full path, or install it under a name that does not collide.",
)
def path_command_shadowed(context: RuleContext) -> Iterator[Finding]:
    # One finding per cause: the commands a directory now wins for (ENV PATH put it first, or files were
    # added to it) are one finding for that directory; a command gone or retargeted in place is its own.
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    groups: dict[str, list[tuple[CommandChange, list[str]]]] = {}
    for change in context.diff.inventory.commands:
        before, after = change.before, change.after
        if before is None:
            continue  # a new name shadows nothing
        used = _uses(context, change)
        if after is None and not used:
            continue  # an unused command that is gone: base-file-deleted reports the file
        if after is not None and before.target == after.target:
            # the same file reached through another PATH entry (/bin -> /usr/bin) runs the same, unless it is
            # a Python interpreter whose venv decides what it imports
            before_env = environment_of(base, context.diff.base_files, before.path)
            if before_env == environment_of(derived, context.diff.derived_files, after.path):
                continue
        moved = after is not None and after.path != before.path
        key = posixpath.dirname(after.path) if after is not None and moved else change.name
        groups.setdefault(key, []).append((change, used))
    for subject, members in sorted(groups.items()):
        yield _shadowed_finding(context, subject, members)


def _shadowed_finding(
    context: RuleContext, subject: str, members: list[tuple[CommandChange, list[str]]]
) -> Finding:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    uses = [use for _, used in members for use in used]
    changes = [change for change, _ in members]
    layer, instruction = _command_cause(context, changes[0])
    evidence: dict[str, object] = {
        "commands": [c.name for c in changes],
        "command": changes[0].name,
        "before": command_evidence(changes[0].before),
        "after": command_evidence(changes[0].after),
        "used_by": uses,
        "path": {"base": base.path, "derived": derived.path},
    }
    if len(changes) > 1:
        evidence["each"] = [
            {"command": c.name, "before": command_evidence(c.before), "after": command_evidence(c.after)}
            for c in changes
        ]
    return path_command_shadowed.finding(
        context,
        subject=subject,
        message=_command_message(changes, uses),
        evidence=evidence,
        layer=layer,
        severity=Severity.HIGH if uses else Severity.MEDIUM,
        instruction=instruction,
    )


def _uses(context: RuleContext, change: CommandChange) -> list[str]:
    """How ENTRYPOINT, CMD and HEALTHCHECK run the command: by name, or by ``#!/usr/bin/env NAME``."""
    uses = [f"{config_keyword(change.used_by)} runs {change.name}"] if change.used_by else []
    derived, files = context.diff.derived_inventory, context.diff.derived_files
    for word, used_by in sorted(derived.commands_used.items()):
        resolved = resolve_word(derived, files, word)
        line = resolved[1] if resolved is not None else None
        if shebang_program(line) == (change.name, True):
            uses.append(f"{config_keyword(used_by)} runs {word} (#!{line})")
    return uses


def _command_cause(context: RuleContext, change: CommandChange) -> tuple[int | None, str | None]:
    """(layer, instruction) to blame: ENV PATH when it put the winning directory on PATH, else the layer
    that wrote the new file or removed the old one, else USER (another user may not run the same files)."""
    path_change = context.config_change("Env", "PATH")
    new_on_path = change.after is not None and posixpath.dirname(change.after.path) not in (
        context.diff.base_inventory.path.split(":")
    )
    if path_change is not None and new_on_path:
        return None, path_change.instruction
    for command in (change.after, change.before):
        layer = context.layer_that_changed(command.path, command.target) if command is not None else None
        if layer is not None:
            return layer, None
    if path_change is not None:
        return None, path_change.instruction
    user_change = context.config_change("User")
    return None, user_change.instruction if user_change else None


def _command_message(changes: list[CommandChange], used: list[str]) -> str:
    """What now runs, in the words of whoever types the command; then where it came from."""
    first = changes[0]
    before, after = first.before, first.after
    assert before is not None
    use = f" ({listed(used)})" if used else ""
    if after is None:
        return (
            f"Running {first.name} fails with 'command not found'{use}: it is no longer on PATH "
            f"(was {before.path})."
        )
    if after.path == before.path:
        return f"{first.name} now runs {after.target} instead of {before.target}{use}: {after.path} changed."
    where = posixpath.dirname(after.path)
    if len(changes) == 1:
        return f"{first.name} now runs {after.path} instead of {before.path}{use}."
    names = listed([c.name for c in changes])
    old = listed([c.before.path for c in changes if c.before is not None])
    return f"{names} now run the files of that name in {where}{use}, not the base's {old}."
