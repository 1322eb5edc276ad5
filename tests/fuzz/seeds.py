"""What the fuzzer mutates: the project's own fixtures (the bundled example pair and the package databases
the unit tests write by hand) and small images built with tests/support/imagebuilder.py that hold every
file an inventory reader reads."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from layerdiff.inventory.apk import APK_INSTALLED
from layerdiff.inventory.dpkg import DPKG_INFO_DIR, DPKG_STATUS
from layerdiff.inventory.ldsoconf import LD_SO_CONF
from layerdiff.inventory.rpm import RPMDB_PATHS
from layerdiff.inventory.users import GROUP, PASSWD
from tests.fuzz.elf_seed import EM_386, ET_EXEC, elf_object
from tests.support import example
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.pyimage import PASSWD as PASSWD_TEXT
from tests.support.pyimage import SYSTEM_SITE, USER_SITE, dist, os_layer, user_site_layer
from tests.support.rpmdb import BASH, header_blob, rpmdb_bytes
from tests.unit.test_apk import DATABASE as APK_PACKAGES
from tests.unit.test_dpkg import BASE as DPKG_PARAGRAPHS
from tests.unit.test_dpkg import UTIL_LINUX, status_text
from tests.unit.test_rpm import GLIBC

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "example"
EXAMPLE_ARCHIVES = (FIXTURES / "airflow-base.tar", FIXTURES / "airflow-extended.tar")

MULTIARCH = "/usr/lib/x86_64-linux-gnu"
CURL = b"\x7fELF curl"
DPKG_STATUS_TEXT = status_text(UTIL_LINUX, *DPKG_PARAGRAPHS).encode()
DPKG_INFO = {
    f"{DPKG_INFO_DIR}curl.list": b"/usr\n/usr/bin\n/usr/bin/curl\n",
    f"{DPKG_INFO_DIR}curl.md5sums": hashlib.md5(CURL, usedforsecurity=False).hexdigest().encode()
    + b"  usr/bin/curl\n",
    f"{DPKG_INFO_DIR}bsdutils.conffiles": b"/etc/default/hwclock\n",
}
APK_TEXT = "\n".join(APK_PACKAGES).encode()
RPM_HEADERS = (header_blob(BASH), header_blob(GLIBC))
METADATA = (
    b"Metadata-Version: 2.1\nName: responses\nVersion: 0.25.0\n"
    b"Requires-Dist: requests<3.0,>=2.30.0\nRequires-Dist: urllib3<3.0,>=1.25.10\n"
    b"Requires-Dist: tomli; python_version < \"3.11\"\nRequires-Dist: pytest; extra == 'tests'\n"
)
LD_SO_CONF_TEXT = b"include /etc/ld.so.conf.d/*.conf\n"
LD_SO_CONF_D = {
    "/etc/ld.so.conf.d/libc.conf": b"# libc default configuration\n/usr/local/lib\n",
    "/etc/ld.so.conf.d/x86_64-linux-gnu.conf": b"/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n"
    + MULTIARCH.encode()
    + b"\n",
    "/etc/ld.so.conf.d/opt.conf": b"include ../ld.so.conf\n/opt/lib=libc6\nhwcap 0 nosegneg\n",
}
LOADER = "/lib64/ld-linux-x86-64.so.2"
ELF_FILES = {
    "/usr/bin/app": elf_object(
        ("libfoo.so.1", "libc.so.6"), runpath="$ORIGIN/../lib:/opt/lib", interpreter=LOADER, elf_type=ET_EXEC
    ),
    "/usr/lib/libfoo.so.1": elf_object(("libbar.so",), soname="libfoo.so.1", rpath="$ORIGIN"),
    "/opt/lib/libbar.so": elf_object(("libc.so.6",), soname="libbar.so"),
    f"{MULTIARCH}/libc.so.6": elf_object((), soname="libc.so.6"),
    "/usr/lib/i386/libc.so.6": elf_object((), soname="libc.so.6", elf_class=32, machine=EM_386),
}
GROUP_TEXT = b"root:x:0:\nairflow:x:50000:\nstaff:x:50:airflow,root\n"


def inventory_files() -> dict[str, bytes]:
    """Every file an inventory reader reads, by absolute path, with realistic content."""
    files = {
        PASSWD: PASSWD_TEXT,
        GROUP: GROUP_TEXT,
        DPKG_STATUS: DPKG_STATUS_TEXT,
        **DPKG_INFO,
        "/usr/bin/curl": CURL,
        APK_INSTALLED: APK_TEXT,
        RPMDB_PATHS[0]: rpmdb_bytes(BASH, GLIBC),
        f"/{USER_SITE}/responses-0.25.0.dist-info/METADATA": METADATA,
        LD_SO_CONF: LD_SO_CONF_TEXT,
        **LD_SO_CONF_D,
        **ELF_FILES,
    }
    return files


def tree_layer(files: dict[str, bytes], extra: list[F] | tuple[F, ...] = ()) -> bytes:
    """A layer holding ``files`` (absolute path -> content), their directories, and the links a Debian-like
    image has (merged /usr, a python3 alias)."""
    entries = [
        F("lib", kind="symlink", link="usr/lib"),
        F("lib64", kind="symlink", link="usr/lib64"),
        F("usr/lib64/ld-linux-x86-64.so.2", elf_object((), soname="ld-linux-x86-64.so.2")),
        F("usr/local/lib/", kind="dir"),
        F("usr/bin/python3.11", b"\x7fELF python", mode=0o755),
        F("usr/bin/python3", kind="symlink", link="python3.11"),
        F("usr/lib/python3.11/os.py", b""),
        F("tmp/", kind="dir", mode=0o1777),
    ]
    directories = sorted({str(Path(path).parent).lstrip("/") + "/" for path in files} - {"/"})
    entries += [F(directory, kind="dir") for directory in directories]
    modes = {path: 0o755 for path in ELF_FILES}
    entries += [F(path.lstrip("/"), data, mode=modes.get(path)) for path, data in sorted(files.items())]
    return layer_tar([*entries, *extra])


CONFIG: dict[str, Any] = {
    "User": "airflow",
    "Env": [
        "PATH=/home/airflow/.local/bin:/usr/local/bin:/usr/bin:/bin",
        "LD_LIBRARY_PATH=/usr/local/lib:$ORIGIN",
        "AIRFLOW_HOME=/opt/airflow",
    ],
    "Entrypoint": ["/usr/bin/app"],
    "Cmd": ["python3", "-m", "airflow"],
    "WorkingDir": "/opt/airflow",
    "Labels": {"org.opencontainers.image.source": "https://example.invalid/app"},
    "ExposedPorts": {"8080/tcp": {}},
    "Volumes": {"/data": {}},
    "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"], "Interval": 30_000_000_000},
}


def packages_base() -> Image:
    """An image with a dpkg, an apk and an rpm database, ELF objects and ld.so.conf, users and Python."""
    history: list[dict[str, Any]] = [
        {"created_by": "/bin/sh -c #(nop) ADD file:rootfs in /", "created": "2024-01-01T00:00:00Z"},
        {"created_by": "/bin/sh -c pip install --user requests==2.31.0"},
        {"created_by": "/bin/sh -c #(nop)  USER airflow", "empty_layer": True},
    ]
    return Image([tree_layer(inventory_files()), user_site_layer()], dict(CONFIG), history)


def packages_derived() -> Image:
    """``packages_base`` extended: a package upgraded and one removed, a library shadowed, a set-user-ID
    file, a whiteout, an opaque directory, a capability and a user-site pin."""
    base = packages_base()
    status = DPKG_STATUS_TEXT.replace(b"Version: 7.88.1-10+deb12u5", b"Version: 7.88.1-10+deb12u6")
    changes = layer_tar(
        [
            F(DPKG_STATUS.lstrip("/"), status),
            F("usr/local/lib/libfoo.so.1", ELF_FILES["/usr/lib/libfoo.so.1"], mode=0o755),
            F("usr/bin/.wh.curl"),
            F("opt/lib/.wh..wh..opq"),
            F("usr/bin/newgrp", b"\x7fELF newgrp", mode=0o4755),
            F(
                "usr/bin/ping",
                b"\x7fELF",
                xattrs={"security.capability": b"\x01\x00\x00\x02\x00\x20\x00\x00"},
            ),
            F(f"{SYSTEM_SITE}/", kind="dir"),
            *dist(USER_SITE, "requests", "2.28.1", "urllib3<1.27,>=1.21.1"),
            F(f"{USER_SITE}/.wh.requests-2.31.0.dist-info"),
            F(
                "root/.aws/credentials",
                b"[default]\naws_secret_access_key = abcdefghijklmnopqrstuvwxyz0123456789ABCD\n",
            ),
        ]
    )
    config = dict(CONFIG, User="root", Env=[*CONFIG["Env"], "API_TOKEN=ghp_" + "a" * 36])
    history = [
        *(base.history or []),
        {"created_by": "/bin/sh -c apt-get install -y curl && chmod u+s newgrp"},
    ]
    history.append({"created_by": "/bin/sh -c #(nop)  USER root", "empty_layer": True})
    return Image([*base.layers, changes], config, history)


@functools.cache
def seed_images() -> tuple[tuple[str, Image], ...]:
    """The images every source target starts from, by name."""
    return (
        ("example-base", example.base()),
        ("example-extended", example.extended()),
        ("packages-base", packages_base()),
        ("packages-derived", packages_derived()),
        ("minimal", Image([os_layer()], {"User": "0"})),
    )


@functools.cache
def seed_pairs() -> tuple[tuple[str, Image, Image], ...]:
    """Base and derived pairs for the end-to-end target."""
    return (
        ("example", example.base(), example.extended()),
        ("packages", packages_base(), packages_derived()),
    )


@functools.cache
def seed_layers() -> tuple[bytes, ...]:
    """Layer tars for the indexer: every layer of the seed images."""
    return tuple(dict.fromkeys(layer for _, image in seed_images() for layer in image.layers))
