"""Matching image history entries to the Dockerfile instructions that wrote them, for the classic builder's
and BuildKit's history lines: exact, likely (a content hash, an unknown value, a changed text) or none (at
the FROM line); a missing or extra entry does not move the other matches; the work is bounded."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from layerdiff.dockerfile import Dockerfile, HistoryMatch, match_history, parse_dockerfile
from layerdiff.dockerfile.history_line import canonical
from layerdiff.dockerfile.limits import ALIGNED_ENTRIES
from layerdiff.image.model import HistoryEntry

SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
HASH = "8358bc48dcdb582de204e6d5707d41339d10fd1d58267bdb23ef0f60cf4a95eb"
AIRFLOW_RUN = (
    "rm -f /usr/lib/python3.11/EXTERNALLY-MANAGED  && useradd --uid 50000 --gid 0 --home-dir /home/airflow "
    "--create-home --shell /bin/bash airflow  && mkdir -p /opt/airflow/dags /opt/airflow/logs "
    "/opt/airflow/plugins  && chown -R airflow:0 /opt/airflow  && chmod -R g+w /opt/airflow"
)
AIRFLOW_ENV = (
    "AIRFLOW_HOME=/opt/airflow PATH=/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:"
    "/usr/bin:/sbin:/bin PIP_NO_INDEX=1 PIP_FIND_LINKS=/opt/wheelhouse PIP_NO_CACHE_DIR=1 "
    "PIP_DISABLE_PIP_VERSION_CHECK=1"
)
AIRFLOW_PIP = "pip install --user requests==2.31.0 responses==0.25.0 Jinja2==3.1.3 python-dateutil==2.8.2"
# The airflow-base scenario image as this machine's classic builder wrote it, after the imported layer
AIRFLOW_CLASSIC = [
    (f"/bin/sh -c {AIRFLOW_RUN}", 3, "exact"),
    (
        "/bin/sh -c #(nop) COPY dir:e78753ca4131a140de3d12cdcfc2b8443a340ee896bfcf827ad38f63b0a9f89c in "
        "/opt/wheelhouse/ ",
        8,
        "likely",
    ),
    (f"/bin/sh -c #(nop)  ENV {AIRFLOW_ENV}", 9, "exact"),
    ("/bin/sh -c #(nop)  USER airflow", 15, "exact"),
    (f"/bin/sh -c {AIRFLOW_PIP}", 16, "exact"),
    (
        f"/bin/sh -c #(nop) COPY --chown=airflow:0file:{HASH} in /home/airflow/.local/bin/airflow ",
        17,
        "likely",
    ),
    (f"/bin/sh -c #(nop) COPY file:{HASH} in /entrypoint ", 18, "likely"),
    ("/bin/sh -c #(nop) WORKDIR /opt/airflow", 19, "exact"),
    (
        """/bin/sh -c #(nop)  HEALTHCHECK &{["CMD" "airflow" "jobs" "check"] "30s" "10s" "0s" '\\x00'}""",
        20,
        "exact",
    ),
    ('/bin/sh -c #(nop)  ENTRYPOINT ["/entrypoint"]', 21, "exact"),
    ('/bin/sh -c #(nop)  CMD ["scheduler"]', 22, "exact"),
]
# The same Dockerfile as BuildKit writes it
AIRFLOW_BUILDKIT = [
    (f"RUN /bin/sh -c {AIRFLOW_RUN} # buildkit", 3, "exact"),
    ("COPY wheels/ /opt/wheelhouse/ # buildkit", 8, "exact"),
    (f"ENV {AIRFLOW_ENV}", 9, "exact"),
    ("USER airflow", 15, "exact"),
    (f"RUN /bin/sh -c {AIRFLOW_PIP} # buildkit", 16, "exact"),
    ("COPY --chown=airflow:0 airflow /home/airflow/.local/bin/airflow # buildkit", 17, "exact"),
    ("COPY entrypoint /entrypoint # buildkit", 18, "exact"),
    ("WORKDIR /opt/airflow", 19, "exact"),
    (
        "HEALTHCHECK {Test:[CMD airflow jobs check] Interval:30s Timeout:10s StartPeriod:0s "
        "StartInterval:0s Retries:0}",
        20,
        "exact",
    ),
    ('ENTRYPOINT ["/entrypoint"]', 21, "exact"),
    ('CMD ["scheduler"]', 22, "exact"),
]


