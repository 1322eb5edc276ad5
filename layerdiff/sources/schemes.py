"""What a reference's text says before any transport reads it: the scheme names other tools use for images
(syft's and skopeo's) that name none of layerdiff's transports, and whether a bare argument is a path.

Pure text: nothing here touches the filesystem or imports a source.
"""

from __future__ import annotations

import re

# The schemes syft (and the containers/image tools) give that name something layerdiff does not read, and
# what to use instead. A bare ``dir:x`` or ``podman:alpine`` means one of these to anyone who knows syft, so
# it is refused rather than taken for an engine image of that name (``docker:podman:alpine`` still is one).
FOREIGN_SCHEMES = {
    "dir": "scans a directory of files, not an image; for an OCI image layout directory use oci:DIR",
    "file": "scans a single file, not an image; for an image archive use docker-archive: or oci-archive:",
    "singularity": "is a Singularity (SIF) image, which layerdiff does not read",
    "podman": (
        "is not read directly: export the image with `podman save -o IMAGE.tar NAME` and pass "
        "docker-archive:IMAGE.tar, or set DOCKER_HOST to podman's Docker-compatible socket and use docker:"
    ),
    "containerd": (
        "is not read directly: export the image with `ctr image export IMAGE.tar NAME` and pass "
        "oci-archive:IMAGE.tar"
    ),
    "containers-storage": (
        "is not read directly: export the image with `podman save -o IMAGE.tar NAME` and pass "
        "docker-archive:IMAGE.tar"
    ),
    "docker-daemon": "is skopeo's name for the Docker engine; layerdiff's is docker:",
}

# The names an image archive is commonly given: a bare argument ending in one is a file, never an engine
# image name
ARCHIVE_SUFFIXES = (".tar", ".tgz", ".tar.gz", ".tar.zst", ".tar.zstd", ".tar.xz", ".tar.bz2")

# A URI scheme; what follows ``:`` in an image name is a port (``host:5000/app``) or a tag (``app:1.0``).
SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
# docker's reference grammar (distribution/reference): [HOST[:PORT]/]PATH[:TAG][@DIGEST]
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[[0-9A-Fa-f:]+\])"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_NAME = re.compile(
    rf"(?:{_DOMAIN}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,})?",
    re.ASCII,
)


def is_image_name(text: str) -> bool:
    """Whether an engine could hold an image of this name."""
    return _IMAGE_NAME.fullmatch(text) is not None


def looks_like_path(text: str) -> bool:
    """A bare argument that can only mean a file or directory: it starts with ``.``, ``/`` or ``~``, ends
    in an archive's suffix, or holds a ``/`` where no image name could (``build/Base``). ``org/app`` is an
    image name as much as a relative path, and is left to the engine."""
    if text.startswith((".", "/", "~")) or text.lower().endswith(ARCHIVE_SUFFIXES):
        return True
    return "/" in text and not is_image_name(text)
