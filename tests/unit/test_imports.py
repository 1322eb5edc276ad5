"""The names code imports, which messages use: a distribution's top-level modules from its RECORD, and the
package an extension module file belongs to."""

from __future__ import annotations

from dataclasses import dataclass

from layerdiff.image.model import ElfInfo, Entry
from layerdiff.inventory.imports import extension_module, import_names
from layerdiff.inventory.python import Distribution

SITE = "/usr/lib/python3/dist-packages"


@dataclass
class Files:
    """Just enough of ImageFiles: the files read() returns."""

    contents: dict[str, bytes]

    def lookup(self, path: str) -> Entry | None:
        return None

    def resolve(self, path: str) -> str | None:
        return path

    def listdir(self, path: str) -> list[str]:
        return []

    def read(self, path: str) -> bytes | None:
        return self.contents.get(path)

    def elf(self, path: str) -> ElfInfo | None:
        return None


def distribution(name: str, metadata: str) -> Distribution:
    return Distribution(name.lower(), name, "1.0", SITE, f"{SITE}/{metadata}", ())


def test_a_distributions_import_names_come_from_its_record_public_ones_first() -> None:
    record = (
        "yaml/__init__.py,sha256=x,1\n_yaml/__init__.py,,\nPyYAML-6.0.1.dist-info/METADATA,,\n"
        "yaml/__pycache__/x.pyc,,\n../../../bin/tool,,\nsix.py,,\n__pycache__/six.cpython-311.pyc,,\n"
        "_cffi_backend.cpython-311-x86_64-linux-gnu.so,,\nsetuptools.pth,,\n"
    )
    files = Files({f"{SITE}/PyYAML-6.0.1.dist-info/RECORD": record.encode()})
    names = import_names(files, distribution("PyYAML", "PyYAML-6.0.1.dist-info"))
    assert names == ("six", "yaml", "_cffi_backend", "_yaml")


def test_without_a_record_the_distribution_name_stands_for_the_module() -> None:
    files = Files({})
    assert import_names(files, distribution("python-dateutil", "python_dateutil-2.8.2.egg-info")) == (
        "python_dateutil",
    )


def test_an_extension_module_file_is_part_of_its_top_level_package() -> None:
    extension = f"{SITE}/psycopg2/_psycopg.cpython-311-x86_64-linux-gnu.so"
    assert extension_module(extension, ["/usr/lib/python3.11", SITE]) == "psycopg2"
    assert (
        extension_module(f"{SITE}/_cffi_backend.cpython-311-x86_64-linux-gnu.so", [SITE]) == "_cffi_backend"
    )
    assert extension_module("/usr/lib/x86_64-linux-gnu/libpq.so.5", [SITE]) is None  # not on sys.path
    assert extension_module(f"{SITE}/psycopg2/__init__.py", [SITE]) is None  # not an extension
