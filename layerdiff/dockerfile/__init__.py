"""Dockerfile locations: a Dockerfile parsed as BuildKit parses it (``parse_dockerfile``), and the image
history entries it wrote matched to the instructions and lines behind them (``match_history``). Pure: no
file, engine or registry is read here. See docs/dockerfile.md."""

from layerdiff.dockerfile.match import HistoryMatch, match_history
from layerdiff.dockerfile.model import (
    Confidence,
    Dockerfile,
    DockerfileError,
    Heredoc,
    HistoryText,
    Instruction,
    Stage,
)
from layerdiff.dockerfile.parse import parse_dockerfile

__all__ = [
    "Confidence",
    "Dockerfile",
    "DockerfileError",
    "Heredoc",
    "HistoryMatch",
    "HistoryText",
    "Instruction",
    "Stage",
    "match_history",
    "parse_dockerfile",
]
