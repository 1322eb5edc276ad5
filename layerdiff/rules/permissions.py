"""Rules about permissions the derived layers changed: write access the runtime user lost, setuid bits and
file capabilities, world-writable paths, and owner, group or mode changes of base paths.

Permissions are decided from mode bits with ``may()``, as the kernel decides them for the runtime user.
A change that touches a whole tree (``chown -R``, ``chmod -R``) is one finding for its top-most path.
"""

from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Iterator, Mapping

from layerdiff.diff.changes import ChangeKind, FileChange
from layerdiff.diff.files import select_changes
from layerdiff.fs.ancestry import is_under, top_most
from layerdiff.image.entry_table import type_code
from layerdiff.image.model import Entry, EntryType
from layerdiff.inventory.capabilities import describe_capabilities, file_capabilities
from layerdiff.inventory.evidence import (
    describe_owner,
    describe_user,
    entry_evidence,
    file_mode,
    user_evidence,
)
from layerdiff.inventory.loader_abi import DEFAULT_DIRS_32, DEFAULT_DIRS_64
from layerdiff.inventory.users import RuntimeUser, may
from layerdiff.rules.file_findings import (
    FILE_TYPES,
    collapsed,
    file_finding,
    layer_evidence,
    layer_instruction,
    reviewed_layers,
)
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.registry import rule
from layerdiff.rules.severity import Severity
from layerdiff.text.secrets import redact_text

WRITE, EXECUTE = 2, 1
# What Airflow writes in the directories of AIRFLOW_HOME
_AIRFLOW_DIRS = {"logs": "Task logs", "dags": "DAG files", "plugins": "Plugins"}
_SPECIAL_BITS = ((0o4000, "setuid"), (0o2000, "setgid"))
_STICKY = 0o1000
_WORLD_WRITABLE = 0o002
_DIR_CODE = type_code(EntryType.DIR)


# --- runtime-user-lost-write --------------------------------------------------------------------------------


@rule(
    "runtime-user-lost-write",
    Severity.HIGH,
    "The runtime user can no longer write where it wrote in the base",
    "Give the runtime user back its directories: `COPY --chown=airflow:root ...`, or "
    "`RUN mkdir -p /opt/airflow/logs && chown -R airflow:root /opt/airflow/logs` before `USER airflow`.",
)
def RUNTIME_USER_LOST_WRITE(context: RuleContext) -> Iterator[Finding]:
    writable = _base_writable_dirs(context)
    yield from _lost_write(context, writable)
    yield from _unwritable_new_dirs(context, writable)


def _base_writable_dirs(context: RuleContext) -> dict[str, list[str]]:
    """Directories the base's runtime user could create files in, by real path, each with why it matters
    (``AIRFLOW_HOME=/opt/airflow``, ``HOME=...``, ``WORKDIR=...``, ``VOLUME=...``)."""
    config = context.base.runtime_config
    base_user = context.diff.base_inventory.user
    candidates = [
        ("AIRFLOW_HOME", context.diff.base_inventory.env.get("AIRFLOW_HOME")),
        ("HOME", base_user.home),
        ("WORKDIR", config.get("WorkingDir")),
        *(("VOLUME", volume) for volume in sorted(config.get("Volumes") or {})),
    ]
    found: dict[str, list[str]] = {}
    for reason, path in candidates:
        if not isinstance(path, str) or not path.startswith("/"):
            continue
        real = context.diff.base_files.resolve(path)
        entry = context.diff.base_files.lookup(real) if real is not None else None
        if real is None or real == "/" or entry is None or not _can_write(base_user, entry):
            continue
        found.setdefault(real, []).append(f"{reason}={path}")
    return found


def _can_write(user: RuntimeUser, entry: Entry) -> bool | None:
    """Whether ``user`` may change ``entry``: write a file, create files in a directory (w and x).
    None for entries where permission bits mean nothing (symlinks, devices)."""
    if entry.type is EntryType.DIR:
        return may(user, entry, WRITE | EXECUTE)
    if entry.type in FILE_TYPES:
        return may(user, entry, WRITE)
    return None