def entries(lines: list[str]) -> list[HistoryEntry]:
    return [HistoryEntry(line) for line in lines]


def located(dockerfile: Dockerfile, lines: list[str]) -> list[tuple[int, str]]:
    return [(match.line, match.confidence) for match in match_history(dockerfile, entries(lines))]


def scenario(name: str, **options: object) -> Dockerfile:
    return parse_dockerfile((SCENARIOS / name / "Dockerfile").read_text(), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("history", [AIRFLOW_CLASSIC, AIRFLOW_BUILDKIT], ids=["classic", "buildkit"])
def test_the_base_scenario_history_lands_on_its_lines(history: list[tuple[str, int, str]]) -> None:
    lines = [line for line, _, _ in history]
    assert located(scenario("airflow-base"), lines) == [(line, confidence) for _, line, confidence in history]


def test_matches_keep_the_history_index_and_the_instruction() -> None:
    history = [HistoryEntry(""), *entries([line for line, _, _ in AIRFLOW_CLASSIC])]
    matches = match_history(scenario("airflow-base"), history, start=1)
    assert [match.history_index for match in matches] == list(range(1, len(history)))
    first = matches[0]
    assert first.instruction is not None
    assert (first.instruction.keyword, first.line, first.end_line) == ("RUN", 3, 7)


def test_a_missing_entry_does_not_move_the_later_matches() -> None:
    for missing in (0, 2, 4, 6):
        kept = AIRFLOW_CLASSIC[:missing] + AIRFLOW_CLASSIC[missing + 1 :]
        assert located(scenario("airflow-base"), [line for line, _, _ in kept]) == [
            (line, confidence) for _, line, confidence in kept
        ]


def test_extra_entries_before_the_file_s_own_fall_back_to_the_from_line() -> None:
    """ONBUILD triggers of the base run right after FROM and write entries no instruction here wrote."""
    triggers = ["/bin/sh -c echo triggered", f"/bin/sh -c #(nop) COPY file:{HASH} in /opt/airflow/dags/ "]
    history = [*triggers, f"/bin/sh -c #(nop) COPY --chown=airflow:rootfile:{HASH} in /opt/airflow/dags/ "]
    assert located(scenario("derived-dag"), history) == [(2, "none"), (2, "none"), (3, "likely")]


def test_an_entry_no_instruction_writes_falls_back_to_the_from_line() -> None:
    dockerfile = scenario("derived-root")
    assert located(
        dockerfile, ["/bin/sh -c #(nop)  MAINTAINER someone", "", "/bin/sh -c #(nop)  USER root"]
    ) == [
        (2, "none"),
        (2, "none"),
        (3, "exact"),
    ]
    (fallback,) = match_history(dockerfile, [HistoryEntry("/bin/sh -c #(nop)  LABEL a=b")])
    assert (fallback.confidence, fallback.instruction, fallback.line) == ("none", None, 2)


def test_a_changed_text_with_the_same_keyword_is_not_claimed_but_keeps_the_rest_in_step() -> None:
    dockerfile = scenario("derived-syspkg")
    history = [
        "/bin/sh -c #(nop)  USER root",
        "/bin/sh -c pip install requests==2.99",
        "/bin/sh -c #(nop)  USER airflow",
    ]
    # the RUN at line 4 says another version: the entry goes to the FROM line, and the USER after it
    # still lands on line 5
    assert located(dockerfile, history) == [(3, "exact"), (2, "none"), (5, "exact")]


def test_each_instruction_takes_at_most_one_entry() -> None:
    history = ["/bin/sh -c #(nop)  USER root", "/bin/sh -c #(nop)  USER root"]
    assert located(scenario("derived-root"), history) == [(2, "none"), (3, "exact")]


# --- the derived scenarios, as the classic builder writes them


def _joined(name: str, first: int, last: int) -> str:
    """Lines first..last of a scenario's Dockerfile, comment lines left out and each backslash-newline
    removed, as the builders join a continuation."""
    lines = (SCENARIOS / name / "Dockerfile").read_text().split("\n")[first - 1 : last]
    return "\n".join(line for line in lines if not line.lstrip().startswith("#")).replace("\\\n", "")


ROOT, AIRFLOW = "/bin/sh -c #(nop)  USER root", "/bin/sh -c #(nop)  USER airflow"
DERIVED = {
    "derived-dag": [
        (f"/bin/sh -c #(nop) COPY --chown=airflow:rootfile:{HASH} in /opt/airflow/dags/ ", 3, "likely")
    ],
    "derived-nolib": [
        (ROOT, 3, "exact"),
        ("/bin/sh -c rm -f /usr/lib/x86_64-linux-gnu/libpq.so.5*", 4, "exact"),
        (AIRFLOW, 5, "exact"),
    ],
    "derived-oddnames": [
        (ROOT, 3, "exact"),
        ("/bin/sh -c " + _joined("derived-oddnames", 6, 9).removeprefix("RUN "), 6, "exact"),
        (AIRFLOW, 10, "exact"),
    ],
    "derived-pin": [("/bin/sh -c pip install requests==2.28.1", 3, "exact")],
    "derived-purge": [
        (ROOT, 3, "exact"),
        ("/bin/sh -c dpkg --purge --force-depends libpq5", 4, "exact"),
        (AIRFLOW, 5, "exact"),
    ],
    "derived-root": [(ROOT, 3, "exact")],
    "derived-shadowlib": [
        (ROOT, 3, "exact"),
        (
            "/bin/sh -c cp /usr/lib/x86_64-linux-gnu/libpq.so.5.* /usr/local/lib/libpq.so.5 && ldconfig",
            4,
            "exact",
        ),
        (AIRFLOW, 5, "exact"),
    ],
    "derived-syspkg": [
        (ROOT, 3, "exact"),
        ("/bin/sh -c pip install requests==2.28.1", 4, "exact"),
        (AIRFLOW, 5, "exact"),
    ],
    "derived-venv": [
        ("/bin/sh -c python3 -m venv /opt/airflow/venv", 3, "exact"),
        (
            "/bin/sh -c #(nop)  ENV PATH=/opt/airflow/venv/bin:/home/airflow/.local/bin:/usr/local/sbin:"
            "/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            4,
            "likely",  # $PATH comes from the base image
        ),
        (
            "/bin/sh -c #(nop) COPY file:6777f9dafbacf77279ff8277f9676a4df066ecce71203d57367c070f5f6da92c "
            "in /opt/airflow/",
            5,
            "likely",
        ),
        ("/bin/sh -c /opt/airflow/venv/bin/pip install -r /opt/airflow/requirements.txt", 6, "exact"),
    ],
}


@pytest.mark.parametrize("name", sorted(DERIVED))
def test_each_derived_scenario_lands_on_its_lines(name: str) -> None:
    history = DERIVED[name]
    assert located(scenario(name), [line for line, _, _ in history]) == [
        (line, confidence) for _, line, confidence in history
    ]


def test_the_base_environment_makes_a_substituted_env_exact() -> None:
    base_path = "/home/airflow/.local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    dockerfile = scenario("derived-venv", base_env={"PATH": base_path})
    env_line = DERIVED["derived-venv"][1][0]
    assert located(dockerfile, [env_line]) == [(4, "exact")]


# --- build arguments, heredocs, the exec form, COPY --from, as BuildKit and the classic builder write them

ARGS = "FROM x\nARG VERSION=2\nARG FLAVOUR\nRUN echo $VERSION\n"


def test_args_and_the_run_build_argument_prefix() -> None:
    buildkit = ["ARG VERSION=2 FLAVOUR", "RUN |2 VERSION=2 FLAVOUR= /bin/sh -c echo $VERSION # buildkit"]
    dockerfile = parse_dockerfile(ARGS.replace("ARG FLAVOUR\n", "").replace("VERSION=2", "VERSION=2 FLAVOUR"))
    assert located(dockerfile, buildkit) == [(2, "exact"), (3, "exact")]
    classic = ["/bin/sh -c #(nop)  ARG VERSION=2", "|1 VERSION=2 /bin/sh -c echo $VERSION"]
    dockerfile = parse_dockerfile("FROM x\nARG VERSION=2\nRUN echo $VERSION\n")
    assert located(dockerfile, classic) == [(2, "exact"), (3, "exact")]


def test_a_build_arg_the_file_was_not_told_of_makes_the_prefix_likely() -> None:
    dockerfile = parse_dockerfile("FROM x\nARG VERSION=2\nRUN echo $VERSION\n")
    history = ["ARG VERSION=3", "RUN |1 VERSION=3 /bin/sh -c echo $VERSION # buildkit"]
    assert located(dockerfile, history) == [(2, "likely"), (3, "likely")]
    told = parse_dockerfile("FROM x\nARG VERSION=2\nRUN echo $VERSION\n", {"VERSION": "3"})
    assert located(told, history) == [(2, "exact"), (3, "exact")]


def test_buildkit_heredoc_runs() -> None:
    text = (
        "FROM x\nRUN <<EOF\necho a\necho b\nEOF\n"
        "RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n"
        "RUN python3 <<EOF\nprint(2)\nEOF\n"
    )
    history = [
        "RUN /bin/sh -c echo a\necho b\n # buildkit",
        "RUN /bin/sh -c /dev/pipes/EOF # buildkit",
        "RUN /bin/sh -c python3 <<EOF\nprint(2)\nEOF # buildkit",
    ]
    assert located(parse_dockerfile(text), history) == [(2, "exact"), (6, "exact"), (10, "exact")]


def test_exec_form_runs() -> None:
    dockerfile = parse_dockerfile('FROM x\nRUN ["pip", "install", "x"]\n')
    assert located(dockerfile, ["RUN pip install x # buildkit"]) == [(2, "exact")]
    assert located(dockerfile, ["pip install x"]) == [(2, "exact")]


def test_copy_from_a_stage() -> None:
    text = (
        "FROM golang AS build\nRUN go build -o /out .\nFROM debian\nCOPY --from=build /out /usr/local/bin/\n"
    )
    dockerfile = parse_dockerfile(text)
    assert located(dockerfile, ["COPY /out /usr/local/bin/ # buildkit"]) == [(4, "exact")]
    assert located(dockerfile, [f"/bin/sh -c #(nop) COPY file:{HASH} in /usr/local/bin/ "]) == [(4, "likely")]


def test_a_target_built_on_an_earlier_stage_matches_both_stages() -> None:
    text = "FROM debian AS build\nUSER root\nRUN make\nFROM build\nRUN make test\nUSER nobody\n"
    history = [
        "USER root",
        "RUN /bin/sh -c make # buildkit",
        "RUN /bin/sh -c echo other # buildkit",
        "RUN /bin/sh -c make test # buildkit",
        "USER nobody",
    ]
    dockerfile = parse_dockerfile(text)
    assert located(dockerfile, history) == [
        (2, "exact"),
        (3, "exact"),
        (4, "none"),
        (5, "exact"),
        (6, "exact"),
    ]


def test_metadata_instructions_in_both_builders() -> None:
    text = (
        "FROM x\nLABEL org.opencontainers.image.title=app\nEXPOSE 8080 53/udp\nVOLUME /data\n"
        'STOPSIGNAL SIGINT\nSHELL ["/bin/bash", "-c"]\nRUN echo hi\nCMD echo hi\nONBUILD RUN echo later\n'
    )
    classic = [
        "/bin/sh -c #(nop)  LABEL org.opencontainers.image.title=app",
        "/bin/sh -c #(nop)  EXPOSE 53/udp 8080",
        "/bin/sh -c #(nop)  VOLUME [/data]",
        "/bin/sh -c #(nop)  STOPSIGNAL SIGINT",
        "/bin/sh -c #(nop)  SHELL [/bin/bash -c]",
        "/bin/bash -c echo hi",
        '/bin/bash -c #(nop)  CMD ["/bin/bash" "-c" "echo hi"]',
        "/bin/bash -c #(nop)  ONBUILD RUN echo later",
    ]
    assert located(parse_dockerfile(text), classic) == [(line, "exact") for line in range(2, 10)]
    buildkit = [
        "LABEL org.opencontainers.image.title=app",
        "EXPOSE [53/udp 8080/tcp]",
        "VOLUME [/data]",
        "STOPSIGNAL SIGINT",
        "SHELL [/bin/bash -c]",
        "RUN /bin/bash -c echo hi # buildkit",
        'CMD ["/bin/bash" "-c" "echo hi"]',
    ]  # BuildKit writes nothing for ONBUILD
    assert located(parse_dockerfile(text), buildkit) == [(line, "exact") for line in range(2, 9)]


# --- canonical history lines


@pytest.mark.parametrize(
    ("created_by", "keyword", "text"),
    [
        ("/bin/sh -c #(nop)  USER airflow", "USER", "USER airflow"),
        (f"/bin/sh -c #(nop) COPY file:{HASH} in /x ", "COPY", f"COPY file:{HASH} in /x"),
        ("|1 V=2 /bin/sh -c echo $V", "RUN", "RUN |1 V=2 /bin/sh -c echo $V"),
        ("RUN /bin/sh -c pip install x # buildkit", "RUN", "RUN /bin/sh -c pip install x"),
        ("ENV PATH=/x", "ENV", "ENV PATH=/x"),
        ("/bin/sh -c echo '#(nop) x'", "RUN", "RUN /bin/sh -c echo '#(nop) x'"),
        ("/bin/sh -c echo #(nop) x", "RUN", "RUN /bin/sh -c echo #(nop) x"),
        ("/bin/bash -o pipefail -c #(nop)  USER a", "USER", "USER a"),
        ("", "", ""),
    ],
)
def test_canonical_history_lines(created_by: str, keyword: str, text: str) -> None:
    line = canonical(created_by)
    assert (line.keyword, line.text) == (keyword, text)


# --- bounds


def test_long_histories_and_files_finish_quickly() -> None:
    dockerfile = parse_dockerfile("FROM x\n" + "".join(f"RUN step {i}\nUSER u{i}\n" for i in range(4000)))
    history = entries([f"/bin/sh -c step {i}" for i in range(20_000)])
    started = time.process_time()
    matches = match_history(dockerfile, history)
    assert time.process_time() - started < 10
    assert len(matches) == len(history)
    assert [match.line for match in matches[:3]] == [2, 4, 6]
    assert all(match.confidence == "none" for match in matches[ALIGNED_ENTRIES:])


def test_hostile_history_text_is_bounded() -> None:
    dockerfile = parse_dockerfile("FROM x\nENV A=$X B=$Y C=$Z\n" * 400)
    line = "ENV A=" + "a" * 2_000_000
    started = time.process_time()
    matches = match_history(dockerfile, [HistoryEntry(line, empty_layer=True)] * 400)
    assert time.process_time() - started < 10
    assert {match.confidence for match in matches} <= {"likely", "none"}


def test_matches_are_plain_values() -> None:
    (match,) = match_history(scenario("derived-root"), [HistoryEntry(ROOT, empty_layer=True)])
    assert isinstance(match, HistoryMatch)
    assert match == HistoryMatch(0, 3, 3, "exact", match.instruction)
