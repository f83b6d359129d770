"""A pipeline that follows its index folder: a rebuild while serving switches atomically.

``LivePipeline`` stands in for a ``Pipeline`` (attribute access is forwarded). At most
every ``check_seconds`` it looks at the index's manifest; when a rebuild has swapped
in a new folder, it loads the new index completely, with every check, and only then
replaces the pipeline it forwards to. A question in flight finishes on the pipeline
it started on; the next one sees the new index. A new index that fails to load
(damaged, another embedder) is logged and the old one keeps serving.

``open_or_build`` is how ``ragqa serve`` starts: the index if there is one; else a
keyword-only index within seconds (BM25 needs no model) while a background thread
embeds the passages and writes the full index, which the pipeline then switches to.
Until then every answer comes from BM25 and says so (``rag.pipeline.KEYWORD_NOTE``),
and ``LivePipeline.build`` tells how far the embedding is (``BuildStatus``).

Left out: watching the corpus folder (run ``ragqa index`` to rebuild), resuming a build
in another process (a killed build keeps its embeddings in the cache; the next start
embeds only the rest), and building in parallel processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from rag.errors import IndexMismatchError, IndexMissingError, RagError
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


@dataclass(frozen=True)
class BuildStatus:
    """How far a background build is; replaced whole at every step."""

    stage: Literal["keyword", "embedding", "writing", "done", "failed"]
    passages: int = 0  # passages in the corpus
    to_embed: int = 0  # passages in neither the shipped embeddings nor the cache
    embedded: int = 0  # of those, embedded so far
    seconds_left: float | None = None  # estimated from the rate so far
    seconds: float = 0.0  # since the build started
    error: str | None = None

    def describe(self) -> str:
        """One line for people: what answers now and what is left.

        >>> BuildStatus("embedding", 1969, 1969, 256, 400.0).describe()
        '关键词检索（向量生成中：已嵌入 256 / 1969 段，约剩 7 分钟）'
        >>> BuildStatus("done", 1969).describe()
        '混合检索（向量＋关键词）'
        """
        if self.stage == "done":
            return "混合检索（向量＋关键词）"
        if self.stage == "failed":
            return f"关键词检索（向量生成失败：{self.error}）"
        if self.stage == "embedding" and self.to_embed:
            left = ""
            if self.seconds_left is not None:
                left = (f"，约剩 {max(1, round(self.seconds_left / 60))} 分钟"
                        if self.seconds_left >= 90 else f"，约剩 {round(self.seconds_left)} 秒")
            return (f"关键词检索（向量生成中：已嵌入 {self.embedded} / {self.to_embed} 段"
                    f"{left}）")
        return "关键词检索（向量索引准备中）"


class LivePipeline:
    def __init__(self, index_dir: str | Path, check_seconds: float = 2.0,
                 first: Pipeline | None = None, **load_options: Any):
        """``first``: a pipeline to serve until an index appears at ``index_dir``."""
        self._index_dir = Path(index_dir)
        self._options = load_options
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        if first is None:
            self._stamp = _stamp(self._index_dir)
            self._pipeline = Pipeline.load(self._index_dir, **load_options)
        else:
            self._stamp, self._pipeline = None, first
        self._checked = time.monotonic()
        self.build: BuildStatus | None = None  # set by open_or_build's background build

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

    def refresh(self) -> Pipeline:
        """``current``, looking at the manifest now rather than at the next interval."""
        self._checked = float("-inf")
        return self.current

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

    @property
    def keyword_only(self) -> bool:
        return self.current.keyword_only

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


def open_or_build(index_dir: str | Path, corpus_dir: str | Path,
                  cache_dir: str | Path | None = None, check_seconds: float = 2.0,
                  **load_options) -> LivePipeline:
    """The index at ``index_dir`` if it has a manifest; else build it from ``corpus_dir``
    in a background thread and return as soon as its keyword-only index answers.

    Raises what the build raised if it fails before the keyword index is written.
    """
    from rag.index.folder import read_manifest

    try:
        read_manifest(Path(index_dir))
    except (IndexMissingError, IndexMismatchError):
        pass
    else:
        return LivePipeline(index_dir, check_seconds, **load_options)
    return _Build(Path(index_dir), Path(corpus_dir), cache_dir, check_seconds,
                  load_options).start()


class _Build:
    """One background build: keyword index first, then the vectors and the full index."""

    def __init__(self, index_dir: Path, corpus_dir: Path, cache_dir, check_seconds: float,
                 load_options: dict) -> None:
        self.index_dir, self.corpus_dir, self.cache_dir = index_dir, corpus_dir, cache_dir
        self.check_seconds, self.load_options = check_seconds, load_options
        self.started = time.monotonic()
        self.keyword_ready = threading.Event()
        self.live: LivePipeline | None = None
        self.error: BaseException | None = None
        self.embedding_started: float | None = None
        self.status = BuildStatus("keyword")

    def start(self) -> LivePipeline:
        threading.Thread(target=self._run, name="build-index", daemon=True).start()
        self.keyword_ready.wait()
        if self.live is None:
            raise self.error or RagError("the index build stopped before its keyword index")
        return self.live

    def _set(self, status: BuildStatus) -> None:
        status = replace(status, seconds=round(time.monotonic() - self.started, 1))
        self.status = status
        if self.live is not None:
            self.live.build = status

    def _keyword(self, folder: Path) -> None:
        first = Pipeline.load(folder, keyword_only=True, **self.load_options)
        self.live = LivePipeline(self.index_dir, self.check_seconds, first=first,
                                 **self.load_options)
        self._set(BuildStatus("embedding", len(first.passages)))
        self.keyword_ready.set()
        log.info("keyword index of %d passages answers; embedding the passages",
                 len(first.passages))

    def _progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.embedding_started is None or done == 0:
            self.embedding_started = now
        elapsed = now - self.embedding_started
        left = elapsed / done * (total - done) if done else None
        self._set(BuildStatus("embedding", self.status.passages, total, done,
                              None if left is None else round(left, 1)))
        if done == total:
            self._set(BuildStatus("writing", self.status.passages, total, done, 0.0))

    def _run(self) -> None:
        from rag.index.build import build_index

        try:
            report = build_index(self.corpus_dir, self.index_dir,
                                 embedder=self.load_options.get("embedder"),
                                 cache_dir=self.cache_dir, progress=False, force=True,
                                 on_keyword=self._keyword,
                                 on_progress=self._progress)
        except BaseException as exc:  # noqa: BLE001 - reported through the status
            self.error = exc
            log.error("building the index at %s failed: %s", self.index_dir, exc)
            self._set(replace(self.status, stage="failed", seconds_left=None,
                              error=f"{type(exc).__name__}: {exc}"[:300]))
            self.keyword_ready.set()
            return
        if self.live is not None:
            self.live.refresh()
        self._set(BuildStatus("done", report.n_passages, report.embedded, report.embedded, 0.0))
        log.info("%s", report.summary())
