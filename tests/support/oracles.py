"""Run the real tools inside scenario containers, as the image's own user, to check layerdiff against.

One container per scenario runs every tool and prints each one's output under a ``### name`` heading:
containers are slow to create on the vfs storage driver."""

from __future__ import annotations

import docker

PSYCOPG_EXTENSION = "/usr/lib/python3/dist-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so"
COMMANDS = ["python", "python3", "pip", "airflow", "sh", "dpkg", "ldconfig"]
_SCRIPT = "\n".join(
    [
        "echo '### pip check'; pip check 2>&1",
        "echo '### command -v'",
        *[f'printf "%s=%s\\n" {name} "$(command -v {name})"' for name in COMMANDS],
        f"echo '### ldd'; ldd {PSYCOPG_EXTENSION} 2>&1",
        "echo '### import requests'; python3 -c 'import os, requests; "
        "print(os.path.dirname(os.path.dirname(requests.__file__)))' 2>&1",
        "true",
    ]
)
# As root, since ldconfig writes: the cache as it is, the one ldconfig would write (-X: no links, -i: every
# file read again), and ldd once ldconfig has run
_LOADER_SCRIPT = (
    "echo '### ldconfig -p'; ldconfig -p 2>&1;"
    " echo '### ldconfig would write'; ldconfig -i -X -C /tmp/fresh.cache 2>&1"
    " && ldconfig -p -C /tmp/fresh.cache 2>&1;"
    f" echo '### ldd after ldconfig'; ldconfig 2>&1; ldd {PSYCOPG_EXTENSION} 2>&1; true"
)
_ROOT_SCRIPT = (
    "echo '### apt-get check'; apt-get check 2>&1; echo '### dpkg --audit'; dpkg --audit 2>&1;"
    " echo '### dpkg --verify'; dpkg --verify 2>&1; true"
)


def observe(
    client: docker.DockerClient, tag: str, as_root: bool = False, loader: bool = False
) -> dict[str, list[str]]:
    """Each tool's output lines, by heading; with ``as_root``, apt and dpkg too, which need root; with
    ``loader``, the ld.so.cache, what ldconfig would write, and ldd after ldconfig (also as root)."""
    sections: dict[str, list[str]] = {}
    wanted = ((_ROOT_SCRIPT, as_root), (_LOADER_SCRIPT, loader))
    root_scripts = [script for script, asked in wanted if asked]
    runs = [(_SCRIPT, "")] + ([("; ".join(root_scripts), "root")] if root_scripts else [])
    for script, user in runs:
        output: bytes = client.containers.run(
            tag,
            ["-c", script],
            entrypoint="/bin/sh",
            user=user,
            remove=True,
            network_disabled=True,
            stdout=True,
            stderr=True,
        )
        heading = ""
        for line in output.decode().splitlines():
            if line.startswith("### "):
                heading = line[4:]
                sections[heading] = []
            elif line.strip():
                sections[heading].append(line.strip())
    return sections


def pip_check_lines(observed: dict[str, list[str]]) -> set[str]:
    return {line for line in observed["pip check"] if line != "No broken requirements found."}


def command_v(observed: dict[str, list[str]]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for line in observed["command -v"]:
        name, _, path = line.partition("=")
        found[name] = path or None
    return found


def ldd(observed: dict[str, list[str]], heading: str = "ldd") -> dict[str, str | None]:
    """soname -> path, None for 'not found' (ldd lists the whole closure)."""
    found: dict[str, str | None] = {}
    for line in observed[heading]:
        name, arrow, rest = line.partition(" => ")
        if arrow:
            target = rest.split(" (", 1)[0].strip()
            found[name.strip()] = None if target == "not found" else target
    return found


def apt_unmet(observed: dict[str, list[str]]) -> set[str]:
    """``apt-get check``'s unmet-dependency lines as ``package: Field: detail``."""
    found = set()
    for line in observed["apt-get check"]:
        package, colon, rest = line.partition(" : ")
        if colon:
            found.add(f"{package.strip()}: {rest.strip()}")
    return found


def ldconfig_p(observed: dict[str, list[str]], heading: str) -> list[tuple[str, str, str | None, str]]:
    """``ldconfig -p``'s entries in order, as (soname, kind as printed, glibc-hwcaps name, path): kind is
    ``libc6,x86-64``, the hwcaps name the one in ``hwcap: "x86-64-v3"``."""
    entries = []
    for line in observed[heading]:
        head, arrow, path = line.partition(" => ")
        if not arrow or " (" not in head:
            continue
        soname, _, details = head.partition(" (")
        kind, _, hwcap = details.rstrip(")").partition(", hwcap: ")
        entries.append((soname, kind, hwcap.strip('"') or None, path))
    return entries