def _reasons(path: str, writable: Mapping[str, list[str]]) -> list[str]:
    return sorted(
        {reason for root, reasons in writable.items() if is_under(path, root) for reason in reasons}
    )


def _lost_write(context: RuleContext, writable: Mapping[str, list[str]]) -> Iterator[Finding]:
    base_user, user = context.diff.base_inventory.user, context.diff.derived_inventory.user
    base_nodes, derived_nodes = context.diff.base_files.tree.nodes, context.diff.derived_files.tree.nodes
    lost: set[str] = set()
    for root in writable:
        for path, node in base_nodes.items():
            if not is_under(path, root) or _can_write(base_user, node.entry) is not True:
                continue
            after = derived_nodes.get(path)
            if after is None:
                if path == root:  # deleted files are base-file-deleted's; a deleted writable root is ours
                    lost.add(path)
            elif _can_write(user, after.entry) is False:
                lost.add(path)
    user_change = context.config_change("User")
    for path, descendants in sorted(top_most(lost).items()):
        after_node = derived_nodes.get(path)
        # The entry itself is unchanged when only USER changed: then the USER instruction is the cause.
        layer = after_node.layer if after_node and after_node.layer >= context.first_reviewed else None
        instruction = layer_instruction(context, layer) if layer is not None else None
        if instruction is None and user_change is not None:
            instruction = redact_text(user_change.instruction)
        if after_node is None:
            state = "it no longer exists"
        else:
            owner = describe_owner(after_node.entry)
            state = f"it is now {owner}, which the runtime user {describe_user(user)} cannot write"
        yield RUNTIME_USER_LOST_WRITE.finding(
            context,
            subject=path,
            message=(
                f"{_what_is_written(context, path)} can no longer be written to {path}: {state} "
                f"(the base's runtime user {describe_user(base_user)} could)."
            ),
            evidence={
                "path": path,
                "before": entry_evidence(base_nodes[path].entry),
                "after": entry_evidence(after_node.entry) if after_node else None,
                "base_user": user_evidence(base_user),
                "user": user_evidence(user),
                "writable_because": _reasons(path, writable),
                "layer": layer,
                "instruction": instruction,
                **collapsed(descendants),
            },
            layer=layer,
            instruction=instruction,
        )


def _what_is_written(context: RuleContext, path: str) -> str:
    """What the runtime writes at ``path``, in its users' words: Airflow's task logs under AIRFLOW_HOME."""
    home = context.diff.base_inventory.env.get("AIRFLOW_HOME")
    if home:
        for name, what in _AIRFLOW_DIRS.items():
            if is_under(path, posixpath.join(home, name)):
                return what
    return "Files"


def _unwritable_new_dirs(context: RuleContext, writable: Mapping[str, list[str]]) -> Iterator[Finding]:
    """Directories the derived layers created inside the user's directories that the user can't write
    (``mkdir /opt/airflow/logs`` as root). New files are not reported: a read-only DAG or config file copied
    without --chown is normal; a file the user could write before is reported by ``_lost_write``."""
    user = context.diff.derived_inventory.user
    # Directories only implied by deeper paths get root 0755 from the merge, but their owner is unknown:
    # builders always write every parent, so an implied one comes from a hand-made layer; don't guess.
    described = {
        path
        for position in reviewed_layers(context)
        for path, code in zip(
            context.derived_indexes[position].table.paths,
            context.derived_indexes[position].table.type_codes,
            strict=True,
        )
        if code == _DIR_CODE
    }
    created = {
        change.path: change
        for change in select_changes(context.diff.file_changes, (ChangeKind.ADDED,))
        if change.path in described
        and change.after is not None
        and change.after.type is EntryType.DIR
        and any(is_under(change.path, root) and change.path != root for root in writable)
        and _can_write(user, change.after) is False
    }
    for path, descendants in sorted(top_most(created).items()):
        change = created[path]
        assert change.after is not None
        yield file_finding(
            RUNTIME_USER_LOST_WRITE,
            context,
            subject=path,
            message=(
                f"{_what_is_written(context, path)} cannot be written to {path}: layer {change.layer} "
                f"created it as {describe_owner(change.after)}, which the runtime user "
                f"{describe_user(user)} cannot write."
            ),
            evidence={
                "path": path,
                "before": None,
                "after": entry_evidence(change.after),
                "user": user_evidence(user),
                "writable_because": _reasons(path, writable),
                **layer_evidence(context, change.layer),
                **collapsed(descendants),
            },
            layer=change.layer,
        )


