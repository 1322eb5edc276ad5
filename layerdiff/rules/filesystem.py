"""Rules about what the derived layers did to files: write access the runtime user lost, setuid bits and file
capabilities, world-writable paths, deleted base files, ownership changes, credentials stored in layers,
bytes wasted across layers and package-manager caches left behind.

Only the derived image's own layers are reviewed (positions from ``context.first_reviewed``). Permissions
are decided from mode bits with ``may()``, as the kernel decides them for the runtime user. A change that
touches a whole tree (``rm -rf``, ``chown -R``, ``chmod -R``) is one finding for its top-most path, with a
count and examples in the evidence.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from layerdiff.diff.changes import ChangeKind, FileChange
from layerdiff.inventory.libraries import DEFAULT_DIRS_32, DEFAULT_DIRS_64, read_ld_so_conf
from layerdiff.inventory.users import RuntimeUser, may
from layerdiff.model import Entry, EntryType
from layerdiff.rules.config import env_secrets, redact_text
from layerdiff.rules.model import Finding, Rule, RuleContext, Severity
from layerdiff.rules.registry import rule

WRITE, EXECUTE = 2, 1
EXAMPLES = 5  # paths listed in the evidence of a finding that stands for many
MIN_WASTED_BYTES = 4096  # less than one filesystem block is not worth a reviewer's time
_FILE_TYPES = (EntryType.FILE, EntryType.HARDLINK)
_SPECIAL_BITS = ((0o4000, "setuid"), (0o2000, "setgid"))
_STICKY = 0o1000
_WORLD_WRITABLE = 0o002
_CAPABILITY_XATTR = "security.capability"
_MARKERS = (EntryType.WHITEOUT, EntryType.OPAQUE)


# --- shared helpers -----------------------------------------------------------------------------------------


def octal(mode: int) -> str:
    return f"{mode & 0o7777:04o}"


def metadata(entry: Entry) -> dict[str, Any]:
    return {"type": entry.type.value, "uid": entry.uid, "gid": entry.gid, "mode": octal(entry.mode)}


def _owner(entry: Entry) -> str:
    return f"uid {entry.uid}, gid {entry.gid}, mode {octal(entry.mode)}"


def _user(user: RuntimeUser) -> dict[str, Any]:
    return {"user": user.spec, "uid": user.uid, "name": user.name, "gids": sorted(user.groups)}


def _who(user: RuntimeUser) -> str:
    return f"uid {user.uid} ({user.name})" if user.name else f"uid {user.uid}"


def is_under(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def top_most(paths: Iterable[str]) -> dict[str, list[str]]:
    """Each path grouped under the top-most of the given paths that contains it: a tree is one finding."""
    tops: dict[str, list[str]] = {}
    for path in sorted(paths):  # an ancestor sorts before its descendants
        ancestor = _ancestor_in(path, tops)
        if ancestor is None:
            tops[path] = []
        else:
            tops[ancestor].append(path)
    return tops


def _ancestor_in(path: str, candidates: Mapping[str, object] | set[str]) -> str | None:
    """The nearest strict ancestor of ``path`` among ``candidates``."""
    current = path
    while current != "/":
        current = posixpath.dirname(current)
        if current in candidates:
            return current
    return None


def _collapsed(descendants: list[str]) -> dict[str, Any]:
    return {"also_affected": len(descendants), "examples": descendants[:EXAMPLES]}


def _instruction(context: RuleContext, layer: int | None) -> str | None:
    return redact_text(context.instruction(layer))  # instructions may carry credentials (ENV, RUN echo)


def _layer(context: RuleContext, layer: int | None) -> dict[str, Any]:
    return {"layer": layer, "instruction": _instruction(context, layer)}


def _finding(
    the_rule: Rule,
    context: RuleContext,
    subject: str,
    message: str,
    evidence: Mapping[str, Any],
    layer: int | None,
    severity: Severity | None = None,
) -> Finding:
    return the_rule.finding(
        context,
        subject,
        message,
        evidence,
        layer=layer,
        severity=severity,
        instruction=_instruction(context, layer),
    )


def _reviewed_layers(context: RuleContext) -> range:
    return range(context.first_reviewed, len(context.derived_indexes))


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
    if entry.type in _FILE_TYPES:
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
        before = base_nodes[path].entry
        after_node = derived_nodes.get(path)
        # The entry itself is unchanged when only USER changed: then the USER instruction is the cause.
        layer = after_node.layer if after_node and after_node.layer >= context.first_reviewed else None
        instruction = _instruction(context, layer) if layer is not None else None
        if instruction is None and user_change is not None:
            instruction = redact_text(user_change.instruction)
        if after_node is None:
            state = "no longer exists"
        else:
            state = f"is not writable by the derived runtime user {_who(user)} ({_owner(after_node.entry)})"
        yield RUNTIME_USER_LOST_WRITE.finding(
            context,
            subject=path,
            message=f"{path} was writable by the base's runtime user {_who(base_user)} and {state}.",
            evidence={
                "path": path,
                "before": metadata(before),
                "after": metadata(after_node.entry) if after_node else None,
                "base_user": _user(base_user),
                "user": _user(user),
                "writable_because": _reasons(path, writable),
                "layer": layer,
                "instruction": instruction,
                **_collapsed(descendants),
            },
            layer=layer,
            instruction=instruction,
        )


def _unwritable_new_dirs(context: RuleContext, writable: Mapping[str, list[str]]) -> Iterator[Finding]:
    """Directories the derived layers created inside the user's directories that the user can't write
    (``mkdir /opt/airflow/logs`` as root). New files are not reported: a read-only DAG or config file copied
    without --chown is normal; a file the user could write before is reported by ``_lost_write``."""
    user = context.diff.derived_inventory.user
    # Directories only implied by deeper paths get root 0755 from the merge, but their owner is unknown:
    # builders always write every parent, so an implied one comes from a hand-made layer; don't guess.
    described = {
        entry.path
        for position in _reviewed_layers(context)
        for entry in context.derived_indexes[position].entries
        if entry.type is EntryType.DIR
    }
    created = {
        change.path: change
        for change in context.diff.file_changes
        if change.kind is ChangeKind.ADDED
        and change.path in described
        and change.after is not None
        and change.after.type is EntryType.DIR
        and any(is_under(change.path, root) and change.path != root for root in writable)
        and _can_write(user, change.after) is False
    }
    for path, descendants in sorted(top_most(created).items()):
        change = created[path]
        assert change.after is not None
        yield _finding(
            RUNTIME_USER_LOST_WRITE,
            context,
            subject=path,
            message=(
                f"{path} was created by layer {change.layer} as {_owner(change.after)}, which the "
                f"runtime user {_who(user)} cannot write."
            ),
            evidence={
                "path": path,
                "before": None,
                "after": metadata(change.after),
                "user": _user(user),
                "writable_because": _reasons(path, writable),
                **_layer(context, change.layer),
                **_collapsed(descendants),
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
    for change in context.diff.file_changes:
        after, before = change.after, change.before
        if after is None or after.type not in _FILE_TYPES:
            continue  # setgid on a directory only makes new files inherit its group
        had = before.mode if before is not None and before.type in _FILE_TYPES else 0
        added = [name for bit, name in _SPECIAL_BITS if after.mode & bit and not had & bit]
        if not added:
            continue
        yield _finding(
            SETUID_ADDED,
            context,
            subject=change.path,
            message=(
                f"{change.path} is now {' and '.join(added)} (mode {octal(after.mode)}, owner uid "
                f"{after.uid}, gid {after.gid}): it runs with its owner's privileges whoever starts it."
            ),
            evidence={
                "path": change.path,
                "bits_added": added,
                "mode_before": octal(before.mode) if before is not None else None,
                "mode_after": octal(after.mode),
                "uid": after.uid,
                "gid": after.gid,
                "sha256": after.sha256,
                **_layer(context, change.layer),
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
    for change in context.diff.file_changes:
        if change.after is None or change.after.type not in _FILE_TYPES:
            continue
        after = dict(change.after.xattrs).get(_CAPABILITY_XATTR)
        before = dict(change.before.xattrs).get(_CAPABILITY_XATTR) if change.before is not None else None
        if after is None or after == before:
            continue
        readable = describe_capabilities(after)
        yield _finding(
            CAPABILITY_ADDED,
            context,
            subject=change.path,
            message=f"{change.path} now carries file capabilities {readable}"
            + (f" (before: {describe_capabilities(before)})." if before is not None else "."),
            evidence={
                "path": change.path,
                "capabilities_before": describe_capabilities(before) if before is not None else None,
                "capabilities_after": readable,
                "xattr_hex_after": after,
                "uid": change.after.uid,
                "mode": octal(change.after.mode),
                **_layer(context, change.layer),
            },
            layer=change.layer,
        )


# linux/capability.h, by bit number
CAPABILITY_NAMES = (
    "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
    "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
    "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
    "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
    "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
    "checkpoint_restore",
)  # fmt: skip
_VFS_CAP_EFFECTIVE = 0x1


def describe_capabilities(hex_value: str) -> str:
    """``security.capability`` (struct vfs_cap_data, little endian) as getcap prints it:
    ``cap_net_bind_service=ep``. The hex value itself when it can't be decoded."""
    try:
        data = bytes.fromhex(hex_value)
    except ValueError:
        return hex_value
    if len(data) < 12 or len(data) % 4:
        return hex_value
    words = [int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4)]
    magic, permitted, inheritable = words[0], words[1], words[2]
    if len(words) >= 5:  # revision 2 and 3 carry the upper 32 capabilities
        permitted |= words[3] << 32
        inheritable |= words[4] << 32
    groups: dict[str, list[str]] = defaultdict(list)
    for bit in range(64):
        flags = ("e" if magic & _VFS_CAP_EFFECTIVE else "") if (permitted | inheritable) >> bit & 1 else ""
        flags += ("i" if inheritable >> bit & 1 else "") + ("p" if permitted >> bit & 1 else "")
        if flags:
            name = CAPABILITY_NAMES[bit] if bit < len(CAPABILITY_NAMES) else str(bit)
            groups[flags].append(f"cap_{name}")
    text = " ".join(f"{','.join(names)}={flags}" for flags, names in groups.items()) or "(none)"
    if len(words) >= 6 and words[5]:  # revision 3: the namespace root uid the capabilities apply to
        text += f" [rootid={words[5]}]"
    return text


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
    for change in context.diff.file_changes:
        after, before = change.after, change.before
        if after is None or (after.type not in _FILE_TYPES and after.type is not EntryType.DIR):
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
            where = f" inside {inside}, so any user can plant what others run" if inside else ""
            yield _finding(
                WORLD_WRITABLE_ADDED,
                context,
                subject=path,
                message=f"{path} is now world-writable (mode {octal(change.after.mode)}){where}.",
                evidence={
                    "path": path,
                    "mode_before": octal(change.before.mode) if change.before is not None else None,
                    "after": metadata(change.after),
                    "inside": inside,
                    **_layer(context, change.layer),
                    **_collapsed(descendants),
                },
                layer=change.layer,
                severity=severity,
            )


