"""Access to the real Docker engine for integration tests, and the other image forms made from it."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import docker.errors
import pytest
import requests.exceptions


def engine_client() -> docker.DockerClient:
    """The engine at DOCKER_HOST; skipped when absent unless LAYERDIFF_REQUIRE_ENGINE is set (as in CI)."""
    try:
        client = docker.DockerClient.from_env(version="auto", timeout=900)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        if os.environ.get("LAYERDIFF_REQUIRE_ENGINE"):
            raise RuntimeError(f"no Docker engine answers at DOCKER_HOST: {exc}") from exc
        pytest.skip(f"no Docker engine: {exc}")
    return client


def save(client: docker.DockerClient, tag: str, path: Path) -> Path:
    with path.open("wb") as handle:
        for chunk in client.images.get(tag).save(named=True):
            handle.write(chunk)
    return path


def skopeo_copy(source: str, destination: str) -> None:
    subprocess.run(["skopeo", "--insecure-policy", "copy", "--quiet", source, destination], check=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_registry(user: str | None = None, password: str | None = None) -> Iterator[str]:
    """Debian's docker-registry on loopback, with htpasswd auth when a user is given; yields host:port."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch) / "config.yml"
        auth = ""
        if user is not None and password is not None:
            import bcrypt

            hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=5)).decode()
            (Path(scratch) / "htpasswd").write_text(f"{user}:{hashed}\n")
            auth = f"auth:\n  htpasswd:\n    realm: layerdiff-test\n    path: {scratch}/htpasswd\n"
        config.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {scratch}/data\nhttp:\n  addr: 127.0.0.1:{port}\n" + auth
        )
        process = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2).close()
                    break
                except urllib.error.HTTPError:
                    break  # 401: up, and asking for credentials
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("docker-registry did not start") from None
                    time.sleep(0.2)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def push(client: docker.DockerClient, tag: str, registry: str, name: str) -> str:
    repository = f"{registry}/{name}"
    client.images.get(tag).tag(repository, "test")
    for line in client.api.push(repository, "test", stream=True, decode=True):
        if "error" in line:
            raise RuntimeError(f"push failed: {line['error']}")
    return f"{repository}:test"
