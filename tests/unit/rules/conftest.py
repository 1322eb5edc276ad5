from __future__ import annotations

import pytest

from tests.support.elf_objects import Objects, compile_objects


@pytest.fixture(scope="session")
def objects(tmp_path_factory: pytest.TempPathFactory) -> Objects:
    """ELF objects compiled with gcc (skips without it)."""
    return compile_objects(tmp_path_factory.mktemp("elf"))
