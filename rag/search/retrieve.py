"""Retrieval over one loaded index: clause lookup first, then a backend's ranking.

A question that names an article (第二十条, 节约能源条例第二十条) gets that exact
article at rank 1; a question that names a document is confined to it and to the
documents that issue, explain or quote it. Options restrict retrieval to one document
or one type, and to documents of some statuses on a day (by default every document but
a version a later indexed one has replaced, so a question gets the text in force). Every
hit carries its document's status. The ranking itself (dense, bm25, hybrid) runs in a search backend
(``rag.search.backends``). Over a keyword-only index (no vectors yet) every retriever
is ``bm25``, the question is not embedded, and a clause lookup across documents keeps
document order. Over a partial index (passages added but not embedded yet) a hit whose
passage has no vector says ``bm25`` as its source, whatever the retriever: it was found
by keyword only.

Left out: query rewriting beyond the glossary, learned fusion weights.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from rag.embed import Embedder
from rag.index.folder import LoadedIndex
from rag.numerals import chinese_to_int
from rag.search.backends import Scope, SearchBackend
from rag.search.clause import ClauseRef, TitleResolver
from rag.search.query import Query, SearchOptions, parse_query
from rag.search.status import allowed_documents, parse_as_of, statuses
from rag.types import DocStatus, Hit, type_matches


def _sub_of(label: str | None) -> int:
    """1 for 第一百三十三条之一, 0 for 第一百三十三条.

    >>> _sub_of("第一百三十三条之一"), _sub_of("第十条"), _sub_of(None)
    (1, 0, 0)
    """
    m = re.search(r"条之([一二三四五六七八九十]+)$", label or "")
    return chinese_to_int(m.group(1)) if m else 0


class Retriever:
    """Ranking over one index. Per passage it reads only the store's numpy columns
    (document, article number, id order); a passage is read from disk when returned."""

    def __init__(self, index: LoadedIndex, backend: SearchBackend, embedder: Embedder | None):
        self.passages = index.passages
        self.documents = index.documents
        self.backend = backend
        self.embedder = embedder
        self.lexical_method = index.lexical.method
        self.keyword_only = index.keyword_only
        self._unembedded = index.unembedded  # a partial index: rows without a vector
        self.titles = TitleResolver(index.documents, index.quoting)
        self._id_rank = index.passages.id_rank
        self._doc_of_row = index.passages.doc_of_row
        self._documents_by_id = {d.id: d for d in index.documents}
        # (day, status by doc id, what the default filter keeps: None when it keeps all)
        self._statuses: tuple[str, dict[str, DocStatus], set[str] | None] | None = None

    def parse(self, question: object, history: Sequence[str] = ()) -> Query:
        """The question parsed once: cleaned, resolved, expanded, tokenised, embedded."""
        embed = None if self.embedder is None or self.keyword_only else self.embedder.embed_query
        return parse_query(question, self.titles, self.lexical_method, embed, history)

    def search(self, query: Query, options: SearchOptions = SearchOptions()) -> list[Hit]:
        if self.keyword_only:
            options = replace(options, retriever="bm25")
        _, status, default_kept = self._day(options.as_of)
        scope = self._scope(options, query.ref, status, default_kept)
        clause_rows = self._clause_rows(query, scope)
        ranked = self.backend.ranked(query, options.retriever, scope,
                                     options.k + len(clause_rows))
        in_clause = set(clause_rows)
        rows = clause_rows + [r for r, _ in ranked if r not in in_clause]
        scores = dict(ranked)
        hits = []
        for rank, row in enumerate(rows[: options.k], start=1):
            passage = self.passages[row]
            if row in in_clause:
                hits.append(Hit(passage, 1.0, rank, "clause", status[passage.doc_id]))
            else:
                source = options.retriever if self.embedded(row) else "bm25"
                hits.append(Hit(passage, float(scores[row]), rank, source,
                                status[passage.doc_id]))
        return hits

    def statuses(self, as_of: str | None = None) -> dict[str, DocStatus]:
        """Every document's status on a day (ISO; None: today), computed once a day."""
        return self._day(as_of)[1]

    def _day(self, as_of: str | None) -> tuple[str, dict[str, DocStatus], set[str] | None]:
        day = parse_as_of(as_of)
        cached = self._statuses
        if cached is None or cached[0] != day:
            status = statuses(self.documents, day)
            kept = set(allowed_documents(status, ()))
            cached = (day, status, None if len(kept) == len(status) else kept)
            self._statuses = cached  # one assignment: a reader sees a whole value
        return cached

    def embedded(self, row: int) -> bool:
        """Whether a passage row has a vector (False only in a partial index)."""
        return self._unembedded is None or not self._unembedded[row]

    def background(self, query: Query, depth: int) -> float:
        """The mean dense cosine of the question's top ``depth`` passages, over the whole
        index: what a passage must stand out from to be on the question's topic."""
        ranked = self.backend.ranked(query, "dense", Scope(), depth)
        return sum(score for _, score in ranked) / len(ranked) if ranked else 0.0

    def vector_of(self, passage_id: str) -> np.ndarray:
        return self.backend.vector(self.passages.row_of(passage_id))

    # ------------------------------------------------------------ parts

    def _scope(self, options: SearchOptions, ref: ClauseRef, status: dict[str, DocStatus],
               default_kept: set[str] | None) -> Scope:
        allowed: set[str] | None = None
        if options.doc_id:
            allowed = {options.doc_id}
        if options.doc_type:
            typed = {i for i, d in self._documents_by_id.items()
                     if type_matches(d, options.doc_type)}  # a type, or a kind (法律)
            allowed = typed if allowed is None else allowed & typed
        kept = set(allowed_documents(status, options.statuses)) if options.statuses \
            else default_kept  # by default: the version in force
        if kept is not None:
            allowed = kept if allowed is None else allowed & kept
        if ref.doc_ids:
            confined = set(ref.doc_ids + ref.related_ids)
            narrowed = confined if allowed is None else allowed & confined
            if narrowed:  # a title the filters exclude does not empty the result
                allowed = narrowed
        if allowed is None:
            return Scope()
        doc_ids = tuple(sorted(allowed))
        return Scope(doc_ids, self._rows_of_docs(doc_ids))

    def _rows_of_docs(self, doc_ids: tuple[str, ...]) -> np.ndarray:
        """A row mask of these documents' passages (one gather, whatever their number)."""
        wanted = np.zeros(len(self.documents), dtype=bool)
        wanted[self.passages.doc_rows(doc_ids)] = True
        return wanted[self._doc_of_row]

    def _clause_rows(self, query: Query, scope: Scope) -> list[int]:
        """The named article's passages; across documents, best matching document first."""
        ref = query.ref
        if ref.article_no is None:
            return []
        if ref.doc_ids:
            groups = [self.backend.article_rows(ref.article_no, d) for d in ref.doc_ids]
        else:  # every document's article of that number
            rows = self.backend.article_rows(ref.article_no)
            docs = self._doc_of_row[rows]
            groups = [rows[docs == doc] for doc in np.unique(docs)]
        mask = scope.mask
        kept = [g.tolist() for g in groups if len(g) and (mask is None or mask[g[0]])]
        # 第X条 and 第X条之一 share a number: keep the one the question names
        kept = [same for g in kept
                if (same := [r for r in g if _sub_of(self.passages[r].article) == ref.article_sub])]
        if len(kept) > 1 and query.vector is not None:
            vector = query.vector

            def similarity(group: list[int]) -> float:
                return -max(float(self.backend.vector(r) @ vector) for r in group)
            kept.sort(key=lambda g: (similarity(g), self._id_rank[g[0]]))
        return [row for group in kept for row in group]
