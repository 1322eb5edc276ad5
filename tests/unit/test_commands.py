"""What a ``#!`` line runs, and how the config's fields are named in messages."""

from __future__ import annotations

from layerdiff.index.capture import MAX_SCRIPT_IMPORTS, script_head, script_imports
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


def test_a_python_script_keeps_its_interpreter_line_and_the_modules_it_imports_only() -> None:
    source = (
        b"#!/usr/bin/python3 -s\n"
        b'"""The airflow command."""\n'
        b"import os\n"
        b"import sys, json as j  # stdlib\n"
        b"from airflow.__main__ import main\n"
        b"from . import relative\n"
        b"try:\n"
        b"    import requests\n"
        b"except ImportError:\n"
        b"    pass\n"
        b"API_KEY = 'sk-live-123'\n"
    )
    head = script_head(source)
    assert head.split(b"\n", 1)[0] == b"#!/usr/bin/python3 -s"
    assert script_imports(head) == ("os", "sys", "json", "airflow.__main__", "requests")
    assert b"sk-live" not in head and b"relative" not in head


def test_a_shell_script_keeps_its_interpreter_line_only() -> None:
    head = script_head(b"#!/bin/bash\nimport os\nexport API_KEY=sk-live-123\n")
    assert head == b"#!/bin/bash" and script_imports(head) == ()


def test_a_script_keeps_at_most_its_share_of_imports() -> None:
    source = b"#!/usr/bin/env python3\n" + b"".join(b"import m%d\n" % i for i in range(500))
    assert len(script_imports(script_head(source))) == MAX_SCRIPT_IMPORTS
