"""Compare two images' runtime configuration; attribute each change to the instruction that made it."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from layerdiff.diff.changes import ConfigChange
from layerdiff.image.history import instruction
from layerdiff.image.model import HistoryEntry, env_map

# Scalar fields of the config's "config" object, with the Dockerfile keyword that sets each.
_SCALAR_FIELDS = {
    "User": "USER",
    "Entrypoint": "ENTRYPOINT",
    "Cmd": "CMD",
    "WorkingDir": "WORKDIR",
    "Healthcheck": "HEALTHCHECK",
    "StopSignal": "STOPSIGNAL",
    "Shell": "SHELL",
}
# Keyed fields: each key is compared on its own.
_KEYED_FIELDS = {"ExposedPorts": "EXPOSE", "Volumes": "VOLUME", "Labels": "LABEL"}


def diff_config(
    base: dict[str, Any], derived: dict[str, Any], derived_history: Sequence[tuple[int, HistoryEntry]]
) -> list[ConfigChange]:
    """``base``/``derived`` are the images' ``config`` objects; ``derived_history`` the (index, entry) pairs
    the derived Dockerfile wrote, searched newest first to attribute a change."""
    changes: list[ConfigChange] = []

    def attribute(matches: Callable[[str], bool]) -> tuple[int | None, str | None]:
        for index, entry in reversed(derived_history):
            text = instruction(entry.created_by)
            if matches(text):
                return index, text
        return None, None

    for field, word in _SCALAR_FIELDS.items():
        before, after = _normal(base.get(field)), _normal(derived.get(field))
        if before != after:
            index, text = attribute(_keyword_matcher(word))
            changes.append(ConfigChange(field, None, before, after, index, text))

    base_env, derived_env = env_map(base.get("Env")), env_map(derived.get("Env"))
    for name in sorted(set(base_env) | set(derived_env)):
        before_value, after_value = base_env.get(name), derived_env.get(name)
        if before_value != after_value:
            pattern = re.compile(rf"^ENV\s+(.*\s)?{re.escape(name)}[=\s]")
            index, text = attribute(_pattern_matcher(pattern))
            changes.append(ConfigChange("Env", name, before_value, after_value, index, text))

    for field, word in _KEYED_FIELDS.items():
        before_map, after_map = base.get(field) or {}, derived.get(field) or {}
        for key in sorted(set(before_map) | set(after_map)):
            present_before, present_after = key in before_map, key in after_map
            before_value = _keyed_value(field, before_map, key)
            after_value = _keyed_value(field, after_map, key)
            if present_before != present_after or before_value != after_value:
                index, text = attribute(_keyed_matcher(word, field, key))
                changes.append(ConfigChange(field, key, before_value, after_value, index, text))
    return changes


def _keyed_value(field: str, values: dict[str, Any], key: str) -> Any:
    if key not in values:
        return None
    # Ports and volumes map to empty objects: their presence is the value.
    return values[key] if field == "Labels" else True


def _normal(value: Any) -> Any:
    return value if value not in ("", [], {}) else None


def _is(text: str, word: str) -> bool:
    return text.split(" ", 1)[0].upper() == word


def _keyword_matcher(word: str) -> Callable[[str], bool]:
    return lambda text: _is(text, word)


def _pattern_matcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: bool(pattern.match(text))


def _keyed_matcher(word: str, field: str, key: str) -> Callable[[str], bool]:
    probe = key.split("/", 1)[0] if field == "ExposedPorts" else key
    return lambda text: _is(text, word) and probe in text
