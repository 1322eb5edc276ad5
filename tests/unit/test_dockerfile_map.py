"""A Dockerfile that is not the one the image was built from says so in the report's warnings, and each
finding is located by its layer, its config instruction, or at the FROM line."""

from __future__ import annotations

from layerdiff.dockerfile import match_history, parse_dockerfile
from layerdiff.image.model import HistoryEntry
from layerdiff.report.dockerfile_map import dockerfile_warnings

DOCKERFILE = "FROM base\nUSER root\nRUN pip install requests==2.28.1\nUSER airflow\n"


def warnings_for(history: list[str]) -> tuple[str, ...]:
    dockerfile = parse_dockerfile(DOCKERFILE)
    entries = [HistoryEntry(created_by=line, empty_layer="RUN" not in line) for line in history]
    return dockerfile_warnings("Dockerfile", dockerfile, match_history(dockerfile, entries))


def test_the_file_the_image_was_built_from_gives_no_warning() -> None:
    history = [
        "/bin/sh -c #(nop)  USER root",
        "/bin/sh -c pip install requests==2.28.1",
        "/bin/sh -c #(nop)  USER airflow",
    ]
    assert warnings_for(history) == ()


def test_a_changed_instruction_and_a_missing_one_are_named() -> None:
    history = ["/bin/sh -c #(nop)  USER root", "/bin/sh -c pip install requests==2.99"]
    assert warnings_for(history) == (
        "1 of the 2 history entries the derived Dockerfile wrote match no instruction of Dockerfile; their "
        "findings are placed on its FROM line (line 1)",
        "2 instructions of Dockerfile (line 3, 4) wrote nothing in the derived image's history: it may have "
        "been built from another version of the file",
    )
