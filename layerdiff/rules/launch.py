"""The rule about what the image runs: the package that provides a program ENTRYPOINT, CMD or HEALTHCHECK
starts is another version than in the base (the image runs another Airflow than the base it claims).

It is the one finding for that package's change: the package rules leave it out. A command that no longer
resolves at all is path-command-shadowed's (high).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from layerdiff.inventory.commands import config_keyword
from layerdiff.inventory.evidence import provider_evidence
from layerdiff.inventory.providers import LaunchedProgram, Provider, launched_programs, programs_for
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.rules.version_changes import VersionChange, version_changes
from layerdiff.text.words import listed


@dataclass(frozen=True)
class ProviderChange:
    """One package whose version changed under the programs the image starts."""

    before: Provider
    after: Provider
    programs: tuple[tuple[LaunchedProgram, LaunchedProgram], ...]  # (in the base, in the derived image)

    @property
    def subject(self) -> str:
        """The package's subject, as the package rules name it (``pypi:NAME:SITE``, ``deb:NAME:ARCH``)."""
        return ":".join(part for part in (self.after.ecosystem, self.after.name, self.after.where) if part)


def provider_changes(context: RuleContext) -> list[ProviderChange]:
    """The packages providing a program the derived image's config starts whose version differs from the
    base's copy of the same program (the same command word, resolved in the base)."""
    return context.shared("provider_changes", _provider_changes)


def _provider_changes(context: RuleContext) -> list[ProviderChange]:
    base, derived = context.diff.base_inventory, context.diff.derived_inventory
    programs = launched_programs(derived, context.diff.derived_files, context.limits)
    words = [(p.word, p.used_by) for p in programs]
    in_base = {p.word: p for p in programs_for(base, context.diff.base_files, words, context.limits)}
    groups: dict[tuple[str, str, str], ProviderChange] = {}
    for after in programs:
        before = in_base.get(after.word)
        old, new = (before.provider if before else None), after.provider
        if before is None or old is None or new is None:
            continue  # a program no package provides (COPY) has no version to compare
        if (old.ecosystem, old.name) != (new.ecosystem, new.name) or old.version == new.version:
            continue  # another package's file is path-command-shadowed's; the same version runs the same
        known = groups.get(new.key)
        pairs = (*known.programs, (before, after)) if known else ((before, after),)
        groups[new.key] = ProviderChange(old, new, pairs)
    return [groups[key] for key in sorted(groups)]


@rule(
    "entrypoint-provider-changed",
    Severity.MEDIUM,
    "The package providing what ENTRYPOINT, CMD or HEALTHCHECK runs is another version than in the base",
    "Keep the version the base ships of the package the image runs (pip install --constraint the base's "
    "constraints, or apt-get install pkg=version); if the new version is intended, say so in the "
    "Dockerfile and test the image's command with it, since the base's claims no longer hold.",
)
def entrypoint_provider_changed(context: RuleContext) -> Iterator[Finding]:
    changes = {c.key: c for c in version_changes(context)}
    for change in provider_changes(context):
        version = changes.get(change.after.key)
        yield entrypoint_provider_changed.finding(
            context,
            subject=change.subject,
            message=_message(change, version),
            evidence={
                "programs": [
                    {
                        "used_by": config_keyword(after.used_by),
                        "word": after.word,
                        "command_v": after.path,
                        "target": after.target,
                        "before": provider_evidence(before.provider),
                        "after": provider_evidence(after.provider),
                    }
                    for before, after in change.programs
                ],
                "package": change.after.name,
                "ecosystem": change.after.ecosystem,
                "before": change.before.version,
                "after": change.after.version,
                "version_change": {**version.evidence, "kind": version.kind} if version else None,
            },
            layer=version.layer if version else None,
        )


def _message(change: ProviderChange, version: VersionChange | None) -> str:
    uses = listed([f"{config_keyword(after.used_by)}'s {after.word}" for _, after in change.programs])
    how = f" ({version.kind})" if version is not None and version.kind in ("upgraded", "downgraded") else ""
    return (
        f"The image runs another {change.programs[0][1].word} than its base: {uses} now comes from "
        f"{change.after.describe()}, not {change.before.version}{how} as in the base."
    )
