"""Rules about the file each ``DT_NEEDED`` of an ELF object loads, as ``ldd`` in the derived image shows.

Evidence names objects and libraries by path, so that a reviewer can confirm a finding with ``ldd``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from layerdiff.diff.inventory import LibraryChange
from layerdiff.inventory.evidence import resolution_evidence
from layerdiff.inventory.imports import extension_module
from layerdiff.inventory.ldcache import LD_SO_CACHE
from layerdiff.inventory.ldconfig import StaleEntry
from layerdiff.inventory.libraries import Loader, Via
from layerdiff.rules.lost_libraries import lost_packages
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.words import counted, listed


@rule(
    "library-unresolved",
    Severity.HIGH,
    "A shared library an ELF object needs no longer resolves",
    "Keep the package that provides the library installed (apt-mark manual it before autoremove, or install "
    "it again), or remove the object that needs it.",
)
def library_unresolved(context: RuleContext) -> Iterator[Finding]:
    base = context.diff.base_inventory
    stale = _new_stale_entries(context)
    after_ldconfig = {e.soname: e.would_load for e in stale if e.hwcaps_subdirectory is None and e.would_load}
    lost = lost_packages(context)
    for change in context.diff.inventory.libraries:
        if change.kind != "unresolved":
            continue
        before = change.before
        # An object the derived image added that never loaded may be an optional plugin: worth a look, but
        # nothing that worked in the base stopped working.
        severity = Severity.HIGH if before is not None else Severity.MEDIUM
        fails = _loading_fails(context, change.object)
        needs = "" if change.object in fails else f"{change.object} needs it; "
        if before is None:
            message = f"{fails}: {change.soname} not found ({needs}the object is new in the derived image)."
        else:
            message = f"{fails}: {change.soname} not found ({needs}it was {before.path})."
        package = base.owner_of(before.real_path) if before is not None and before.real_path else None
        owner = package.name if package is not None else None
        cause = lost.get(owner) if owner is not None else None
        if cause is not None:
            message += f" {cause.sentence()}"
        fixed_by = after_ldconfig.get(change.soname)
        if fixed_by is not None:
            message += f" {LD_SO_CACHE} is stale: after ldconfig it would load {fixed_by}."
        paths = [p for p in (before.real_path, before.path) if p] if before is not None else []
        yield library_unresolved.finding(
            context,
            subject=f"{change.object}:{change.soname}",
            message=message,
            evidence={
                "object": change.object,
                "soname": change.soname,
                "ldd": f"{change.soname} => not found",
                "before": resolution_evidence(before, change.before_sha256),
                "before_package": owner,
                "cause": cause.evidence() if cause is not None else None,
                "after": None,
                "searched": _walked(context, change),
                "after_ldconfig": fixed_by,
                "ld_library_path": _ld_library_path(context),
            },
            layer=context.layer_that_changed(*paths, change.object),
            severity=severity,
        )


@rule(
    "library-shadowed",
    Severity.HIGH,
    "A shared library resolves to another file than in the base",
    "Do not put copies of system libraries ahead of the system's (LD_LIBRARY_PATH, /usr/local/lib, "
    "ld.so.conf.d); build against the system's library, or give the private copy its own soname and RPATH.",
)
def library_shadowed(context: RuleContext) -> Iterator[Finding]:
    derived = context.diff.derived_inventory
    groups: dict[tuple[str, str, str], list[LibraryChange]] = {}
    for change in context.diff.inventory.libraries:
        before, after = change.before, change.after
        if change.kind == "unresolved" or before is None or after.path is None:
            continue
        if before.path != after.path:
            kind = "shadowed"  # another location is searched first
        elif after.real_path and derived.owner_of(after.real_path):
            # Same location, other content, and the file is a package's: the package manager upgraded it
            # (package-upgraded) or it was changed behind its back (package-file-modified).
            continue
        else:
            kind = "replaced"
        groups.setdefault((change.soname, kind, after.path), []).append(change)
    for (soname, kind, path), changes in sorted(groups.items()):
        yield _shadowed_finding(context, soname, kind, path, changes)


def _shadowed_finding(
    context: RuleContext, soname: str, kind: str, path: str, changes: list[LibraryChange]
) -> Finding:
    after = changes[0].after
    objects = [c.object for c in changes]
    old_paths = sorted({c.before.path for c in changes if c.before is not None and c.before.path})
    users = _users(context, objects)
    if kind == "shadowed":
        message = (
            f"{users} now load{'s' if len(objects) == 1 else ''} another {soname}: {path} (via "
            f"{after.via.value}) instead of {', '.join(old_paths)}, for {counted(len(objects), 'object')} "
            f"({listed(objects)})."
        )
    else:
        message = (
            f"{users} now load{'s' if len(objects) == 1 else ''} other code as {soname}: {path} was replaced "
            f"outside the package manager, for {counted(len(objects), 'object')} ({listed(objects)})."
        )
    ld_path_change = context.config_change("Env", "LD_LIBRARY_PATH")
    layer = context.layer_that_changed(*(p for p in (after.real_path, after.path) if p))
    instruction = ld_path_change.instruction if ld_path_change and after.via is Via.LD_LIBRARY_PATH else None
    return library_shadowed.finding(
        context,
        subject=f"{soname}:{kind}:{path}",
        message=message,
        evidence={
            "soname": soname,
            "kind": kind,
            "after": resolution_evidence(after, changes[0].after_sha256),
            "objects": [
                {"object": c.object, "before": resolution_evidence(c.before, c.before_sha256)}
                for c in changes
            ],
            "ld_library_path": _ld_library_path(context),
        },
        layer=None if instruction else layer,
        instruction=instruction,
    )


def _loading_fails(context: RuleContext, path: str) -> str:
    """What fails when ``path`` cannot load, in its users' words: an import, a program, a library."""
    module = _module(context, path)
    if module is not None:
        return f"`import {module}` fails"
    if ".so" in posixpath.basename(path):
        return f"Loading {path} fails"
    return f"Running {path} fails"


