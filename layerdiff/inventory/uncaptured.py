"""Files a collector reads that are too large to be read: each is a report warning naming the file and
the analysis it disables, never a silent gap (a dpkg status over the limit would hide every package).

A file a collector declares (``Capture``) is kept by the indexer, and read, only up to
``Limits.captured_file_bytes``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from layerdiff.fs.view import TreeView
from layerdiff.image.limits import Limits, format_amount
from layerdiff.image.paths import display
from layerdiff.index.capture import Capture, CaptureSpec


def readable_bytes(limits: Limits) -> int:
    """The largest captured file the collectors read."""
    return limits.captured_file_bytes


def uncaptured_files(view: TreeView, readers: Sequence[tuple[Capture, str]], limits: Limits) -> Iterator[str]:
    """A warning for each regular file a reader declares that is too large to read; ``readers`` pairs each
    declaration with what is lost without the file ("the deb packages it lists are not read")."""
    largest = readable_bytes(limits)
    compiled = [
        (CaptureSpec([capture]), lost) for capture, lost in readers if capture.paths or capture.patterns
    ]
    nodes = view.tree.nodes
    large = [(path, nodes[path].entry) for path, _, size in nodes.files() if size > largest]
    for path, entry in sorted(large):
        for spec, lost in compiled:
            if spec.wants(path):
                yield (
                    # "PATH: N bytes": the redaction would take "passwd is 5200" for a password
                    f"{display(path)}: {entry.size} bytes, more than the {format_amount(largest)} a file "
                    f"the inventory reads may have, so {lost} (limit captured-file-bytes; raise it with "
                    f"--limit captured-file-bytes=...)"
                )
                break
