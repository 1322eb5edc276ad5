"""Rules about the runtime user and the image config: USER, loader variables in ENV, HEALTHCHECK,
ENTRYPOINT and CMD. Instructions and commands in the evidence are redacted (``layerdiff.text.secrets``);
credentials in ENV are ``secret-in-image``'s (``layerdiff.rules.credentials``).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from layerdiff.diff.files import find_change
from layerdiff.inventory.evidence import describe_user, user_evidence
from layerdiff.inventory.users import RuntimeUser
from layerdiff.rules.model import Finding, Rule, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.secrets import redact_text

LOADER_VARIABLES = ("LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE")
# What each variable changes for every process of the container, in the words of whoever runs one
_LOADER_EFFECTS = {
    "LD_PRELOAD": "Every program the container starts loads other libraries first",
    "LD_LIBRARY_PATH": "Every program the container starts looks for its shared libraries elsewhere first",
    "PYTHONPATH": "Every Python process imports from other directories first",
    "PYTHONHOME": "Every Python process looks for its standard library elsewhere",
    "PYTHONUSERBASE": "Every Python process takes its user site packages from elsewhere",
}
_NANOSECONDS = 1_000_000_000
_HEALTHCHECK_DURATIONS = ("Interval", "Timeout", "StartPeriod", "StartInterval")


# --- runtime user -------------------------------------------------------------------------------------------


@rule(
    "runtime-user-root",
    Severity.HIGH,
    "The image now runs as root",
    "End the Dockerfile with the base's USER (e.g. `USER airflow`) after the steps that need root.",
)
def RUNTIME_USER_ROOT(context: RuleContext) -> Iterator[Finding]:
    before, after = context.diff.base_inventory.user, context.diff.derived_inventory.user
    if not after.is_root or before.is_root:
        return
    yield _user_finding(
        RUNTIME_USER_ROOT,
        context,
        f"Every process in the container now runs as root (HOME {after.home}), with root's privileges and "
        f"files, where the base ran as {describe_user(before)} (HOME {before.home}).",
    )


@rule(
    "runtime-user-changed",
    Severity.MEDIUM,
    "The image runs as a different user",
    "Keep the base's USER, or give the new user the base user's HOME, groups and file ownership.",
)
def RUNTIME_USER_CHANGED(context: RuleContext) -> Iterator[Finding]:
    before, after = context.diff.base_inventory.user, context.diff.derived_inventory.user
    if before.is_root or after.is_root or before.uid == after.uid:
        return
    yield _user_finding(
        RUNTIME_USER_CHANGED,
        context,
        f"Every process in the container now runs as {describe_user(after)} (HOME {after.home}), with that "
        f"user's access to files, instead of {describe_user(before)} (HOME {before.home}).",
    )


def _user_finding(the_rule: Rule, context: RuleContext, message: str) -> Finding:
    before, after = context.diff.base_inventory.user, context.diff.derived_inventory.user
    instruction = _user_instruction(context)
    return the_rule.finding(
        context,
        subject="USER",
        message=message,
        evidence=_user_evidence(before, after, instruction),
        instruction=instruction,
    )


def _user_evidence(before: RuntimeUser, after: RuntimeUser, instruction: str | None) -> dict[str, Any]:
    """Both users side by side: ``uid_before``, ``uid_after``, ... and the instruction that changed it."""
    return {
        **{f"{key}_before": value for key, value in user_evidence(before).items()},
        **{f"{key}_after": value for key, value in user_evidence(after).items()},
        "instruction": instruction,
    }


def _user_instruction(context: RuleContext) -> str | None:
    """The USER instruction; without one, the uid changed because a layer rewrote /etc/passwd."""
    change = context.config_change("User")
    if change is not None and change.instruction is not None:
        return change.instruction
    passwd = find_change(context.diff.file_changes, "/etc/passwd")
    return context.instruction(passwd.layer) if passwd is not None else None


# --- loader environment -------------------------------------------------------------------------------------


@rule(
    "loader-env-changed",
    Severity.HIGH,
    "A variable that changes what the loader or Python imports was set, changed or removed",
    "Don't set loader variables image-wide: install libraries into the default directories (and run "
    "ldconfig), install Python packages with pip instead of PYTHONPATH, or set the variable only for the "
    "one command that needs it.",
)
def LOADER_ENV_CHANGED(context: RuleContext) -> Iterator[Finding]:
    for change in context.diff.config_changes:
        if change.field != "Env" or change.key not in LOADER_VARIABLES:
            continue
        name = change.key
        effect = _LOADER_EFFECTS[name]
        if change.before is None:
            message = f"{effect}: ENV {name} is now set to {change.after!r}; the base did not set it."
        elif change.after is None:
            message = f"{effect}: ENV {name} was removed; the base set it to {change.before!r}."
        else:
            message = f"{effect}: ENV {name} changed from {change.before!r} to {change.after!r}."
        instruction = redact_text(change.instruction)
        yield LOADER_ENV_CHANGED.finding(
            context,
            subject=f"ENV:{name}",
            message=message,
            evidence={
                "variable": name,
                "before": change.before,
                "after": change.after,
                "instruction": instruction,
            },
            instruction=instruction,
        )


# --- HEALTHCHECK, ENTRYPOINT, CMD ---------------------------------------------------------------------------


@rule(
    "healthcheck-changed",
    Severity.MEDIUM,
    "HEALTHCHECK was removed, disabled or changed",
    "Keep the base's HEALTHCHECK; when the command must change, check that it passes in the derived image "
    "(`docker inspect --format '{{json .State.Health}}'`).",
)
def HEALTHCHECK_CHANGED(context: RuleContext) -> Iterator[Finding]:
    change = context.config_change("Healthcheck")
    if change is None:
        return
    before, after = _effective_healthcheck(change.before), _effective_healthcheck(change.after)
    if before is None and after is None:
        return  # e.g. none in the base, explicitly disabled in the derived image: nothing runs either way
    severity = None
    if after is None:
        how = "disabled" if _is_disabled(change.after) else "removed"
        message = f"The orchestrator no longer notices a hung process: the base's HEALTHCHECK was {how}."
    elif before is None:
        how, severity = "added", Severity.LOW
        message = (
            "A working container can now be marked unhealthy by its new check: a HEALTHCHECK was added "
            "where the base had none."
        )
    else:
        how = "changed"
        message = "A different check now decides whether the container is healthy: HEALTHCHECK changed."
    instruction = redact_text(change.instruction)
    yield HEALTHCHECK_CHANGED.finding(
        context,
        subject="HEALTHCHECK",
        message=message,
        evidence={
            "change": how,
            "before": _readable_healthcheck(change.before),
            "after": _readable_healthcheck(change.after),
            "instruction": instruction,
        },
        severity=severity,
        instruction=instruction,
    )


def _is_disabled(healthcheck: Any) -> bool:
    return isinstance(healthcheck, dict) and healthcheck.get("Test") == ["NONE"]


def _effective_healthcheck(healthcheck: Any) -> Any:
    """The healthcheck that runs, or None when there is none or it is disabled (``HEALTHCHECK NONE``)."""
    if not healthcheck or _is_disabled(healthcheck):
        return None
    return healthcheck


def _readable_healthcheck(healthcheck: Any) -> Any:
    """The config's object with durations in seconds instead of nanoseconds, as the Dockerfile wrote them."""
    if not isinstance(healthcheck, dict):
        return healthcheck
    readable = dict(healthcheck)
    if "Test" in readable:
        readable["Test"] = _redacted_command(readable["Test"])
    for name in _HEALTHCHECK_DURATIONS:
        value = readable.get(name)
        if isinstance(value, int) and value > 0:
            readable[name] = f"{_seconds(value):g}s"
    return readable


