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
