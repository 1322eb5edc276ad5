"""Parsing Dockerfiles as BuildKit does: directives, comments, continuations, heredocs, the exec form,
ARG/ENV substitution and multi-stage builds, each with the lines it spans; adversarial input ends quickly
with a one-line usage error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from layerdiff.dockerfile import DockerfileError, Instruction, parse_dockerfile
from layerdiff.errors import ExitCode

SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"


def only(text: str, **options: object) -> Instruction:
    """The one instruction after the FROM line."""
    (instruction,) = parse_dockerfile(text, **options).final.instructions  # type: ignore[arg-type]
    return instruction


def error_of(text: str, **options: object) -> str:
    with pytest.raises(DockerfileError) as raised:
        parse_dockerfile(text, **options)  # type: ignore[arg-type]
    message = str(raised.value)
    assert "\n" not in message
    assert raised.value.exit_code == ExitCode.USAGE
    return message


# --- parser directives and the escape character


def test_directives_at_the_top_are_read_and_the_backtick_escape_continues_lines() -> None:
    dockerfile = parse_dockerfile("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n  b\n")
    assert dockerfile.directives == (("syntax", "docker/dockerfile:1"), ("escape", "`"))
    assert dockerfile.escape == "`"
    (run,) = dockerfile.final.instructions
    assert (run.expanded, run.line, run.end_line) == ("a   b", 4, 5)
    # under the backtick, a backslash at the end of a line is only text
    first, second = parse_dockerfile("# escape=`\nFROM x\nRUN C:\\ \\\nRUN b\n").final.instructions
    assert (first.expanded, first.end_line, second.expanded) == ("C:\\ \\", 3, "b")


def test_a_directive_after_an_instruction_or_another_comment_is_only_a_comment() -> None:
    after_comment = parse_dockerfile("# a comment\n# escape=`\nFROM x\nRUN a `\nRUN b\n")
    assert after_comment.escape == "\\"
    assert after_comment.directives == ()
    assert [i.expanded for i in after_comment.final.instructions] == ["a `", "b"]
    after_blank = parse_dockerfile("\n# escape=`\nFROM x\n")
    assert after_blank.escape == "\\"


def test_a_repeated_or_invalid_directive_is_an_error() -> None:
    assert "only one escape parser directive" in error_of("# escape=`\n# escape=`\nFROM x\n")
    assert "Dockerfile:1" in error_of("# escape=x\nFROM x\n")


def test_a_byte_order_mark_does_not_hide_the_first_directive() -> None:
    assert parse_dockerfile("\ufeff# escape=`\nFROM x\n").escape == "`"


# --- comments, continuations, empty continuation lines


def test_comments_inside_a_continuation_and_empty_continuation_lines_are_dropped() -> None:
    text = "FROM x\n# top comment\nRUN a \\\n# inside\n\n    b \\\n   \n  c\nUSER u\n"
    run, user = parse_dockerfile(text).final.instructions
    assert run.expanded == "a     b   c"
    assert (run.line, run.end_line) == (3, 8)
    assert (user.line, user.end_line) == (9, 9)


def test_a_hash_that_does_not_start_a_line_is_part_of_the_instruction() -> None:
    assert only("FROM x\nRUN echo a # not a comment\n").expanded == "echo a # not a comment"


def test_continuations_join_as_the_builders_record_them() -> None:
    """The base scenario's RUN is recorded with the backslash-newlines removed and the indentation kept."""
    dockerfile = parse_dockerfile((SCENARIOS / "airflow-base" / "Dockerfile").read_text())
    run = dockerfile.final.instructions[0]
    assert (run.line, run.end_line) == (3, 7)
    assert run.expanded == (
        "rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED  && useradd --uid 50000 --gid 0 --home-dir "
        "/home/airflow --create-home --shell /bin/bash airflow  && mkdir -p /opt/airflow/dags "
        "/opt/airflow/logs /opt/airflow/plugins  && chown -R airflow:0 /opt/airflow  && chmod -R g+w "
        "/opt/airflow"
    )


