"""Mutated images as the sources read them: a docker save archive, an OCI layout directory or an OCI
archive, written with tests/support/imagebuilder.py from a seed image whose layers, config, compressed
blobs and manifest may have been mutated (with the digests that name them kept consistent, so that the
mutation reaches the code behind the digest checks), then edited on disk: index.json and manifest.json
rewritten, blobs turned into FIFOs, symlinks or directories, archive members dropped or renamed, bytes of
the archive itself changed."""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.mutate_bytes import mutated_bytes
from tests.fuzz.mutate_json import mutated_json
from tests.fuzz.mutate_tar import mutated_tar
from tests.support.imagebuilder import Image, write_docker_archive, write_oci_archive, write_oci_layout

FORMATS = ("docker-archive", "oci", "oci-archive")


@dataclass
class FuzzImage(Image):
    """An imagebuilder Image whose config, compressed blobs or manifest bytes can be replaced."""

    config_bytes: bytes | None = None
    blob_bytes: dict[int, bytes] = field(default_factory=dict)
    manifest_bytes: bytes | None = None

    def config_json(self) -> bytes:
        return self.config_bytes if self.config_bytes is not None else super().config_json()

    def blobs(self) -> list[bytes]:
        blobs = super().blobs()
        for position, data in self.blob_bytes.items():
            if position < len(blobs):
                blobs[position] = data
        return blobs

    def manifest(self) -> tuple[bytes, dict[str, bytes]]:
        manifest, blobs = super().manifest()
        return (self.manifest_bytes if self.manifest_bytes is not None else manifest), blobs


@dataclass(frozen=True)
class Artifact:
    """An input on disk: files (relative path -> bytes), symlinks (-> target) and FIFOs, plus the image
    reference that names it once written under a directory."""

    files: dict[str, bytes]
    reference: str  # with {root} for the directory it is written to
    symlinks: dict[str, str] = field(default_factory=dict)
    fifos: tuple[str, ...] = ()

    def write(self, root: Path) -> str:
        for name, data in self.files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name, target in self.symlinks.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).unlink(missing_ok=True)
            os.symlink(target, root / name)
        for name in self.fifos:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).unlink(missing_ok=True)
            os.mkfifo(root / name)
        return self.reference.format(root=root)

    def __repr__(self) -> str:
        # hypothesis prints failing inputs; the bytes are reproduced from its blob, not from this
        files = ", ".join(f"{name} ({len(data)} bytes)" for name, data in self.files.items())
        extra = [f"symlinks={self.symlinks}"] * bool(self.symlinks) + [f"fifos={self.fifos}"] * bool(
            self.fifos
        )
        return f"Artifact({files}{''.join(', ' + e for e in extra)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis's own printer would spell out every byte


