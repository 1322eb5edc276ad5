"""Which file each command name runs, as ``command -v`` would for the runtime user on the image's PATH."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from layerdiff.fs.view import ImageFiles
from layerdiff.image.model import EntryType
from layerdiff.index.capture import Capture
from layerdiff.inventory.users import RuntimeUser, may

# A script's first line names its interpreter (``shebang``).
CAPTURE = Capture(scripts=True)

# What the Docker engine sets when an image has no PATH.
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_SHELLS = {"sh", "bash", "dash", "ash", "zsh"}
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_PREFIX_WORDS = {"exec", "env", "command", "nohup"}  # run the next word as the command
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Command:
    name: str
    path: str  # the PATH entry it was found under
    target: str  # the file that runs, symlinks followed
    interpreter: str | None  # the script's #! line, when it is a script


def image_path(env: Mapping[str, str]) -> str:
    return env.get("PATH", DEFAULT_PATH)


def resolve_commands(files: ImageFiles, path_value: str, user: RuntimeUser) -> dict[str, Command]:
    """Every command name on PATH mapped to the first executable file of that name."""
    found: dict[str, Command] = {}
    listed: set[str] = set()
    for directory in dict.fromkeys(path_value.split(":")):
        if not directory.startswith("/"):
            continue  # empty or relative entries depend on the working directory at run time
        real = files.resolve(directory)
        if real is None or real in listed:
            continue  # a directory named again has no name left to give (a PATH of it 100,000 times)
        listed.add(real)
        for name in files.listdir(directory):
            if name not in found and (command := _command(files, directory, name, user)) is not None:
                found[name] = command
    return found


def _command(files: ImageFiles, directory: str, name: str, user: RuntimeUser) -> Command | None:
    path = posixpath.join(directory, name)
    target = files.resolve(path)
    entry = files.lookup(target) if target is not None else None
    if target is None or entry is None or entry.type not in (EntryType.FILE, EntryType.HARDLINK):
        return None
    if not may(user, entry, 1):
        return None
    return Command(name, path, target, shebang(files, target))


def shebang(files: ImageFiles, path: str) -> str | None:
    data = files.read(path)
    if data is None or not data.startswith(b"#!"):
        return None
    return data[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip() or None


def shebang_program(line: str | None) -> tuple[str, bool] | None:
    """The program a ``#!`` line runs, and whether ``env`` looks it up on PATH."""
    words = (line or "").split()
    if not words:
        return None
    if posixpath.basename(words[0]) != "env":
        return words[0], False
    name = next((w for w in words[1:] if not w.startswith("-") and "=" not in w), None)
    return (name, True) if name is not None else None


def config_keyword(field: str) -> str:
    """A config field of ``commands_used`` as the Dockerfile instruction that sets it: ENTRYPOINT."""
    return field.upper()


def commands_used(config: Mapping[str, Any]) -> dict[str, str]:
    """Command words that ENTRYPOINT, CMD and HEALTHCHECK run, each mapped to where it is used."""
    used: dict[str, str] = {}
    for field in ("Entrypoint", "Cmd"):
        for word in _words(config.get(field)):
            used.setdefault(word, field)
    healthcheck = config.get("Healthcheck") or {}
    test = healthcheck.get("Test") if isinstance(healthcheck, dict) else None
    if isinstance(test, list) and test:
        if test[0] == "CMD":
            words = _words(test[1:])
        elif test[0] == "CMD-SHELL" and len(test) > 1:
            words = _shell_words(str(test[1]))
        else:
            words = []
        for word in words:
            used.setdefault(word, "Healthcheck")
    return used


def _words(argv: Sequence[str] | None) -> list[str]:
    if not argv:
        return []
    first = str(argv[0])
    if posixpath.basename(first) in _SHELLS and len(argv) >= 3 and argv[1] == "-c":
        return [first, *_shell_words(str(argv[2]))]
    return [first]


def _shell_words(script: str) -> list[str]:
    """The first word of each simple command in a shell snippet (good enough for entrypoints)."""
    try:
        tokens = shlex.split(script, posix=True)
    except ValueError:
        return []
    words, expect_command = [], True
    for token in tokens:
        if token in _SEPARATORS:
            expect_command = True
        elif expect_command and token not in _PREFIX_WORDS and not _ASSIGNMENT.match(token):
            words.append(token)
            expect_command = False
    return words


def command_arguments(config: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """The arguments the config's exec forms give their first word: ENTRYPOINT followed by CMD (or CMD
    alone), and HEALTHCHECK's ``CMD``. How ``python3 -I -m app`` starts its interpreter is in them."""
    found: dict[str, tuple[str, ...]] = {}
    entrypoint, cmd = config.get("Entrypoint") or [], config.get("Cmd") or []
    argvs = [[*entrypoint, *cmd]] if entrypoint else [cmd]
    healthcheck = config.get("Healthcheck") or {}
    test = healthcheck.get("Test") if isinstance(healthcheck, dict) else None
    if isinstance(test, list) and test[:1] == ["CMD"]:
        argvs.append(test[1:])
    for argv in argvs:
        if isinstance(argv, list) and argv:
            found.setdefault(str(argv[0]), tuple(str(word) for word in argv[1:]))
    return found