# --- setuid-added, capability-added -------------------------------------------------------------------------


@rule(
    "setuid-added",
    Severity.HIGH,
    "A file gained setuid or setgid bits",
    "Don't ship setuid programs in a runtime image; if one is really needed, say why in a waiver. "
    "`RUN chmod u-s,g-s /path` removes the bits.",
)
def SETUID_ADDED(context: RuleContext) -> Iterator[Finding]:
    special = sum(bit for bit, _ in _SPECIAL_BITS)
    for change in select_changes(context.diff.file_changes, after_mode=special):
        after, before = change.after, change.before
        if after is None or after.type not in FILE_TYPES:
            continue  # setgid on a directory only makes new files inherit its group
        had = before.mode if before is not None and before.type in FILE_TYPES else 0
        added = [name for bit, name in _SPECIAL_BITS if after.mode & bit and not had & bit]
        if not added:
            continue
        yield file_finding(
            SETUID_ADDED,
            context,
            subject=change.path,
            message=(
                f"Whoever runs {change.path} gets the privileges of its owner (uid {after.uid}, gid "
                f"{after.gid}): it is now {' and '.join(added)} (mode {file_mode(after.mode)})."
            ),
            evidence={
                "path": change.path,
                "bits_added": added,
                "mode_before": file_mode(before.mode) if before is not None else None,
                "mode_after": file_mode(after.mode),
                "uid": after.uid,
                "gid": after.gid,
                "sha256": after.sha256,
                **layer_evidence(context, change.layer),
            },
            layer=change.layer,
        )


@rule(
    "capability-added",
    Severity.HIGH,
    "A file gained or changed file capabilities",
    "Drop the capability (`RUN setcap -r /path`) and grant it at run time instead "
    "(`docker run --cap-add`, `securityContext.capabilities.add`).",
)
def CAPABILITY_ADDED(context: RuleContext) -> Iterator[Finding]:
    for change in select_changes(context.diff.file_changes, after_xattrs=True):
        if change.after is None or change.after.type not in FILE_TYPES:
            continue
        after, before = file_capabilities(change.after), file_capabilities(change.before)
        if after is None or after == before:
            continue
        readable = describe_capabilities(after)
        yield file_finding(
            CAPABILITY_ADDED,
            context,
            subject=change.path,
            message=f"Whoever runs {change.path} gets the capabilities {readable}: they are its file "
            "capabilities now"
            + (f" (before: {describe_capabilities(before)})." if before is not None else "."),
            evidence={
                "path": change.path,
                "capabilities_before": describe_capabilities(before) if before is not None else None,
                "capabilities_after": readable,
                "xattr_hex_after": after,
                "uid": change.after.uid,
                "mode": file_mode(change.after.mode),
                **layer_evidence(context, change.layer),
            },
            layer=change.layer,
        )


# --- world-writable-added -----------------------------------------------------------------------------------


