"""What a ``#!`` line runs, and how the config's fields are named in messages."""

from __future__ import annotations

from layerdiff.inventory.commands import config_keyword, shebang_program


def test_shebang_program_names_the_interpreter_and_whether_env_finds_it_on_path() -> None:
    assert shebang_program("/usr/bin/python3.11") == ("/usr/bin/python3.11", False)
    assert shebang_program("/usr/bin/env python3") == ("python3", True)
    assert shebang_program("/usr/bin/env -S PYTHONUNBUFFERED=1 python3 -u") == ("python3", True)
    assert shebang_program("/usr/bin/env") is None
    assert shebang_program("") is None and shebang_program(None) is None


def test_config_keyword_is_the_dockerfile_instruction() -> None:
    assert [config_keyword(f) for f in ("Entrypoint", "Cmd", "Healthcheck")] == [
        "ENTRYPOINT",
        "CMD",
        "HEALTHCHECK",
    ]
