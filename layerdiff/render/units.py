"""Units shown to people, shared by the table renderer and the review app."""

from __future__ import annotations


def human_size(size: int) -> str:
    """Decimal units, as `docker images` shows them: 999 B, 1.0 kB, 2.5 MB, 3.0 GB."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"


def compact_size(size: int) -> str:
    """The same decimal units in as few cells as a tree row allows: 4200, 12.3k, 3.0M, 1.2G (exact bytes
    while they take no more cells than a rounded figure would)."""
    if size < 10_000:
        return str(size)
    shown = human_size(size)
    number, unit = shown.split(" ")
    return number + unit[0]
