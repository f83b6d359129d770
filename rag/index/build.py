"""Build the index folder from a corpus folder, re-embedding only what changed.

Steps, each timed in the BuildReport: ingest (read, clean, split), embed (through
the on-disk embedding cache, so a rebuild embeds only new or changed passages),
FAISS, BM25, write (to a temporary folder swapped in whole), and, with a Milvus URI,
milvus (a new collection behind the alias, or the live one updated by id).

``ray``: the misses are embedded by actors on a Ray cluster (``rag.index.ray_embed``)
instead of in this process; the cache, the vectors and the index are the same.

A passage's vector comes from the corpus's shipped embeddings (``rag.index.shipped``)
when they hold its text, else from the index being replaced (a flat one, built with the
same embedder: its vectors are exact), else from the cache, else from the embedder (and
is then cached), so a fresh clone of the bundled corpus embeds nothing, and neither does
an add for the passages already indexed, whichever folder it is given. Vectors are stored at
float16 precision whatever their source (``rag.index.shipped.index_precision``).

``on_keyword(folder)`` lets a caller answer before the embedding: a keyword-only index
(no vectors) is written to ``keyword_folder(index_dir)`` right after BM25 and handed
over; ``on_progress(done, total)`` follows the embedding (not with ``ray``).
``partial_first`` (``ragqa add``): when some passages have a vector in neither the
shipped embeddings nor the cache, a partial index is swapped in at ``index_dir`` first
(every passage searchable by keyword, the known vectors by meaning; ``rag.index.folder``)
and ``on_partial(unembedded, passages)`` is called; then the rest is embedded and the
complete index swapped in. Stopped in between, the partial index stays, valid, and the
cache keeps what was embedded. Not with a Milvus URI (the collection is written once,
complete).
``export_embeddings`` writes the shipped embeddings of a corpus from the cache and the
embedder.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rag.errors import RagError
from rag.index.collection import keep_originals, sources_dir
from rag.index.embed_cache import CacheStats, cache_root
from rag.index.folder import Manifest, passage_lines, read_manifest, write_index
from rag.index.vectors import build_faiss, choose_faiss_index
from rag.ingest import Ingested, ingest
from rag.ingest.passages import ChunkingParams
from rag.ingest.readers.ocr import CACHE_FOLDER as OCR_CACHE_FOLDER
from rag.ingest.structure import ArticleCheck, article_checks
from rag.types import Passage


@dataclass(frozen=True)
class BuildReport:
    index_dir: str
    n_documents: int
    n_passages: int
    embedded: int  # passages embedded now (cache misses)
    reused: int  # passages whose vectors came from the cache
    seconds: dict  # step -> seconds
    skipped_files: tuple[tuple[str, str], ...]
    up_to_date: bool = False
    faiss_index: str = "flat"
    milvus: str = ""  # what happened to the Milvus collection, when a URI was given
    ray_workers: int = 0  # Ray actors that embedded the misses (0: this process)
    articles: tuple[ArticleCheck, ...] = ()  # article passages against 第N条 headings
    shipped: int = 0  # passages whose vectors came from the corpus's shipped embeddings
    kept: int = 0  # passages whose vectors came from the index being replaced

    def article_lines(self) -> list[str]:
        """Per article-structured document, its check; then one line for them all."""
        if not self.articles:
            return []
        bad = sum(not c.ok for c in self.articles)
        total = sum(c.articles for c in self.articles)
        return [c.line() for c in self.articles] + [
            f"article check: {len(self.articles)} documents, {total} article passages, "
            f"{bad} mismatched" + ("" if not bad else " (see MISMATCH above: a 第N条 heading "
                                   "out of sequence in the source is not taken as an article)")]

    def summary(self) -> str:
        steps = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        milvus = f"; {self.milvus}" if self.milvus else ""
        if self.up_to_date:
            return (f"index at {self.index_dir} is up to date ({self.n_passages} passages)"
                    f"{milvus}")
        on_ray = f" on {self.ray_workers} Ray workers" if self.ray_workers else ""
        return (
            f"indexed {self.n_documents} documents, {self.n_passages} passages into "
            f"{self.index_dir} ({self.faiss_index}); embedded {self.embedded}{on_ray}, reused "
            f"{self.shipped} shipped, {self.kept} indexed and {self.reused} cached vectors; "
            f"{steps}; total "
            f"{sum(self.seconds.values()):.1f}s"
            f"{milvus}"
        )


def embedding_text(passage: Passage) -> str:
    """What the embedder and BM25 see: the passage with its document and place.

    >>> from rag.types import Passage
    >>> p = Passage("d:1", "d", "山西省节约能源条例", "regulation", "f.txt", 3, "第一章 总则",
    ...             None, "第二条", 2, "第二条　本条例所称能源")
    >>> embedding_text(p)
    '山西省节约能源条例 第一章 总则 第二条\\n第二条　本条例所称能源'
    """
    # the 款 a piece of a split article names (its section) is for citations only
    section = passage.section if not passage.article else None
    place = " ".join(x for x in (passage.chapter, section, passage.article) if x)
    return f"{passage.doc_title} {place}".strip() + "\n" + passage.text


DEFAULT_TOKENIZER = "mixed"  # BM25's tokenizer (rag.text.tokenize) unless a build names one


def keyword_folder(index_dir: str | Path) -> Path:
    """Where ``build_index(on_keyword=...)`` writes its keyword-only index: beside the
    index (``.ragqa/.index.keyword``), overwritten by the next such build."""
    index_dir = Path(index_dir)
    return index_dir.parent / f".{index_dir.name}.keyword"


def build_index(
    corpus_dir: str | Path,
    index_dir: str | Path,
    embedder=None,
    params: ChunkingParams = ChunkingParams(),
    tokenizer: str = DEFAULT_TOKENIZER,
    faiss_kind: str = "auto",
    cache_dir: str | Path | None = None,
    progress: bool = True,
    force: bool = False,
    ray=None,
    milvus_uri: str | None = None,
    on_keyword: Callable[[Path], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    partial_first: bool = False,
    on_partial: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Build (or bring up to date) the index folder, and the Milvus collection at
    ``milvus_uri`` when one is given. ``ray``: a ``RayOptions`` to embed on Ray."""
    from rag.embed import load_embedder
    from rag.index.lexical import LexicalIndex

    index_dir = Path(index_dir)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    root = Path(cache_dir) if cache_dir else cache_root(index_dir)
    ingested: Ingested = ingest(corpus_dir, params, read_cache=sources_dir(index_dir),
                                ocr_cache=root / OCR_CACHE_FOLDER)
    seconds["ingest"] = time.perf_counter() - t
    checks = article_checks(ingested.documents, ingested.passages)
    embedder = embedder or load_embedder()
    skipped = tuple((s.name, s.reason) for s in ingested.corpus.skipped)
    kind = choose_faiss_index(len(ingested.passages), faiss_kind)
    fields = dict(
        embedder=embedder.name,
        dim=embedder.dim,
        corpus_sha256=ingested.corpus.sha256,
        files=tuple((f.name, f.sha256) for f in ingested.corpus.files),
        chunking=asdict(params),
        lexical_tokenizer=tokenizer,
        faiss_index=kind,
    )
    passages_sha256 = hashlib.sha256(passage_lines(ingested.passages)).hexdigest()
    keep_originals(index_dir, corpus_dir, ingested.corpus.files)
    texts = [embedding_text(p) for p in ingested.passages]
    embedded = _Embedded(texts, embedder, root, ray, progress, corpus_dir, on_progress,
                         previous=index_dir)
    if not force and _up_to_date(index_dir, fields, passages_sha256):
        milvus = _update_milvus(milvus_uri, ingested.passages, ingested.documents, texts,
                                embedded, embedder, passages_sha256, force, seconds)
        return BuildReport(str(index_dir), len(ingested.documents), len(ingested.passages),
                           embedded.stats.misses if embedded.stats else 0,
                           len(ingested.passages), seconds, skipped, up_to_date=True,
                           faiss_index=kind, articles=checks, milvus=milvus,
                           ray_workers=embedded.workers)
    t = time.perf_counter()
    lexical = LexicalIndex.build(texts, tokenizer)
    seconds["bm25"] = time.perf_counter() - t
    if on_keyword is not None:
        folder = keyword_folder(index_dir)
        write_index(folder, fields, ingested.passages, ingested.documents, None, lexical)
        on_keyword(folder)
    if partial_first and not milvus_uri:
        known, missing = embedded.known()
        if missing.any():
            t = time.perf_counter()
            write_index(index_dir, fields, ingested.passages, ingested.documents,
                        build_faiss(known, kind), lexical, np.flatnonzero(missing))
            seconds["partial"] = time.perf_counter() - t
            if on_partial is not None:
                on_partial(int(missing.sum()), len(ingested.passages))
    t = time.perf_counter()
    vectors = embedded.vectors()
    seconds["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    vector_index = build_faiss(vectors, kind)
    seconds["faiss"] = time.perf_counter() - t
    t = time.perf_counter()
    write_index(index_dir, fields, ingested.passages, ingested.documents, vector_index, lexical)
    seconds["write"] = time.perf_counter() - t
    milvus = _update_milvus(milvus_uri, ingested.passages, ingested.documents, texts,
                            embedded, embedder, passages_sha256, force, seconds)
    stats = embedded.stats
    assert stats is not None  # vectors() sets it
    return BuildReport(str(index_dir), len(ingested.documents), len(ingested.passages),
                       stats.misses, stats.hits, seconds, skipped,
                       faiss_index=kind, articles=checks, milvus=milvus,
                       ray_workers=embedded.workers, shipped=embedded.shipped,
                       kept=embedded.kept)


class _Embedded:
    """The passages' vectors through the cache, computed once when first needed, the
    misses embedded here or on Ray."""

    def __init__(self, texts: list[str], embedder, root: Path, ray, progress: bool,
                 corpus_dir: str | Path | None = None,
                 on_progress: Callable[[int, int], None] | None = None,
                 previous: Path | None = None):
        self._texts, self._embedder, self._root = texts, embedder, root
        self._ray, self._progress = ray, progress
        self._corpus, self._on_progress = corpus_dir, on_progress
        self._previous = previous
        self._vectors: np.ndarray | None = None
        self._without_model: tuple[np.ndarray, np.ndarray] | None = None
        self.stats: CacheStats | None = None  # of the texts neither shipped nor kept
        self.workers = 0
        self.shipped = 0  # texts whose vectors came from the shipped embeddings
        self.kept = 0  # texts whose vectors came from the index being replaced

    def vectors(self) -> np.ndarray:
        """Shipped, else cached, else embedded; rounded by ``index_precision``."""
        if self._vectors is not None:
            return self._vectors
        from rag.index.shipped import index_precision

        out, known = self._shipped()
        rest = [t for t, ok in zip(self._texts, known, strict=True) if not ok]
        found, self.stats = self._through_cache(rest)
        out[~known] = found
        self._vectors = index_precision(out)
        return self._vectors

    def known(self) -> tuple[np.ndarray, np.ndarray]:
        """The vectors there are without embedding (shipped, else cached; zero rows for
        the others, rounded like ``vectors``) and the row mask of the others."""
        from rag.index.embed_cache import EmbeddingCache
        from rag.index.shipped import index_precision

        out, known = self._shipped()
        cache = EmbeddingCache(self._root, self._embedder.name, self._embedder.dim)
        cached = np.array([not ok and t in cache for t, ok in zip(self._texts, known,
                                                                  strict=True)], dtype=bool)
        if cached.any():  # every text is cached: embed_passages is not called
            out[cached] = cache.embed([t for t, ok in zip(self._texts, cached, strict=True)
                                       if ok], self._embedder.embed_passages)[0]
        missing = ~(known | cached)
        out[missing] = 0.0
        return index_precision(out), missing

    def _shipped(self) -> tuple[np.ndarray, np.ndarray]:
        """A matrix with the shipped vectors filled in, then those of the index being
        replaced, and the mask of the rows filled (found once, copies returned)."""
        if self._without_model is None:
            from rag.index.embed_cache import text_key
            from rag.index.shipped import ShippedEmbeddings

            shipped = (None if self._corpus is None
                       else ShippedEmbeddings.load(self._corpus, self._embedder))
            keys = [text_key(t) for t in self._texts]
            known = np.array([shipped is not None and k in shipped for k in keys], dtype=bool)
            out = np.empty((len(self._texts), self._embedder.dim), dtype=np.float32)
            if shipped is not None and known.any():
                out[known] = shipped.vectors_of([k for k, ok in zip(keys, known, strict=True)
                                                 if ok])
            self.shipped = int(known.sum())
            rows, vectors = ({}, None) if self._previous is None or known.all() else \
                indexed_vectors(self._previous, self._embedder)
            kept = np.array([not ok and k in rows for k, ok in zip(keys, known, strict=True)],
                            dtype=bool)
            if vectors is not None and kept.any():
                out[kept] = vectors[[rows[k] for k, ok in zip(keys, kept, strict=True) if ok]]
            self.kept = int(kept.sum())
            self._without_model = out, known | kept
        out, known = self._without_model
        return out.copy(), known.copy()

    def _through_cache(self, texts: list[str]) -> tuple[np.ndarray, CacheStats]:
        from rag.index.embed_cache import FLUSH_EVERY, EmbeddingCache

        name, dim = self._embedder.name, self._embedder.dim
        cache = EmbeddingCache(self._root, name, dim)
        if self._ray is None:
            return cache.embed(texts, self._embedder.embed_passages, progress=self._progress,
                               on_progress=self._on_progress)
        from rag.index.ray_embed import RayEmbedding

        if all(t in cache for t in texts):  # nothing to send: Ray is not started
            return cache.embed(texts, self._embedder.embed_passages)
        with RayEmbedding(name, self._ray) as remote:
            self.workers = remote.workers
            # a flush per round of batches keeps every worker busy between two shard writes
            flush = max(FLUSH_EVERY, remote.workers * self._ray.batch_size * 2)
            cache = EmbeddingCache(self._root, name, dim, flush_every=flush)
            return cache.embed(texts, remote, progress=self._progress)


def indexed_vectors(index_dir: Path, embedder) -> tuple[dict[str, int], np.ndarray | None]:
    """The vectors of the index at ``index_dir`` by the key of their passage's embedding
    text, when it is a flat index built with ``embedder`` (stored exactly) and passes its
    checks; else nothing. Passages without a vector (a partial index) are left out."""
    import faiss

    from rag.index.embed_cache import text_key
    from rag.index.folder import (
        UNEMBEDDED_FILE,
        VECTORS_FILE,
        open_passages,
        read_documents,
        verify_checksums,
    )

    try:
        manifest = read_manifest(index_dir)
        if (manifest.embedder, manifest.dim, manifest.faiss_index) != (
                embedder.name, embedder.dim, "flat"):
            return {}, None
        verify_checksums(index_dir, manifest)
        index = faiss.read_index(str(index_dir / VECTORS_FILE))
        passages = open_passages(index_dir, read_documents(index_dir))
        if index.ntotal != len(passages):
            return {}, None
        vectors = index.reconstruct_n(0, index.ntotal)
        without = set(np.load(index_dir / UNEMBEDDED_FILE).tolist()) \
            if manifest.unembedded else set()
        rows = {text_key(embedding_text(p)): row for row, p in enumerate(passages)
                if row not in without}
    except (RagError, OSError, ValueError, RuntimeError):
        return {}, None  # no usable index there: the vectors come from elsewhere
    return rows, vectors


def export_embeddings(corpus_dir: str | Path, cache_dir: str | Path, embedder=None,
                      params: ChunkingParams = ChunkingParams(),
                      progress: bool = True) -> tuple[Path, int, int]:
    """Write ``<corpus>/embeddings/`` for the corpus's passages from the embedding cache
    and the embedder (never from older shipped embeddings). Returns the .npz path, the
    vectors written and how many of them had to be embedded now."""
    from rag.embed import load_embedder
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.shipped import write_shipped

    embedder = embedder or load_embedder()
    texts = [embedding_text(p) for p in ingest(corpus_dir, params).passages]
    cache = EmbeddingCache(Path(cache_dir), embedder.name, embedder.dim)
    vectors, stats = cache.embed(texts, embedder.embed_passages, progress=progress)
    _, npz = write_shipped(corpus_dir, embedder, texts, vectors)
    return npz, len(set(texts)), stats.misses


def _update_milvus(uri: str | None, passages, documents, texts, embedded: _Embedded, embedder,
                   passages_sha256: str, force: bool, seconds: dict) -> str:
    """Bring the collection at ``uri`` (and its documents) to these passages: a new
    collection behind the alias when there is none, the embedder changed or ``force``;
    else upsert / delete by id in place. Returns what was done, for the report."""
    if not uri:
        return ""
    from rag.index.milvus import (
        CollectionInfo,
        collection_info,
        describe_uri,
        documents_sha256,
        sync_collection,
        write_collection,
    )
    from rag.ingest.quotations import quotations

    t = time.perf_counter()
    quoting = quotations(documents, passages)
    info = CollectionInfo(embedder.name, embedder.dim, passages_sha256,
                          documents_sha256=documents_sha256(documents, quoting))
    current = collection_info(uri)
    if current == info and not force:
        return f"Milvus at {describe_uri(uri)} is up to date"
    vectors = embedded.vectors()
    if force or current is None or (current.embedder, current.dim, current.schema) != (
            info.embedder, info.dim, info.schema):
        name = write_collection(uri, passages, vectors, texts, info, documents=documents,
                                quoting=quoting)
        done = f"Milvus at {describe_uri(uri)}: wrote {name}, alias switched"
    else:
        sync = sync_collection(uri, passages, vectors, texts, info, documents=documents,
                               quoting=quoting)
        done = (f"Milvus at {describe_uri(uri)}: {sync.upserted} upserted, {sync.deleted} "
                f"deleted, {sync.unchanged} unchanged")
    seconds["milvus"] = time.perf_counter() - t
    return done


def _up_to_date(index_dir: Path, fields: dict, passages_sha256: str) -> bool:
    """Same corpus, settings and passages (the splitting code may have changed)."""
    try:
        manifest: Manifest = read_manifest(index_dir)
    except RagError:
        return False
    current = {k: getattr(manifest, k) for k in fields}
    return (current == fields and not manifest.unembedded
            and manifest.checksums.get("passages.jsonl") == passages_sha256)
