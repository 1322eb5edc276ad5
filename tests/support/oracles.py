"""Run the real tools inside scenario containers, as the image's own user, to check layerdiff against.

One container per scenario runs every tool and prints each one's output under a ``### name`` heading:
containers are slow to create on the vfs storage driver."""

from __future__ import annotations

import docker

PSYCOPG_EXTENSION = "/usr/lib/python3/dist-packages/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so"
COMMANDS = ["python", "python3", "pip", "airflow", "sh", "dpkg", "ldconfig"]
IMPORTS = ["tinyapi", "tinyjson"]  # modules whose import is tried (ok, or the exception's name)
# Every RECORD of the image checked by hashing the files, as layerdiff's check does from its index:
# "STATE PATH DIST-INFO", or "overwritten PATH DIST-INFO by DIST-INFO" for a file two RECORDs list whose
# content is one of theirs.
_RECORD_CHECK = """
import base64, csv, hashlib, os
owners = {}
for top, dirs, names in os.walk("/"):
    if top == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    if top.endswith(".dist-info") and "RECORD" in names:
        site = os.path.dirname(top)
        with open(os.path.join(top, "RECORD"), newline="", errors="replace") as record:
            for row in csv.reader(record):
                if len(row) >= 2 and row[0] and row[1].startswith("sha256="):
                    path = os.path.normpath(os.path.join(site, row[0]))
                    owners.setdefault(path, []).append((top, row[1]))
for path, listed in sorted(owners.items()):
    listed.sort()
    if not os.path.lexists(path) or not os.path.isfile(path):
        state = "missing" if not os.path.lexists(path) else "not-a-file"
        for dist, _ in listed:
            print(state, path, dist)
        continue
    try:
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read()).digest()
    except OSError as exc:
        print("unreadable", path, exc.errno)
        continue
    actual = "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    winners = [dist for dist, recorded in listed if recorded == actual]
    for dist, recorded in listed:
        if recorded != actual:
            print(f"overwritten {path} {dist} by {winners[0]}" if winners else f"modified {path} {dist}")
"""
_IMPORT_CHECK = f"""
import importlib
for name in {IMPORTS!r}:
    try:
        importlib.import_module(name)
        print(name, "ok")
    except Exception as exc:
        print(name, type(exc).__name__)
"""
# What the runtime user's python3 puts on sys.path (existing directories), which start-up modules ran, and
# which variables start-up code set (scenarios mark theirs LAYERDIFF_*)
_STARTUP_CHECK = """
import os, sys
for name in ("sitecustomize", "usercustomize"):
    if name in sys.modules:
        print(name, getattr(sys.modules[name], "__file__", None))
print("set", *sorted(name for name in os.environ if name.startswith("LAYERDIFF_")))
"""
_SCRIPT = "\n".join(
    [
        "echo '### pip check'; pip check 2>&1",
        "echo '### command -v'",
        *[f'printf "%s=%s\\n" {name} "$(command -v {name})"' for name in COMMANDS],
        f"echo '### ldd'; ldd {PSYCOPG_EXTENSION} 2>&1",
        # the files ld.so tries for each library, as LD_DEBUG=libs prints them
        f"echo '### ld.so search'; LD_DEBUG=libs ldd {PSYCOPG_EXTENSION} 2>&1"
        " | grep -E 'find library=|search cache=|trying file='",
        "echo '### import requests'; python3 -c 'import os, requests; "
        "print(os.path.dirname(os.path.dirname(requests.__file__)))' 2>&1",
        f"echo '### RECORD check'; python3 - <<'EOF' 2>&1{_RECORD_CHECK}EOF",
        f"echo '### imports'; python3 - <<'EOF' 2>&1{_IMPORT_CHECK}EOF",
        "echo '### sys.path'; python3 -c 'import os, sys; [print(p) for p in sys.path if os.path.isdir(p)]'",
        f"echo '### start-up'; python3 - <<'EOF' 2>&1{_STARTUP_CHECK}EOF",
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


def ld_so_tried(observed: dict[str, list[str]], soname: str) -> list[str]:
    """The files ld.so tried for ``soname``, in order (``trying file=`` after ``find library=SONAME``)."""
    tried: list[str] = []
    searching = False
    for line in observed["ld.so search"]:
        text = line.split(":", 1)[1].strip() if ":" in line else line  # "11:\tfind library=..." -> text
        if text.startswith("find library="):
            searching = text.startswith(f"find library={soname} ")
        elif searching and text.startswith("trying file="):
            tried.append(text.removeprefix("trying file="))
    return tried


def record_check(observed: dict[str, list[str]]) -> set[str]:
    return set(observed["RECORD check"])


def imports(observed: dict[str, list[str]]) -> dict[str, str]:
    """module -> "ok" or the name of the exception importing it raised."""
    return dict(line.split(" ", 1) for line in observed["imports"])


def startup_modules(observed: dict[str, list[str]]) -> dict[str, str]:
    """sitecustomize / usercustomize -> the file python3 ran it from."""
    return dict(line.split(" ", 1) for line in observed["start-up"] if not line.startswith("set"))


def startup_variables(observed: dict[str, list[str]]) -> list[str]:
    """The LAYERDIFF_* variables start-up code set."""
    return next(line for line in observed["start-up"] if line.startswith("set")).split()[1:]


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