def _users(context: RuleContext, objects: list[str]) -> str:
    """Who loads the library, in their users' words: ``import psycopg2``, or the first object."""
    modules = list(dict.fromkeys(m for o in objects if (m := _module(context, o)) is not None))
    if modules:
        return listed([f"`import {m}`" for m in modules])
    return (
        objects[0] if len(objects) == 1 else f"{objects[0]} and {counted(len(objects) - 1, 'other object')}"
    )


def _walked(context: RuleContext, change: LibraryChange) -> list[str]:
    """Where ld.so looked in the derived image, in order, each with what it found (check with ls -l)."""
    info = context.diff.derived_files.elf(change.object)
    if info is None:
        return []
    # made on the first unresolved library only, as it reads the image's ld.so.conf and cache again
    loader = context.shared("derived_loader", _derived_loader)
    steps = list(loader.walk(change.object, info, change.soname))
    items = context.limits.evidence_items
    return steps if len(steps) <= items else [*steps[:items], f"... and {len(steps) - items} more"]


def _derived_loader(context: RuleContext) -> Loader:
    ld_library_path = context.diff.derived_inventory.env.get("LD_LIBRARY_PATH")
    return Loader(context.diff.derived_files, ld_library_path, context.limits)


def _module(context: RuleContext, path: str) -> str | None:
    site_dirs = (d for e in context.diff.derived_inventory.python for d in e.sys_path)
    return extension_module(path, site_dirs)


def _ld_library_path(context: RuleContext) -> dict[str, str | None]:
    return {
        "base": context.diff.base_inventory.env.get("LD_LIBRARY_PATH"),
        "derived": context.diff.derived_inventory.env.get("LD_LIBRARY_PATH"),
    }


CHECK_BY_HAND = "ldconfig -p lists the cache; ldconfig -N -X -v what ldconfig would write; ldd what loads"


@rule(
    "library-cache-stale",
    Severity.MEDIUM,
    "The ld.so.cache no longer matches the libraries on disk",
    "Run ldconfig in the same RUN instruction that adds, moves or removes libraries "
    "(`cp libfoo.so.1 /usr/local/lib/ && ldconfig`), so that what ld.so loads does not change the next "
    "time something runs ldconfig (every apt-get install of a library does).",
)
def library_cache_stale(context: RuleContext) -> Iterator[Finding]:
    stale = _new_stale_entries(context)
    if not stale:
        return
    more = f" (and {counted(len(stale) - 1, 'more library', 'more libraries')})" if len(stale) > 1 else ""
    cache = context.diff.derived_inventory.ld_so_cache.cache
    paths = [p for e in stale for p in (e.would_load, e.cached, e.loads) if p]
    yield library_cache_stale.finding(
        context,
        subject=LD_SO_CACHE,
        message=(
            f"{_consequence(stale[0])} after the next ldconfig (an apt-get install of any library runs one)"
            f"{more}: {LD_SO_CACHE} is stale, written before libraries were added, moved or removed."
        ),
        evidence={
            "cache": LD_SO_CACHE,
            "layout": cache.layout if cache is not None else None,
            "stale": [_stale_evidence(e) for e in stale],
            "check": CHECK_BY_HAND,
        },
        layer=context.layer_that_changed(*paths),
    )


def _consequence(entry: StaleEntry) -> str:
    if entry.would_load is None:
        return f"{entry.soname} loads {entry.loads} now, and will not load"
    if entry.loads is None:
        return f"{entry.soname} does not load now, and will load {entry.would_load}"
    return f"{entry.soname} will load {entry.would_load} instead of {entry.loads}"


def _new_stale_entries(context: RuleContext) -> list[StaleEntry]:
    """Stale cache entries of the derived image that the base did not have."""
    base = set(context.diff.base_inventory.stale_cache_entries)
    return [e for e in context.diff.derived_inventory.stale_cache_entries if e not in base]


def _stale_evidence(entry: StaleEntry) -> dict[str, str | None]:
    return {
        "soname": entry.soname,
        "kind": entry.kind,
        "hwcaps": entry.hwcaps_subdirectory,
        "cached": entry.cached,
        "ldconfig": entry.ldconfig,
        "loads": entry.loads,
        "after_ldconfig": entry.would_load,
    }
