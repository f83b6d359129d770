"""Second stage: re-order the top hits by a closer reading of each passage.

Two rerankers implement ``Reranker``:

- ``SentenceReranker`` (the default): a long article is one vector, and the sentence
  that answers a question is diluted by the rest of the article. It scores each of the
  first ``depth`` hits by its best sentence: the largest cosine between the question's
  vector and the vectors of the passage's sentences and items (``split_sentences``),
  embedded by the index's own embedder and kept in the embedding cache, so each sentence
  is embedded once per machine. The new order is by ``1 / rank + SENTENCE_WEIGHT *
  (best sentence - the best of all)``: the first stage's rank still counts, and a
  passage moves up when one of its sentences matches the question clearly better.
- ``CrossEncoderReranker`` (``RAGQA_RERANKER`` names a model, a hub id such as
  ``BAAI/bge-reranker-v2-m3`` or a local path): a sentence-transformers CrossEncoder
  scores (question, passage) pairs; its scores replace the first stage's.

``RAGQA_RERANKER=none`` turns reranking off. Both keep a clause lookup's exact article
first, move only the first ``depth`` other hits, and break ties by passage id.

Left out: batching across questions; a default cross-encoder (none ships offline);
sentence vectors built with the index (they are embedded on first use instead, so an
index builds as fast as before; the first answers over new passages pay about half a
second on two cores).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.embed import Embedder
from rag.errors import EmbedderError, RagError
from rag.index.embed_cache import EmbeddingCache
from rag.search.query import Query
from rag.text import split_sentences
from rag.types import Hit

log = logging.getLogger(__name__)

ENV_VAR = "RAGQA_RERANKER"
OFF = "none"  # RAGQA_RERANKER=none: no second stage
# Fitted by five-fold cross-validation on the answerable questions of eval/gold.jsonl and
# eval/dev.jsonl (373; hit@1 over weights 0 to 200 and depths 3 to 10): every fold chose
# the weight 75, four of five the depth 5. Figures in the README.
SENTENCE_DEPTH = 5
SENTENCE_WEIGHT = 75.0


class Reranker(Protocol):
    name: str
    depth: int  # how many of the first hits (clause lookups aside) it may re-order

    def rerank(self, query: Query, hits: Sequence[Hit]) -> list[Hit]: ...


def sentence_order(ranks: Sequence[int], best: Sequence[float], ids: Sequence[str],
                   weight: float = SENTENCE_WEIGHT) -> list[int]:
    """Positions of the hits in their new order: by ``1 / rank + weight * (best sentence
    cosine - the largest of them)``, ties by passage id.

    >>> sentence_order([1, 2, 3], [0.80, 0.83, 0.79], ["a", "b", "c"])  # b's sentence wins
    [1, 0, 2]
    >>> sentence_order([1, 2, 3], [0.830, 0.831, 0.79], ["a", "b", "c"])  # too close to move
    [0, 1, 2]
    >>> sentence_order([1, 2], [0.8, 0.8], ["b", "a"], weight=0.0)
    [0, 1]
    """
    top = max(best, default=0.0)
    keys = [1.0 / rank + weight * (b - top) for rank, b in zip(ranks, best, strict=True)]
    return sorted(range(len(keys)), key=lambda i: (-keys[i], ids[i]))


def _split(hits: Sequence[Hit], depth: int) -> tuple[list[Hit], list[Hit], list[Hit]]:
    """(clause lookups, the first ``depth`` other hits, the rest)."""
    fixed = [h for h in hits if h.source == "clause"]
    movable = [h for h in hits if h.source != "clause"]
    return fixed, movable[:depth], movable[depth:]


def _renumbered(hits: Sequence[Hit]) -> list[Hit]:
    return [replace(h, rank=rank) for rank, h in enumerate(hits, start=1)]


class SentenceReranker:
    """Re-orders the first hits by their best sentence's cosine to the question."""

    def __init__(self, embedder: Embedder, cache_root: str | Path,
                 depth: int = SENTENCE_DEPTH, weight: float = SENTENCE_WEIGHT):
        self.embedder = embedder
        self.name = "sentences"
        self.depth = depth
        self.weight = weight
        self._cache_root = Path(cache_root)
        self._cache: EmbeddingCache | None = None
        self._lock = threading.Lock()  # the cache is not thread-safe; a server answers in threads

    def rerank(self, query: Query, hits: Sequence[Hit]) -> list[Hit]:
        fixed, head, tail = _split(hits, self.depth)
        if len(head) < 2 or query.vector is None:  # nothing to order, or no vectors (keyword-only)
            return list(hits)
        try:
            best = self.best_sentences(query.vector, [h.passage.text for h in head])
        except RagError as exc:  # a cache or model failure must not cost the answer
            log.warning("sentence reranking skipped: %s", exc)
            return list(hits)
        order = sentence_order([h.rank for h in head], best, [h.passage.id for h in head],
                               self.weight)
        return _renumbered(fixed + [replace(head[i], sentence=best[i]) for i in order] + tail)

    def best_sentences(self, vector: np.ndarray, texts: Sequence[str]) -> list[float]:
        """For each text, the largest cosine between ``vector`` and its sentences."""
        pieces = [split_sentences(t) or [t] for t in texts]
        unique = sorted({s for sentences in pieces for s in sentences})
        with self._lock:
            if self._cache is None:
                self._cache = EmbeddingCache(self._cache_root, self.embedder.name,
                                             self.embedder.dim)
            vectors, _ = self._cache.embed(unique, self.embedder.embed_passages)
        cosine = dict(zip(unique, (vectors @ vector).tolist(), strict=True))
        return [max(cosine[s] for s in sentences) for sentences in pieces]


class CrossEncoderReranker:
    """Re-scores the first hits with a sentence-transformers CrossEncoder."""

    def __init__(self, model: str, depth: int = 20, device: str = "cpu"):
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise EmbedderError(
                f"the reranker {model!r} needs sentence-transformers ({exc}); "
                f"pip install torch==2.13.0 -e '.[st]', or unset {ENV_VAR}"
            ) from exc
        try:
            self._model = CrossEncoder(model, device=device)
        except Exception as exc:  # OSError for a missing model, ValueError for a bad one
            raise EmbedderError(
                f"cannot load the reranker {model!r} ({type(exc).__name__}: {exc}); pass a "
                f"local model folder or a cached hub id in {ENV_VAR}, or unset it"
            ) from exc
        self.name = f"cross-encoder:{model}"
        self.depth = depth

    def rerank(self, query: Query, hits: Sequence[Hit]) -> list[Hit]:
        fixed, head, tail = _split(hits, self.depth)
        if not head:
            return list(hits)
        scores = self._model.predict([(query.question, h.passage.text) for h in head])
        order = sorted(range(len(head)), key=lambda i: (-float(scores[i]), head[i].passage.id))
        return _renumbered(fixed + [replace(head[i], score=float(scores[i]), source="rerank")
                                    for i in order] + tail)


def load_reranker(embedder: Embedder, cache_root: str | Path,
                  spec: str | None = None) -> Reranker | None:
    """The configured reranker: ``spec`` (default ``RAGQA_RERANKER``) unset or
    ``sentences`` gives the sentence reranker, ``none`` none, anything else a
    cross-encoder model."""
    spec = (spec if spec is not None else os.environ.get(ENV_VAR, "")).strip()
    if spec.lower() == OFF:
        return None
    if not spec or spec.lower() == "sentences":
        return SentenceReranker(embedder, cache_root)
    return CrossEncoderReranker(spec)
