"""``docker:NAME[:TAG|@DIGEST]``: an image in the Docker engine at ``DOCKER_HOST``, read through the SDK.

The engine can only export a whole image (``docker save``), as one stream. Layers are indexed as the
stream passes, never extracted; when syft is to scan the image too, the stream is copied to a
``docker-archive:`` file on its way (``export_copy``), so that the engine exports it once. Layers already
in the index cache are recognised by their tar size and passed over unread by the hash: the export is asked
for by the image id inspected (so a tag moved meanwhile cannot swap the image), and every layer that is
indexed is hashed and known by its digest, never by its place. Should a wanted layer not turn up because
it shares its size with a cached one, a second pass over the export hashes the members of those sizes.

The engine prepares the whole export before its first byte (most of the time an export takes):
``prefetch`` asks for it as soon as the image is known to need it, so that other work proceeds meanwhile.
"""

from __future__ import annotations

import errno
import os
import posixpath
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

import docker
import docker.errors
import requests.exceptions

from layerdiff.errors import EngineUnavailable, ImageError, ImageNotFound
from layerdiff.image.history import keyword
from layerdiff.image.limits import DEFAULT_LIMITS, LimitExceeded, Limits
from layerdiff.image.model import ImageSnapshot, LayerDescriptor
from layerdiff.image.streams import CHUNK, DigestReader, IterStream, ReadStream
from layerdiff.image.tarstream import TarEntry, TarReader
from layerdiff.sources.base import ImageSource, LayerStream, build_snapshot
from layerdiff.sources.export_copy import ExportCopy, file_chunks
from layerdiff.sources.json_docs import replace_surrogates

_LAYER_WRITING = {"RUN", "COPY", "ADD"}


def connect() -> docker.DockerClient:
    try:
        client = docker.DockerClient.from_env(version="auto", timeout=600)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise EngineUnavailable(
            f"cannot reach the Docker engine at {engine_address()}: {_reason(exc)}"
        ) from exc
    return client


def engine_address() -> str:
    """The engine the docker SDK tries, as a user would set it: DOCKER_HOST, else the default socket (the
    SDK reads no docker context)."""
    host = os.environ.get("DOCKER_HOST", "").strip()
    if host:
        return f"DOCKER_HOST={host}"
    return f"{_DEFAULT_SOCKET} (DOCKER_HOST is not set)"


_DEFAULT_SOCKET = "unix:///var/run/docker.sock"
_HINTS = {
    errno.ENOENT: "no such socket (is the engine running, and is that its socket?)",
    errno.ECONNREFUSED: "connection refused (is the engine running?)",
    errno.EACCES: "permission denied (may this user use the engine? the docker group)",
}


def _reason(exc: BaseException) -> str:
    """The OS error under the SDK's wrappers (requests, urllib3), said plainly; else the first line."""
    pending: list[object] = [exc]
    for _ in range(32):  # the wrappers nest a few levels deep; a cycle must not loop
        if not pending:
            break
        item = pending.pop(0)
        if isinstance(item, OSError) and item.errno is not None:
            return _HINTS.get(item.errno) or (item.strerror or str(item)).lower()
        if isinstance(item, BaseException):
            pending += [*item.args, item.__cause__, item.__context__]
    return _short(exc)


