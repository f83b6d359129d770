"""Build the index folder from a corpus folder, re-embedding only what changed.

Steps, each timed in the BuildReport: ingest (read, clean, split), embed (through
the on-disk embedding cache, so a rebuild embeds only new or changed passages),
FAISS, BM25, write (to a temporary folder swapped in whole).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.errors import RagError
from rag.index.collection import keep_originals, sources_dir
from rag.index.folder import Manifest, passage_lines, read_manifest, write_index
from rag.index.vectors import build_faiss, choose_faiss_index
from rag.ingest import Ingested, ingest
from rag.ingest.passages import ChunkingParams
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
    articles: tuple[ArticleCheck, ...] = ()  # article passages against 第N条 headings

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
        if self.up_to_date:
            return f"index at {self.index_dir} is up to date ({self.n_passages} passages)"
        return (
            f"indexed {self.n_documents} documents, {self.n_passages} passages into "
            f"{self.index_dir} ({self.faiss_index}); embedded {self.embedded}, reused "
            f"{self.reused} from cache; {steps}; total {sum(self.seconds.values()):.1f}s"
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


def build_index(
    corpus_dir: str | Path,
    index_dir: str | Path,
    embedder=None,
    params: ChunkingParams = ChunkingParams(),
    tokenizer: str = "mixed",
    faiss_kind: str = "auto",
    cache_dir: str | Path | None = None,
    progress: bool = True,
    force: bool = False,
) -> BuildReport:
    from rag.embed import load_embedder
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.lexical import LexicalIndex

    index_dir = Path(index_dir)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    ingested: Ingested = ingest(corpus_dir, params, read_cache=sources_dir(index_dir))
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
    if not force and _up_to_date(index_dir, fields, passages_sha256):
        return BuildReport(str(index_dir), len(ingested.documents), len(ingested.passages), 0,
                           len(ingested.passages), seconds, skipped, up_to_date=True,
                           faiss_index=kind, articles=checks)
    texts = [embedding_text(p) for p in ingested.passages]
    t = time.perf_counter()
    cache = EmbeddingCache(Path(cache_dir or index_dir.parent / "cache"), embedder.name, embedder.dim)
    vectors, stats = cache.embed(texts, embedder.embed_passages, progress=progress)
    seconds["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    vector_index = build_faiss(vectors, kind)
    seconds["faiss"] = time.perf_counter() - t
    t = time.perf_counter()
    lexical = LexicalIndex.build(texts, tokenizer)
    seconds["bm25"] = time.perf_counter() - t
    t = time.perf_counter()
    write_index(index_dir, fields, ingested.passages, ingested.documents, vector_index, lexical)
    seconds["write"] = time.perf_counter() - t
    return BuildReport(str(index_dir), len(ingested.documents), len(ingested.passages),
                       stats.misses, stats.hits, seconds, skipped, faiss_index=kind,
                       articles=checks)


def _up_to_date(index_dir: Path, fields: dict, passages_sha256: str) -> bool:
    """Same corpus, settings and passages (the splitting code may have changed)."""
    try:
        manifest: Manifest = read_manifest(index_dir)
    except RagError:
        return False
    current = {k: getattr(manifest, k) for k in fields}
    return current == fields and manifest.checksums.get("passages.jsonl") == passages_sha256
