"""Optional second stage: a sentence-transformers CrossEncoder re-scores the top hits.

Used only when a reranker model is configured (``RAGQA_RERANKER``, a hub id such as
``BAAI/bge-reranker-v2-m3`` or a local path). It re-orders the first ``depth``
retrieved passages by the cross-encoder's score of (question, passage); a clause
lookup's exact article stays first, and ties keep passage-id order.

Left out: batching across questions, and a default model (none ships offline).
"""

from __future__ import annotations

import os
from dataclasses import replace

from rag.errors import EmbedderError
from rag.types import Hit

ENV_VAR = "RAGQA_RERANKER"


class CrossEncoderReranker:
    def __init__(self, model: str, depth: int = 20, device: str = "cpu"):
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise EmbedderError(
                f"the reranker {model!r} needs sentence-transformers ({exc}); "
                "pip install torch==2.13.0 -e '.[st]', or unset RAGQA_RERANKER"
            ) from exc
        try:
            self._model = CrossEncoder(model, device=device)
        except Exception as exc:  # OSError for a missing model, ValueError for a bad one
            raise EmbedderError(
                f"cannot load the reranker {model!r} ({type(exc).__name__}: {exc}); pass a "
                "local model folder or a cached hub id in RAGQA_RERANKER, or unset it"
            ) from exc
        self.name = f"cross-encoder:{model}"
        self.depth = depth

    def rerank(self, question: str, hits: list[Hit]) -> list[Hit]:
        fixed = [h for h in hits if h.source == "clause"]
        movable = [h for h in hits if h.source != "clause"]
        head, tail = movable[: self.depth], movable[self.depth :]
        if not head:
            return hits
        scores = self._model.predict([(question, h.passage.text) for h in head])
        order = sorted(range(len(head)), key=lambda i: (-float(scores[i]), head[i].passage.id))
        ranked = fixed + [replace(head[i], score=float(scores[i]), source="rerank")
                          for i in order] + tail
        return [replace(h, rank=rank) for rank, h in enumerate(ranked, start=1)]


def load_reranker(spec: str | None = None) -> CrossEncoderReranker | None:
    """The configured reranker, or None when RAGQA_RERANKER is unset."""
    spec = spec or os.environ.get(ENV_VAR, "").strip()
    return CrossEncoderReranker(spec) if spec else None