def test_an_escaped_escape_character_does_not_continue_the_line() -> None:
    first, second = parse_dockerfile("FROM x\nRUN echo \\\\\nRUN b\n").final.instructions
    assert (first.expanded, first.end_line, second.line) == ("echo \\\\", 2, 3)


def test_a_continuation_running_into_the_end_of_the_file_ends_the_instruction() -> None:
    run = only("FROM x\nRUN a \\\n")
    assert (run.expanded, run.line, run.end_line) == ("a", 2, 2)


def test_windows_line_endings_are_not_part_of_the_text() -> None:
    run, user = parse_dockerfile("FROM x\r\nRUN a \\\r\n b\r\nUSER u\r\n").final.instructions
    assert (run.expanded, run.end_line, user.expanded) == ("a  b", 3, "u")


# --- heredocs


def test_a_run_heredoc_spans_its_body_and_terminator() -> None:
    run, user = parse_dockerfile("FROM x\nRUN <<EOF\necho a\necho b\nEOF\nUSER u\n").final.instructions
    (heredoc,) = run.heredocs
    assert (heredoc.name, heredoc.content, heredoc.chomp, heredoc.expand) == (
        "EOF",
        "echo a\necho b\n",
        False,
        True,
    )
    assert (run.line, run.end_line, user.line) == (2, 5, 6)


def test_dash_heredocs_strip_leading_tabs_and_may_indent_the_terminator() -> None:
    (heredoc,) = only("FROM x\nRUN <<-EOF\n\techo a\n\t\techo b\n\tEOF\n").heredocs
    assert heredoc.chomp and heredoc.text == "echo a\necho b\n"
    assert heredoc.content == "\techo a\n\t\techo b\n"


def test_an_indented_terminator_does_not_end_a_plain_heredoc() -> None:
    assert "unterminated heredoc" in error_of("FROM x\nRUN <<EOF\necho a\n\tEOF\n")


def test_quoted_heredoc_names_are_not_expanded() -> None:
    for opener in ('<<"EOF"', "<<'EOF'"):
        (heredoc,) = only(f"FROM x\nRUN {opener}\n$HOME\nEOF\n").heredocs
        assert (heredoc.name, heredoc.expand) == ("EOF", False)


def test_several_heredocs_on_one_line_are_read_in_order() -> None:
    run = only("FROM x\nRUN cat <<A 3<<B > /out\na\nA\nb\nB\n")
    assert [(h.name, h.content, h.descriptor) for h in run.heredocs] == [("A", "a\n", None), ("B", "b\n", 3)]
    assert (run.line, run.end_line) == (2, 6)


def test_copy_heredoc_sources_are_named_by_their_word() -> None:
    copy = only("FROM x\nCOPY <<conf /etc/app.conf\nkey=1\nconf\n")
    assert copy.words == ("<<conf", "/etc/app.conf")
    assert copy.heredocs[0].content == "key=1\n"


def test_no_heredoc_in_the_exec_form_in_quotes_or_in_other_instructions() -> None:
    assert only('FROM x\nRUN ["cat", "<<EOF"]\n').heredocs == ()
    assert only('FROM x\nRUN echo "<<EOF"\n').heredocs == ()
    assert only("FROM x\nENV A=<<EOF\n").heredocs == ()


def test_a_heredoc_cannot_be_a_copy_destination() -> None:
    assert "heredoc as a destination" in error_of("FROM x\nCOPY a <<EOF\nx\nEOF\n")


# --- the exec (JSON) form and the shell form


def test_json_form_is_the_exec_form() -> None:
    run = only('FROM x\nRUN ["pip", "install", "x y"]\n')
    assert run.exec_form and run.words == ("pip", "install", "x y")


def test_text_that_is_not_a_json_array_is_the_shell_form() -> None:
    for text in ("[not json", '["a",]', "[NaN]"):
        run = only(f"FROM x\nRUN {text}\n")
        assert not run.exec_form and run.expanded == text


def test_a_json_array_of_other_than_strings_is_an_error() -> None:
    assert "comprised of strings only" in error_of('FROM x\nCMD ["a", 1]\n')


