"""File capabilities: the ``security.capability`` extended attribute, decoded as getcap prints it."""

from __future__ import annotations

from collections import defaultdict

from layerdiff.image.model import Entry

CAPABILITY_XATTR = "security.capability"

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


def file_capabilities(entry: Entry | None) -> str | None:
    """The raw ``security.capability`` value (hex) of ``entry``; None without one."""
    return dict(entry.xattrs).get(CAPABILITY_XATTR) if entry is not None else None


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
