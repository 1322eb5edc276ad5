"""Credentials written in build instructions and history lines: each kind is recognised, named without its
value and cut out by the redaction every report string passes; the same command passing the credential the
safe way (a variable, a secret mount, stdin) has none."""

from __future__ import annotations

import time

import pytest

from layerdiff.text.instruction_secrets import instruction_credentials
from layerdiff.text.redaction import Redactor, safe_message
from layerdiff.text.secrets import redact_text
from tests.support.credentials import INSTRUCTIONS, PlantedInstruction


@pytest.mark.parametrize("planted", INSTRUCTIONS, ids=lambda planted: planted.kind)
def test_each_kind_is_recognised_and_redacted(planted: PlantedInstruction) -> None:
    line = planted.created_by()
    found = instruction_credentials(line)
    assert [c.kind for c in found] == [planted.kind]
    assert [line[c.start : c.end].strip("'\"") for c in found] == [planted.secret]
    assert planted.secret not in found[0].name
    redacted = redact_text(line)
    assert redacted is not None and planted.secret not in redacted and "<redacted>" in redacted
    redactor = Redactor(())
    assert redactor.may_cut(line) and planted.secret not in redactor.text(line)
    assert planted.secret not in safe_message(f"layer 3: {line}")


@pytest.mark.parametrize("planted", INSTRUCTIONS, ids=lambda planted: planted.kind)
def test_the_safe_way_has_no_credential(planted: PlantedInstruction) -> None:
    assert instruction_credentials(planted.created_by(clean=True)) == []


def test_names_say_what_holds_the_credential() -> None:
    names = {
        planted.kind + ":" + found.name
        for planted in INSTRUCTIONS
        for found in instruction_credentials(planted.created_by())
    }
    assert {
        "URL with a password:https://pypi.example.com",
        "flag with a password:--password",
        "flag with a token:--token",
        "flag with a password:docker -p",
        "credential variable:NPM_TOKEN",
        "credential header:Authorization",
        "flag with a password:mysql -p",
        "credential setting://registry.npmjs.org/:_authToken",
    } <= names


def test_more_forms() -> None:
    cases = {
        'RUN sh -c "curl --token abc123def https://x"': ["flag with a token"],
        "RUN openssl pkcs12 -export -passout pass:hunter2pw -in c.pem": ["flag with a password"],
        "RUN openssl pkcs12 -passin env:P12_PASSWORD -passout file:/run/secrets/p": [],
        "RUN sshpass -p sshpw-1x ssh host true": ["flag with a password"],
        "RUN git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r": ["GitHub token"],
        "RUN git clone https://a1b2c3d4e5f6g7h8i9j0k1@git.example.com/o/r": ["URL with a token"],
        "RUN git clone https://git@github.com/o/r && mkdir -p /opt/x && docker run -p 80:80 x": [],
        "RUN aws configure set aws_secret_access_key wJalrXUtnFEMIsecret": ["credential setting"],
        "RUN curl -H 'PRIVATE-TOKEN: glpat-only-format-missing' https://gitlab.example.com": [
            "credential header"
        ],
        "RUN docker build --secret id=npm,src=/run/npmrc . && tool --no-password x": [],
        "RUN --mount=type=secret,id=pypirc,target=/root/.pypirc pip install x": [],
    }
    for line, kinds in cases.items():
        assert [c.kind for c in instruction_credentials(line)] == kinds, line


def test_env_and_label_instructions_by_name() -> None:
    found = instruction_credentials("/bin/sh -c #(nop)  ENV DB_PASSWORD=envpw-9x GREETING=hello")
    assert [(c.kind, c.name) for c in found] == [("credential variable", "DB_PASSWORD")]


def test_hostile_history_lines_are_searched_in_linear_time() -> None:
    for text in (
        "a." * 300_000,
        "://" * 200_000,
        "docker " * 100_000 + "login",
        "--password " * 100_000,
        '"' * 300_000 + "'" * 300_000,
        "login x password " * 60_000,
        "Authorization: " * 60_000,
        "A=" * 300_000,
    ):
        started = time.process_time()
        redact_text(text)
        assert time.process_time() - started < 5, text[:20]
