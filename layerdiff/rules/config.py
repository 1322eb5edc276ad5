"""Rules about the runtime user and the image config: USER, loader variables in ENV, HEALTHCHECK,
ENTRYPOINT and CMD.

Also here: how a credential is recognised in an ENV variable and how values are redacted. The
``secret-in-image`` rule itself lives in ``layerdiff.rules.filesystem`` (it covers files and ENV under one id)
and uses these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from layerdiff.diff.changes import ConfigChange
from layerdiff.inventory.users import RuntimeUser
from layerdiff.rules.model import Finding, RuleContext, Severity
from layerdiff.rules.registry import rule

LOADER_VARIABLES = ("LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE")
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
    instruction = _user_instruction(context)
    yield RUNTIME_USER_ROOT.finding(
        context,
        subject="USER",
        message=(
            f"The container now runs as root (HOME {after.home}) where the base ran as "
            f"{_describe_user(before)} (HOME {before.home})."
        ),
        evidence=_user_evidence(before, after, instruction),
        instruction=instruction,
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
    instruction = _user_instruction(context)
    yield RUNTIME_USER_CHANGED.finding(
        context,
        subject="USER",
        message=(
            f"The container now runs as {_describe_user(after)} (HOME {after.home}) instead of "
            f"{_describe_user(before)} (HOME {before.home})."
        ),
        evidence=_user_evidence(before, after, instruction),
        instruction=instruction,
    )


def _describe_user(user: RuntimeUser) -> str:
    return f"uid {user.uid} ({user.name})" if user.name else f"uid {user.uid}"


def _user_evidence(before: RuntimeUser, after: RuntimeUser, instruction: str | None) -> dict[str, Any]:
    return {
        "user_before": before.spec,  # as written in the config; "" means the engine's default, root
        "user_after": after.spec,
        "uid_before": before.uid,
        "uid_after": after.uid,
        "name_before": before.name,
        "name_after": after.name,
        "home_before": before.home,
        "home_after": after.home,
        "groups_before": sorted(before.groups),
        "groups_after": sorted(after.groups),
        "instruction": instruction,
    }


def _user_instruction(context: RuleContext) -> str | None:
    """The USER instruction; without one, the uid changed because a layer rewrote /etc/passwd."""
    change = context.config_change("User")
    if change is not None and change.instruction is not None:
        return change.instruction
    passwd = next((c for c in context.diff.file_changes if c.path == "/etc/passwd"), None)
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
        if change.before is None:
            message = f"ENV {name} is now set to {change.after!r}; the base did not set it."
        elif change.after is None:
            message = f"ENV {name} was removed; the base set it to {change.before!r}."
        else:
            message = f"ENV {name} changed from {change.before!r} to {change.after!r}."
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
        message = f"The base's HEALTHCHECK was {how}: the orchestrator no longer notices a hung process."
    elif before is None:
        how, severity = "added", Severity.LOW
        message = (
            "A HEALTHCHECK was added where the base had none; it can mark a working container unhealthy."
        )
    else:
        how = "changed"
        message = "HEALTHCHECK changed: a different check now decides whether the container is healthy."
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
            seconds = value / _NANOSECONDS
            readable[name] = f"{seconds:g}s"
    return readable


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
            message=(f"{keyword} changed from {_command_text(before)} to {_command_text(after)}."),
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


# --- recognising and redacting credentials (used by secret-in-image) ----------------------------------------


@dataclass(frozen=True)
class SecretMatch:
    kind: str  # what it looks like, for a reviewer: "AWS access key id", "private key", ...
    redacted: str  # never the value: at most a well-known prefix and the length


_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]*:)[^/\s@]+@")
_TOKEN_FORMATS = (
    (
        re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}"),
        "GitHub token",
    ),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "GitLab token"),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), "Slack token"),
)
_SERVICE_ACCOUNT_JSON = re.compile(r'"type"\s*:\s*"service_account"')

# Words of a variable name (split on "_") that say its value is a credential. "SECRETS" (Airflow's
# secrets backend settings) and a bare "KEY" (GPG_KEY in the official python images: a public key id) don't.
_SECRET_WORDS = frozenset(
    {"PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS"}
)
_SECRET_KEY_QUALIFIERS = frozenset({"API", "ACCESS", "PRIVATE", "FERNET", "ENCRYPTION", "SIGNING", "AUTH"})
# The value names where the secret is (a file, a command, a secrets-backend key), not the secret itself.
_REFERENCE_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_CMD")
_AIRFLOW_REFERENCE_SUFFIXES = ("_SECRET",)  # AIRFLOW__X__Y_SECRET: the name of a secret in the backend
_NOT_A_SECRET = frozenset({"", "true", "false", "yes", "no", "0", "1", "none", "null"})
_ASSIGNMENT = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S+)")
_NETRC_PASSWORD = re.compile(r"\b(password|passwd)(\s+)\S+", re.IGNORECASE)
_PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.DOTALL
)
_REDACTED = "<redacted>"


def classify_env_secret(name: str, value: str) -> SecretMatch | None:
    """What credential ``name=value`` holds, if it looks like one: by the value's format, else by the name."""
    if match := _AWS_KEY_ID.search(value):
        return SecretMatch("AWS access key id", f"{match.group()[:4]}… ({len(value)} characters)")
    if _PRIVATE_KEY.search(value):
        return SecretMatch("private key", _length_only(value))
    if _SERVICE_ACCOUNT_JSON.search(value):
        return SecretMatch("GCP service account JSON", _length_only(value))
    for pattern, kind in _TOKEN_FORMATS:
        if pattern.search(value):
            return SecretMatch(kind, _length_only(value))
    if _URL_CREDENTIALS.search(value):
        return SecretMatch("password in a URL", _length_only(value))
    if is_secret_name(name) and not _is_reference(value):
        return SecretMatch("password/token variable", _length_only(value))
    return None


