"""One history line (``created_by``) in the canonical form instructions are compared in: the keyword
first, the builder's wrapping removed. Unlike ``layerdiff.image.history.instruction``, which shows a line to
a reader, this keeps the shell and the ``|N NAME=value`` build-argument prefix of a RUN, which tell an exact
match from a likely one.

classic  ``/bin/sh -c #(nop)  USER airflow``          -> ``USER airflow``
classic  ``/bin/sh -c #(nop) COPY file:ab… in /x ``   -> ``COPY file:ab… in /x``
classic  ``|1 V=2 /bin/sh -c echo $V``                -> ``RUN |1 V=2 /bin/sh -c echo $V``
BuildKit ``RUN /bin/sh -c pip install x # buildkit``  -> ``RUN /bin/sh -c pip install x``
BuildKit ``ENV PATH=/x``                              -> ``ENV PATH=/x``
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KEYWORDS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "HEALTHCHECK", "LABEL",
        "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
    }
)  # fmt: skip
# the classic builder's no-op: the SHELL's words (usually /bin/sh -c, the last an option), then #(nop)
_NOP = re.compile(r"^(?:\S+ ){0,7}?[-/]\S* #\(nop\)\s*")
_NOP_SEARCH = 512  # characters of a line searched for it
_BUILDKIT = "# buildkit"  # the suffix BuildKit gives the lines of instructions that make a layer


@dataclass(frozen=True, slots=True)
class HistoryLine:
    keyword: str  # "" for a line no instruction writes (an imported layer's empty created_by)
    text: str  # the canonical text: "KEYWORD ..."


def canonical(created_by: str) -> HistoryLine:
    text = created_by.strip()
    if text.endswith(_BUILDKIT):
        text = text.removesuffix(_BUILDKIT).rstrip()
    if not text:
        return HistoryLine("", "")
    first = text.split(" ", 1)[0]
    if first in KEYWORDS:
        return HistoryLine(first, text)
    nop = _NOP.match(text[:_NOP_SEARCH])
    if nop is not None:
        body = text[nop.end() :].strip()
        return HistoryLine(body.split(" ", 1)[0].upper(), body)
    return HistoryLine("RUN", "RUN " + text)