def _seconds(nanoseconds: int) -> float | Decimal:
    try:
        return nanoseconds / _NANOSECONDS
    except OverflowError:  # more seconds than a float holds (the image is hostile): exact, then
        return Decimal(nanoseconds) / _NANOSECONDS


@rule(
    "entrypoint-changed",
    Severity.MEDIUM,
    "ENTRYPOINT or CMD changed",
    "Keep the base's ENTRYPOINT (it often prepares the environment before the command runs); change only "
    "CMD, and remember that setting ENTRYPOINT resets CMD.",
)
def ENTRYPOINT_CHANGED(context: RuleContext) -> Iterator[Finding]:
    for field, keyword in (("Entrypoint", "ENTRYPOINT"), ("Cmd", "CMD")):
        change = context.config_change(field)
        if change is None:
            continue
        instruction = redact_text(change.instruction)
        before, after = _redacted_command(change.before), _redacted_command(change.after)
        yield ENTRYPOINT_CHANGED.finding(
            context,
            subject=keyword,
            message=(
                f"The container now starts {_command_text(after)} where the base started "
                f"{_command_text(before)}: {keyword} changed."
            ),
            evidence={"before": before, "after": after, "instruction": instruction},
            instruction=instruction,
        )


def _redacted_command(value: Any) -> Any:
    """A command (exec-form list or shell string) with credential-shaped arguments redacted."""
    if isinstance(value, list):
        return [redact_text(word) if isinstance(word, str) else word for word in value]
    return redact_text(value) if isinstance(value, str) else value


def _command_text(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "[" + ", ".join(f'"{word}"' for word in value) + "]"
    return repr(value)
