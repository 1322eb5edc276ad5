from __future__ import annotations

from pathlib import Path

from layerdiff.diff.changes import ChangeKind, ImageDiff
from layerdiff.index.cache import IndexCache
from layerdiff.pipeline import compare, load_image
from layerdiff.sources.transports import open_source, parse_ref
from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar, write_oci_layout


def diff_of(tmp_path: Path, derived: Image, base: Image | None = None) -> ImageDiff:
    layout = write_oci_layout(tmp_path / "layout", {"base": base or pairs.base_image(), "derived": derived})
    cache = IndexCache(tmp_path / "cache")
    loaded = []
    for tag in ("base", "derived"):
        source = open_source(parse_ref(f"oci:{layout}:{tag}"))
        loaded.append(load_image(source, cache))
        source.close()
    return compare(loaded[0], loaded[1])


def test_dag_only_adds_one_file_in_its_layer(tmp_path: Path) -> None:
    result = diff_of(tmp_path, pairs.dag_only())
    assert result.extends_base and result.shared_layers == 2
    assert [(c.path, c.kind, c.layer) for c in result.file_changes] == [
        ("/opt/airflow/dags/example.py", ChangeKind.ADDED, 2)
    ]
    assert result.config_changes == ()
    assert result.derived_layers[2].instruction == "COPY file:abc in /opt/airflow/dags/"


def test_pin_removes_modifies_and_adds_with_attribution(tmp_path: Path) -> None:
    result = diff_of(tmp_path, pairs.pinned_requests())
    changes = {(c.path, c.kind) for c in result.file_changes}
    site = "/" + pairs.SITE
    assert (f"{site}/requests-2.31.0.dist-info", ChangeKind.REMOVED) in changes
    assert (f"{site}/requests-2.31.0.dist-info/METADATA", ChangeKind.REMOVED) in changes
    assert (f"{site}/requests-2.28.1.dist-info/METADATA", ChangeKind.ADDED) in changes
    modified = next(c for c in result.file_changes if c.path == f"{site}/requests/__init__.py")
    assert modified.kind is ChangeKind.MODIFIED and "sha256" in modified.fields
    assert {c.layer for c in result.file_changes} == {2}
    assert result.derived_layers[2].instruction == "RUN pip install requests==2.28.1"


def test_user_root_is_a_config_change_attributed_to_its_instruction(tmp_path: Path) -> None:
    result = diff_of(tmp_path, pairs.user_root())
    assert result.file_changes == ()
    (change,) = result.config_changes
    assert (change.field, change.before, change.after) == ("User", "50000", "root")
    assert change.instruction == "USER root" and change.history_index == 4


def test_venv_first_on_path(tmp_path: Path) -> None:
    result = diff_of(tmp_path, pairs.venv_on_path())
    (change,) = result.config_changes
    assert change.field == "Env" and change.key == "PATH"
    assert change.after.startswith("/opt/airflow/venv/bin:")
    assert change.instruction is not None and change.instruction.startswith("ENV PATH=")
    assert "/opt/airflow/venv/pyvenv.cfg" in {c.path for c in result.file_changes}


def test_ownership_change_is_metadata_only(tmp_path: Path) -> None:
    result = diff_of(tmp_path, pairs.root_owned_logs())
    home = next(c for c in result.file_changes if c.path == "/opt/airflow")
    assert home.kind is ChangeKind.METADATA and set(home.fields) == {"mode", "uid"}
    assert home.before is not None and home.before.uid == pairs.AIRFLOW_UID
    assert home.after is not None and home.after.uid == 0


def test_unrelated_images_are_compared_as_squashed_trees(tmp_path: Path) -> None:
    other = Image([layer_tar([F("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")])], {"User": "root"})
    result = diff_of(tmp_path, other)
    assert not result.extends_base and result.shared_layers == 0
    assert "does not extend" in result.warnings[0]
    kinds = {c.path: c.kind for c in result.file_changes}
    assert kinds["/etc/passwd"] is ChangeKind.MODIFIED and kinds["/entrypoint"] is ChangeKind.REMOVED


def test_identical_images_have_no_changes(tmp_path: Path) -> None:
    result = diff_of(tmp_path, pairs.base_image())
    assert result.file_changes == () and result.config_changes == ()


def test_a_hidden_distribution_is_lost_but_not_removed(tmp_path: Path) -> None:
    """USER root hides the base user's user site: nothing was uninstalled, so the Python view lists requests
    as no longer importable (lost, hidden) and not also as a removed distribution."""
    result = diff_of(tmp_path, pairs.user_root())
    (lost,) = result.inventory.lost
    assert (lost.distribution.name, lost.cause) == ("requests", "hidden")
    assert [(c.name, c.kind) for c in result.inventory.distributions] == []


def test_an_uninstalled_distribution_is_lost_and_removed(tmp_path: Path) -> None:
    removal = layer_tar([F(f"{pairs.SITE}/.wh.requests-2.31.0.dist-info"), F(f"{pairs.SITE}/.wh.requests")])
    result = diff_of(
        tmp_path, pairs.derived([removal], [{"created_by": "/bin/sh -c pip uninstall -y requests"}])
    )
    (lost,) = result.inventory.lost
    assert (lost.distribution.name, lost.cause) == ("requests", "removed")
    assert [(c.name, c.kind) for c in result.inventory.distributions] == [("requests", "removed")]
