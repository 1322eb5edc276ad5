"""The Dockerfile target: a Dockerfile (a scenario's, or one using every construct the parser reads) and an
image history, each mutated line by line with Dockerfile keywords and hostile values, parsed and matched."""

from __future__ import annotations

import functools
from pathlib import Path

from hypothesis import strategies as st

from layerdiff.dockerfile import match_history, parse_dockerfile
from layerdiff.image.model import HistoryEntry
from tests.fuzz.images import Artifact
from tests.fuzz.mutate_text import mutated_lines
from tests.fuzz.target import Target

SCENARIOS = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
DOCKERFILE, HISTORY = "Dockerfile", "history"
RICH = b"""\
# syntax=docker/dockerfile:1
ARG BASE=debian:bookworm
FROM --platform=$BUILDPLATFORM ${BASE} AS build
ARG VERSION=1 FLAVOUR
ENV A=1 B="two words" PATH=/opt/bin:$PATH
WORKDIR src
RUN make \\
    # a comment inside
    VERSION=${VERSION:-0} ${FLAVOUR:+--flavour=$FLAVOUR}
RUN cat <<A <<-"B" > /out
a $A
A
\tb
\tB
COPY --chown=app:app --chmod=0644 <<conf /etc/app.conf
key=${VERSION}
conf
FROM build AS final
COPY --from=build /out /usr/local/bin/
COPY --from=0 ["/a b", "/c/"]
USER ${USER:-app}
HEALTHCHECK --interval=1m30s --retries=3 CMD curl -f http://localhost/
EXPOSE 8080 53/udp
VOLUME ["/data"]
SHELL ["/bin/bash", "-c"]
ONBUILD RUN echo later
CMD ["serve"]
"""
KEYWORDS = (
    b"FROM scratch",
    b"FROM build AS x",
    b"RUN <<EOF",
    b"RUN <<-EOF",
    b"EOF",
    b"\tEOF",
    b"COPY --from=0 a b",
    b"ARG X=${X:-${X:-x}}",
    b"ENV A=$A$A$A$A",
    b"ENV K V",
    b"# escape=`",
    b"# syntax=x",
    b"RUN a \\",
    b"RUN a `",
    b"\\",
    b"USER ${A:+${B-c}}",
    b"WORKDIR ../x",
    b'CMD ["a", 1]',
    b"RUN [[[[[[",
    b"HEALTHCHECK --interval=xyz CMD true",
    b"ONBUILD ONBUILD RUN x",
)
HISTORY_KEYWORDS = (
    b"/bin/sh -c #(nop)  USER root",
    b"/bin/sh -c #(nop) COPY file:00 in /x ",
    b"|1 VERSION=1 /bin/sh -c make",
    b"RUN /bin/sh -c make # buildkit",
    b"WORKDIR /src",
    b"ENV A=1 B=two words PATH=/opt/bin:",
    b"",
)


@functools.cache
def _seeds() -> tuple[bytes, ...]:
    scenarios = sorted(path / DOCKERFILE for path in SCENARIOS.iterdir() if (path / DOCKERFILE).is_file())
    return (RICH, *(path.read_bytes() for path in scenarios))


@st.composite
def _dockerfile(draw: st.DrawFn) -> Artifact:
    seed = draw(st.sampled_from(_seeds()))
    text = draw(mutated_lines(seed, KEYWORDS, separator=b" ")) if draw(st.integers(0, 4)) else seed
    history = draw(mutated_lines(b"\n".join(HISTORY_KEYWORDS), HISTORY_KEYWORDS, separator=b" "))
    return Artifact({DOCKERFILE: text, HISTORY: history}, "")


def _parse_and_match(artifact: Artifact, scratch: Path) -> None:
    text = artifact.files[DOCKERFILE].decode("utf-8", "surrogateescape")
    dockerfile = parse_dockerfile(text, {"VERSION": "2"}, base_env={"PATH": "/usr/bin"})
    lines = artifact.files[HISTORY].decode("utf-8", "surrogateescape").split("\n")
    match_history(dockerfile, [HistoryEntry(line) for line in lines])


TARGETS = (
    Target(
        "dockerfile",
        "a Dockerfile and an image history, parsed and matched",
        _dockerfile(),
        _parse_and_match,
        300,
    ),
)
