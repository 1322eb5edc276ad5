"""What the CI surface promises beyond `diff -o`: one-line usage errors, outputs checked before the
analysis, `-o FORMAT=FILE` on every command that writes, the gate's `review`, approvals whose relative base
path works from wherever the record is kept, and the Dockerfile options."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from layerdiff.documents import dockerfile_text
from layerdiff.errors import UsageError
from layerdiff.sources.platforms import parse_platform
from layerdiff.sources.transports import rebased, relative_to
from tests.support.cli import assert_one_line_error, run
from tests.support.example import TARGET

EXAMPLE = [str(TARGET / "airflow-base.tar"), str(TARGET / "airflow-extended.tar")]
QUICK = ("--no-cache", "--sbom", "none")


def test_argparse_errors_are_one_line_like_every_other_error() -> None:
    for arguments, fragment in [
        (["diff", *EXAMPLE, "--fail-on", "severe"], "argument --fail-on: invalid choice: 'severe'"),
        (["inspect", EXAMPLE[0], "--format", "markdown"], "argument --format: invalid choice: 'markdown'"),
        (["diff", EXAMPLE[0]], "the following arguments are required: DERIVED"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ]:
        result = run(*arguments)
        assert_one_line_error(result, 2, fragment)
        assert "usage:" not in result.stderr


def test_every_output_is_checked_before_the_images_are_read(tmp_path: Path) -> None:
    written = tmp_path / "ok.sarif"
    result = run("diff", *EXAMPLE, *QUICK, "-o", f"sarif={written}", "-o", f"json={tmp_path}/none/x.json")
    assert_one_line_error(result, 2, f"cannot write {tmp_path}/none/x.json: no directory {tmp_path}/none")
    assert not written.exists()  # nothing was analysed, so nothing half-written
    assert_one_line_error(run("diff", *EXAMPLE, *QUICK, "-o", f"json={tmp_path}"), 2, "it is a directory")


def test_gate_and_sbom_diff_take_format_equals_file(tmp_path: Path) -> None:
    report, approval, decision = tmp_path / "r.json", tmp_path / "a.json", tmp_path / "g.json"
    assert run("diff", *EXAMPLE, *QUICK, "-o", f"json={report}").code == 1
    made = run("approve", str(report), "--reviewer", "r", "--reason", "ok", "-o", f"json={approval}")
    assert made.code == 0, made.stderr
    assert json.loads(approval.read_text())["_type"] == "https://in-toto.io/Statement/v1"
    assert_one_line_error(
        run("approve", str(report), "--reviewer", "r", "--reason", "ok", "-o", "sarif=x.sarif"),
        2,
        "an approval record is JSON",
    )
    gated = run(
        "gate", EXAMPLE[1], "--approval", str(approval), *QUICK, "-o", f"json={decision}", "-o", "table"
    )
    assert gated.code == 0, gated.stderr
    assert json.loads(decision.read_text())["status"] == "pass"
    assert gated.stdout.startswith("gate: pass (")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "g.json", "r.json"]


def test_the_gate_says_review_when_its_threshold_lets_unapproved_high_findings_through(
    tmp_path: Path,
) -> None:
    report, approval = tmp_path / "r.json", tmp_path / "a.json"
    run("diff", *EXAMPLE, *QUICK, "-o", f"json={report}")
    findings = json.loads(report.read_text())["findings"]
    low = next(f["fingerprint"] for f in findings if f["severity"] == "low")
    run("approve", str(report), "--reviewer", "r", "--reason", "ok", "--finding", low, "-o", str(approval))
    result = run("gate", EXAMPLE[1], "--approval", str(approval), *QUICK, "--fail-on", "none", "-o", "json")
    assert result.code == 0
    decision = json.loads(result.stdout)
    assert decision["status"] == "review" and decision["reasons"] == []
    assert len(decision["unenforced"]) == 3 and "does not enforce it" in decision["unenforced"][0]
    note, review = result.stderr.splitlines()
    assert note.startswith("layerdiff: note: approvals are unverified: no trusted key was given")
    assert review.startswith("layerdiff: gate review: high ") and review.endswith("(and 2 more reasons)")


def test_an_approval_kept_elsewhere_still_finds_its_relative_base(tmp_path: Path) -> None:
    for name in ("airflow-base.tar", "airflow-extended.tar"):
        (tmp_path / "images").mkdir(exist_ok=True)
        shutil.copy(TARGET / name, tmp_path / "images" / name)
    (tmp_path / "approvals").mkdir()
    images = ["images/airflow-base.tar", "images/airflow-extended.tar"]
    run("diff", *images, *QUICK, "-o", "json=r.json", cwd=tmp_path)
    run("approve", "r.json", "--reviewer", "r", "--reason", "ok", "-o", "approvals/a.json", cwd=tmp_path)
    statement = json.loads((tmp_path / "approvals" / "a.json").read_text())
    assert statement["predicate"]["base"]["reference"] == "docker-archive:../images/airflow-base.tar"
    gated = run("gate", images[1], "--approval", "approvals/a.json", *QUICK, cwd=tmp_path)
    assert gated.code == 0, gated.stderr


def test_rebased_and_relative_to_undo_each_other() -> None:
    for reference in ("docker-archive:images/b.tar", "./b.tar", "oci:layout:base", "images/b.tar"):
        stored = rebased(reference, "approvals")
        assert stored != reference
        back = relative_to(stored, "approvals")
        prefix = reference.partition(":")[0] + ":" if ":" in reference else ""
        assert Path(back.removeprefix(prefix)).resolve() == Path(reference.removeprefix(prefix)).resolve()
    for untouched in (
        "docker:app:1",
        "registry:ghcr.io/acme/app:1",
        "/abs/b.tar",
        "docker-archive:/abs/b.tar",
    ):
        assert rebased(untouched, "approvals") == untouched


def test_dockerfile_options_need_the_dockerfile_and_take_what_docker_build_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UsageError, match="give --dockerfile"):
        dockerfile_text(None, ["A=1"], None)
    with pytest.raises(UsageError, match="give --dockerfile"):
        dockerfile_text(None, [], "final")
    assert dockerfile_text(None, [], None) is None
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM x\n")
    monkeypatch.setenv("FROM_ENVIRONMENT", "yes")
    monkeypatch.delenv("NOT_SET", raising=False)
    given = dockerfile_text(str(dockerfile), ["A=1", "FROM_ENVIRONMENT", "NOT_SET"], "final")
    assert given is not None and dict(given.build_args) == {"A": "1", "FROM_ENVIRONMENT": "yes"}
    assert given.target == "final"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"FROM y\nUSER root\n")))
    from_stdin = dockerfile_text("-", [], None)
    assert (
        from_stdin is not None
        and from_stdin.text == "FROM y\nUSER root\n"
        and from_stdin.path == "Dockerfile"
    )


def test_a_platform_is_read_in_any_case() -> None:
    assert parse_platform("Linux/AMD64") == ("linux", "amd64", None)
    assert parse_platform("linux/ARM64/V8") == ("linux", "arm64", "v8")
