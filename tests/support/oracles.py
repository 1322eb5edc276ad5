"""Run the real tools inside scenario containers, as the image's own user, to check layerdiff against."""

from __future__ import annotations

import docker
import docker.errors


def run_in(client: docker.DockerClient, tag: str, script: str, user: str | None = None) -> str:
    """stdout+stderr of ``sh -c script`` in a throwaway container of ``tag`` (no network)."""
    output: bytes = client.containers.run(
        tag, ["-c", f"{script} 2>&1; true"], entrypoint="/bin/sh", user=user or "", remove=True,
        network_disabled=True, stdout=True, stderr=True,
    )
    return output.decode()


def pip_check(client: docker.DockerClient, tag: str, pip: str = "pip") -> set[str]:
    lines = run_in(client, tag, f"{pip} check").splitlines()
    return {line.strip() for line in lines if line.strip() and line.strip() != "No broken requirements found."}


def command_v(client: docker.DockerClient, tag: str, names: list[str]) -> dict[str, str | None]:
    script = "; ".join(f'printf "%s=%s\\n" {n} "$(command -v {n})"' for n in names)
    found: dict[str, str | None] = {}
    for line in run_in(client, tag, script).splitlines():
        name, _, path = line.partition("=")
        found[name] = path or None
    return found
