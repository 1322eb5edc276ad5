"""Version ordering by each ecosystem's own rules, keyed by package-URL type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from packaging.version import InvalidVersion, Version

from layerdiff.inventory.ospkg import DATABASES


def _pypi(a: str, b: str) -> int:
    left, right = Version(a), Version(b)
    return (left > right) - (left < right)


# Package managers' own algorithms where univers disagrees with them on real versions (see dpkg.py/apk.py).
_NATIVE: dict[str, Callable[[str, str], int]] = {
    **{database.ecosystem: database.compare_versions for database in DATABASES},
    "pypi": _pypi,
}


def compare(purl_type: str, a: str, b: str) -> int | None:
    """Negative, zero or positive as ``a`` is older, equal or newer than ``b``; None when the ecosystem's
    rules cannot order them (unknown ecosystem or a version its rules reject)."""
    native = _NATIVE.get(purl_type)
    try:
        if native is not None:
            return native(a, b)
        from univers.version_range import RANGE_CLASS_BY_SCHEMES  # heavy; only other ecosystems need it

        range_class = RANGE_CLASS_BY_SCHEMES.get(purl_type)
        if range_class is None:
            return None
        version_class: Any = range_class.version_class
        left, right = version_class(a), version_class(b)
        return int(left > right) - int(left < right)
    except (InvalidVersion, ValueError, TypeError, AttributeError):
        return None


def change_kind(purl_type: str, before: str, after: str) -> str:
    """upgraded | downgraded | changed (versions differ but cannot be ordered) | unchanged."""
    if before == after:
        return "unchanged"
    order = compare(purl_type, before, after)
    if order is None or order == 0:
        return "changed"
    return "upgraded" if order < 0 else "downgraded"
