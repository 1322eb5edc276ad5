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


_MAX_ID = (1 << 32) - 1  # uid_t and gid_t are 32-bit unsigned


def parse_id(text: str) -> int | None:
    """A uid or gid as the C library reads one: ASCII digits (``"²".isdigit()`` is true) that fit 32 bits."""
    if not text or len(text) > 10 or not all("0" <= char <= "9" for char in text):
        return None
    number = int(text)
    return number if number <= _MAX_ID else None


def parse_passwd(data: bytes | None) -> list[PasswdEntry]:
    entries = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if (
            len(fields) >= 6
            and (uid := parse_id(fields[2])) is not None
            and (gid := parse_id(fields[3])) is not None
        ):
            entries.append(PasswdEntry(fields[0], uid, gid, fields[5] or "/"))
    return entries


def parse_group(data: bytes | None) -> list[tuple[str, int, list[str]]]:
    groups = []
    for line in (data or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and (gid := parse_id(fields[2])) is not None:
            groups.append((fields[0], gid, [m for m in fields[3].split(",") if m]))
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
        uid = parse_id(user_part) or 0
        gid, name, home = 0, None, "/"
        if uid == 0:
            name, home = "root", ROOT_HOME
    if group_part:
        gid = _find_group(groups, group_part, gid)
    supplementary = {g for _, g, members in groups if name is not None and name in members}
    # HOME from the image's ENV wins, as it does for the process the runtime starts
    return RuntimeUser(spec, name, uid, gid, frozenset({gid, *supplementary}), env.get("HOME") or home)


def _find_user(passwd: list[PasswdEntry], wanted: str) -> PasswdEntry | None:
    uid = parse_id(wanted)
    for entry in passwd:
        if entry.name == wanted or entry.uid == uid:
            return entry
    return None


def _find_group(groups: list[tuple[str, int, list[str]]], wanted: str, default: int) -> int:
    gid = parse_id(wanted)
    if gid is not None:
        return gid
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
