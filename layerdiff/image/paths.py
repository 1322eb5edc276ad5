"""Normalisation of paths found in layer tars."""

from __future__ import annotations

import posixpath

from layerdiff.errors import HostileLayer

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
# aufs-era metadata (e.g. ``.wh..wh.plnk``) that is not part of the image's filesystem
WHITEOUT_META_PREFIX = ".wh..wh."


def normalize(name: str, what: str) -> str:
    """Return the absolute, cleaned path of a tar member name.

    Absolute names are taken relative to the image root, as tar and container runtimes do. A name that
    would climb above the root is refused: the layer is hostile, and no runtime should apply it.
    """
    parts: list[str] = []
    for part in name.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise HostileLayer(f"{what}: entry {name!r} escapes the image root")
            parts.pop()
            continue
        parts.append(part)
    return "/" + "/".join(parts)


def parent(path: str) -> str:
    return posixpath.dirname(path)


def display(path: str) -> str:
    """A printable form of a path that may hold undecodable bytes (kept as surrogate escapes)."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
