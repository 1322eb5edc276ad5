"""Where a finding leads: the Changes tab that shows what it concerns, and the identifiers to look for there.

Subjects are built by the rules as ``part:part:...`` (see layerdiff/rules); each rule's family decides the
tab, and the parts become the identifiers a tab's rows are matched against.
"""

from __future__ import annotations

from dataclasses import dataclass

from layerdiff.report.wire import Finding

FILES, PACKAGES, LIBRARIES, PYTHON, CONFIG = "files", "packages", "libraries", "python", "config"

_TAB_BY_RULE = {
    "base-file-deleted": FILES,
    "cache-left-behind": FILES,
    "capability-added": FILES,
    "layer-waste": FILES,
    "ownership-changed": FILES,
    "package-file-modified": FILES,
    "python-file-modified": FILES,
    "python-file-overwritten": FILES,
    "runtime-user-lost-write": FILES,
    "secret-in-image": FILES,
    "setuid-added": FILES,
    "world-writable-added": FILES,
    "package-added": PACKAGES,
    "package-downgraded": PACKAGES,
    "package-removed": PACKAGES,
    "package-upgraded": PACKAGES,
    "entrypoint-provider-changed": PACKAGES,
    "os-package-dependency-broken": PACKAGES,
    "python-constraint-violated": PACKAGES,
    "library-shadowed": LIBRARIES,
    "library-unresolved": LIBRARIES,
    "python-distribution-lost": PYTHON,
    "python-package-shadowed": PYTHON,
    "python-requirement-broken": PYTHON,
    "python-startup-code": FILES,
    "entrypoint-changed": CONFIG,
    "healthcheck-changed": CONFIG,
    "loader-env-changed": CONFIG,
    "runtime-user-changed": CONFIG,
    "runtime-user-root": CONFIG,
    "path-command-shadowed": CONFIG,
}


@dataclass(frozen=True)
class Jump:
    tab: str
    keys: tuple[str, ...]  # most specific first
    paths: tuple[str, ...]  # absolute paths named by the finding, for the file tree


# The Python tab's row kind each Python rule is about (rows carry "kind:environment[:distribution]" keys).
_PYTHON_KIND = {
    "python-distribution-lost": "lost",
    "python-package-shadowed": "shadowed",
    "python-requirement-broken": "broken",
}


def jump_target(finding: Finding) -> Jump | None:
    subject = finding.subject
    tab = CONFIG if subject.startswith("ENV:") else _TAB_BY_RULE.get(finding.rule)
    if tab is None:
        return None
    parts = [part for part in subject.split(":") if part]
    keys = [subject, *parts]
    if len(parts) >= 2:
        keys.insert(1, f"{parts[0]}:{parts[1]}")
    kind = _PYTHON_KIND.get(finding.rule)
    if kind is not None and parts:
        # Most specific first: the distribution's row of that kind, then any row of that kind there.
        keys[:0] = [f"{kind}:{parts[0]}:{parts[1]}"] if len(parts) >= 2 else []
        keys.insert(1 if len(parts) >= 2 else 0, f"{kind}:{parts[0]}")
    # a finding for several commands or distributions (one cause) jumps to the rows of those it names
    for listing in ("commands", "names"):
        names = finding.evidence.get(listing)
        if isinstance(names, list):
            keys += [name for name in names if isinstance(name, str)]
    paths = [part for part in parts if part.startswith("/")]
    for name in ("path", "object", "file", "directory"):
        value = finding.evidence.get(name)
        if isinstance(value, str) and value.startswith("/") and value not in paths:
            paths.append(value)
    return Jump(tab, tuple(dict.fromkeys(keys)), tuple(paths))


def best_match(candidates: tuple[str, ...], row_keys: list[frozenset[str]]) -> int | None:
    """The row naming the most of ``candidates``, preferring earlier (more specific) candidates on ties."""
    best: tuple[int, int] | None = None
    best_row = None
    for row, keys in enumerate(row_keys):
        hits = [i for i, candidate in enumerate(candidates) if candidate in keys]
        if not hits:
            continue
        score = (len(hits), -hits[0])
        if best is None or score > best:
            best, best_row = score, row
    return best_row
