"""Choosing one manifest from an image index by platform."""

from __future__ import annotations

import platform as host
from typing import Any

from layerdiff.errors import ImageError, UsageError

_ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


def host_platform() -> str:
    machine = host.machine().lower()
    return f"linux/{_ARCH_ALIASES.get(machine, machine)}"


def parse_platform(text: str) -> tuple[str, str, str | None]:
    parts = text.lower().split("/")  # containerd reads Linux/AMD64 as linux/amd64
    if len(parts) not in (2, 3) or not all(parts):
        raise UsageError(f"--platform {text!r}: expected OS/ARCH or OS/ARCH/VARIANT")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def select_from_index(index: dict[str, Any], wanted: str | None, what: str) -> dict[str, Any]:
    """Return the manifest descriptor for ``wanted`` (default: this machine's platform)."""
    manifests = [m for m in index.get("manifests") or [] if isinstance(m, dict)]
    # attestation manifests (buildx) carry platform unknown/unknown
    images = [m for m in manifests if (m.get("platform") or {}).get("os") not in (None, "unknown")]
    if not images:
        if len(manifests) == 1:
            return manifests[0]
        raise ImageError(f"{what}: image index names no platform-specific image")
    os_name, arch, variant = parse_platform(wanted or host_platform())
    for descriptor in images:
        p = descriptor["platform"]
        if (
            p.get("os") == os_name
            and p.get("architecture") == arch
            and (variant is None or p.get("variant") == variant)
        ):
            return descriptor
    available = ", ".join(sorted({_describe(m["platform"]) for m in images}))
    raise ImageError(f"{what}: no image for platform {wanted or host_platform()} (available: {available})")


def _describe(p: dict[str, Any]) -> str:
    return "/".join(str(x) for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)


def check_platform(actual: str, wanted: str | None, what: str) -> None:
    """Refuse an image that is not the ``--platform`` asked for. A multi-platform index is resolved by it;
    a single-platform image (a docker save, a layout of one manifest, the engine's) is what it is, and
    reading it anyway would review another image than the one asked for."""
    if wanted is None:
        return
    os_name, arch, variant = parse_platform(wanted)
    parts = actual.split("/")
    if len(parts) < 2 or "unknown" in parts[:2]:
        return  # the config does not say: nothing to hold it to
    actual_variant = parts[2] if len(parts) > 2 else None
    # a variant counts only when both say one (linux/arm64 is linux/arm64/v8)
    if (parts[0], parts[1]) != (os_name, arch) or (variant and actual_variant and variant != actual_variant):
        raise ImageError(f"{what}: --platform {wanted} matches nothing: the image has one platform, {actual}")
