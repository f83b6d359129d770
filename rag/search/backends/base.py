"""The protocol every search backend implements, and the scope a search runs in.

A backend ranks passage rows (the positions ``rag.index.store.PassageStore`` gives
passages) for a parsed ``Query``: by dense similarity, by BM25, or fused. The
retriever (``rag.search.retrieve``) does everything around it that does not depend on
where the ranking runs: clause lookup, confinement to named documents, ties by id.

Left out: writes (a backend serves an index; ``rag.index.build`` writes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from rag.search.query import Query, RetrieverName


@dataclass(frozen=True, eq=False)
class Scope:
    """Where a search may look: every passage (both None), or the passages of
    ``doc_ids``; ``mask`` is the same set as a boolean row mask."""

    doc_ids: tuple[str, ...] | None = None
    mask: np.ndarray | None = field(default=None, repr=False)

    @property
    def empty(self) -> bool:
        return self.mask is not None and not self.mask.any()


class SearchBackend(Protocol):
    """Ranks passage rows for a query."""

    name: str

    def ranked(self, query: Query, retriever: RetrieverName, scope: Scope,
               k: int) -> list[tuple[int, float]]:
        """The best ``k`` (row, score) pairs, best first, ties broken by passage id."""
        ...

    def vector(self, row: int) -> np.ndarray:
        """The stored vector of a passage row (unit length)."""
        ...

    def article_rows(self, article_no: int, doc_id: str | None = None) -> np.ndarray:
        """Rows of an article's passages, exactly: in one document, or in every one."""
        ...