class EngineSource(ImageSource):
    def __init__(
        self, name: str, platform: str | None = None, limits: Limits = DEFAULT_LIMITS, bare: bool = False
    ) -> None:
        self.name = name
        self.platform = platform
        self.limits = limits
        self.reference = f"docker:{name}"
        # a bare argument may have been meant as a path: say that it is none either
        self._not_a_path = f"; and there is no file or directory {name!r}" if bare else ""
        self._copy: ExportCopy | None = None
        self._image_id: str | None = None  # once inspected: what is exported, should the tag move meanwhile
        self._prefetched: Future[Iterator[bytes]] | None = None  # the export asked for ahead, until read
        try:
            self.client = connect()
        except EngineUnavailable as exc:
            raise EngineUnavailable(f"{exc}{self._not_a_path}") from exc

    def copy_export(self, copy: ExportCopy) -> bool:
        self._copy = copy  # the next export requested is copied (a second pass is not)
        return True

    def prefetch(self, wanted: Sequence[LayerDescriptor]) -> None:
        """Ask the engine for the export now, in a thread: it answers only once it has prepared all of it."""
        if not wanted or self._prefetched is not None:
            return
        future: Future[Iterator[bytes]] = Future()

        def request() -> None:
            try:
                future.set_result(self._request_export())
            except BaseException as exc:  # raised where the export is read, as if asked for there
                future.set_exception(exc)

        self._prefetched = future
        threading.Thread(target=request, name="engine-export", daemon=True).start()

    def snapshot(self) -> ImageSnapshot:
        try:
            attrs: dict[str, Any] = self.client.api.inspect_image(self.name)  # type: ignore[no-untyped-call]
            history: list[dict[str, Any]] = self.client.api.history(self.name)  # type: ignore[no-untyped-call]
        except docker.errors.ImageNotFound as exc:
            raise ImageNotFound(f"{self.reference}: no such image in the engine{self._not_a_path}") from exc
        except docker.errors.APIError as exc:
            raise ImageError(f"{self.reference}: {_short(exc)}") from exc
        diff_ids = list((attrs.get("RootFS") or {}).get("Layers") or [])
        config: dict[str, Any] = {
            "architecture": attrs.get("Architecture"),
            "os": attrs.get("Os"),
            "config": attrs.get("Config") or {},
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": _history(history, len(diff_ids)),
        }
        if attrs.get("Variant"):
            config["variant"] = attrs["Variant"]
        digests = {d.split("@", 1)[1] for d in attrs.get("RepoDigests") or [] if "@" in d}
        manifest_digest = digests.pop() if len(digests) == 1 else None
        # the engine passes on what the image's config holds, lone surrogates included
        warnings: list[str] = []
        config = replace_surrogates(config, f"{self.reference}: config", warnings)
        tags = replace_surrogates(attrs.get("RepoTags"), f"{self.reference}: RepoTags", warnings)
        self._image_id = str(attrs["Id"])
        return build_snapshot(self.reference, config, self._image_id, manifest_digest, None, tags, warnings)

    def layer_streams(
        self, wanted: Sequence[LayerDescriptor], cached_sizes: Mapping[str, int]
    ) -> Iterator[LayerStream]:
        missing = {layer.diff_id for layer in wanted}
        passed_over: set[int] = set()  # sizes of the members taken for cached layers, unhashed
        copy, self._copy = self._copy, None
        cached = _Skip(set(cached_sizes.values()), passed_over)
        yield from self._pass(self._export, missing, cached, None, copy)
        if not (missing and passed_over):
            return
        # a wanted layer shares its size with a cached one: the members of those sizes are hashed to find
        # it, then it is indexed (a copy of the export, made for syft, serves without asking the engine)
        again = partial(self._reread, copy) if copy is not None and copy.complete else self._export
        holding: set[int] = set()
        yield from self._pass(again, missing, _Skip(passed_over, holding, hashed=True), passed_over, None)
        if holding:
            yield from self._pass(again, missing, _Skip(set(), set()), holding, None)

    def _reread(self, copy: ExportCopy) -> Iterator[bytes]:
        try:
            return file_chunks(copy.path.open("rb"))
        except OSError:  # syft finished and the copy is gone
            return self._export()

    def _export(self) -> Iterator[bytes]:
        prefetched, self._prefetched = self._prefetched, None
        return prefetched.result() if prefetched is not None else self._request_export()

    def _request_export(self) -> Iterator[bytes]:
        chunks: Iterator[bytes] = self.client.api.get_image(self._image_id or self.name, chunk_size=CHUNK)
        return chunks

    def _pass(
        self,
        export_chunks: Callable[[], Iterator[bytes]],
        missing: set[str],
        skip: _Skip,
        only_sizes: set[int] | None,
        copy: ExportCopy | None,
    ) -> Iterator[LayerStream]:
        try:
            chunks = export_chunks()
            # with a copy for syft, the engine's stream goes to disk at its own pace and is read from there
            # (read unbuffered: the tar reader asks for whole chunks, and a chunk passed over is not copied)
            raw: ReadStream = IterStream(chunks) if copy is None else copy.fill(chunks)
            try:
                yield from self._layers(raw, missing, skip, only_sizes)
                if copy is not None:
                    copy.wait()  # the whole export on disk: syft may then start on it
            finally:
                if copy is not None and not copy.complete:
                    copy.stop()
                raw.close()
        except docker.errors.APIError as exc:
            raise ImageError(f"{self.reference}: export failed ({_short(exc)})") from exc
        except requests.exceptions.RequestException as exc:
            raise ImageError(f"{self.reference}: export stream broken ({_short(exc)})") from exc

    def _layers(
        self,
        raw: ReadStream,
        missing: set[str],
        skip: _Skip,
        only_sizes: set[int] | None,
    ) -> Iterator[LayerStream]:
        # the strict tar reader, as for an archive file: it passes over a member's bytes in whole chunks
        export = TarReader(raw, f"{self.reference}: export", self.limits.tar_header_bytes)
        for _ in range(self.limits.layer_entries):
            member = export.next()
            if member is None:
                return
            if not _is_layer(member) or (only_sizes is not None and member.size not in only_sizes):
                continue
            if member.size in skip.sizes and not skip.hashed:
                skip.seen.add(member.size)  # passed over when the next member is asked for
                continue
            hashed = DigestReader(_MemberData(export), None, f"{self.reference}: layer {member.name}")
            if member.size in skip.sizes:
                hashed.drain()
                if hashed.digest in missing:
                    skip.seen.add(member.size)
                continue
            yield LayerStream(None, hashed)
            hashed.drain()
            missing.discard(hashed.digest)
        raise LimitExceeded(f"{self.reference}: export", "layer_entries", self.limits.layer_entries)

    def close(self) -> None:
        self._prefetched = None  # an export asked for and never read (the review stopped) is dropped
        self.client.close()