def _command_and_library_dirs(context: RuleContext) -> dict[str, str]:
    """Real paths of the derived image's PATH directories and the loader's library directories, each with
    a description for the evidence."""
    files = context.diff.derived_files
    listed = [(d, f"PATH directory {d}") for d in context.diff.derived_inventory.path.split(":") if d]
    listed += [(d, f"library directory {d} (ld.so.conf)") for d in read_ld_so_conf(files)]
    listed += [(d, f"library directory {d} (default)") for d in (*DEFAULT_DIRS_64, *DEFAULT_DIRS_32)]
    found: dict[str, str] = {}
    for directory, description in listed:
        real = files.resolve(directory) if directory.startswith("/") else None
        if real is not None:
            found.setdefault(real, description)
    return found


# --- base-file-deleted, ownership-changed -------------------------------------------------------------------


@rule(
    "base-file-deleted",
    Severity.MEDIUM,
    "A file of the base image was deleted",
    "Don't delete what the base ships (its own code, entrypoint and packages may use it); if it must go, "
    "remove it with the package manager that installed it. Note the bytes stay in the base's layers anyway.",
)
def BASE_FILE_DELETED(context: RuleContext) -> Iterator[Finding]:
    # What an OS package owns is judged by the package rules: package-removed when the package manager
    # removed it, package-file-modified when something else did.
    owner_of = context.diff.base_inventory.owner_of
    removed = {
        c.path: c
        for c in context.diff.file_changes
        if c.kind is ChangeKind.REMOVED and owner_of(c.path) is None and not c.path.startswith(_DPKG_INFO)
    }
    replaced = _reinstalled_distribution_files(context, removed)
    for path, descendants in sorted(top_most(removed).items()):
        change = removed[path]
        assert change.before is not None
        group = [path, *descendants]
        size = sum(_file_size(removed[p].before) for p in group)
        reinstalled = replaced.get(path) if all(p in replaced for p in group) else None
        count = f" and {_entries(len(descendants))} below it" if descendants else ""
        message = f"{path}{count} from the base image was deleted by layer {change.layer}"
        message += f" when pip replaced the distribution with {reinstalled}." if reinstalled else "."
        yield _finding(
            BASE_FILE_DELETED,
            context,
            subject=path,
            message=message,
            evidence={
                "path": path,
                "before": metadata(change.before),
                "entries_removed": len(group),
                "bytes_removed": size,
                "replaced_by": reinstalled,
                **_layer(context, change.layer),
                **_collapsed(descendants),
            },
            layer=change.layer,
            # pip uninstalling the old version of what it installs is routine; the package rules report it
            severity=Severity.LOW if reinstalled else None,
        )


