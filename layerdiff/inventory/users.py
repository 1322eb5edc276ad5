"""The runtime user: USER resolved through the image's /etc/passwd and /etc/group, and what it may do."""

from __future__ import annotations

from dataclasses import dataclass

from layerdiff.fs.view import ImageFiles
from layerdiff.image.model import Entry
from layerdiff.index.capture import Capture

ROOT_HOME = "/root"
PASSWD, GROUP = "/etc/passwd", "/etc/group"
CAPTURE = Capture(paths=(PASSWD, GROUP))


@dataclass(frozen=True)
class RuntimeUser:
    spec: str  # USER as written in the config ("" means root)
    name: str | None  # None when the uid has no passwd entry
    uid: int
    gid: int
    groups: frozenset[int]  # primary and supplementary gids
    home: str

    @property
    def is_root(self) -> bool:
        return self.uid == 0


@dataclass(frozen=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int
    home: str


def parse_passwd(data: bytes | None) -> list[PasswdEntry]:
    entries = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 6 and fields[2].isdigit() and fields[3].isdigit():
            entries.append(PasswdEntry(fields[0], int(fields[2]), int(fields[3]), fields[5] or "/"))
    return entries


def parse_group(data: bytes | None) -> list[tuple[str, int, list[str]]]:
    groups = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit():
            groups.append((fields[0], int(fields[2]), [m for m in fields[3].split(",") if m]))
    return groups


def runtime_user(files: ImageFiles, spec: str | None, env: dict[str, str]) -> RuntimeUser:
    """Resolve USER the way the container runtime does: name or uid, optionally ``:group``."""
    spec = spec or ""
    user_part, _, group_part = spec.partition(":")
    passwd = parse_passwd(files.read(PASSWD))
    groups = parse_group(files.read(GROUP))
    entry = _find_user(passwd, user_part or "root")
    if entry is not None:
        uid, gid, name, home = entry.uid, entry.gid, entry.name, entry.home
    else:
        uid = int(user_part) if user_part.isdigit() else 0
        gid, name, home = 0, None, "/"
        if uid == 0:
            name, home = "root", ROOT_HOME
    if group_part:
        gid = _find_group(groups, group_part, gid)
    supplementary = {g for _, g, members in groups if name is not None and name in members}
    # HOME from the image's ENV wins, as it does for the process the runtime starts
    return RuntimeUser(spec, name, uid, gid, frozenset({gid, *supplementary}), env.get("HOME") or home)


def _find_user(passwd: list[PasswdEntry], wanted: str) -> PasswdEntry | None:
    for entry in passwd:
        if entry.name == wanted or (wanted.isdigit() and entry.uid == int(wanted)):
            return entry
    return None


def _find_group(groups: list[tuple[str, int, list[str]]], wanted: str, default: int) -> int:
    if wanted.isdigit():
        return int(wanted)
    return next((gid for name, gid, _ in groups if name == wanted), default)


def may(user: RuntimeUser, entry: Entry, access: int) -> bool:
    """Whether ``user`` has ``access`` (4 read, 2 write, 1 execute) on ``entry`` by its mode bits."""
    if user.is_root:
        # root bypasses permission checks, except that execute needs at least one execute bit
        return access != 1 or entry.mode & 0o111 != 0 or entry.type.value == "dir"
    if entry.uid == user.uid:
        return (entry.mode >> 6) & access == access
    if entry.gid in user.groups:
        return (entry.mode >> 3) & access == access
    return entry.mode & access == access
