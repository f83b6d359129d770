"""The default backend on one machine: FAISS for vectors, our BM25 posting lists, RRF.

- ``dense``: FAISS inner product between the query vector and the passage vectors,
  restricted to the scope by an ID selector (the index's own nprobe / efSearch kept).
- ``bm25``: BM25 over the capped posting lists (``rag.index.lexical``).
- ``hybrid``: reciprocal rank fusion of the two lists, each ``CANDIDATES`` deep, with
  final texts ahead of drafts: passages of explanations and review reports weigh a
  little less, so for what the rules say the regulation's own article comes first.

Over a partial index (``rag.index.folder``: passages added but not embedded yet) the
dense list leaves out the passages without a vector, and the fusion lets each of them
rank by meaning where it ranks by keyword (``rag.search.fusion.rrf_partial``); ``dense``
alone does not find them until they are embedded.

Left out: learned fusion weights. A type-aware fusion (BM25's list weighted 0.5 to 3
times the dense one for questions that ask a number) was fitted by five-fold
cross-validation on eval/gold.jsonl and eval/dev.jsonl (hit@1): equal weights won in
every fold for number questions (out of fold 0.774 on gold, 0.528 on dev, against 0.774
and 0.547 for equal weights), so the fusion stays unweighted.
"""

from __future__ import annotations

import numpy as np

from rag.index.folder import LoadedIndex
from rag.index.vectors import search_parameters
from rag.search.fusion import rrf_partial, top_rows
from rag.search.query import Query, RetrieverName

from .base import Scope

CANDIDATES = 100  # how deep each list goes into the fusion
# weights of a document type in hybrid ranking: final texts before drafts and reports
TYPE_WEIGHT = {"explanation": 0.8, "report": 0.9}


class LocalBackend:
    """Ranking over the index folder's own FAISS file and lexical posting lists."""

    name = "local"

    def __init__(self, index: LoadedIndex):
        self.vectors = index.vectors  # a FAISS index, rows aligned with passages
        self.lexical = index.lexical
        self.passages = index.passages
        self._id_rank = index.passages.id_rank
        self._doc_of_row = index.passages.doc_of_row
        self._weight_of_doc = np.array([TYPE_WEIGHT.get(d.doc_type, 1.0)
                                        for d in index.documents])
        unembedded = index.unembedded
        self._embedded = None if unembedded is None else ~unembedded  # rows with a vector
        self._unembedded: frozenset[int] = frozenset(
            () if unembedded is None else np.flatnonzero(unembedded).tolist())

    def ranked(self, query: Query, retriever: RetrieverName, scope: Scope,
               k: int) -> list[tuple[int, float]]:
        if scope.empty:
            return []
        if retriever == "dense":
            return self._dense(query, scope.mask, k)
        if retriever == "bm25":
            return self._bm25(query, scope.mask, k)
        depth = max(k, CANDIDATES)
        dense = [r for r, _ in self._dense(query, scope.mask, depth)]
        lexical = [r for r, _ in self._bm25(query, scope.mask, depth)]
        fused = rrf_partial(dense, lexical, self._unembedded)
        rows = list(fused)
        for row, weight in zip(rows, self._weight_of_doc[self._doc_of_row[rows]].tolist(),
                               strict=True):
            fused[row] *= weight
        return [(r, fused[r]) for r in top_rows(fused, k, self._id_rank)]

    def vector(self, row: int) -> np.ndarray:
        return self.vectors.reconstruct(int(row))

    def article_rows(self, article_no: int, doc_id: str | None = None) -> np.ndarray:
        return self.passages.article_rows(article_no, doc_id)

    def _dense(self, query: Query, mask: np.ndarray | None, k: int) -> list[tuple[int, float]]:
        import faiss

        if query.vector is None:
            return []
        if self._embedded is not None:  # a partial index: stand-in rows are not ranked
            mask = self._embedded if mask is None else mask & self._embedded
        vector = query.vector.reshape(1, -1).astype(np.float32)
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
        scores, rows = self.vectors.search(vector, k, params=params)
        del bits
        pairs = [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
        return sorted(pairs, key=lambda x: (-x[1], self._id_rank[x[0]]))

    def _bm25(self, query: Query, mask: np.ndarray | None, k: int) -> list[tuple[int, float]]:
        scores = self.lexical.token_scores(query.tokens, mask)
        if not scores.any():
            return []
        top = np.argpartition(-scores, min(k, len(scores) - 1))[: k + 1]
        pairs = [(int(r), float(scores[r])) for r in top if scores[r] > 0]
        return sorted(pairs, key=lambda x: (-x[1], self._id_rank[x[0]]))[:k]
