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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.index.folder import MANIFEST_FILE
from rag.index.store import PassageStore
from rag.pipeline import Pipeline
from rag.search.query import DEFAULT_K, DEFAULT_RETRIEVER, RetrieverName
from rag.types import Answer, Document, Hit, Passage

log = logging.getLogger(__name__)


def _stamp(index_dir: Path) -> tuple[int, int] | None:
    """Identity of the index folder now in place: its manifest's inode and mtime."""
    try:
        stat = (index_dir / MANIFEST_FILE).stat()
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
            options = {**self._options, "embedder": self._pipeline.embedder}
            fresh = Pipeline.load(self._index_dir, **options)
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

    # ------------------------------------------------------------ rag.pipeline.QA

    @property
    def documents(self) -> tuple[Document, ...]:
        return self.current.documents

    @property
    def passages(self) -> PassageStore:
        return self.current.passages

    def search(self, question: str, k: int = DEFAULT_K,
               retriever: RetrieverName = DEFAULT_RETRIEVER, doc_id: str | None = None,
               doc_type: str | None = None, history: Sequence[str] = (),
               as_of: str | None = None, status: str | Sequence[str] = ()) -> list[Hit]:
        return self.current.search(question, k, retriever, doc_id, doc_type, history, as_of,
                                   status)

    def ask(self, question: str, k: int = DEFAULT_K,
            retriever: RetrieverName = DEFAULT_RETRIEVER, doc_id: str | None = None,
            doc_type: str | None = None, history: Sequence[str] = (),
            as_of: str | None = None, status: str | Sequence[str] = ()) -> Answer:
        return self.current.ask(question, k, retriever, doc_id, doc_type, history, as_of, status)

    def check(self, text: str, title: str | None = None, as_of: str | None = None) -> Any:
        return self.current.check(text, title, as_of)

    def statuses(self, as_of: str | None = None) -> dict:
        return self.current.statuses(as_of)

    def passage(self, passage_id: str) -> Passage:
        return self.current.passage(passage_id)

    def passages_of(self, doc_id: str) -> tuple[Passage, ...]:
        return self.current.passages_of(doc_id)

    def document(self, doc_id: str) -> Document:
        return self.current.document(doc_id)

    def __getattr__(self, name: str) -> Any:  # anything else: the current pipeline's
        return getattr(self.current, name)
