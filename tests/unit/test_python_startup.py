"""Python start-up as site runs it: flags, PYTHON* variables, .pth code and the *customize modules."""

from __future__ import annotations

import io

import pytest

from layerdiff.index.capture import HEAD_LINES
from layerdiff.index.tar_index import index_layer
from layerdiff.inventory.collect import CAPTURE
from layerdiff.inventory.launches import launch_environment, python_launches
from layerdiff.inventory.python_startup import StartOptions
from tests.support.imagebuilder import F, layer_tar
from tests.support.pyimage import USER_SITE, files_view, inventory, os_layer, user_site_layer

SITE = "/" + USER_SITE
DEBIAN_SITECUSTOMIZE = (
    b"# install the apport exception handler if available\ntry:\n    import apport_python_hook\n"
)


def startup_layer() -> bytes:
    return layer_tar(
        [
            F("usr/lib/python3.11/sitecustomize.py", kind="symlink", link="/etc/python3.11/sitecustomize.py"),
            F("etc/python3.11/sitecustomize.py", DEBIAN_SITECUSTOMIZE),
            F("usr/local/lib/python3.11/dist-packages/", kind="dir"),
            F("usr/local/lib/python3.11/dist-packages/sitecustomize.py", b"print('shadowed')\n"),
            F(
                f"{USER_SITE}/zz-tz.pth",
                b"# set TZ\n/opt/airflow/plugins\nimport os; os.environ['TZ'] = 'UTC'\n",
            ),
            F(f"{USER_SITE}/usercustomize.py", b"import sys\nsys.dont_write_bytecode = True\n"),
            F("opt/airflow/plugins/", kind="dir"),
        ]
    )


@pytest.mark.parametrize(
    ("words", "flags"),
    [
        ([], ""),
        (["-s"], "-s"),
        (["-sE", "script.py"], "-E -s"),
        (["-I"], "-E -s -P"),
        (["-S"], "-S"),
        (["-u", "-s"], "-s"),
        (["-Xfrozen_modules=off", "-s"], ""),  # -X takes an argument: flags stop there
        (["-c", "-s"], ""),
        (["script.py", "-s"], ""),
    ],
)
def test_start_options_are_the_interpreter_flags_before_its_first_argument(
    words: list[str], flags: str
) -> None:
    assert StartOptions.parse(words).flags == flags


def test_site_runs_pth_code_the_first_sitecustomize_and_usercustomize() -> None:
    (env,) = inventory(os_layer(), user_site_layer(), startup_layer()).python
    assert [(c.kind, c.path) for c in env.startup] == [
        ("pth", f"{SITE}/zz-tz.pth"),
        # Debian's own sitecustomize is in the standard library, ahead of every site dir: the one in
        # /usr/local/lib/python3.11/dist-packages never runs
        ("sitecustomize", "/usr/lib/python3.11/sitecustomize.py"),
        ("usercustomize", f"{SITE}/usercustomize.py"),
    ]
    pth, sitecustomize, usercustomize = env.startup
    assert pth.lines == ("import os; os.environ['TZ'] = 'UTC'",)
    assert sitecustomize.lines == tuple(DEBIAN_SITECUSTOMIZE.decode().splitlines())
    assert usercustomize.lines == ("import sys", "sys.dont_write_bytecode = True")
    assert "/opt/airflow/plugins" in env.sys_path  # the .pth's path line


def test_no_user_site_means_no_usercustomize_and_no_user_site_pth() -> None:
    inv = inventory(
        os_layer(), user_site_layer(), startup_layer(), Env=["PATH=/usr/bin:/bin", "PYTHONNOUSERSITE=1"]
    )
    (env,) = inv.python
    assert [c.kind for c in env.startup] == ["sitecustomize"]
    assert env.user_site is None and "/opt/airflow/plugins" not in env.sys_path


