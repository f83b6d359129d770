"""Dense, lexical and hybrid retrieval over one loaded index, with clause lookup first.

- ``dense``: FAISS inner product between the e5 query vector and passage vectors.
- ``bm25``: BM25 over jieba words and bigrams (``rag.index.lexical``).
- ``hybrid``: reciprocal rank fusion of the two lists (``rrf``), with final texts
  ahead of drafts: passages of explanations and review reports weigh a little less,
  so for what the rules say the regulation's own article comes first.

Before any of them, a question that names an article (第二十条, 节约能源条例第二十条)
gets that exact article at rank 1, and a question that names a document is confined
to it and to the documents that issue, explain or quote it (``clause``). Filters
restrict retrieval to one document or one type.

Left out: query expansion and learned fusion weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.errors import QueryError
from rag.index.store import PassageStore
from rag.index.vectors import search_parameters
from rag.search.clause import ClauseRef, TitleResolver
from rag.types import Document, Hit

RETRIEVERS = ("bm25", "dense", "hybrid")
RRF_K = 60
CANDIDATES = 100  # how deep each list goes into the fusion
# weights of a document type in hybrid ranking: final texts before drafts and reports
TYPE_WEIGHT = {"explanation": 0.8, "report": 0.9}


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank of d).

    >>> fused = rrf([[7, 3, 5], [3, 9]], k=60)
    >>> sorted(fused, key=lambda d: (-fused[d], d))
    [3, 7, 9, 5]
    >>> round(fused[3], 5)  # 1/(60+2) + 1/(60+1)
    0.03252
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return scores


def top_rows(scores: dict[int, float], k: int, id_rank: np.ndarray) -> list[int]:
    """Rows by score, ties broken by passage id (``id_rank``: each row's place in id order).

    >>> top_rows({4: 0.5, 2: 0.5, 7: 0.9}, 2, np.array([0, 0, 3, 0, 1, 0, 0, 2]))
    [7, 4]
    """
    return sorted(scores, key=lambda r: (-scores[r], id_rank[r]))[:k]


@dataclass(frozen=True)
class Filters:
    doc_ids: tuple[str, ...] = ()
    doc_type: str | None = None


class Retriever:
    """Ranking over one index. Per passage it reads only the store's numpy columns
    (document, article number, id order); a passage is read from disk when returned."""

    def __init__(self, passages: PassageStore, documents: tuple[Document, ...],
                 vectors, lexical, embedder, quoting: dict[str, tuple[str, ...]] | None = None):
        self.passages = passages
        self.documents = documents
        self.vectors = vectors  # a FAISS index, rows aligned with passages
        self.lexical = lexical
        self.embedder = embedder
        self.titles = TitleResolver(documents, quoting)
        self._query_cache: dict[str, np.ndarray] = {}
        self._id_rank = passages.id_rank
        self._doc_of_row = passages.doc_of_row
        self._type_code = {t: i for i, t in enumerate(sorted({d.doc_type for d in documents}))}
        self._type_of_doc = np.array([self._type_code[d.doc_type] for d in documents],
                                     dtype=np.int8)
        self._weight_of_doc = np.array([TYPE_WEIGHT.get(d.doc_type, 1.0) for d in documents])

    # ------------------------------------------------------------ public

    def search(self, question: str, k: int = 10, retriever: str = "hybrid",
               filters: Filters = Filters(), ref: ClauseRef | None = None) -> list[Hit]:
        if retriever not in RETRIEVERS:
            raise QueryError(f"unknown retriever {retriever!r}; use one of {', '.join(RETRIEVERS)}")
        if not 1 <= k <= 1000:
            raise QueryError(f"k={k} is out of range; use 1 to 1000")
        ref = ref or self.titles.resolve(question)
        mask = self._mask(filters, ref)
        clause_rows = self._clause_rows(question, ref, mask)
        ranked = self._ranked(question, retriever, mask, k + len(clause_rows))
        in_clause = set(clause_rows)
        rows = clause_rows + [r for r, _ in ranked if r not in in_clause]
        scores = dict(ranked)
        hits = []
        for rank, row in enumerate(rows[:k], start=1):
            source = "clause" if row in in_clause else retriever
            score = scores.get(row, 1.0) if source != "clause" else 1.0
            hits.append(Hit(self.passages[row], float(score), rank, source))
        return hits

    # ------------------------------------------------------------ parts

    def _mask(self, filters: Filters, ref: ClauseRef) -> np.ndarray | None:
        mask = None
        if filters.doc_ids:
            mask = self._rows_of_docs(filters.doc_ids)
        if filters.doc_type:
            code = self._type_code.get(filters.doc_type, -1)
            type_mask = (self._type_of_doc == code)[self._doc_of_row]
            mask = type_mask if mask is None else mask & type_mask
        if ref.doc_ids:
            confined = self._rows_of_docs(ref.doc_ids + ref.related_ids)
            narrowed = confined if mask is None else mask & confined
            if narrowed.any():  # a title the filters exclude does not empty the result
                mask = narrowed
        return mask

    def _rows_of_docs(self, doc_ids: tuple[str, ...]) -> np.ndarray:
        """A row mask of these documents' passages (one gather, whatever their number)."""
        wanted = np.zeros(len(self.documents), dtype=bool)
        wanted[self.passages.doc_rows(doc_ids)] = True
        return wanted[self._doc_of_row]

    def _clause_rows(self, question: str, ref: ClauseRef, mask) -> list[int]:
        """The named article's passages; across documents, best matching document first."""
        if ref.article_no is None:
            return []
        if ref.doc_ids:
            groups = [self.passages.article_rows(ref.article_no, d) for d in ref.doc_ids]
        else:  # every document's article of that number
            rows = self.passages.article_rows(ref.article_no)
            docs = self._doc_of_row[rows]
            groups = [rows[docs == doc] for doc in np.unique(docs)]
        groups = [g.tolist() for g in groups if len(g) and (mask is None or mask[g[0]])]
        if len(groups) > 1:
            query = self.query_vector(question)

            def similarity(group):
                return -max(float(self._vector(r) @ query) for r in group)
            groups.sort(key=lambda g: (similarity(g), self._id_rank[g[0]]))
        return [row for group in groups for row in group]

    def agreement(self, question: str, depth: int = 5) -> int:
        """How many passages the dense and the lexical top ``depth`` share."""
        dense = {r for r, _ in self._dense(question, None, depth)}
        return len(dense & {r for r, _ in self._bm25(question, None, depth)})

    def _vector(self, row: int) -> np.ndarray:
        return self.vectors.reconstruct(int(row))

    def vector_of(self, passage_id: str) -> np.ndarray:
        return self._vector(self.passages.row_of(passage_id))

    def query_vector(self, question: str) -> np.ndarray:
        """The question's embedding, computed once for the last few questions."""
        cached = self._query_cache.get(question)
        if cached is None:
            cached = self.embedder.embed_query(question)
            if len(self._query_cache) >= 64:
                self._query_cache.pop(next(iter(self._query_cache)))
            self._query_cache[question] = cached
        return cached

    def _ranked(self, question: str, retriever: str, mask, k: int) -> list[tuple[int, float]]:
        depth = max(k, CANDIDATES)
        if retriever == "dense":
            return self._dense(question, mask, k)
        if retriever == "bm25":
            return self._bm25(question, mask, k)
        dense = [r for r, _ in self._dense(question, mask, depth)]
        lexical = [r for r, _ in self._bm25(question, mask, depth)]
        fused = rrf([dense, lexical])
        rows = list(fused)
        for row, weight in zip(rows, self._weight_of_doc[self._doc_of_row[rows]].tolist(),
                               strict=True):
            fused[row] *= weight
        return [(r, fused[r]) for r in top_rows(fused, k, self._id_rank)]

    def _dense(self, question: str, mask, k: int) -> list[tuple[int, float]]:
        import faiss

        query = self.query_vector(question).reshape(1, -1).astype(np.float32)
        params = bits = None
        if mask is not None:
            allowed = int(np.count_nonzero(mask))
            if allowed == 0:
                return []
            bits = np.packbits(mask, bitorder="little")  # kept alive through the search
            params = search_parameters(
                self.vectors, faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits)))
            k = min(k, allowed)
        k = min(k, self.vectors.ntotal)
        scores, rows = self.vectors.search(query, k, params=params)
        del bits
        pairs = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
        return sorted(pairs, key=lambda x: (-x[1], self._id_rank[x[0]]))

    def _bm25(self, question: str, mask, k: int) -> list[tuple[int, float]]:
        scores = self.lexical.scores(question, mask)
        if not scores.any():
            return []
        top = np.argpartition(-scores, min(k, len(scores) - 1))[: k + 1]
        pairs = [(int(r), float(scores[r])) for r in top if scores[r] > 0]
        return sorted(pairs, key=lambda x: (-x[1], self._id_rank[x[0]]))[:k]
