"""syft runs in a worker thread, on each image once its layers passed the limits (while the next image is
read); results are cached by image id. An image whose source exports it whole (the engine) is exported
once, to disk: syft scans that copy as soon as it is written, while the indexer still reads it."""

from __future__ import annotations

import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from layerdiff.image.limits import DEFAULT_LIMITS, Limits
from layerdiff.image.model import ImageSnapshot
from layerdiff.image.refs import ImageRef
from layerdiff.index.cache import IndexCache
from layerdiff.sbom.cyclonedx import read_cyclonedx
from layerdiff.sbom.model import SbomPackage
from layerdiff.sbom.syft import RunningScans, Syft, sbom_cache_key, scan
from layerdiff.sources.base import ImageSource
from layerdiff.sources.export_copy import ExportCopy


class SbomJobs:
    """One syft scan per image, started once the image is indexed (or its export copied) and collected
    after both are (the cache is only touched from the calling thread: SQLite connections do not cross
    threads)."""

    def __init__(
        self, syft: Syft, cache: IndexCache, platform: str | None, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self.syft = syft
        self.tool = f"syft {syft.version}"  # as the report names it
        self.cache_key = sbom_cache_key(syft)
        self._cache = cache
        self._platform = platform
        self._limits = limits
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="syft")
        self._jobs: dict[str, Future[str] | str] = {}
        self._running = RunningScans()
        self._copies: dict[str, ExportCopy] = {}  # by image id: exports copied for a scan, until removed
        self._early: dict[str, Future[str]] = {}  # scans started on a finished copy, before start()
        self._lock = threading.Lock()

    def prepare(self, ref: ImageRef, snapshot: ImageSnapshot, source: ImageSource) -> None:
        """Before the image is indexed: when it will need a scan and its source exports it whole, have the
        export copied to disk, and syft started on the copy once it is all there (an engine export holds
        layers uncompressed, its bytes held to the image's limits: nothing in it expands), so that syft
        need not ask for it again. A layer the indexer then refuses stops the review, and syft with it."""
        image_id = snapshot.image_id
        if image_id in self._jobs or image_id in self._copies:
            return
        cached = self._cache.get_sbom(image_id, self.cache_key)
        if cached is not None:
            self._jobs[image_id] = cached
            return
        parent = self._cache.scratch
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        directory = Path(tempfile.mkdtemp(prefix="export-", dir=parent))
        what = f"{snapshot.reference}: export"
        copy = ExportCopy(directory / "image.tar", self._limits, len(snapshot.layers), what)
        if source.copy_export(copy):
            self._copies[image_id] = copy
            copy.when_complete(lambda: self._start_early(image_id, ref, copy))
        else:
            shutil.rmtree(directory, ignore_errors=True)

    def _start_early(self, image_id: str, ref: ImageRef, copy: ExportCopy) -> None:
        # in the thread that wrote the copy; the pool refuses once the review is closing
        future = self._pool.submit(self._scan, ref, copy)
        with self._lock:
            self._early[image_id] = future

    def start(self, ref: ImageRef, snapshot: ImageSnapshot) -> None:
        """After the image is indexed (its copy, if any, then fully written): its scan, if not under way."""
        image_id = snapshot.image_id
        with self._lock:
            early = self._early.pop(image_id, None)
        if early is not None:
            self._jobs[image_id] = early
        elif image_id not in self._jobs:
            cached = self._cache.get_sbom(image_id, self.cache_key)
            if cached is not None:
                self._jobs[image_id] = cached
                return
            copy = self._copies.get(image_id)
            if copy is not None and not copy.complete:
                _remove(copy)  # every layer came from the cache: nothing was exported
                copy = None
            self._jobs[image_id] = self._pool.submit(self._scan, ref, copy)

    def _scan(self, ref: ImageRef, copy: ExportCopy | None) -> str:
        try:
            archive = copy.path if copy is not None else None
            return scan(self.syft, ref, self._platform, self._cache.scratch, self._running, archive)
        finally:
            if copy is not None:
                _remove(copy)

    def packages(self, snapshot: ImageSnapshot) -> list[SbomPackage]:
        job = self._jobs[snapshot.image_id]
        if isinstance(job, Future):
            document = job.result()
            self._cache.put_sbom(snapshot.image_id, self.cache_key, document)
            self._jobs[snapshot.image_id] = document
        else:
            document = job
        return read_cyclonedx(document, f"{self.tool} SBOM of {snapshot.reference}")

    def close(self) -> None:
        """After a finished review nothing is running; after one that stopped early, scans are stopped and
        export copies removed."""
        self._running.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        for copy in self._copies.values():  # those not scanned: the review stopped before
            _remove(copy)


def _remove(copy: ExportCopy) -> None:
    copy.discard()
    shutil.rmtree(copy.path.parent, ignore_errors=True)
