"""Which Python the image's own commands start: for each command word of ENTRYPOINT, CMD and HEALTHCHECK,
the interpreter it runs (itself, through its ``#!`` line, or through ``env`` on PATH) and the environment
that interpreter imports from."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from layerdiff.fs.view import ImageFiles
from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.index.capture import script_imports
from layerdiff.inventory.collect import PYTHON_COMMANDS, Inventory
from layerdiff.inventory.commands import config_keyword, shebang, shebang_program
from layerdiff.inventory.python import PythonEnvironment, Start, environment_for, is_interpreter_name
from layerdiff.inventory.python_startup import DEFAULT_START, StartOptions

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
    script: str | None = None  # the Python script the word runs (its ``#!`` names the interpreter)
    imports: tuple[str, ...] = ()  # the modules that script imports (``layerdiff.index.capture``)
    options: StartOptions = DEFAULT_START  # the interpreter flags its ``#!`` line or command line gives
    shell: bool = False  # a shell script that may run python3 from PATH (which it does is not known)

    def label(self) -> str:
        """``airflow (HEALTHCHECK)``; ``python3 started by /entrypoint (ENTRYPOINT)`` for a shell script."""
        keyword = config_keyword(self.used_by)
        return f"python3 started by {self.word} ({keyword})" if self.shell else f"{self.word} ({keyword})"

    def describe(self) -> str:
        flags = f", started {self.options.flags}" if self.options != DEFAULT_START else ""
        return f"{config_keyword(self.used_by)} runs {self.word} ({self.how}{flags})"


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
        options = StartOptions.parse(inventory.command_arguments.get(word, ()))
        key = environment_of(inventory, files, path)
        return [PythonLaunch(used_by, word, key, bare, how, options=options)]
    program = shebang_program(line)
    if line is None or program is None:
        return []
    name, through_env = program
    how = f"#!{line}"
    if is_interpreter_name(posixpath.basename(name)):
        imports = script_imports(files.read(path))
        words = line.split()
        options = StartOptions.parse(words[words.index(name) + 1 :] if name in words else ())
        find = _python_on_path if through_env else environment_of
        key = find(inventory, files, name)
        return [PythonLaunch(used_by, word, key, through_env, how, path, imports, options)]
    if posixpath.basename(name) in _SHELLS:
        # A shell script may run python3 from PATH; which commands it runs cannot be told without running it.
        environments = dict.fromkeys(_python_on_path(inventory, files, n) for n in PYTHON_COMMANDS)
        return [
            PythonLaunch(used_by, word, key, True, f"{how} {SHELL_GUESS}", shell=True)
            for key in environments
            if key is not None
        ]
    return []


def launch_environment(
    inventory: Inventory, files: ImageFiles, launch: PythonLaunch, limits: Limits = DEFAULT_LIMITS
) -> PythonEnvironment | None:
    """The environment as this command starts it: its flags, and its script's directory first on sys.path.
    The same as ``inventory.python_env`` for a plain start."""
    plain = inventory.python_env(launch.environment) if launch.environment is not None else None
    if plain is None or (launch.options == DEFAULT_START and launch.script is None):
        return plain
    interpreter = posixpath.join(plain.venv, "bin", "python") if plain.venv else plain.interpreter
    start = Start(launch.options, launch.script)
    return environment_for(files, interpreter, inventory.user, inventory.env, limits, start) or plain


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
