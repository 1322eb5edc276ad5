"""Credentials never reach a report. ENV values that look like one (by format or by the variable's name)
are shown as what they look like and their length; the same values, and anything credential-shaped, are
cut out of the free text a report repeats: instructions, history, commands, labels and warnings.

Findings carry their own redacted evidence (layerdiff.rules); this covers the rest of the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from layerdiff.text.secrets import classify_env_secret, redact_text


class Redactor:
    def __init__(self, configs: Iterable[Mapping[str, Any]]) -> None:
        """``configs``: the runtime configs of the images the report describes."""
        values = set()
        for config in configs:
            for entry in config.get("Env") or []:
                name, _, value = str(entry).partition("=")
                if classify_env_secret(name, value) is not None:
                    values.add(value)
        self.values = tuple(sorted(values))

    def text(self, text: str) -> str:
        redacted = redact_text(text, *self.values)
        assert redacted is not None
        return redacted

    def env_value(self, name: str, value: Any) -> Any:
        if not isinstance(value, str):
            return self.value(value)
        match = classify_env_secret(name, value)
        return match.redacted if match is not None else self.text(value)

    def env_entry(self, entry: str) -> str:
        name, sep, value = entry.partition("=")
        return f"{name}{sep}{self.env_value(name, value)}" if sep else self.text(entry)

    def value(self, value: Any) -> Any:
        """Every string inside ``value`` (a command list, a HEALTHCHECK, labels) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value


def redact_report(report: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    for side in ("base", "derived"):
        _image(report[side], redactor)
    for layer in report["comparison"]["reviewed_layers"]:
        _layer(layer, redactor)
    for change in report["config_changes"]:
        if change["field"] == "Env" and change["key"]:
            change["before"] = redactor.env_value(change["key"], change["before"])
            change["after"] = redactor.env_value(change["key"], change["after"])
        else:
            change["before"], change["after"] = (
                redactor.value(change["before"]),
                redactor.value(change["after"]),
            )
        change["instruction"] = redactor.value(change["instruction"])
    report["warnings"] = [redactor.text(warning) for warning in report["warnings"]]
    return report


def redact_inspect(result: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    _image(result["image"], redactor)
    config = result["config"]
    config["env"] = [redactor.env_entry(entry) for entry in config["env"]]
    for key in ("entrypoint", "cmd", "healthcheck", "labels"):
        config[key] = redactor.value(config[key])
    return result


def _image(image: dict[str, Any], redactor: Redactor) -> None:
    for key in ("entrypoint", "cmd", "healthcheck"):
        image[key] = redactor.value(image[key])
    for layer in image["layers"]:
        _layer(layer, redactor)


def _layer(layer: dict[str, Any], redactor: Redactor) -> None:
    layer["instruction"] = redactor.value(layer["instruction"])
    layer["created_by"] = redactor.value(layer["created_by"])
