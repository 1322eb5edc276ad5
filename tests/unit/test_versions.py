from __future__ import annotations

import pytest

from layerdiff.inventory.versions import change_kind, compare


@pytest.mark.parametrize(
    ("purl_type", "older", "newer"),
    [
        ("deb", "2.36-9+deb12u3", "2.36-9+deb12u4"),
        ("deb", "2.0", "1:1.0"),  # an epoch outranks any upstream version
        ("deb", "3.0.11-1~deb12u2", "3.0.11-1"),  # ~ sorts before everything
        ("pypi", "2.28.1", "2.31.0"),
        ("pypi", "1.0rc1", "1.0"),
        ("apk", "1.2.4_rc1-r0", "1.2.4-r0"),  # pre-release suffixes sort before the release
        ("apk", "1.2.4-r5", "1.2.4_git20230717-r0"),  # _git is a post-release suffix
        ("rpm", "1.0-1.el9", "1.0-2.el9"),
        ("npm", "1.9.0", "1.10.0"),  # numeric, not lexicographic
        ("maven", "1.0-alpha-1", "1.0"),
        ("gem", "1.0.0.pre", "1.0.0"),
    ],
)
def test_each_ecosystem_orders_by_its_own_rules(purl_type: str, older: str, newer: str) -> None:
    assert compare(purl_type, older, newer) is not None
    assert compare(purl_type, older, newer) < 0  # type: ignore[operator]
    assert change_kind(purl_type, older, newer) == "upgraded"
    assert change_kind(purl_type, newer, older) == "downgraded"


def test_unorderable_versions_are_only_changed() -> None:
    assert change_kind("pypi", "not a version", "2.0") == "changed"
    assert change_kind("unknown-ecosystem", "1", "2") == "changed"
    assert change_kind("deb", "1.0", "1.0") == "unchanged"
