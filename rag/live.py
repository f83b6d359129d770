"""A pipeline that follows its index folder: a rebuild while serving switches atomically.

``LivePipeline`` stands in for a ``Pipeline`` (attribute access is forwarded). At most
every ``check_seconds`` it looks at the index's manifest; when a rebuild has swapped
in a new folder, it loads the new index completely, with every check, and only then
replaces the pipeline it forwards to. A question in flight finishes on the pipeline
it started on; the next one sees the new index. A new index that fails to load
(damaged, another embedder) is logged and the old one keeps serving.

Left out: watching the corpus folder (run ``ragqa index`` to rebuild).
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from rag.errors import RagError
from rag.pipeline import Pipeline

log = logging.getLogger(__name__)


def _stamp(index_dir: Path) -> tuple[int, int] | None:
    """Identity of the index folder now in place: its manifest's inode and mtime."""
    try:
        stat = (index_dir / "manifest.json").stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns


class LivePipeline:
    def __init__(self, index_dir: str | Path, check_seconds: float = 2.0, **load_options):
        self._index_dir = Path(index_dir)
        self._options = load_options
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._stamp = _stamp(self._index_dir)
        self._pipeline = Pipeline.load(self._index_dir, **load_options)
        self._checked = time.monotonic()

    @property
    def current(self) -> Pipeline:
        """The pipeline to answer with, reloaded first if the index was rebuilt."""
        now = time.monotonic()
        if now - self._checked >= self._check_seconds:
            self._checked = now
            stamp = _stamp(self._index_dir)
            if stamp is not None and stamp != self._stamp:
                self._reload(stamp)
        return self._pipeline

    def _reload(self, stamp) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is loading; keep serving the old index meanwhile
        try:
            fresh = Pipeline.load(self._index_dir, embedder=self._pipeline.embedder,
                                  **self._options)
        except RagError as exc:
            log.error("the rebuilt index at %s did not load (%s); still serving the old one",
                      self._index_dir, exc)
            self._stamp = stamp  # do not retry until it changes again
        else:
            self._pipeline, self._stamp = fresh, stamp  # one reference swap: atomic
            log.info("switched to the rebuilt index at %s (%d passages)", self._index_dir,
                     len(fresh.passages))
        finally:
            self._lock.release()

    def __getattr__(self, name: str):
        return getattr(self.current, name)