def test_shell_requires_the_json_form() -> None:
    assert "JSON form" in error_of("FROM x\nSHELL /bin/bash -c\n")


# --- ARG and ENV substitution


def test_arg_defaults_and_build_args_substitute_where_the_builder_substitutes() -> None:
    text = "FROM x\nARG DIR=/opt\nARG OWNER\nCOPY --chown=$OWNER a ${DIR}/b\nWORKDIR $DIR\nRUN cd $DIR\n"
    copy, workdir, run = parse_dockerfile(text, {"OWNER": "app"}).final.instructions[2:]
    assert copy.words == ("a", "/opt/b")
    assert (copy.flag("chown"), copy.flag("from")) == ("$OWNER", None)
    assert copy.history.exact >= {"COPY --chown=app a /opt/b"}
    assert workdir.expanded == "/opt"
    assert run.expanded == "cd $DIR"  # RUN's shell text is the shell's to expand


def test_an_arg_without_a_value_or_build_arg_leaves_its_uses_unresolved() -> None:
    user = parse_dockerfile("FROM x\nARG WHO\nUSER $WHO\n").final.instructions[1]
    assert user.unresolved == ("WHO",)
    assert user.expanded == "$WHO"
    assert user.history.exact == frozenset()


def test_global_args_are_used_in_from_lines_and_inside_a_stage_only_once_redeclared() -> None:
    text = "ARG BASE=debian\nARG TAG=12\nFROM ${BASE}:${TAG}\nUSER $TAG\nARG TAG\nUSER $TAG\n"
    dockerfile = parse_dockerfile(text, {"TAG": "13"})
    assert dockerfile.final.base == "debian:13"
    assert dockerfile.global_args == (("BASE", "debian"), ("TAG", "13"))
    before, _, after = dockerfile.final.instructions
    assert before.unresolved == ("TAG",)
    assert after.expanded == "13"


def test_a_from_line_with_a_global_arg_not_given_keeps_it_as_written() -> None:
    dockerfile = parse_dockerfile((SCENARIOS / "derived-root" / "Dockerfile").read_text())
    assert dockerfile.final.base == "${BASE}"
    assert (dockerfile.final.from_line, dockerfile.final.from_end_line) == (2, 2)


def test_env_in_both_forms() -> None:
    modern = only("FROM x\nENV A=1 B=\"two words\" C='$A'\n")
    assert modern.assignments == (("A", "1"), ("B", "two words"), ("C", "$A"))
    legacy = only("FROM x\nENV GREETING hello   world\n")
    assert legacy.assignments == (("GREETING", "hello   world"),)
    assert legacy.history.exact == {"ENV GREETING=hello   world"}


def test_env_values_of_one_instruction_see_the_environment_before_it() -> None:
    env = parse_dockerfile("FROM x\nENV A=old\nENV A=new B=$A\n").final.instructions[1]
    assert env.assignments == (("A", "new"), ("B", "old"))


def test_an_env_overrides_an_arg_of_the_same_name() -> None:
    user = parse_dockerfile("FROM x\nENV V=env\nARG V=arg\nUSER $V\n").final.instructions[2]
    assert user.expanded == "env"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$SET", "v"),
        ("${SET}", "v"),
        ("${SET:-d}", "v"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${UNSET-d}", "d"),
        ("${SET:+alt}", "alt"),
        ("${EMPTY:+alt}", ""),
        ("${EMPTY+alt}", "alt"),
        ("${UNSET+alt}", ""),
        ("${UNSET:-${SET}x}", "vx"),
        ("a\\$SET", "a$SET"),
        ("'$SET'", "$SET"),
        ('"$SET b"', "v b"),
        ("$", "$"),
        ("${SET}${SET}", "vv"),
    ],
)
def test_substitution_forms(word: str, expected: str) -> None:
    text = f"FROM x\nENV SET=v EMPTY=\nUSER {word}\n"
    user = parse_dockerfile(text, base_env={}).final.instructions[1]
    assert (user.expanded, user.unresolved) == (expected, ())


