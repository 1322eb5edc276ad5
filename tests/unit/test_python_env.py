from __future__ import annotations

from layerdiff.diff.inventory import diff_inventories
from tests.support.imagebuilder import F, layer_tar
from tests.support.pyimage import SYSTEM_SITE, USER_SITE, dist, inventory, os_layer, user_site_layer

SYSTEM = "/usr/bin/python3.11"


def test_runtime_user_sees_its_user_site_first() -> None:
    inv = inventory(os_layer(), user_site_layer())
    (env,) = inv.python
    assert env.key == SYSTEM and env.version == "3.11" and env.venv is None
    assert env.user_site == "/" + USER_SITE
    assert env.sys_path == (
        "/usr/lib/python3.11",
        "/usr/lib/python3.11/lib-dynload",
        "/" + USER_SITE,
        "/usr/lib/python3/dist-packages",
    )
    assert [(d.name, d.version) for d in env.distributions] == [
        ("requests", "2.31.0"),
        ("responses", "0.25.0"),
        ("urllib3", "2.0.7"),
    ]
    assert env.unsatisfied == ()  # extras and markers that do not apply are not requirements
    assert inv.python_on_path == {"python3": SYSTEM}
    assert inv.commands["airflow"].interpreter == "/usr/bin/python3"


def test_a_pin_that_breaks_a_requirement_is_reported_like_pip_check() -> None:
    pin = layer_tar(
        [
            F(f"{USER_SITE}/.wh.requests-2.31.0.dist-info"),
            *dist(USER_SITE, "requests", "2.28.1", "urllib3<1.27,>=1.21.1"),
        ]
    )
    base, derived = inventory(os_layer(), user_site_layer()), inventory(os_layer(), user_site_layer(), pin)
    assert sorted(u.message() for u in derived.python[0].unsatisfied) == [
        "requests 2.28.1 has requirement urllib3<1.27,>=1.21.1, but you have urllib3 2.0.7.",
        "responses 0.25.0 has requirement requests<3.0,>=2.30.0, but you have requests 2.28.1.",
    ]
    diff = diff_inventories(base, derived)
    assert sorted(u.requirement for _, u in diff.unsatisfied) == [
        "requests<3.0,>=2.30.0",
        "urllib3<1.27,>=1.21.1",
    ]
    (change,) = diff.distributions
    assert (change.name, change.kind) == ("requests", "downgraded")


def test_user_root_hides_the_user_site() -> None:
    base = inventory(os_layer(), user_site_layer())
    derived = inventory(os_layer(), user_site_layer(), User="root")
    assert derived.user.home == "/root" and derived.python[0].user_site is None
    diff = diff_inventories(base, derived)
    assert sorted((item.distribution.name, item.cause) for item in diff.lost) == [
        ("requests", "hidden"),
        ("responses", "hidden"),
        ("urllib3", "hidden"),
    ]


def test_venv_first_on_path_hides_the_base_packages_from_python3() -> None:
    venv = layer_tar(
        [
            F(
                "opt/airflow/venv/pyvenv.cfg",
                b"home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n",
            ),
            F("opt/airflow/venv/bin/python", kind="symlink", link="/usr/bin/python3"),
            F("opt/airflow/venv/bin/python3", kind="symlink", link="python"),
            F("opt/airflow/venv/lib/python3.11/site-packages/", kind="dir"),
            *dist("opt/airflow/venv/lib/python3.11/site-packages", "tabulate", "0.9.0"),
        ]
    )
    path = "PATH=/opt/airflow/venv/bin:/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin"
    base = inventory(os_layer(), user_site_layer())
    derived = inventory(os_layer(), user_site_layer(), venv, Env=[path])
    assert derived.python_on_path["python3"] == "/opt/airflow/venv"
    venv_env = derived.python_env("/opt/airflow/venv")
    assert venv_env is not None and venv_env.user_site is None  # a venv without system site: no user site
    assert [d.name for d in venv_env.distributions] == ["tabulate"]
    diff = diff_inventories(base, derived)
    assert {(i.distribution.name, i.via) for i in diff.lost} == {
        ("requests", "python3 on PATH"),
        ("responses", "python3 on PATH"),
        ("urllib3", "python3 on PATH"),
    }
    python3 = next(c for c in diff.commands if c.name == "python3")
    assert python3.after is not None and python3.after.target == "/usr/bin/python3.11"
    assert python3.after.path == "/opt/airflow/venv/bin/python3"


def test_package_installed_into_system_site_while_user_site_still_wins() -> None:
    system = layer_tar([F(f"{SYSTEM_SITE}/", kind="dir"), *dist(SYSTEM_SITE, "requests", "2.28.1", uid=0)])
    base = inventory(os_layer(), user_site_layer())
    derived = inventory(os_layer(), user_site_layer(), system)
    env = derived.python[0]
    (shadow,) = env.shadowed
    assert shadow.winner.location == "/" + USER_SITE and shadow.hidden[0].version == "2.28.1"
    diff = diff_inventories(base, derived)
    assert [s.name for _, s in diff.shadowed] == ["requests"]
    assert diff.unsatisfied == () and diff.lost == ()


def test_pth_files_extend_sys_path() -> None:
    extra = layer_tar(
        [
            F(
                f"{USER_SITE}/extra.pth",
                b"# comment\nimport os; os.system('no')\n../../../../../../opt/plugins\n",
            ),
            F("opt/plugins/", kind="dir"),
            *dist("opt/plugins", "airflow-plugin", "1.0", "requests>=2.31"),
        ]
    )
    env = inventory(os_layer(), user_site_layer(), extra).python[0]
    assert "/opt/plugins" in env.sys_path
    assert env.get("airflow_plugin") is not None and env.unsatisfied == ()


def test_missing_requirement() -> None:
    broken = layer_tar([F(f"{USER_SITE}/.wh.urllib3-2.0.7.dist-info")])
    env = inventory(os_layer(), user_site_layer(), broken).python[0]
    messages = sorted(u.message() for u in env.unsatisfied)
    assert messages == [
        "requests 2.31.0 requires urllib3, which is not installed.",
        "responses 0.25.0 requires urllib3, which is not installed.",
    ]


def test_commands_respect_the_runtime_users_permissions() -> None:
    as_airflow = inventory(os_layer(), user_site_layer())
    as_root = inventory(os_layer(), user_site_layer(), User="root")
    assert "secret-tool" not in as_airflow.commands and "secret-tool" in as_root.commands


def test_commands_used_by_the_image() -> None:
    inv = inventory(
        os_layer(),
        user_site_layer(),
        Entrypoint=["/entrypoint"],
        Cmd=["scheduler"],
        Healthcheck={"Test": ["CMD-SHELL", "FOO=1 exec airflow jobs check && curl -f localhost"]},
    )
    assert inv.commands_used == {
        "/entrypoint": "Entrypoint",
        "scheduler": "Cmd",
        "airflow": "Healthcheck",
        "curl": "Healthcheck",
    }
