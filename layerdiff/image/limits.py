"""Every bound layerdiff puts on image content, in one place. Image content is hostile: each size, count,
depth and amount of work that image bytes can drive has a limit here, documented in docs/limits.md, raised
with ``--limit NAME=VALUE`` or the policy's ``[limits]`` table. Going over one is a one-line error naming the
limit and where (exit 3), never a hang, never a silent truncation.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from layerdiff.errors import ImageError, UsageError

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    """Defaults sit well above what real images need (the airflow image: 1.2 GB, 60,000 files)."""

    layer_bytes: int = 64 * GiB  # decompressed bytes of one layer tar
    image_bytes: int = 256 * GiB  # decompressed bytes of all of an image's layers
    layer_entries: int = 2_000_000  # tar entries in one layer
    entry_path_bytes: int = 4 * KiB  # one entry's name or hard link target, as PATH_MAX
    tree_nodes: int = 4_000_000  # paths of the merged filesystem, with the directories entries imply
    tar_header_bytes: int = 1 * MiB  # one PAX or GNU long-name/long-link header, as Go's archive/tar
    json_bytes: int = 16 * MiB  # one manifest, index or config blob
    json_depth: int = 64  # nesting of objects and arrays in one of them
    captured_file_bytes: int = 64 * MiB  # a file the inventory reads (a package database, METADATA)
    symlink_target_bytes: int = 4 * KiB  # one link target, as PATH_MAX
    symlink_hops: int = 40  # links followed resolving one path, as Linux before ELOOP
    ldso_include_depth: int = 8  # nested `include` lines in ld.so.conf
    ldso_include_matches: int = 1_000  # files one ld.so.conf `include` glob may name
    ldso_cache_entries: int = 100_000  # entries one /etc/ld.so.cache lists
    library_search_steps: int = 100_000  # directory probes resolving one ELF object's DT_NEEDED entries
    evidence_items: int = 100  # entries of one list in a finding's evidence; the rest are counted
    os_packages: int = 20_000  # package entries one OS package database lists
    package_relations: int = 10_000  # dependency entries one package (or Python distribution) declares
    package_field_bytes: int = 4 * KiB  # one name, version, architecture or dependency entry of a package
    dependency_checks: int = 1_000_000  # candidates examined checking one database's dependencies
    record_entries: int = 200_000  # rows of one Python distribution's RECORD (the files it installed)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The limits as spelled on the command line and in the policy: ``layer-bytes``, ..."""
        return tuple(field.name.replace("_", "-") for field in dataclasses.fields(cls))

    def with_values(self, values: Mapping[str, str | int], source: str) -> Limits:
        """These limits with some raised (or lowered); ``values`` by their command-line names."""
        changes = {}
        for name, value in values.items():
            if name not in self.names():
                raise UsageError(f"{source}: unknown limit {name!r} (one of {', '.join(self.names())})")
            changes[name.replace("-", "_")] = parse_amount(value, f"{source}: limit {name}")
        return dataclasses.replace(self, **changes)


DEFAULT_LIMITS = Limits()


class LimitExceeded(ImageError):
    """Image content went over a limit: the message names the limit, so the user knows what to raise."""

    def __init__(self, what: str, limit: str, value: int, detail: str = "") -> None:
        option = limit.replace("_", "-")
        super().__init__(
            f"{what}: {detail or 'more than ' + format_amount(value)} "
            f"(limit {option}={format_amount(value)}; raise it with --limit {option}=...)"
        )
        self.limit = option
        self.what, self.value, self.detail = what, value, detail

    def within(self, where: str) -> LimitExceeded:
        """The same error said of ``where`` (an image reference): added by the stage that knows it."""
        return LimitExceeded(
            f"{where}: {self.what}" if self.what else where, self.limit, self.value, self.detail
        )


_AMOUNT = re.compile(r"^\s*(\d{1,19})\s*([KMGT]i?B?|)\s*$", re.IGNORECASE)  # at most a 64-bit count
_UNITS = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1 << 40}


def parse_amount(value: str | int, what: str) -> int:
    """``64GiB``, ``512M``, ``100000``: a whole number, optionally in binary units."""
    if isinstance(value, int) and not isinstance(value, bool):
        amount = value
    else:
        match = _AMOUNT.match(str(value))
        if match is None:
            raise UsageError(f"{what}: expected a whole number, optionally with K, M, G or T, not {value!r}")
        amount = int(match.group(1)) * _UNITS[match.group(2)[:1].lower()]
    if amount <= 0:
        raise UsageError(f"{what}: must be positive")
    return amount


def format_amount(value: int) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if value >= size and value % size == 0:
            return f"{value // size}{unit}"
    return str(value)


def utf8_size_over(text: str, limit: int) -> int | None:
    """The size of ``text`` as the bytes it stands for (UTF-8, surrogate escapes as their byte) when that is
    over ``limit``, else None. A character is one to four bytes: only a text longer than a quarter of the
    limit is encoded, so the common short name costs one comparison."""
    if len(text) * 4 <= limit:
        return None
    try:
        size = len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # a lone surrogate that stands for no byte
        size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def parse_limit_options(options: Iterable[str]) -> dict[str, str]:
    """``--limit NAME=VALUE`` options, by name."""
    values = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep:
            raise UsageError(f"--limit {option!r}: expected NAME=VALUE")
        values[name.strip()] = value
    return values