@dataclass(frozen=True)
class _Skip:
    """Members of these sizes are taken for cached layers and not indexed; ``seen`` collects the sizes
    passed over, or with ``hashed`` only those whose digest is of a wanted layer."""

    sizes: set[int]
    seen: set[int]
    hashed: bool = False


class _MemberData(ReadStream):
    """The current member's bytes, as a stream."""

    def __init__(self, export: TarReader) -> None:
        super().__init__()
        self._export = export

    def read(self, size: int = -1) -> bytes:
        return self._export.read(size if size is not None and size > 0 else CHUNK)


def _is_layer(member: TarEntry) -> bool:
    if member.type not in ("0", "7") or member.sparse is not None:
        return False  # duplicate layers are symlinks to their first copy
    name = member.name.lstrip("./")
    return posixpath.basename(name) == "layer.tar" or (
        name.startswith("blobs/sha256/") and member.size > 0 and not _is_small_json(member)
    )


def _is_small_json(member: TarEntry) -> bool:
    # OCI-style exports keep manifests and configs next to layers; a tar is at least 1 KiB
    return member.size < 1024


def _history(items: list[dict[str, Any]], layer_count: int) -> list[dict[str, Any]]:
    """Rebuild config-style history from the engine's history API, which does not say which entries made
    a layer: infer it from sizes and instructions, and give up (no per-layer history) if the counts differ."""
    ordered = list(reversed(items))
    sized = [bool(h.get("Size")) for h in ordered]
    writes = [
        keyword(str(h.get("CreatedBy") or "")) in _LAYER_WRITING or not h.get("CreatedBy") for h in ordered
    ]
    # Classic builds record a RUN that changed nothing as an empty layer, so size is the better first guess.
    guesses = [sized, [s or w for s, w in zip(sized, writes, strict=True)], writes]
    layered = next((g for g in guesses if sum(g) == layer_count), None)
    if layered is None:
        layered = [True] * len(ordered)  # unmappable: build_snapshot then attributes no history to layers
    return [
        {
            "created_by": h.get("CreatedBy") or "",
            "created": datetime.fromtimestamp(int(h.get("Created") or 0), UTC).isoformat(),
            "comment": h.get("Comment") or None,
            "empty_layer": not made_layer,
        }
        for h, made_layer in zip(ordered, layered, strict=True)
    ]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
