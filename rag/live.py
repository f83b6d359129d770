"""A pipeline that follows its index folder: a rebuild while serving switches atomically.

``LivePipeline`` stands in for a ``Pipeline`` (attribute access is forwarded). At most
every ``check_seconds`` it looks at the index's manifest; when a rebuild has swapped
in a new folder, it loads the new index completely, with every check, and only then
replaces the pipeline it forwards to. A question in flight finishes on the pipeline
it started on; the next one sees the new index. A new index that fails to load
(damaged, another embedder) is logged and the old one keeps serving.

A replica without a folder (the ``milvus`` backend, no folder at ``index_dir``) follows
the Milvus alias the same way, from a background thread (reading a collection takes
seconds, not a question's time).

``open_or_build`` is how ``ragqa serve`` starts: the index if there is one; else a
keyword-only index within seconds (BM25 needs no model) while a background thread
embeds the passages and writes the full index, which the pipeline then switches to.
Until then every answer comes from BM25 and says so (``rag.pipeline.KEYWORD_NOTE``),
and ``LivePipeline.build`` tells how far the embedding is (``BuildStatus``).

``add_in_background`` is how the UI adds files to a running server's index: it returns
once the new documents are searchable by keyword (``ragqa add`` swaps in a partial
index first, ``rag.index.collection``) and embeds their passages in a background
thread, its progress in ``LivePipeline.build`` (``scope`` "added"). ``pending`` is what
``/api/health`` and the UI's status line show: that progress, or, for a partial index
another process swapped in, how many passages still wait for a vector.

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
from typing import TYPE_CHECKING, Any, Literal

from rag.errors import IndexMismatchError, IndexMissingError, RagError
from rag.index.folder import MANIFEST_FILE
from rag.index.store import PassageStore
from rag.pipeline import Pipeline, milvus_only
from rag.search.query import DEFAULT_K, DEFAULT_RETRIEVER, RetrieverName
from rag.types import Answer, Document, Hit, Passage

if TYPE_CHECKING:
    from rag.index.collection import Change

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
    """How far a background build is; replaced whole at every step.

    ``scope`` "all": a first build, every answer comes from the keyword index until it
    is done; "added": an add whose new passages wait for their vectors, everything else
    answers by hybrid retrieval (``to_embed`` counts the new passages only).
    """

    stage: Literal["keyword", "embedding", "writing", "done", "failed"]
    passages: int = 0  # passages in the corpus
    to_embed: int = 0  # passages in neither the shipped embeddings nor the cache
    embedded: int = 0  # of those, embedded so far
    seconds_left: float | None = None  # estimated from the rate so far
    seconds: float = 0.0  # since the build started
    error: str | None = None
    scope: Literal["all", "added"] = "all"

    def describe(self) -> str:
        """One line for people: what answers now and what is left.

        >>> BuildStatus("embedding", 1969, 1969, 256, 400.0).describe()
        '关键词检索（向量生成中：已嵌入 256 / 1969 段，约剩 7 分钟）'
        >>> BuildStatus("done", 1969).describe()
        '混合检索（向量＋关键词）'
        >>> BuildStatus("embedding", 2032, 63, 16, 30.0, scope="added").describe()
        '混合检索（新加入的 47 段尚未嵌入，暂按关键词检索；已嵌入 16 / 63 段，约剩 30 秒）'
        """
        if self.stage == "done":
            return "混合检索（向量＋关键词）"
        left = ""
        if self.seconds_left is not None:
            left = (f"，约剩 {max(1, round(self.seconds_left / 60))} 分钟"
                    if self.seconds_left >= 90 else f"，约剩 {round(self.seconds_left)} 秒")
        if self.scope == "added":
            waiting = f"新加入的 {self.to_embed - self.embedded} 段"
            if self.stage == "failed":
                return f"混合检索（{waiting}向量生成失败，暂按关键词检索：{self.error}）"
            done = f"；已嵌入 {self.embedded} / {self.to_embed} 段{left}" if self.embedded else ""
            return f"混合检索（{waiting}尚未嵌入，暂按关键词检索{done}）"
        if self.stage == "failed":
            return f"关键词检索（向量生成失败：{self.error}）"
        if self.stage == "embedding" and self.to_embed:
            return (f"关键词检索（向量生成中：已嵌入 {self.embedded} / {self.to_embed} 段"
                    f"{left}）")
        return "关键词检索（向量索引准备中）"

    @property
    def running(self) -> bool:
        """Whether it can still change (not done, not failed)."""
        return self.stage not in ("done", "failed")


class _Clock:
    """Seconds left of an embedding, from the rate so far."""

    def __init__(self) -> None:
        self.started: float | None = None

    def left(self, done: int, total: int) -> float | None:
        now = time.monotonic()
        if self.started is None or done == 0:
            self.started = now
        elapsed = now - self.started
        return round(elapsed / done * (total - done), 1) if done else None


def pending(qa: Any) -> BuildStatus | None:
    """What a server shows about vectors still to come: a build or an add of this process
    (running or failed), else, for a partial index swapped in by another process
    (``ragqa add``), how many of its passages wait for a vector (``embedded`` 0: that
    process's progress is not known here); else the last build's "done", or None."""
    build = getattr(qa, "build", None)
    current = getattr(qa, "current", qa)
    unembedded = int(getattr(current, "unembedded", 0) or 0)
    if unembedded and (build is None or build.stage == "done"):
        return BuildStatus("embedding", len(current.passages), unembedded, 0, scope="added")
    return build


class LivePipeline:
    def __init__(self, index_dir: str | Path, check_seconds: float = 2.0,
                 first: Pipeline | None = None, **load_options: Any):
        """``first``: a pipeline to serve until an index appears at ``index_dir``.

        With the ``milvus`` backend and no folder at ``index_dir`` the index is read
        from Milvus (``Pipeline.load``), and a background thread follows the alias
        instead: every ``check_seconds`` it reads what the alias serves
        (``rag.index.replica.collection_stamp``); when a build has switched it (or a sync
        changed it in place), the new collection is read whole, then swapped in."""
        self._index_dir = Path(index_dir)
        self._options = load_options
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._milvus = milvus_only(index_dir, load_options.get("backend"),
                                   load_options.get("milvus_uri"))
        self._stopped = threading.Event()
        if first is None:
            self._stamp = self._stamp_now()
            self._pipeline = Pipeline.load(self._index_dir, **load_options)
        else:
            self._stamp, self._pipeline = None, first
        self._checked = time.monotonic()
        self.build: BuildStatus | None = None  # set by open_or_build's background build
        if self._milvus is not None:
            threading.Thread(target=self._follow_alias, name="follow-milvus-alias",
                             daemon=True).start()

    def _stamp_now(self) -> Any:
        if self._milvus is None:
            return _stamp(self._index_dir)
        from rag.index.replica import collection_stamp

        try:
            return collection_stamp(self._milvus)
        except RagError:  # Milvus down: the load after this says so, with the fix
            return None

    def _follow_alias(self) -> None:
        from rag.index.milvus import connect
        from rag.index.replica import collection_stamp

        assert self._milvus is not None
        client = None
        while not self._stopped.wait(self._check_seconds):
            try:
                client = client or connect(self._milvus)
                stamp = collection_stamp(self._milvus, client)
            except RagError as exc:  # Milvus down: questions say so; try again later
                log.debug("following the Milvus alias: %s", exc)
                client = None
                continue
            if stamp is not None and stamp != self._stamp:
                self._reload(stamp)

    def close(self) -> None:
        """Stop following the Milvus alias (a folder needs nothing stopped)."""
        self._stopped.set()

    @property
    def current(self) -> Pipeline:
        """The pipeline to answer with, reloaded first if the index was rebuilt."""
        now = time.monotonic()
        if self._milvus is None and now - self._checked >= self._check_seconds:
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
                      self._milvus or self._index_dir, exc)
            self._stamp = stamp  # do not retry until it changes again
        else:
            self._pipeline, self._stamp = fresh, stamp  # one reference swap: atomic
            log.info("switched to the rebuilt index at %s (%d passages)",
                     self._milvus or self._index_dir, len(fresh.passages))
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

    @property
    def unembedded(self) -> int:
        return self.current.unembedded

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
    in a background thread and return as soon as its keyword-only index answers. A
    partial index (an add stopped before its passages were embedded) answers at once
    and is finished in the background (``finish_in_background``).

    Raises what the build raised if it fails before the keyword index is written.
    """
    from rag.index.folder import read_manifest

    if milvus_only(index_dir, load_options.get("backend"), load_options.get("milvus_uri")):
        return LivePipeline(index_dir, check_seconds, **load_options)  # a Milvus replica
    try:
        manifest = read_manifest(Path(index_dir))
    except (IndexMissingError, IndexMismatchError):
        pass
    else:
        live = LivePipeline(index_dir, check_seconds, **load_options)
        if manifest.unembedded and not load_options.get("milvus_uri"):
            finish_in_background(live, corpus_dir)
        return live
    return _Build(Path(index_dir), Path(corpus_dir), cache_dir, check_seconds,
                  load_options).start()


class _Job:
    """A background thread whose starter waits for its first milestone (``ready``) and
    gets ``_result()``, or the error that stopped it before then."""

    thread_name = "job"
    stopped = "the job stopped"

    def __init__(self, status: BuildStatus) -> None:
        self.started = time.monotonic()
        self.clock = _Clock()
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.status = status

    def _run(self) -> None:
        raise NotImplementedError

    def _result(self) -> Any:
        raise NotImplementedError

    def start(self) -> Any:
        threading.Thread(target=self._run, name=self.thread_name, daemon=True).start()
        self.ready.wait()
        result = self._result()
        if result is None:
            raise self.error or RagError(self.stopped)
        return result

    def _stamped(self, status: BuildStatus) -> BuildStatus:
        """``status`` with the job's age."""
        return replace(status, seconds=round(time.monotonic() - self.started, 1))


class _Build(_Job):
    """One background build: keyword index first, then the vectors and the full index."""

    thread_name = "build-index"
    stopped = "the index build stopped before its keyword index"

    def __init__(self, index_dir: Path, corpus_dir: Path, cache_dir, check_seconds: float,
                 load_options: dict) -> None:
        super().__init__(BuildStatus("keyword"))
        self.index_dir, self.corpus_dir, self.cache_dir = index_dir, corpus_dir, cache_dir
        self.check_seconds, self.load_options = check_seconds, load_options
        self.live: LivePipeline | None = None

    def _result(self) -> LivePipeline | None:
        return self.live

    def _set(self, status: BuildStatus) -> None:
        status = self._stamped(status)
        self.status = status
        if self.live is not None:
            self.live.build = status

    def _keyword(self, folder: Path) -> None:
        first = Pipeline.load(folder, keyword_only=True, **self.load_options)
        self.live = LivePipeline(self.index_dir, self.check_seconds, first=first,
                                 **self.load_options)
        self._set(BuildStatus("embedding", len(first.passages)))
        self.ready.set()
        log.info("keyword index of %d passages answers; embedding the passages",
                 len(first.passages))

    def _progress(self, done: int, total: int) -> None:
        self._set(BuildStatus("embedding", self.status.passages, total, done,
                              self.clock.left(done, total)))
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
            self.ready.set()
            return
        if self.live is not None:
            self.live.refresh()
        self._set(BuildStatus("done", report.n_passages, report.embedded, report.embedded, 0.0))
        log.info("%s", report.summary())


def add_in_background(live: LivePipeline, paths: Sequence[str | Path] = (),
                      uploads: dict[str, bytes] | None = None,
                      corpus_dir: str | Path | None = None,
                      progress: Any = None) -> Change:
    """Add files to ``live``'s index (``rag.index.collection.add_files``) and return as
    soon as they are searchable: after the one swap when every new passage already has a
    vector, else after the keyword swap, with ``Change.unembedded`` > 0 and the rest
    embedded by a background thread. ``live.build`` follows it (``scope`` "added"):
    "embedding" with its progress, then "done", or "failed" with the error (the index
    then stays keyword-searchable for the new passages). A file that fails to read, or
    any failure before the first swap, raises here and changes nothing.
    """
    return _Add(live, list(paths), uploads, corpus_dir, progress).start()


def finish_in_background(live: LivePipeline, corpus_dir: str | Path | None = None) -> None:
    """Embed the passages a partial index at ``live`` lacks vectors for (an add that was
    stopped or failed), from the files it holds, in a background thread; returns at
    once. ``live.build`` follows it as for ``add_in_background``. Waits for the index's
    lock if another process is changing it (and then finds nothing left to do)."""
    current = live.current
    adding = _Add(live, [], None, corpus_dir, None)
    adding.shown = True
    adding._set(BuildStatus("embedding", len(current.passages), current.unembedded,
                            scope="added"))
    threading.Thread(target=adding._run, name="finish-embedding", daemon=True).start()


class _Add(_Job):
    """One add in a background thread; ``start`` waits for its first swap."""

    thread_name = "add-files"
    stopped = "the add stopped before its first swap"

    def __init__(self, live: LivePipeline, paths: list, uploads, corpus_dir,
                 progress) -> None:
        super().__init__(BuildStatus("embedding", scope="added"))
        self.live, self.paths, self.uploads = live, paths, uploads
        self.corpus_dir, self.progress = corpus_dir, progress
        self.change: Change | None = None  # what start() returns
        self.shown = False  # live.build shows it before the first swap (finishing)

    def _result(self) -> Change | None:
        return self.change

    def _set(self, status: BuildStatus) -> None:
        self.status = self._stamped(status)
        self.live.build = self.status

    def _partial(self, change: Change) -> None:
        self.live.refresh()
        self._set(BuildStatus("embedding", change.passages, change.unembedded, 0,
                              scope="added"))
        self.change = change
        self.ready.set()

    def _progress(self, done: int, total: int) -> None:
        if self.change is None:
            return  # before the keyword swap: nothing to show yet
        self._set(replace(self.status, to_embed=total, embedded=done,
                          seconds_left=self.clock.left(done, total)))

    def _run(self) -> None:
        from rag.index.collection import add_files

        try:
            # the folder followed, not the keyword folder a first build answers from
            change = add_files(self.paths, self.live._index_dir, self.corpus_dir,
                               embedder=self.live.embedder, progress=self.progress,
                               uploads=self.uploads, on_partial=self._partial,
                               on_embedding=self._progress)
        except BaseException as exc:  # noqa: BLE001 - raised by start(), or reported
            self.error = exc
            if self.change is not None or self.shown:
                log.error("embedding the added passages failed: %s", exc)
                self._set(replace(self.status, stage="failed", seconds_left=None,
                                  error=f"{type(exc).__name__}: {exc}"[:300]))
            self.ready.set()
            return
        self.live.refresh()
        if self.change is not None or self.shown:
            self._set(replace(self.status, stage="done", embedded=self.status.to_embed,
                              seconds_left=0.0))
        self.change = change
        self.ready.set()
