"""Build the scenario images of fixtures/scenarios with the real Docker engine, reusing what is built.

Each image is tagged ``layerdiff-fixture/NAME:HASH`` where the hash covers its inputs, so an unchanged
scenario is never rebuilt while the engine keeps its data. Downloads (the Debian root filesystem, the
wheels) are kept in ``LAYERDIFF_FIXTURE_CACHE`` (default ``~/.cache/layerdiff-fixtures``).

Run ``python -m tests.support.scenarios`` to build them all ahead of the tests.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import docker
import docker.errors

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "fixtures" / "scenarios"
DEBIAN_PACKAGES = "python3,python3-pip,python3-venv,libpq5,python3-psycopg2"
DERIVED = (
    "derived-dag",
    "derived-pin",
    "derived-root",
    "derived-venv",
    "derived-syspkg",
    "derived-nolib",
    "derived-shadowlib",
    "derived-libcopy-noldconfig",
    "derived-libmove-noldconfig",
    "derived-purge",
    "derived-oddnames",
    "derived-multistage",
    "derived-creds",
    "derived-clobber",
    "derived-startup",
    "derived-pyclean",
)
# Scenarios built on another scenario and reviewed against it (not against airflow-base), in build order
STACKED = {
    "console-base": "airflow-base",
    "derived-console": "console-base",
}


def base_of(name: str) -> str:
    """The scenario ``name`` is built on, and reviewed against."""
    return STACKED.get(name, "airflow-base")


def fixture_cache() -> Path:
    path = Path(os.environ.get("LAYERDIFF_FIXTURE_CACHE") or Path.home() / ".cache" / "layerdiff-fixtures")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _log(message: str) -> None:
    print(f"[scenarios] {message}", file=sys.stderr, flush=True)


def wheel_requirements() -> list[str]:
    lines = (SCENARIOS / "wheels.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def wheelhouse() -> Path:
    """The wheels of wheels.txt, downloaded on the host (containers reach no package index)."""
    requirements = wheel_requirements()
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:12]
    target = fixture_cache() / f"wheels-{key}"
    if (target / ".complete").exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    _log(f"downloading {len(requirements)} wheels")
    for requirement in requirements:  # one at a time: the list holds conflicting pins on purpose
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--only-binary=:all:",
                "--no-deps",
                "--python-version",
                "3.11",
                "--platform",
                "manylinux2014_x86_64",
                "--platform",
                "any",
                "--implementation",
                "cp",
                "--abi",
                "cp311",
                "--abi",
                "none",
                "--abi",
                "abi3",
                "-d",
                str(target),
                requirement,
            ],
            check=True,
        )
    (target / ".complete").touch()
    return target


def bookworm_rootfs() -> Path:
    """A Debian bookworm minbase root filesystem as a tar, made once with debootstrap."""
    key = hashlib.sha256(DEBIAN_PACKAGES.encode()).hexdigest()[:12]
    target = fixture_cache() / f"bookworm-{key}.tar"
    if target.exists():
        return target
    _log("debootstrap bookworm (about a minute)")
    with tempfile.TemporaryDirectory(dir=fixture_cache()) as scratch:
        rootfs = Path(scratch) / "rootfs"
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={DEBIAN_PACKAGES}", "bookworm", str(rootfs)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        # apt's downloaded archives are not part of a useful base image
        for leftover in (rootfs / "var" / "cache" / "apt" / "archives").glob("*.deb"):
            leftover.unlink()
        partial = target.with_suffix(".partial")
        subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        partial.rename(target)
    return target


def _hash_tree(directory: Path, *extra: str) -> str:
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(directory)).encode())
            digest.update(oct(path.stat().st_mode & 0o777).encode())
            digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()[:12]


def _exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _import_bookworm(client: docker.DockerClient) -> str:
    rootfs = bookworm_rootfs()
    tag = f"layerdiff-fixture/bookworm:{hashlib.sha256(DEBIAN_PACKAGES.encode()).hexdigest()[:12]}"
    if not _exists(client, tag):
        _log(f"docker import {tag}")
        repository, _, version = tag.partition(":")
        client.api.import_image_from_file(str(rootfs), repository=repository, tag=version)
    return tag


def _build(client: docker.DockerClient, name: str, base: str, extra: Path | None = None) -> str:
    directory = SCENARIOS / name
    tag = f"layerdiff-fixture/{name}:{_hash_tree(directory, base, str(extra or ''))}"
    if _exists(client, tag):
        return tag
    _log(f"building {tag}")
    with tempfile.TemporaryDirectory() as scratch:
        context = Path(scratch) / "context"
        shutil.copytree(directory, context)
        if extra is not None:
            shutil.copytree(extra, context / "wheels", ignore=shutil.ignore_patterns(".complete"))
        try:
            client.images.build(path=str(context), tag=tag, buildargs={"BASE": base}, rm=True, forcerm=True)
        except docker.errors.BuildError as exc:
            log = "".join(str(item.get("stream", item.get("error", ""))) for item in exc.build_log)
            raise RuntimeError(f"building {name} failed:\n{log}") from exc
    return tag


def build_all(client: docker.DockerClient | None = None) -> dict[str, str]:
    """Build (or find) every scenario image; returns name -> tag."""
    client = client or docker.DockerClient.from_env(version="auto", timeout=900)
    tags = {"bookworm": _import_bookworm(client)}
    tags["airflow-base"] = _build(client, "airflow-base", tags["bookworm"], wheelhouse())
    for name in DERIVED:
        tags[name] = _build(client, name, tags["airflow-base"])
    for name, base in STACKED.items():
        tags[name] = _build(client, name, tags[base])
    return tags


if __name__ == "__main__":
    for scenario, image in build_all().items():
        print(f"{scenario}\t{image}")