def test_the_base_environment_resolves_what_the_file_does_not_set() -> None:
    text = (SCENARIOS / "derived-venv" / "Dockerfile").read_text()
    without = parse_dockerfile(text).final.instructions[1]
    assert (without.expanded, without.unresolved) == ("PATH=/opt/airflow/venv/bin:$PATH", ("PATH",))
    with_base = parse_dockerfile(text, base_env={"PATH": "/usr/bin:/bin"}).final.instructions[1]
    assert with_base.assignments == (("PATH", "/opt/airflow/venv/bin:/usr/bin:/bin"),)
    assert with_base.history.exact == {"ENV PATH=/opt/airflow/venv/bin:/usr/bin:/bin"}


def test_nothing_is_substituted_in_run_cmd_entrypoint_healthcheck_or_onbuild() -> None:
    text = (
        'FROM x\nENV V=1\nRUN echo $V\nCMD echo $V\nENTRYPOINT ["$V"]\nHEALTHCHECK CMD test $V\n'
        "ONBUILD USER $V\n"
    )
    instructions = parse_dockerfile(text).final.instructions[1:]
    assert [i.expanded for i in instructions] == ["echo $V", "echo $V", '["$V"]', "CMD test $V", "USER $V"]
    assert all(i.unresolved == () for i in instructions)


def test_bad_substitutions_are_errors() -> None:
    assert "bad substitution" in error_of("FROM x\nUSER ${}\n")
    assert "missing" in error_of("FROM x\nUSER ${A\n")
    assert "unsupported modifier" in error_of("FROM x\nUSER ${A:#x}\n")


def test_pattern_modifiers_are_parsed_but_left_unresolved() -> None:
    user = parse_dockerfile("FROM x\nENV A=abc\nUSER ${A#a}-${A/b/c}\n").final.instructions[1]
    assert user.expanded == "${A#a}-${A/b/c}"
    assert user.unresolved == ("A",)


def test_workdir_is_made_absolute_against_the_previous_one() -> None:
    first, second = parse_dockerfile("FROM x\nWORKDIR /opt/app/\nWORKDIR ../lib\n").final.instructions
    assert first.history.exact == {"WORKDIR /opt/app"}
    assert second.history.exact == {"WORKDIR /opt/lib"}
    relative = only("FROM x\nWORKDIR src\n")
    assert relative.history.templates == (("WORKDIR ", None, "/src"),)


# --- multi-stage builds


MULTI = """\
ARG GO=1.22
FROM --platform=$BUILDPLATFORM golang:${GO} AS Build
WORKDIR /src
RUN go build -o /out/app .

FROM build AS test
RUN go test ./...

FROM debian:bookworm AS final
COPY --from=build /out/app /usr/local/bin/
COPY --from=0 /src/LICENSE /licenses/
COPY --from=busybox:1.36 /bin/busybox /bin/
"""


def test_stages_are_named_indexed_and_reference_each_other() -> None:
    dockerfile = parse_dockerfile(MULTI)
    assert [(s.index, s.name, s.base, s.parent, s.from_line) for s in dockerfile.stages] == [
        (0, "build", "golang:1.22", None, 2),
        (1, "test", "build", 0, 6),
        (2, "final", "debian:bookworm", None, 9),
    ]
    assert dockerfile.stages[0].platform == "$BUILDPLATFORM"
    assert dockerfile.stage_named("BUILD") is dockerfile.stages[0]
    assert dockerfile.stage_named("golang") is None
    assert dockerfile.final.index == 2
    assert dockerfile.chain == (dockerfile.final,)
    assert [i.line for i in dockerfile.instructions] == [10, 11, 12]


def test_copy_from_names_the_stage_or_the_image() -> None:
    from_name, from_index, from_image = parse_dockerfile(MULTI).final.instructions
    assert (from_name.copy_from, from_name.copy_from_stage) == ("build", 0)
    assert (from_index.copy_from, from_index.copy_from_stage) == ("build", 0)
    assert (from_image.copy_from, from_image.copy_from_stage) == ("busybox:1.36", None)
    assert "COPY /out/app /usr/local/bin/" in from_name.history.exact  # BuildKit does not write --from