def _slurp(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def written(image: Image, fmt: str, tag: str = "fuzz:latest") -> Artifact:
    """``image`` written by imagebuilder in ``fmt``, read back into memory."""
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        if fmt == "docker-archive":
            write_docker_archive(root / "image.tar", image, tag)
            return Artifact(
                {"image.tar": (root / "image.tar").read_bytes()}, "docker-archive:{root}/image.tar"
            )
        if fmt == "oci":
            write_oci_layout(root / "layout", {tag: image})
            return Artifact(_slurp(root / "layout"), "oci:{root}")
        write_oci_archive(root / "image.tar", {tag: image}, root)
        return Artifact({"image.tar": (root / "image.tar").read_bytes()}, "oci-archive:{root}/image.tar")


@st.composite
def mutated_model(draw: st.DrawFn, image: Image, json_only: bool = False) -> FuzzImage:
    """``image`` with its layers, config, blobs or manifest mutated (one or two of them)."""
    fuzz = FuzzImage(**{f: getattr(image, f) for f in ("layers", "config", "history", "compression")})
    fuzz = replace(
        fuzz, layers=list(fuzz.layers), compression=draw(st.sampled_from(("gzip", "none", "zstd")))
    )
    parts = ("config", "manifest") if json_only else ("layer", "layer", "config", "blob", "manifest")
    for part in draw(st.lists(st.sampled_from(parts), min_size=1, max_size=2, unique=True)):
        if part == "layer" and fuzz.layers:
            position = draw(st.integers(0, len(fuzz.layers) - 1))
            fuzz.layers[position] = draw(mutated_tar(fuzz.layers[position]))
        elif part == "config":
            fuzz.config_bytes = draw(mutated_json(json.loads(fuzz.config_json())))
        elif part == "blob" and fuzz.layers:
            position = draw(st.integers(0, len(fuzz.layers) - 1))
            fuzz.blob_bytes[position] = draw(mutated_bytes(fuzz.blobs()[position], max_ops=2))
        elif part == "manifest":
            fuzz.manifest_bytes = draw(mutated_json(json.loads(fuzz.manifest()[0])))
    return fuzz


def _members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as source:
        return {m.name: source.extractfile(m).read() for m in source.getmembers() if m.isfile()}  # type: ignore[union-attr]


def _pack(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as target:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@st.composite
def _edit_members(draw: st.DrawFn, members: dict[str, bytes], json_only: bool) -> dict[str, bytes]:
    names = sorted(members)
    name = draw(st.sampled_from(names))
    operation = "json" if json_only else draw(st.sampled_from(("json", "drop", "rename", "duplicate")))
    if operation == "json" or name.endswith(".json"):
        documents = [n for n in names if n.endswith(".json") or n == "oci-layout"] or names
        name = draw(st.sampled_from(documents))
        try:
            document = json.loads(members[name])
        except (ValueError, RecursionError):  # mutated already, beyond what json reads
            members[name] = draw(mutated_bytes(members[name]))
        else:
            members[name] = draw(mutated_json(document))
    elif operation == "drop":
        del members[name]
    elif operation == "rename":
        members[
            draw(st.sampled_from(("../escape", "/abs/path", "manifest.json", name + "/", "./" + name)))
        ] = members.pop(name)
    else:
        members = {**members, "copy/" + name: members[name]}
    return members


@st.composite
def _edit_layout(draw: st.DrawFn, artifact: Artifact, json_only: bool) -> Artifact:
    files, symlinks, fifos = dict(artifact.files), dict(artifact.symlinks), list(artifact.fifos)
    blobs = sorted(n for n in files if n.startswith("blobs/"))
    operation = "json" if json_only else draw(st.sampled_from(("json", "symlink", "dir", "drop")))
    if operation == "symlink" and draw(st.integers(0, 9)) == 9:
        operation = "endless"  # rare: each such input takes the whole per-input bound until bounded
    if operation == "json" or not blobs:
        name = draw(st.sampled_from(("index.json", "oci-layout")))
        try:
            document = json.loads(files[name])
        except (ValueError, RecursionError):
            files[name] = draw(mutated_bytes(files[name]))
        else:
            files[name] = draw(mutated_json(document))
        return replace(artifact, files=files)
    name = draw(st.sampled_from(blobs))
    del files[name]
    if operation == "endless":
        if draw(st.booleans()):
            fifos.append(name)
        else:
            symlinks[name] = "/dev/zero"
    elif operation == "symlink":
        symlinks[name] = draw(st.sampled_from(("/dev/null", "/etc/hostname", "../../..", "/", name)))
    elif operation == "dir":
        files[name + "/x"] = b""
    return replace(artifact, files=files, symlinks=symlinks, fifos=tuple(fifos))


@st.composite
def mutated_artifact(draw: st.DrawFn, image: Image, fmt: str, json_only: bool = False) -> Artifact:
    """``image`` mutated, written in ``fmt``, then perhaps edited on disk."""
    artifact = written(draw(mutated_model(image, json_only)), fmt)
    if draw(st.booleans()):
        if fmt == "oci":
            artifact = draw(_edit_layout(artifact, json_only))
        else:
            members = draw(_edit_members(_members(artifact.files["image.tar"]), json_only))
            artifact = replace(artifact, files={"image.tar": _pack(members)})
    if not json_only and fmt != "oci" and draw(st.integers(0, 7)) == 0:
        artifact = replace(artifact, files={"image.tar": draw(mutated_bytes(artifact.files["image.tar"]))})
    return artifact
