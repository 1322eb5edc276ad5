"""The library rules on images with an /etc/ld.so.cache, through the real pipeline, with ELF objects compiled
here: a copy without ldconfig shadows nothing but makes the cache stale, a copy with ldconfig shadows, and a
library moved without ldconfig no longer loads."""

from __future__ import annotations

from pathlib import Path

from layerdiff.rules.libraries import library_cache_stale, library_shadowed, library_unresolved
from layerdiff.rules.model import Finding, Rule, RuleContext
from layerdiff.rules.severity import Severity
from tests.support.elf_objects import Objects
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.ldcache import Entry, write_cache
from tests.support.rules import diff_context, findings

MULTIARCH = "usr/lib/x86_64-linux-gnu"
SYSTEM_PATH = "/lib/x86_64-linux-gnu/libfoo.so.1"  # the directory ld.so.conf.d lists first
LOCAL_PATH = "/usr/local/lib/libfoo.so.1"
MULTIARCH_CONF = b"/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n"
RULES = (library_cache_stale, library_shadowed, library_unresolved)


def cache_file(*paths: str) -> F:
    return F("etc/ld.so.cache", write_cache([Entry("libfoo.so.1", path) for path in paths]))


def base_image(objects: Objects) -> Image:
    """Debian's layout: merged /usr, ld.so.conf.d listing /usr/local/lib first, a fresh cache."""
    layer = layer_tar(
        [
            F("usr/lib/", kind="dir"),
            F("lib", kind="symlink", link="usr/lib"),
            F(f"{MULTIARCH}/", kind="dir"),
            F(f"{MULTIARCH}/libfoo.so.1", objects.libfoo, mode=0o755),
            F("usr/local/lib/", kind="dir"),
            F("usr/bin/app", objects.app, mode=0o755),
            F("etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n"),
            F("etc/ld.so.conf.d/libc.conf", b"/usr/local/lib\n"),
            F(
                "etc/ld.so.conf.d/x86_64-linux-gnu.conf",
                b"/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
            ),
            cache_file(SYSTEM_PATH),
        ]
    )
    return Image(
        layers=[layer], config={"Cmd": ["app"]}, history=[{"created_by": "/bin/sh -c #(nop) ADD os"}]
    )


def derived(base: Image, instruction: str, entries: list[F]) -> Image:
    assert base.history is not None
    return Image(
        layers=[*base.layers, layer_tar(entries)],
        config=base.config,
        history=[*base.history, {"created_by": f"/bin/sh -c {instruction}"}],
    )


def run_all(tmp_path: Path, base: Image, image: Image) -> tuple[RuleContext, dict[str, list[Finding]]]:
    context = diff_context(tmp_path, base, image)
    return context, {rule.id: findings(rule, context) for rule in RULES}


def only(results: dict[str, list[Finding]], rule: Rule) -> Finding:
    assert [rule_id for rule_id, found in results.items() if found] == [rule.id], results
    (finding,) = results[rule.id]
    return finding


def test_a_copy_without_ldconfig_shadows_nothing_and_leaves_the_cache_stale(
    tmp_path: Path, objects: Objects
) -> None:
    base = base_image(objects)
    image = derived(base, "cp libfoo.so.1 /usr/local/lib/", [F(LOCAL_PATH[1:], objects.libfoo_other)])
    context, results = run_all(tmp_path, base, image)
    (app,) = [
        r for r in context.diff.derived_inventory.libraries["/usr/bin/app"] if r.soname == "libfoo.so.1"
    ]
    assert (app.path, app.via.value) == (SYSTEM_PATH, "ld.so.cache")  # what ldd says in such an image
    finding = only(results, library_cache_stale)
    assert finding.severity is Severity.MEDIUM and finding.subject == "/etc/ld.so.cache"
    assert finding.layer == 1 and finding.instruction == "RUN cp libfoo.so.1 /usr/local/lib/"
    assert finding.evidence["stale"] == [
        {
            "soname": "libfoo.so.1",
            "kind": "changed",
            "hwcaps": None,
            "cached": SYSTEM_PATH,
            "ldconfig": LOCAL_PATH,
            "loads": SYSTEM_PATH,
            "after_ldconfig": LOCAL_PATH,
        }
    ]
    assert finding.message.startswith(
        f"libfoo.so.1 will load {LOCAL_PATH} instead of {SYSTEM_PATH} after the next ldconfig"
    )


def test_a_copy_with_ldconfig_shadows_the_system_library_and_the_cache_is_fresh(
    tmp_path: Path, objects: Objects
) -> None:
    base = base_image(objects)
    image = derived(
        base,
        "cp libfoo.so.1 /usr/local/lib/ && ldconfig",
        [F(LOCAL_PATH[1:], objects.libfoo_other), cache_file(LOCAL_PATH, SYSTEM_PATH)],
    )
    _, results = run_all(tmp_path, base, image)
    finding = only(results, library_shadowed)
    assert finding.subject == f"libfoo.so.1:shadowed:{LOCAL_PATH}"
    assert finding.evidence["after"]["via"] == "ld.so.cache"


def test_a_library_moved_without_ldconfig_no_longer_loads_and_ldconfig_would_fix_it(
    tmp_path: Path, objects: Objects
) -> None:
    base = base_image(objects)
    image = derived(
        base,
        "mv /usr/lib/x86_64-linux-gnu/libfoo.so.1 /usr/local/lib/",
        [F(f"{MULTIARCH}/.wh.libfoo.so.1"), F(LOCAL_PATH[1:], objects.libfoo)],
    )
    _, results = run_all(tmp_path, base, image)
    assert not results["library-shadowed"]
    (unresolved,) = results["library-unresolved"]
    assert unresolved.severity is Severity.HIGH and unresolved.evidence["after_ldconfig"] == LOCAL_PATH
    assert unresolved.message.endswith(
        f"/etc/ld.so.cache is stale: after ldconfig it would load {LOCAL_PATH}."
    )
    (stale,) = results["library-cache-stale"]
    assert [(e["kind"], e["loads"]) for e in stale.evidence["stale"]] == [("moved", None)]
    assert stale.message.startswith(f"libfoo.so.1 does not load now, and will load {LOCAL_PATH}")


def test_a_removed_library_is_unresolved_and_the_cache_is_not_stale(tmp_path: Path, objects: Objects) -> None:
    base = base_image(objects)
    image = derived(base, "rm /usr/lib/x86_64-linux-gnu/libfoo.so.1", [F(f"{MULTIARCH}/.wh.libfoo.so.1")])
    _, results = run_all(tmp_path, base, image)
    assert only(results, library_unresolved).evidence["after_ldconfig"] is None


def test_staleness_the_base_already_had_is_not_reported(tmp_path: Path, objects: Objects) -> None:
    base = base_image(objects)
    stale_base = derived(base, "cp libfoo.so.1 /usr/local/lib/", [F(LOCAL_PATH[1:], objects.libfoo_other)])
    image = derived(stale_base, "echo dag > /opt/dag.py", [F("opt/dag.py", b"dag = 1\n")])
    _, results = run_all(tmp_path, stale_base, image)
    assert all(found == [] for found in results.values())
