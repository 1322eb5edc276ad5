"""The bounds on reading a Dockerfile. A Dockerfile is the user's own input, not image content, but it still
drives every loop of the parser: each bound here turns a runaway input into a one-line usage error."""

from __future__ import annotations

KiB, MiB = 1 << 10, 1 << 20

DOCKERFILE_CHARS = 4 * MiB  # the whole file
PHYSICAL_LINES = 200_000  # lines of the file, heredoc bodies included
PHYSICAL_LINE_CHARS = 64 * KiB - 1  # one line, as BuildKit's scanner
INSTRUCTION_CHARS = 1 * MiB  # one instruction with its continuation lines joined
INSTRUCTIONS = 10_000  # instructions in the file, FROM lines included
HEREDOCS = 64  # heredocs one instruction opens
HEREDOC_CHARS = 1 * MiB  # the body of one heredoc
SUBSTITUTION_DEPTH = 16  # ${A:-${B:-...}} nesting
EXPANDED_CHARS = 1 * MiB  # one word after variable substitution
EXPANDED_TOTAL_CHARS = 16 * MiB  # all words of the file after variable substitution

# The matcher aligns history entries with instructions by dynamic programming over a table of
# entries x instructions; past these the entries are located at the FROM line.
ALIGNED_ENTRIES = 500
ALIGNED_INSTRUCTIONS = 500
TEMPLATE_SCAN_CHARS = 64 * MiB  # history text searched for the fixed parts of templates, all pairs together