def test_ignore_environment_drops_pythonpath_and_pythonhome() -> None:
    layer = layer_tar(
        [F("opt/lib/", kind="dir"), F("opt/lib/sitecustomize.py", b"print('from PYTHONPATH')\n")]
    )
    env_vars = ["PATH=/usr/bin:/bin", "PYTHONPATH=/opt/lib"]
    inv = inventory(os_layer(), startup_layer(), layer, Env=env_vars, Cmd=["python3", "-E", "-c", "pass"])
    (plain,) = inv.python
    assert plain.sys_path[0] == "/opt/lib"
    assert [c.path for c in plain.startup if c.kind == "sitecustomize"] == ["/opt/lib/sitecustomize.py"]
    files = files_view(os_layer(), startup_layer(), layer)
    (launch,) = python_launches(inv, files)
    assert launch.options.flags == "-E"
    started = launch_environment(inv, files, launch)
    assert started is not None and "/opt/lib" not in started.sys_path
    assert [c.path for c in started.startup if c.kind == "sitecustomize"] == [
        "/usr/lib/python3.11/sitecustomize.py"
    ]


def test_pythonhome_moves_the_standard_library() -> None:
    inv = inventory(os_layer(), Env=["PATH=/usr/bin:/bin", "PYTHONHOME=/opt/python"])
    (env,) = inv.python
    assert "/usr/lib/python3.11" not in env.sys_path  # /opt/python/lib/python3.11 does not exist


def test_a_shebang_flag_applies_to_the_script_it_starts() -> None:
    script = layer_tar(
        [
            F(
                "home/airflow/.local/bin/airflow",
                b"#!/usr/bin/python3 -s\nimport requests\n",
                mode=0o755,
                uid=50000,
            )
        ]
    )
    layers = (os_layer(), user_site_layer(), startup_layer(), script)
    inv = inventory(*layers, Cmd=["airflow"])
    (launch,) = python_launches(inv, files_view(*layers))
    assert launch.options.no_user_site and launch.imports == ("requests",)
    started = launch_environment(inv, files_view(*layers), launch)
    assert started is not None and started.user_site is None
    assert [c.kind for c in started.startup] == ["sitecustomize"]
    assert started.get("requests") is None  # in the user site, which -s leaves out
    # the script's directory comes first on sys.path, unless PYTHONSAFEPATH
    assert started.sys_path[0] == "/home/airflow/.local/bin"
    safe = inventory(
        *layers, Cmd=["airflow"], Env=["PATH=/home/airflow/.local/bin:/usr/bin", "PYTHONSAFEPATH=1"]
    )
    (launch,) = python_launches(safe, files_view(*layers))
    started = launch_environment(safe, files_view(*layers), launch)
    assert started is not None and "/home/airflow/.local/bin" not in started.sys_path


def test_no_site_runs_nothing_at_start_up() -> None:
    layers = (os_layer(), user_site_layer(), startup_layer())
    inv = inventory(*layers, Cmd=["python3", "-S", "-m", "app"])
    (launch,) = python_launches(inv, files_view(*layers))
    started = launch_environment(inv, files_view(*layers), launch)
    assert started is not None and started.startup == ()
    assert started.sys_path == ("/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload")


def test_only_the_first_lines_of_a_start_up_module_are_kept() -> None:
    module = b"".join(b"line %d\n" % i for i in range(50)) + b"TOKEN = 'kept nowhere'\n"
    layer = layer_tar([F("usr/lib/python3.11/sitecustomize.py", module)])
    index = index_layer(io.BytesIO(layer), None, "layer", CAPTURE)
    kept = index.contents["/usr/lib/python3.11/sitecustomize.py"]
    assert kept.split(b"\n") == [b"line %d" % i for i in range(HEAD_LINES)]


def test_a_pth_of_many_code_lines_keeps_the_first_for_evidence_and_hashes_all() -> None:
    many = b"".join(b"import m%d\n" % i for i in range(1000))
    other = many + b"import one_more\n"
    envs = [
        inventory(os_layer(), user_site_layer(), layer_tar([F(f"{USER_SITE}/big.pth", data)])).python[0]
        for data in (many, other)
    ]
    (first,), (second,) = ([c for c in env.startup if c.kind == "pth"] for env in envs)
    assert len(first.lines) == HEAD_LINES and first.lines[0] == "import m0"
    assert first.digest != second.digest
