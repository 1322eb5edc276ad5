"""Which Python the image's own commands start: for each command word of ENTRYPOINT, CMD and HEALTHCHECK,
the interpreter it runs (itself, through its ``#!`` line, or through ``env`` on PATH) and the environment
that interpreter imports from."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from layerdiff.fs.view import ImageFiles
from layerdiff.inventory.collect import PYTHON_COMMANDS, Inventory
from layerdiff.inventory.commands import config_keyword, shebang, shebang_program
from layerdiff.inventory.python import is_interpreter_name

_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh"})
SHELL_GUESS = "script, may run python3 from PATH"  # how a launch through a shell script is described


@dataclass(frozen=True)
class PythonLaunch:
    """A command the image runs (ENTRYPOINT, CMD, HEALTHCHECK) that starts Python, and how it finds it."""

    used_by: str  # Entrypoint | Cmd | Healthcheck
    word: str  # the command word as the config writes it
    environment: str | None  # the key of the environment it starts; None when that cannot be told
    # whether the interpreter is looked up on PATH: a bare python3, #!/usr/bin/env python3, a shell script
    through_path: bool
    how: str

    def describe(self) -> str:
        return f"{config_keyword(self.used_by)} runs {self.word} ({self.how})"


def python_launches(inventory: Inventory, files: ImageFiles) -> tuple[PythonLaunch, ...]:
    """Every way the image's ENTRYPOINT, CMD and HEALTHCHECK start Python in the image ``inventory`` is of."""
    launches: list[PythonLaunch] = []
    for word, used_by in sorted(inventory.commands_used.items()):
        launches += _launches(inventory, files, word, used_by)
    return tuple(launches)


def _launches(inventory: Inventory, files: ImageFiles, word: str, used_by: str) -> list[PythonLaunch]:
    resolved = resolve_word(inventory, files, word)
    if resolved is None:
        return []  # not a command (an argument to the entrypoint) or missing: it starts nothing
    path, line = resolved
    if is_interpreter_name(posixpath.basename(word)):
        bare = "/" not in word
        how = f"{word} on PATH is {path}" if bare else "the interpreter itself"
        return [PythonLaunch(used_by, word, environment_of(inventory, files, path), bare, how)]
    program = shebang_program(line)
    if line is None or program is None:
        return []
    name, through_env = program
    how = f"#!{line}"
    if is_interpreter_name(posixpath.basename(name)):
        if through_env:
            return [PythonLaunch(used_by, word, _python_on_path(inventory, files, name), True, how)]
        return [PythonLaunch(used_by, word, environment_of(inventory, files, name), False, how)]
    if posixpath.basename(name) in _SHELLS:
        # A shell script may run python3 from PATH; which commands it runs cannot be told without running it.
        environments = dict.fromkeys(_python_on_path(inventory, files, n) for n in PYTHON_COMMANDS)
        return [
            PythonLaunch(used_by, word, key, True, f"{how} {SHELL_GUESS}")
            for key in environments
            if key is not None
        ]
    return []


def resolve_word(inventory: Inventory, files: ImageFiles, word: str) -> tuple[str, str | None] | None:
    """(path, ``#!`` line) of a command word the config runs, looked up on PATH when it is a bare name;
    None when no such file exists."""
    bare = "/" not in word
    command = inventory.commands.get(word) if bare else None
    path = command.path if command is not None else (None if bare else word)
    if path is None or files.resolve(path) is None:
        return None
    return path, command.interpreter if command is not None else shebang(files, path)


def _python_on_path(inventory: Inventory, files: ImageFiles, name: str) -> str | None:
    if name in inventory.python_on_path:
        return inventory.python_on_path[name]
    command = inventory.commands.get(name)
    return environment_of(inventory, files, command.path) if command is not None else None


def environment_of(inventory: Inventory, files: ImageFiles, interpreter: str) -> str | None:
    """The key of the environment the interpreter at ``interpreter`` starts: its venv, else its real file."""
    root = posixpath.dirname(posixpath.dirname(interpreter))
    venv = inventory.python_env(root)
    if venv is not None and venv.venv is not None:
        return root
    real = files.resolve(interpreter)
    return real if real is not None and inventory.python_env(real) is not None else None
