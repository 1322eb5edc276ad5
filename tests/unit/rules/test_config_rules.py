"""Rules about the runtime user and the image config, on images built in Python run through the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from layerdiff.rules.config import (
    ENTRYPOINT_CHANGED,
    HEALTHCHECK_CHANGED,
    LOADER_ENV_CHANGED,
    RUNTIME_USER_CHANGED,
    RUNTIME_USER_ROOT,
)
from layerdiff.rules.model import Finding, RuleContext
from layerdiff.rules.severity import Severity
from tests.support import pairs
from tests.support.imagebuilder import F, Image, layer_tar
from tests.support.rules import diff_context, findings

CONFIG_RULES = (
    RUNTIME_USER_ROOT,
    RUNTIME_USER_CHANGED,
    LOADER_ENV_CHANGED,
    HEALTHCHECK_CHANGED,
    ENTRYPOINT_CHANGED,
)
BASE_ENV = ["PATH=/home/airflow/.local/bin:/usr/bin:/bin", "AIRFLOW_HOME=/opt/airflow"]
PASSWD_WITH_ETL = (
    b"root:x:0:0:root:/root:/bin/bash\n"
    b"airflow:x:50000:0::/home/airflow:/bin/bash\n"
    b"etl:x:1000:1000::/home/etl:/bin/bash\n"
)


def context_for(tmp_path: Path, derived: Image, base: Image | None = None) -> RuleContext:
    return diff_context(tmp_path, base or pairs.base_image(), derived)


def nop(instruction: str) -> dict[str, Any]:
    return {"created_by": f"/bin/sh -c #(nop)  {instruction}", "empty_layer": True}


def only(found: list[Finding]) -> Finding:
    assert len(found) == 1, found
    return found[0]


def base_with(**config: Any) -> Image:
    base = pairs.base_image()
    base.config.update(config)
    return base


def same_layers_as(base: Image, history: list[dict[str, Any]], **config: Any) -> Image:
    """A derived image that only changes the config of ``base``."""
    assert base.history is not None
    return Image(layers=base.layers, config={**base.config, **config}, history=base.history + history)


def test_dag_only_raises_nothing_from_config_rules(tmp_path: Path) -> None:
    context = context_for(tmp_path, pairs.dag_only())
    assert [f for rule in CONFIG_RULES for f in findings(rule, context)] == []


# --- runtime-user-root / runtime-user-changed ---------------------------------------------------------------


def test_user_root_is_reported_with_resolved_users(tmp_path: Path) -> None:
    context = context_for(tmp_path, pairs.user_root())
    finding = only(findings(RUNTIME_USER_ROOT, context))
    assert (finding.rule, finding.severity, finding.subject) == ("runtime-user-root", Severity.HIGH, "USER")
    assert finding.instruction == "USER root"
    evidence = finding.evidence
    assert (evidence["user_before"], evidence["user_after"]) == ("50000", "root")
    assert (evidence["uid_before"], evidence["uid_after"]) == (50000, 0)
    assert (evidence["home_before"], evidence["home_after"]) == ("/home/airflow", "/root")
    assert evidence["name_before"] == "airflow"
    assert findings(RUNTIME_USER_CHANGED, context) == []


def test_empty_user_means_root(tmp_path: Path) -> None:
    derived = pairs.derived([], [nop("USER ")], User="")
    finding = only(findings(RUNTIME_USER_ROOT, context_for(tmp_path, derived)))
    assert (finding.evidence["user_after"], finding.evidence["uid_after"]) == ("", 0)


def test_user_root_is_not_reported_when_the_base_ran_as_root(tmp_path: Path) -> None:
    base = base_with(User="")
    derived = same_layers_as(base, [nop("USER root")], User="root")
    assert findings(RUNTIME_USER_ROOT, context_for(tmp_path, derived, base)) == []


def test_another_non_root_user_is_a_user_change(tmp_path: Path) -> None:
    passwd = layer_tar([F("etc/passwd", PASSWD_WITH_ETL), F("home/etl/", kind="dir", uid=1000)])
    derived = pairs.derived([passwd], [{"created_by": "/bin/sh -c useradd etl"}, nop("USER etl")], User="etl")
    context = context_for(tmp_path, derived)
    finding = only(findings(RUNTIME_USER_CHANGED, context))
    assert (finding.severity, finding.subject, finding.instruction) == (Severity.MEDIUM, "USER", "USER etl")
    assert (finding.evidence["uid_before"], finding.evidence["uid_after"]) == (50000, 1000)
    assert finding.evidence["home_after"] == "/home/etl"
    assert findings(RUNTIME_USER_ROOT, context) == []


def test_same_uid_written_by_name_is_no_user_change(tmp_path: Path) -> None:
    derived = pairs.derived([], [nop("USER airflow")], User="airflow")
    context = context_for(tmp_path, derived)
    assert findings(RUNTIME_USER_CHANGED, context) == []
    assert findings(RUNTIME_USER_ROOT, context) == []


# --- loader-env-changed -------------------------------------------------------------------------------------


def test_loader_variables_set_are_one_finding_each(tmp_path: Path) -> None:
    env = [*BASE_ENV, "LD_PRELOAD=/usr/lib/libjemalloc.so.2", "PYTHONPATH=/opt/airflow/plugins"]
    history = [nop("ENV LD_PRELOAD=/usr/lib/libjemalloc.so.2"), nop("ENV PYTHONPATH=/opt/airflow/plugins")]
    context = context_for(tmp_path, pairs.derived([], history, Env=env))
    found = {f.subject: f for f in findings(LOADER_ENV_CHANGED, context)}
    assert set(found) == {"ENV:LD_PRELOAD", "ENV:PYTHONPATH"}
    preload = found["ENV:LD_PRELOAD"]
    assert preload.severity is Severity.HIGH
    assert preload.evidence["before"] is None
    assert preload.evidence["after"] == "/usr/lib/libjemalloc.so.2"
    assert preload.instruction == "ENV LD_PRELOAD=/usr/lib/libjemalloc.so.2"


def test_loader_variable_removed_or_changed(tmp_path: Path) -> None:
    base = base_with(Env=[*BASE_ENV, "PYTHONPATH=/opt/lib", "LD_LIBRARY_PATH=/opt/oracle"])
    derived = same_layers_as(
        base, [nop("ENV LD_LIBRARY_PATH=/usr/local/lib")], Env=[*BASE_ENV, "LD_LIBRARY_PATH=/usr/local/lib"]
    )
    found = {f.subject: f for f in findings(LOADER_ENV_CHANGED, context_for(tmp_path, derived, base))}
    assert (found["ENV:PYTHONPATH"].evidence["before"], found["ENV:PYTHONPATH"].evidence["after"]) == (
        "/opt/lib",
        None,
    )
    assert "removed" in found["ENV:PYTHONPATH"].message
    assert found["ENV:LD_LIBRARY_PATH"].evidence["after"] == "/usr/local/lib"


def test_other_env_changes_are_not_loader_changes(tmp_path: Path) -> None:
    assert findings(LOADER_ENV_CHANGED, context_for(tmp_path, pairs.venv_on_path())) == []


# --- healthcheck-changed ------------------------------------------------------------------------------------


def test_healthcheck_removed_disabled_changed(tmp_path: Path) -> None:
    cases = {
        "removed": None,
        "disabled": {"Test": ["NONE"]},
        "changed": {"Test": ["CMD-SHELL", "curl -f localhost:8080/health"], "Interval": 10_000_000_000},
    }
    for how, healthcheck in cases.items():
        derived = pairs.derived([], [nop("HEALTHCHECK ...")], Healthcheck=healthcheck)
        finding = only(findings(HEALTHCHECK_CHANGED, context_for(tmp_path / how, derived)))
        assert (finding.severity, finding.subject) == (Severity.MEDIUM, "HEALTHCHECK")
        assert finding.evidence["change"] == how
        assert finding.evidence["before"] == {"Test": ["CMD", "airflow", "jobs", "check"], "Interval": "30s"}
    assert finding.evidence["after"]["Interval"] == "10s"


def test_healthcheck_added_is_low_and_unchanged_is_silent(tmp_path: Path) -> None:
    base = base_with(Healthcheck=None)
    derived = same_layers_as(base, [nop("HEALTHCHECK CMD true")], Healthcheck={"Test": ["CMD", "true"]})
    finding = only(findings(HEALTHCHECK_CHANGED, context_for(tmp_path / "added", derived, base)))
    assert (finding.severity, finding.evidence["change"]) == (Severity.LOW, "added")
    disabled = same_layers_as(base, [nop("HEALTHCHECK NONE")], Healthcheck={"Test": ["NONE"]})
    assert findings(HEALTHCHECK_CHANGED, context_for(tmp_path / "none", disabled, base)) == []
    assert findings(HEALTHCHECK_CHANGED, context_for(tmp_path / "dag", pairs.dag_only())) == []


# --- entrypoint-changed -------------------------------------------------------------------------------------


def test_entrypoint_and_cmd_are_one_finding_each(tmp_path: Path) -> None:
    derived = pairs.derived(
        [],
        [nop('ENTRYPOINT ["/usr/bin/dumb-init", "--"]'), nop('CMD ["airflow", "webserver"]')],
        Entrypoint=["/usr/bin/dumb-init", "--"],
        Cmd=["airflow", "webserver"],
    )
    found = {f.subject: f for f in findings(ENTRYPOINT_CHANGED, context_for(tmp_path, derived))}
    assert set(found) == {"ENTRYPOINT", "CMD"}
    assert found["ENTRYPOINT"].severity is Severity.MEDIUM
    assert found["ENTRYPOINT"].evidence["before"] == ["/entrypoint"]
    assert found["ENTRYPOINT"].evidence["after"] == ["/usr/bin/dumb-init", "--"]
    assert found["CMD"].instruction == 'CMD ["airflow", "webserver"]'


def test_credentials_in_commands_are_redacted(tmp_path: Path) -> None:
    cmd = ["airflow", "connections", "add", "db", "--conn-uri", "postgresql://u:Pw0rdSecret@db/x"]
    derived = pairs.derived([], [nop("CMD [...]")], Cmd=cmd)
    finding = only(findings(ENTRYPOINT_CHANGED, context_for(tmp_path, derived)))
    assert "Pw0rdSecret" not in str(finding)
    assert finding.evidence["after"][-1] == "postgresql://u:<redacted>@db/x"


def test_unchanged_entrypoint_is_silent(tmp_path: Path) -> None:
    derived = pairs.derived([], [nop('CMD ["airflow", "scheduler"]')], Cmd=["airflow", "scheduler"])
    assert findings(ENTRYPOINT_CHANGED, context_for(tmp_path, derived)) == []