_DPKG_INFO = "/var/lib/dpkg/info/"


def _entries(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def _file_size(entry: Entry | None) -> int:
    return entry.size if entry is not None and entry.type is EntryType.FILE else 0


_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-[^-]+\.(?:dist-info|egg-info)$")


def _distribution_name(directory_name: str) -> str | None:
    match = _DIST_INFO.match(directory_name)
    return re.sub(r"[-_.]+", "-", match.group("name")).lower() if match else None


def _reinstalled_distribution_files(
    context: RuleContext, removed: Mapping[str, FileChange]
) -> dict[str, str]:
    """Removed paths that belonged to a Python distribution pip replaced by another version of it in the same
    site directory (its metadata directory and the files its RECORD lists), mapped to the new metadata."""
    replaced: dict[str, str] = {}
    for path in removed:
        name = _distribution_name(posixpath.basename(path))
        if name is None:
            continue
        site = posixpath.dirname(path)
        successor = next(
            (n for n in context.diff.derived_files.listdir(site) if _distribution_name(n) == name), None
        )
        if successor is None:
            continue
        replaced[path] = successor
        for other in removed:
            if is_under(other, path):
                replaced[other] = successor
        for listed in _record_paths(context, path, site):
            replaced.setdefault(listed, successor)
    return replaced


def _record_paths(context: RuleContext, dist_info: str, site: str) -> Iterator[str]:
    record = context.diff.base_files.read(f"{dist_info}/RECORD")
    for line in (record or b"").decode("utf-8", "replace").splitlines():
        relative = line.split(",", 1)[0]
        if relative:
            yield posixpath.normpath(posixpath.join(site, relative))


@rule(
    "ownership-changed",
    Severity.LOW,
    "Owner, group or mode of a base path changed",
    "Check that the runtime user still has the access it needs; prefer `COPY --chown` to a later "
    "`chown -R`, which also duplicates every file into a new layer.",
)
def OWNERSHIP_CHANGED(context: RuleContext) -> Iterator[Finding]:
    by_layer: dict[int | None, dict[str, FileChange]] = defaultdict(dict)
    for change in context.diff.file_changes:
        if (
            change.kind is ChangeKind.METADATA
            and {"uid", "gid", "mode"} & set(change.fields)
            and change.after is not None
            and change.after.type is not EntryType.SYMLINK  # a symlink's owner and mode are not checked
        ):
            by_layer[change.layer][change.path] = change
    for layer, changes in sorted(by_layer.items(), key=lambda item: item[0] or 0):
        for path, descendants in sorted(top_most(changes).items()):
            change = changes[path]
            assert change.before is not None and change.after is not None
            yield _finding(
                OWNERSHIP_CHANGED,
                context,
                subject=path,
                message=f"{path} changed from {_owner(change.before)} to {_owner(change.after)}.",
                evidence={
                    "path": path,
                    "changed": [f for f in change.fields if f in ("uid", "gid", "mode")],
                    "before": metadata(change.before),
                    "after": metadata(change.after),
                    **_layer(context, layer),
                    **_collapsed(descendants),
                },
                layer=layer,
            )


# --- secret-in-image ----------------------------------------------------------------------------------------


@rule(
    "secret-in-image",
    Severity.HIGH,
    "A credential is stored in the image",
    "Never put credentials in ENV, COPY or RUN: use build secrets (`RUN --mount=type=secret,id=pypirc,"
    "target=/root/.pypirc pip install ...`) and inject runtime credentials from the orchestrator. A file "
    "deleted in a later layer is still in the earlier layer's blob: rotate the credential.",
)
def SECRET_IN_IMAGE(context: RuleContext) -> Iterator[Finding]:
    yield from _secret_env_findings(context)
    yield from _secret_file_findings(context)


def _secret_env_findings(context: RuleContext) -> Iterator[Finding]:
    for change, match in env_secrets(context):
        instruction = redact_text(change.instruction, change.after or "")
        yield SECRET_IN_IMAGE.finding(
            context,
            subject=f"ENV:{change.key}",
            message=(
                f"ENV {change.key} holds a credential ({match.kind}) that every container and "
                "`docker inspect` shows."
            ),
            evidence={
                "variable": change.key,
                "kind": match.kind,
                "value": match.redacted,
                "instruction": instruction,
            },
            instruction=instruction,
        )


_SSH_IDENTITIES = frozenset(
    {"id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity"}
)
_SECRET_FILE_SUFFIXES = (  # matched against the end of the path
    ("/.netrc", ".netrc (login credentials)"),
    ("/_netrc", ".netrc (login credentials)"),
    ("/.pypirc", ".pypirc (package index credentials)"),
    ("/.git-credentials", "git credentials"),
    ("/.docker/config.json", "docker config (registry auths)"),
    ("/.aws/credentials", "AWS credentials file"),
    ("/.kube/config", "kubeconfig"),
    ("/gcloud/application_default_credentials.json", "GCP credentials"),
    ("/gcloud/credentials.db", "GCP credentials"),
)
_SERVICE_ACCOUNT_FILE = re.compile(r".*service[-_]?account.*\.json$")
_KEY_FILE = re.compile(r".*(?:\.key|\.p12|\.pfx|priv(?:ate)?[-_]?key.*\.pem)$")
# Where key-looking file names are test fixtures or public keys, not credentials
_KEY_FIXTURE_DIRS = re.compile(
    r"/(?:site-packages|dist-packages|node_modules|keyrings|trusted\.gpg\.d)/|^/usr/share/"
)


def secret_file_kind(path: str) -> str | None:
    """What credential a file looks like by its path; contents are not kept by the indexer."""
    name = posixpath.basename(path)
    if name in _SSH_IDENTITIES and "/.ssh/" in path:
        return "private key (SSH identity)"
    for suffix, kind in _SECRET_FILE_SUFFIXES:
        if path.endswith(suffix):
            return kind
    lower = name.lower()
    if _SERVICE_ACCOUNT_FILE.match(lower) and not _KEY_FIXTURE_DIRS.search(path):
        return "GCP service account JSON"
    if _KEY_FILE.match(lower) and not _KEY_FIXTURE_DIRS.search(path):
        return "private key"
    return None


@dataclass
class _StoredSecret:
    kind: str
    entry: Entry
    layer: int
    layers: list[int] = field(default_factory=list)


def _stored_secrets(context: RuleContext) -> dict[str, _StoredSecret]:
    """Credential files in every reviewed layer: one deleted later is still in its layer's blob."""
    credentials = context.diff.derived_inventory.env.get("GOOGLE_APPLICATION_CREDENTIALS")
    named = context.diff.derived_files.resolve(credentials) if credentials else None
    found: dict[str, _StoredSecret] = {}
    for position in _reviewed_layers(context):
        for entry in context.derived_indexes[position].entries:
            if entry.type not in _FILE_TYPES:
                continue
            kind = secret_file_kind(entry.path)
            if kind is None and entry.path == named:
                kind = "GCP credentials (GOOGLE_APPLICATION_CREDENTIALS)"
            if kind is not None:
                found.setdefault(entry.path, _StoredSecret(kind, entry, position)).layers.append(position)
    return found


def _secret_file_findings(context: RuleContext) -> Iterator[Finding]:
    tree = context.diff.derived_files.tree
    user = context.diff.derived_inventory.user
    for path, secret in sorted(_stored_secrets(context).items()):
        final = tree.nodes.get(path)
        removed_by = tree.removed_by.get(path) if final is None else None
        if removed_by is not None:
            where = f"; layer {removed_by} deletes it, but it stays in layer {secret.layer}'s blob"
        else:
            where = ""
        yield _finding(
            SECRET_IN_IMAGE,
            context,
            subject=path,
            message=f"{path} looks like a credential ({secret.kind}) stored in layer {secret.layer}{where}.",
            evidence={
                "path": path,
                "kind": secret.kind,
                "size": secret.entry.size,
                **metadata(secret.entry),
                "layers": secret.layers,
                "in_final_filesystem": final is not None,
                "removed_by_layer": removed_by,
                "readable_by_runtime_user": may(user, final.entry, 4) if final is not None else None,
                "content": "not read (recognised by its path)",
                **_layer(context, secret.layer),
            },
            layer=secret.layer,
        )


# --- layer-waste --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Waste:
    path: str
    size: int
    added: int  # layer that stored the bytes
    removed: int  # later layer that deleted or overwrote them
    how: str


@rule(
    "layer-waste",
    Severity.LOW,
    "Bytes stored by one layer are deleted or overwritten by a later layer",
    "Clean up in the same RUN that creates the files (`RUN pip install ... && rm -rf /tmp/build`); use "
    "`COPY --chown`/`--chmod` instead of a later `chown -R`/`chmod -R`, which stores every file again.",
)
def LAYER_WASTE(context: RuleContext) -> Iterator[Finding]:
    groups: dict[tuple[int, int], list[_Waste]] = defaultdict(list)
    for waste in _wasted_bytes(context):
        groups[(waste.added, waste.removed)].append(waste)
    by_subject: dict[str, list[list[_Waste]]] = defaultdict(list)
    for wastes in groups.values():
        paths = [w.path for w in wastes]
        by_subject[paths[0] if len(paths) == 1 else posixpath.commonpath(paths)].append(wastes)
    for subject, pairs in sorted(by_subject.items()):
        total = sum(w.size for wastes in pairs for w in wastes)
        if total < MIN_WASTED_BYTES:
            continue
        files = sum(len(wastes) for wastes in pairs)
        last = max(wastes[0].removed for wastes in pairs)
        first = min(wastes[0].added for wastes in pairs)
        yield _finding(
            LAYER_WASTE,
            context,
            subject=subject,
            message=(
                f"{total} bytes in {files} file(s) under {subject} stored by layer {first} are deleted or "
                f"overwritten by layer {last}, but still downloaded and stored."
            ),
            evidence={
                "path": subject,
                "bytes": total,
                "files": files,
                "wasted": [
                    _waste_evidence(context, wastes) for wastes in sorted(pairs, key=lambda w: w[0].added)
                ],
            },
            layer=last,
        )


def _waste_evidence(context: RuleContext, wastes: list[_Waste]) -> dict[str, Any]:
    largest = sorted(wastes, key=lambda w: (-w.size, w.path))[:EXAMPLES]
    return {
        "layer_added": wastes[0].added,
        "added_by": _instruction(context, wastes[0].added),
        "layer_removed": wastes[0].removed,
        "removed_by": _instruction(context, wastes[0].removed),
        "how": sorted({w.how for w in wastes}),
        "files": len(wastes),
        "bytes": sum(w.size for w in wastes),
        "largest": [{"path": w.path, "size": w.size} for w in largest],
    }


def _wasted_bytes(context: RuleContext) -> Iterator[_Waste]:
    """Replay the reviewed layers as the runtime applies them (see ``layerdiff.fs.tree``), following the
    files each stored, and yield every file a later layer deletes or replaces."""
    stored: dict[
        str, tuple[int, int]
    ] = {}  # path -> (layer, size) of regular files the reviewed layers wrote
    for position in _reviewed_layers(context):
        entries = context.derived_indexes[position].entries
        deleted = {e.path for e in entries if e.type is EntryType.WHITEOUT}  # the path and all below it
        # below these, earlier content is hidden: opaque directories, directories replaced by a non-directory
        hidden = {e.path for e in entries if e.type is EntryType.OPAQUE or e.type is not EntryType.DIR}
        written = {e.path for e in entries if e.type not in _MARKERS}
        for path in list(stored):
            if path in written:
                how = "overwritten"
            elif path in deleted or _ancestor_in(path, deleted) or _ancestor_in(path, hidden):
                how = "deleted"
            else:
                continue
            layer, size = stored.pop(path)
            yield _Waste(path, size, layer, position, how)
        for entry in entries:
            if entry.type is EntryType.FILE and entry.size > 0:
                stored[entry.path] = (position, entry.size)


# --- cache-left-behind --------------------------------------------------------------------------------------

_HOME_CACHES = (
    ("/.cache/pip/", "pip cache"),
    ("/.npm/_cacache/", "npm cache"),
    ("/.cache/yarn/", "yarn cache"),
)
_APT_LISTS = "/var/lib/apt/lists"


def cache_directory(path: str) -> tuple[str, str] | None:
    """The package-manager cache directory ``path`` is in, and what kind of cache it is."""
    if path.startswith(_APT_LISTS + "/"):
        rest = path[len(_APT_LISTS) + 1 :]
        if rest == "lock" or rest.startswith("partial/"):
            return None
        return _APT_LISTS, "apt package lists"
    if path.startswith("/var/cache/apt/archives/") and path.endswith(".deb"):
        return "/var/cache/apt/archives", "apt package archives"
    if posixpath.dirname(path) == "/var/cache/apt" and path.endswith(".bin"):
        return "/var/cache/apt", "apt package cache"
    for marker, kind in _HOME_CACHES:
        index = path.find(marker)
        if index >= 0:
            return path[: index + len(marker) - 1], kind
    return None


@rule(
    "cache-left-behind",
    Severity.LOW,
    "A package manager's cache was left in the image",
    "Clean up in the same RUN: `apt-get update && apt-get install -y --no-install-recommends ... && "
    "rm -rf /var/lib/apt/lists/*`, `pip install --no-cache-dir ...`, `npm ci && npm cache clean --force`.",
)
def CACHE_LEFT_BEHIND(context: RuleContext) -> Iterator[Finding]:
    caches: dict[str, tuple[str, dict[int, list[int]]]] = {}  # directory -> (kind, layer -> file sizes)
    for path, node in context.diff.derived_files.tree.nodes.items():
        if node.layer < context.first_reviewed or node.entry.type is not EntryType.FILE:
            continue
        found = cache_directory(path)
        if found is not None:
            directory, kind = found
            caches.setdefault(directory, (kind, defaultdict(list)))[1][node.layer].append(node.entry.size)
    for directory, (kind, by_layer) in sorted(caches.items()):
        files = sum(len(sizes) for sizes in by_layer.values())
        total = sum(sum(sizes) for sizes in by_layer.values())
        biggest = max(by_layer, key=lambda layer: (sum(by_layer[layer]), layer))
        yield _finding(
            CACHE_LEFT_BEHIND,
            context,
            subject=directory,
            message=f"{directory} ({kind}: {files} files, {total} bytes) was left in the image.",
            evidence={
                "path": directory,
                "kind": kind,
                "files": files,
                "bytes": total,
                "layers": [
                    {
                        "layer": layer,
                        "instruction": _instruction(context, layer),
                        "files": len(sizes),
                        "bytes": sum(sizes),
                    }
                    for layer, sizes in sorted(by_layer.items())
                ],
            },
            layer=biggest,
        )