@rule(
    "world-writable-added",
    Severity.MEDIUM,
    "A file or directory became writable by every user",
    "Grant write access to the runtime user or its group instead (`chown airflow:root`, `chmod 775` or "
    "`664`); never `chmod 777`.",
)
def WORLD_WRITABLE_ADDED(context: RuleContext) -> Iterator[Finding]:
    sensitive = _command_and_library_dirs(context)
    by_severity: dict[Severity, dict[str, tuple[FileChange, str | None]]] = defaultdict(dict)
    for change in select_changes(context.diff.file_changes, after_mode=_WORLD_WRITABLE):
        after, before = change.after, change.before
        if after is None or (after.type not in FILE_TYPES and after.type is not EntryType.DIR):
            continue  # a symlink's mode is always 0777 and means nothing
        if not after.mode & _WORLD_WRITABLE or (before is not None and before.mode & _WORLD_WRITABLE):
            continue
        inside = sensitive.get(change.path) or sensitive.get(posixpath.dirname(change.path))
        if inside is not None:
            severity = Severity.HIGH
        elif after.type is EntryType.DIR and after.mode & _STICKY:
            severity = Severity.LOW  # like /tmp: anyone may add files, nobody may replace another's
        else:
            severity = Severity.MEDIUM
        by_severity[severity][change.path] = (change, inside)
    for severity, changes in sorted(by_severity.items(), reverse=True):
        for path, descendants in sorted(top_most(changes).items()):
            change, inside = changes[path]
            assert change.after is not None
            where = f", inside {inside}, so any user can plant what others run" if inside else ""
            yield file_finding(
                WORLD_WRITABLE_ADDED,
                context,
                subject=path,
                message=(
                    f"Any user in the container can change {path}: it is now world-writable (mode "
                    f"{file_mode(change.after.mode)}){where}."
                ),
                evidence={
                    "path": path,
                    "mode_before": file_mode(change.before.mode) if change.before is not None else None,
                    "after": entry_evidence(change.after),
                    "inside": inside,
                    **layer_evidence(context, change.layer),
                    **collapsed(descendants),
                },
                layer=change.layer,
                severity=severity,
            )


def _command_and_library_dirs(context: RuleContext) -> dict[str, str]:
    """Real paths of the derived image's PATH directories and the loader's library directories, each with
    a description for the evidence."""
    files = context.diff.derived_files
    listed = [(d, f"PATH directory {d}") for d in context.diff.derived_inventory.path.split(":") if d]
    listed += [
        (d, f"library directory {d} (ld.so.conf)") for d in context.diff.derived_inventory.ld_so_conf_dirs
    ]
    listed += [(d, f"library directory {d} (default)") for d in (*DEFAULT_DIRS_64, *DEFAULT_DIRS_32)]
    found: dict[str, str] = {}
    for directory, description in listed:
        real = files.resolve(directory) if directory.startswith("/") else None
        if real is not None:
            found.setdefault(real, description)
    return found


# --- ownership-changed --------------------------------------------------------------------------------------

_OWNERSHIP_FIELDS = ("uid", "gid", "mode")


@rule(
    "ownership-changed",
    Severity.LOW,
    "Owner, group or mode of a base path changed",
    "Check that the runtime user still has the access it needs; prefer `COPY --chown` to a later "
    "`chown -R`, which also duplicates every file into a new layer.",
)
def OWNERSHIP_CHANGED(context: RuleContext) -> Iterator[Finding]:
    by_layer: dict[int | None, dict[str, FileChange]] = defaultdict(dict)
    for change in select_changes(context.diff.file_changes, (ChangeKind.METADATA,)):
        if (
            set(_OWNERSHIP_FIELDS) & set(change.fields)
            and change.after is not None
            and change.after.type is not EntryType.SYMLINK  # a symlink's owner and mode are not checked
        ):
            by_layer[change.layer][change.path] = change
    for layer, changes in sorted(by_layer.items(), key=lambda item: item[0] or 0):
        for path, descendants in sorted(top_most(changes).items()):
            change = changes[path]
            assert change.before is not None and change.after is not None
            yield file_finding(
                OWNERSHIP_CHANGED,
                context,
                subject=path,
                message=(
                    f"Who may read, write or run {path} changed: it is now {describe_owner(change.after)}, "
                    f"was {describe_owner(change.before)}."
                ),
                evidence={
                    "path": path,
                    "changed": [f for f in change.fields if f in _OWNERSHIP_FIELDS],
                    "before": entry_evidence(change.before),
                    "after": entry_evidence(change.after),
                    **layer_evidence(context, layer),
                    **collapsed(descendants),
                },
                layer=layer,
            )