def _is_reference(value: str) -> bool:
    """A value that points at the credential (a file path, another variable) or is a flag, not a secret."""
    stripped = value.strip()
    return (
        stripped.lower() in _NOT_A_SECRET
        or stripped.startswith("${")
        or (stripped.startswith("/") and not any(c.isspace() for c in stripped))
    )


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    if upper.endswith(_REFERENCE_SUFFIXES):
        return False
    if upper.startswith("AIRFLOW__") and upper.endswith(_AIRFLOW_REFERENCE_SUFFIXES):
        return False
    words = [word for word in re.split(r"[_.\-]+", upper) if word]
    if any(word in _SECRET_WORDS for word in words):
        return True
    return any(
        word == "KEY" and index > 0 and words[index - 1] in _SECRET_KEY_QUALIFIERS
        for index, word in enumerate(words)
    )


def _length_only(value: str) -> str:
    return f"<redacted: {len(value)} characters>"


def redact_text(text: str | None, *values: str) -> str | None:
    """``text`` (an instruction) with the given values and anything credential-shaped replaced.

    Best effort for text we can't parse: URL passwords, AWS key ids, private key blocks, token formats,
    ``password x`` (netrc) and ``NAME=value`` where NAME names a credential.
    """
    if text is None:
        return None
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, _REDACTED)
    text = _PRIVATE_KEY_BLOCK.sub(_REDACTED, text)
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{_REDACTED}@", text)
    text = _AWS_KEY_ID.sub(lambda m: f"{m.group()[:4]}{_REDACTED}", text)
    for pattern, _ in _TOKEN_FORMATS:
        text = pattern.sub(_REDACTED, text)
    text = _NETRC_PASSWORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{_REDACTED}", text)
    return _ASSIGNMENT.sub(
        lambda m: f"{m.group(1)}={_REDACTED}" if is_secret_name(m.group(1)) else m.group(), text
    )


def env_secrets(context: RuleContext) -> Iterator[tuple[ConfigChange, SecretMatch]]:
    """ENV variables the derived image set or changed to a credential-looking value."""
    for change in context.diff.config_changes:
        if change.field != "Env" or change.key is None or not isinstance(change.after, str):
            continue
        match = classify_env_secret(change.key, change.after)
        if match is not None:
            yield change, match