def test_a_target_built_from_an_earlier_stage_carries_that_stage_first() -> None:
    """Its image holds the earlier stage's history too: the chain lists that stage's instructions (after
    its own FROM line) before the target's."""
    dockerfile = parse_dockerfile(MULTI, target="test")
    assert [s.name for s in dockerfile.chain] == ["build", "test"]
    assert [(i.keyword, i.line) for i in dockerfile.instructions] == [("WORKDIR", 3), ("RUN", 4), ("RUN", 7)]
    # the working directory carries over into the child stage
    assert parse_dockerfile(MULTI + "FROM build\nWORKDIR sub\n").final.instructions[0].history.exact == {
        "WORKDIR /src/sub"
    }


def test_stage_errors() -> None:
    assert "no build stage named 'nope'" in error_of(MULTI, target="nope")
    assert "no stage 5 before this one" in error_of("FROM a\nCOPY --from=5 /x /y\n")
    assert "one or three arguments" in error_of("FROM a b\n")
    assert "invalid name for build stage" in error_of("FROM a AS 1x\n")
    assert "no FROM instruction" in error_of("ARG A=1\n")
    assert "before the first FROM" in error_of("RUN x\nFROM a\n")
    assert "unknown instruction: 'FORM'" in error_of("FROM a\nFORM b\n")


# --- the scenario Dockerfiles


@pytest.mark.parametrize("scenario", sorted(path.name for path in SCENARIOS.iterdir() if path.is_dir()))
def test_every_scenario_dockerfile_parses_with_its_lines(scenario: str) -> None:
    text = (SCENARIOS / scenario / "Dockerfile").read_text()
    dockerfile = parse_dockerfile(text)
    lines = text.splitlines()
    for instruction in dockerfile.instructions:
        first = lines[instruction.line - 1]
        assert first.upper().startswith(instruction.keyword + " "), (instruction, first)
        assert instruction.history.exact or instruction.history.templates


# --- adversarial input: each ends quickly with a one-line error


def finishes_quickly(text: str, expected: str, seconds: float = 3.0) -> None:
    started = time.process_time()
    assert expected in error_of(text)
    assert time.process_time() - started < seconds


def test_a_hundred_thousand_instructions() -> None:
    finishes_quickly("FROM x\n" + "RUN a\n" * 100_000, "more than 10000 instructions")


def test_a_huge_continuation() -> None:
    finishes_quickly("FROM x\nRUN " + "a \\\n" * 600_000, "more than 200000 lines")
    finishes_quickly("FROM x\nRUN " + ("a" * 60_000 + " \\\n") * 30, "an instruction longer than")


def test_a_line_longer_than_the_builder_reads() -> None:
    finishes_quickly("FROM x\nRUN " + "a" * 70_000 + "\n", "a line longer than 65535 characters")


def test_recursive_default_substitution() -> None:
    finishes_quickly("FROM x\nUSER " + "${A:-" * 10_000 + "x" + "}" * 10_000 + "\n", "nested deeper than 16")


def test_doubling_substitution() -> None:
    finishes_quickly("FROM x\nENV A=xxxxxxxx\n" + "ENV A=$A$A$A$A\n" * 40, "a word longer than")


def test_substitution_over_the_whole_file() -> None:
    text = "FROM x\nENV A=" + "x" * 60_000 + "\n" + "ENV B=$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A$A\n" * 40
    finishes_quickly(text, "more than 16 MiB of text")


def test_heredoc_bounds() -> None:
    finishes_quickly("FROM x\nRUN " + "<<A " * 100 + "\n" + "A\n" * 100, "more than 64 heredocs")
    finishes_quickly("FROM x\nRUN <<EOF\n" + "x\n" * 150_000, "unterminated heredoc")
    finishes_quickly("FROM x\nRUN <<EOF\n" + ("y" * 60_000 + "\n") * 20 + "EOF\n", "a heredoc longer than")


def test_deeply_nested_json() -> None:
    finishes_quickly("FROM x\nRUN " + "[" * 60_000 + "\n", "nested too deeply")


def test_a_file_over_the_size_bound() -> None:
    finishes_quickly("FROM x\n" + "#" * (5 << 20), "more than 4 MiB")
