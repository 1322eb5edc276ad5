"""Credentials cut out of text: the values the images' ENV and labels hold that look like credentials (by
their format or their name), wherever they are repeated, and anything credential-shaped in free text (URL
passwords, tokens, keys, ``password x``, ``NAME=value`` where NAME names a credential, and what a build
instruction writes credentials as: ``--password x``, ``docker login -p x``, ``Authorization: Bearer x``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from layerdiff.text.instruction_secrets import TRIGGER_WORDS
from layerdiff.text.secrets import classify_env_secret, redact_text
from layerdiff.text.terminal import safe_line

# Text that contains none of these (in any case) cannot hold what redact_text looks for, so most strings of a
# report (paths, versions, digests) are passed over with a few substring tests.
_TRIGGERS = tuple(
    sorted(
        {
            "=",
            "@",
            "%40",
            "-----begin",
            "akia",
            "asia",
            "ghp_",
            "gho_",
            "ghu_",
            "ghs_",
            "ghr_",
            "github_pat_",
            "glpat-",
            "xox",
            "npm_",
            "pypi-",
            *TRIGGER_WORDS,
        }
    )
)


class Redactor:
    def __init__(self, configs: Iterable[Mapping[str, Any]]) -> None:
        """``configs``: the runtime configs of the images the text comes from."""
        values: set[str] = set()
        for config in configs:
            entries = (str(entry).partition("=") for entry in config.get("Env") or [])
            named: list[tuple[str, str]] = [(name, value) for name, _, value in entries]
            labels = config.get("Labels")
            if isinstance(labels, Mapping):
                named += [(str(key), value) for key, value in labels.items() if isinstance(value, str)]
            values.update(value for name, value in named if classify_env_secret(name, value) is not None)
        self.values = tuple(sorted(values, key=len, reverse=True))

    def may_cut(self, text: str) -> bool:
        """False when ``text`` certainly holds nothing to cut."""
        for value in self.values:
            if value in text:
                return True
        lowered = text.lower()
        return any(trigger in lowered for trigger in _TRIGGERS)

    def text(self, text: str) -> str:
        if not self.may_cut(text):
            return text
        redacted = redact_text(text, *self.values)
        assert redacted is not None
        return redacted

    def named_value(self, name: str, value: str) -> str:
        """An ENV variable's or a label's value: shown as what it looks like when it is a credential."""
        match = classify_env_secret(name, value)
        return match.redacted if match is not None else self.text(value)


def safe_message(text: str) -> str:
    """A one-line message for stderr about image content: credentials cut out, control characters shown as
    escapes (no ENV to compare with here, so only what is credential-shaped is cut)."""
    return safe_line(Redactor(()).text(text))
