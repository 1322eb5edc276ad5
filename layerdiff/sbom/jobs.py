"""syft runs in a worker thread, on each image once its layers passed the limits (while the next image is
read); results are cached by image id."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

from layerdiff.image.model import ImageSnapshot
from layerdiff.image.refs import ImageRef
from layerdiff.index.cache import IndexCache
from layerdiff.sbom.cyclonedx import read_cyclonedx
from layerdiff.sbom.model import SbomPackage
from layerdiff.sbom.syft import RunningScans, Syft, scan


class SbomJobs:
    """One syft scan per image, started once the image is indexed and collected after both are (the cache
    is only touched from the calling thread: SQLite connections do not cross threads)."""

    def __init__(self, syft: Syft, cache: IndexCache, platform: str | None) -> None:
        self.syft = syft
        self.tool = f"syft {syft.version}"
        self._cache = cache
        self._platform = platform
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="syft")
        self._jobs: dict[str, Future[str] | str] = {}
        self._running = RunningScans()

    def start(self, ref: ImageRef, snapshot: ImageSnapshot) -> None:
        cached = self._cache.get_sbom(snapshot.image_id, self.tool)
        if cached is not None:
            self._jobs[snapshot.image_id] = cached
        elif snapshot.image_id not in self._jobs:
            self._jobs[snapshot.image_id] = self._pool.submit(
                scan, self.syft, ref, self._platform, self._cache.scratch, self._running
            )

    def packages(self, snapshot: ImageSnapshot) -> list[SbomPackage]:
        job = self._jobs[snapshot.image_id]
        if isinstance(job, Future):
            document = job.result()
            self._cache.put_sbom(snapshot.image_id, self.tool, document)
            self._jobs[snapshot.image_id] = document
        else:
            document = job
        return read_cyclonedx(document, f"{self.tool} SBOM of {snapshot.reference}")

    def close(self) -> None:
        """After a finished review nothing is running; after one that stopped early, scans are stopped."""
        self._running.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
