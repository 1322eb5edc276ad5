"""layerdiff's inventory agrees with the real tools run inside the scenario containers."""

from __future__ import annotations

import re

import pytest

from layerdiff.fs.tree import build_tree
from layerdiff.fs.view import TreeView
from layerdiff.index.cache import IndexCache
from layerdiff.inventory.collect import Inventory
from layerdiff.inventory.ldconfig import ldconfig_abi, ldconfig_would_write
from layerdiff.inventory.libraries import Loader
from layerdiff.pipeline import inventory, load_image
from layerdiff.sources.transports import open_source, parse_ref
from tests.support.engine import engine_client
from tests.support.oracles import (
    COMMANDS,
    PSYCOPG_EXTENSION,
    apt_unmet,
    command_v,
    imports,
    ld_so_tried,
    ldconfig_p,
    ldd,
    observe,
    pip_check_lines,
    record_check,
    startup_modules,
    startup_variables,
)

pytestmark = pytest.mark.engine
ROOT_TOOL_SCENARIOS = {"airflow-base", "derived-purge"}  # where apt-get check and dpkg --audit are compared
# where the ld.so.cache, what ldconfig would write and ldd after ldconfig are compared
LOADER_SCENARIOS = {
    "airflow-base",
    "derived-nolib",
    "derived-shadowlib",
    "derived-libcopy-noldconfig",
    "derived-libmove-noldconfig",
}
SCENARIOS = [
    "airflow-base",
    "derived-pin",
    "derived-root",
    "derived-venv",
    "derived-syspkg",
    "derived-dag",
    "derived-nolib",
    "derived-shadowlib",
    "derived-libcopy-noldconfig",
    "derived-libmove-noldconfig",
    "derived-purge",
    "derived-clobber",
    "derived-startup",
    "derived-pyclean",
]
SITE = "/home/airflow/.local/lib/python3.11/site-packages"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> IndexCache:
    return IndexCache(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def seen(scenarios: dict[str, str], cache: IndexCache) -> dict[str, tuple[Inventory, dict[str, list[str]]]]:
    """Per scenario: layerdiff's inventory, and what the real tools printed inside its container."""
    client = engine_client()
    result = {}
    for name in SCENARIOS:
        source = open_source(parse_ref(f"docker:{scenarios[name]}"))
        try:
            observed = observe(
                client, scenarios[name], as_root=name in ROOT_TOOL_SCENARIOS, loader=name in LOADER_SCENARIOS
            )
            result[name] = (inventory(load_image(source, cache)), observed)
        finally:
            source.close()
    return result


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_offline_pip_check_agrees_with_pip_check(
    scenario: str,
    seen: dict[str, tuple[Inventory, dict[str, list[str]]]],
) -> None:
    inv, observed = seen[scenario]
    # `pip` on PATH runs in the environment python3 on PATH starts (the venv's own pip in derived-venv)
    environment = inv.python_env(inv.python_on_path["python3"])
    assert environment is not None
    ours = {u.message() for u in environment.unsatisfied}
    assert ours == pip_check_lines(observed)
    if scenario == "derived-pin":
        assert "responses 0.25.0 has requirement requests<3.0,>=2.30.0, but you have requests 2.28.1." in ours


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_path_resolution_agrees_with_command_v(
    scenario: str,
    seen: dict[str, tuple[Inventory, dict[str, list[str]]]],
) -> None:
    inv, observed = seen[scenario]
    ours = {name: inv.commands[name].path if name in inv.commands else None for name in COMMANDS}
    assert ours == command_v(observed)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_library_resolution_agrees_with_ldd(
    scenario: str,
    seen: dict[str, tuple[Inventory, dict[str, list[str]]]],
) -> None:
    inv, observed = seen[scenario]
    resolutions = inv.libraries[PSYCOPG_EXTENSION]
    expected = ldd(observed)
    assert {r.soname: r.path for r in resolutions} == {r.soname: expected[r.soname] for r in resolutions}
    libpq = next(r for r in resolutions if r.soname == "libpq.so.5")
    assert libpq.path == {
        "derived-nolib": None,
        "derived-purge": None,
        "derived-shadowlib": "/usr/local/lib/libpq.so.5",
        # copied without ldconfig: the cache still names the system copy
        "derived-libcopy-noldconfig": "/lib/x86_64-linux-gnu/libpq.so.5",
        # moved without ldconfig: the cache names the old path, and /usr/local/lib is not trusted
        "derived-libmove-noldconfig": None,
    }.get(scenario, libpq.path)


def merged_view(tag: str, cache: IndexCache) -> TreeView:
    """The image's squashed filesystem, from the layer indexes ``seen`` cached."""
    source = open_source(parse_ref(f"docker:{tag}"))
    try:
        image = load_image(source, cache)
    finally:
        source.close()
    return TreeView(build_tree(image.indexes), image.indexes)


# The CPU-specific subdirectories ld.so also tries in each trusted directory (glibc-hwcaps, and the legacy
# tls and platform ones): layerdiff does not model CPU choices, so they are left out of the comparison.
CPU_SUBDIRECTORY = re.compile(r"/(?:glibc-hwcaps/[^/]+|tls(?:/x86_64){0,2}|x86_64(?:/x86_64)?)/[^/]+$")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_search_walked_is_the_files_ld_so_tries(
    scenario: str,
    seen: dict[str, tuple[Inventory, dict[str, list[str]]]],
    scenarios: dict[str, str],
    cache: IndexCache,
) -> None:
    """library-unresolved's `searched` evidence: each file in the order LD_DEBUG=libs says ld.so tries it."""
    inv, observed = seen[scenario]
    view = merged_view(scenarios[scenario], cache)
    info = view.elf(PSYCOPG_EXTENSION)
    assert info is not None
    walked = Loader(view, inv.env.get("LD_LIBRARY_PATH")).walk(PSYCOPG_EXTENSION, info, "libpq.so.5")
    ours = [m.group(1) for step in walked if (m := re.search(r" (/\S+): ", step))]
    theirs = [path for path in ld_so_tried(observed, "libpq.so.5") if not CPU_SUBDIRECTORY.search(path)]
    assert ours == theirs
    assert walked[-1].endswith("no such file") == (
        scenario in {"derived-nolib", "derived-purge", "derived-libmove-noldconfig"}
    )


KINDS = {0x0303: "libc6,x86-64", 0x0003: "libc6"}  # how ldconfig -p prints the flags


@pytest.mark.parametrize("scenario", sorted(LOADER_SCENARIOS))
def test_the_cache_reads_as_ldconfig_p_prints_it(
    scenario: str, seen: dict[str, tuple[Inventory, dict[str, list[str]]]]
) -> None:
    inv, observed = seen[scenario]
    cache = inv.ld_so_cache.cache
    assert cache is not None and cache.dropped == 0
    ours = [
        (e.soname, KINDS.get(e.flags, hex(e.flags)), e.hwcaps_subdirectory, e.path) for e in cache.entries
    ]
    assert ours == ldconfig_p(observed, "ldconfig -p")


@pytest.mark.parametrize("scenario", sorted(LOADER_SCENARIOS))
def test_what_ldconfig_would_write_agrees_with_ldconfig(
    scenario: str,
    seen: dict[str, tuple[Inventory, dict[str, list[str]]]],
    scenarios: dict[str, str],
    cache: IndexCache,
) -> None:
    inv, observed = seen[scenario]
    theirs: dict[tuple[str, str, str | None], str] = {}
    for soname, kind, hwcaps, path in ldconfig_p(observed, "ldconfig would write"):
        theirs.setdefault((soname, kind, hwcaps), path)  # the first of a name is the one ld.so takes
    view = merged_view(scenarios[scenario], cache)
    native = ldconfig_abi(view, [])
    assert native is not None  # Debian's /sbin/ldconfig
    written = ldconfig_would_write(view, inv.ld_so_conf_dirs, native)
    ours = {(e.soname, KINDS.get(e.flags, hex(e.flags)), e.hwcaps_subdirectory): e.path for e in written}
    assert ours == theirs


@pytest.mark.parametrize("scenario", sorted(LOADER_SCENARIOS))
def test_ldd_after_ldconfig_loads_what_the_stale_entries_say(
    scenario: str, seen: dict[str, tuple[Inventory, dict[str, list[str]]]]
) -> None:
    inv, observed = seen[scenario]
    stale = {e.soname: e.would_load for e in inv.stale_cache_entries if e.hwcaps_subdirectory is None}
    now = {r.soname: r.path for r in inv.libraries[PSYCOPG_EXTENSION]}
    after = ldd(observed, "ldd after ldconfig")
    assert {name: stale.get(name, path) for name, path in now.items()} == {name: after[name] for name in now}
    expected_stale = {"derived-libcopy-noldconfig", "derived-libmove-noldconfig"}
    assert ("libpq.so.5" in stale) == (scenario in expected_stale)
    if scenario in expected_stale:
        assert stale["libpq.so.5"] == after["libpq.so.5"] == "/usr/local/lib/libpq.so.5"


def test_user_site_still_wins_over_system_site(
    seen: dict[str, tuple[Inventory, dict[str, list[str]]]],
) -> None:
    inv, observed = seen["derived-syspkg"]
    environment = inv.python_env("/usr/bin/python3.11")
    assert environment is not None
    (shadow,) = [s for s in environment.shadowed if s.name == "requests"]
    assert [shadow.winner.location] == observed["import requests"]
    assert shadow.winner.location == "/home/airflow/.local/lib/python3.11/site-packages"
    assert [(h.version, h.location) for h in shadow.hidden] == [
        ("2.28.1", "/usr/local/lib/python3.11/dist-packages")
    ]


@pytest.mark.parametrize("scenario", sorted(ROOT_TOOL_SCENARIOS))
def test_broken_dependencies_agree_with_apt_get_check(
    scenario: str, seen: dict[str, tuple[Inventory, dict[str, list[str]]]]
) -> None:
    inv, observed = seen[scenario]
    ours = {f"{b.package.name}: {b.field}: {b.detail}" for b in inv.broken_dependencies}
    assert ours == apt_unmet(observed)
    assert observed["dpkg --audit"] == []  # --force-depends leaves nothing half-installed, only unmet Depends
    if scenario == "derived-purge":
        assert ours == {"python3-psycopg2: Depends: libpq5 (>= 10~~) but it is not installed"}


@pytest.mark.parametrize("scenario", sorted(ROOT_TOOL_SCENARIOS))
def test_package_file_verification_agrees_with_dpkg_verify(
    scenario: str, seen: dict[str, tuple[Inventory, dict[str, list[str]]]]
) -> None:
    inv, observed = seen[scenario]
    assert {p.dpkg_line() for p in inv.package_file_problems} == set(observed["dpkg --verify"])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_record_verification_agrees_with_hashing_the_files(
    scenario: str, seen: dict[str, tuple[Inventory, dict[str, list[str]]]]
) -> None:
    inv, observed = seen[scenario]
    ours = {f"{p.state.value} {p.path} {p.distribution.metadata}" for p in inv.record_problems}
    ours |= {
        f"overwritten {o.path} {o.overwritten.metadata} by {o.by.metadata}" for o in inv.record_overwrites
    }
    assert ours == record_check(observed)
    # Debian's pip lists scripts Debian never installs, in every scenario
    assert "missing /usr/lib/python3/scripts/pip /usr/lib/python3/dist-packages/pip-23.0.1.dist-info" in ours
    if scenario == "derived-clobber":
        assert ours >= {
            f"overwritten {SITE}/tinyjson/__init__.py {SITE}/tinyjson-1.0.dist-info by "
            f"{SITE}/tinyjson_compat-0.5.dist-info",
            f"modified {SITE}/six.py {SITE}/six-1.16.0.dist-info",
        }
        # what the overwrite breaks, while pip check passes
        assert imports(observed) == {"tinyapi": "ImportError", "tinyjson": "ok"}
        assert pip_check_lines(observed) == set()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_sys_path_and_start_up_code_agree_with_the_interpreter(
    scenario: str, seen: dict[str, tuple[Inventory, dict[str, list[str]]]]
) -> None:
    inv, observed = seen[scenario]
    environment = inv.python_env(inv.python_on_path["python3"])
    assert environment is not None
    assert list(environment.sys_path) == observed["sys.path"]
    assert {c.kind: c.path for c in environment.startup if c.kind != "pth"} == startup_modules(observed)
    pth = {c.path for c in environment.startup if c.kind == "pth"}
    if scenario == "derived-startup":
        # the .pth line and usercustomize ran; the sitecustomize in /usr/local did not (Debian's came first)
        assert startup_variables(observed) == ["LAYERDIFF_STARTUP", "LAYERDIFF_USERCUSTOMIZE"]
        assert f"{SITE}/zz-startup.pth" in pth
        assert startup_modules(observed)["sitecustomize"] == "/usr/lib/python3.11/sitecustomize.py"
    else:
        assert startup_variables(observed) == [] and not any(path.startswith(SITE) for path in pth)
    if scenario == "derived-pyclean":
        assert "/opt/airflow/plugins" in environment.sys_path  # the .pth's only line
