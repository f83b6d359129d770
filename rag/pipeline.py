"""The front door: one loaded index and the questions asked of it, ``search`` and ``ask``.

``Pipeline.load`` opens the index folder with every check (``rag.index.folder.open_index``:
format, embedder, checksums, and the corpus hash when a corpus folder is given), picks
the search backend (``rag.search.backends``) and the answerer (``rag.answer.base``).

``ask`` is the single code path behind ``ragqa ask``, the UI and the evaluation
harness: a question is parsed once into a ``Query``, retrieved, reranked (``rag.search.rerank``),
measured for the refusal check, and answered by the offline answerer, or by the
language model on top of it when RAGQA_LLM_* configure one.

A keyword-only index (``keyword_only``: vectors not built yet, ``ragqa serve`` while a
first build embeds) answers every retriever with BM25; its refusal check takes the
coverage of the question's terms alone (``rag.answer.offline.KEYWORD_COVERAGE``), and each
answer says in its note that it comes from the keyword index (``KEYWORD_NOTE``).

A partial index (``unembedded`` > 0: ``ragqa add`` swapped in its new passages before
embedding them) answers hybrid questions; a passage without a vector is found by
keyword (``rag.search.fusion.rrf_partial``), its refusal check measures prominence on
the embedded passages among the top ones only (coverage alone when none is), and an
answer that cites such a passage says so in its note (``PARTIAL_NOTE``). Answers citing only embedded passages carry no note.

``QA`` is the protocol the UI and the API serve through: ``Pipeline`` and
``rag.live.LivePipeline`` both implement it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag.answer import decide
from rag.answer.base import Answerer, make_answerer
from rag.answer.offline import BACKGROUND_DEPTH, Basis, SupportModel, measure_basis
from rag.embed import Embedder
from rag.index.folder import DEFAULT_INDEX_DIR, LoadedIndex, Manifest, open_index
from rag.index.store import PassageStore
from rag.search.backends import make_backend
from rag.search.query import (
    DEFAULT_K,
    DEFAULT_RETRIEVER,
    Query,
    RetrieverName,
    SearchOptions,
)
from rag.search.retrieve import Retriever
from rag.search.status import parse_statuses
from rag.types import Answer, DocStatus, Document, Hit, Passage

if TYPE_CHECKING:
    from rag.check import CheckReport
    from rag.search.rerank import Reranker

log = logging.getLogger(__name__)

KEYWORD_NOTE = ("本回答仅来自关键词索引（BM25）：语义向量仍在生成，完成后自动改用混合检索"
                "（answered from the keyword index while the vectors are being built）。")

PARTIAL_NOTE = ("所引条文刚加入索引，语义向量仍在生成：本次按关键词（BM25）检索到，完成后自动改用混合检索"
                "（a cited passage was just added and is found by keyword until it is embedded）。")


class QA(Protocol):
    """What a server needs of a loaded index: questions, and the documents to browse."""

    @property
    def documents(self) -> tuple[Document, ...]: ...

    @property
    def passages(self) -> PassageStore: ...

    @property
    def keyword_only(self) -> bool:
        """True while only the keyword index answers (a first build is embedding)."""
        ...

    def search(self, question: str, k: int = DEFAULT_K,
               retriever: RetrieverName = DEFAULT_RETRIEVER, doc_id: str | None = None,
               doc_type: str | None = None, history: Sequence[str] = (),
               as_of: str | None = None, status: str | Sequence[str] = ()) -> list[Hit]: ...

    def ask(self, question: str, k: int = DEFAULT_K,
            retriever: RetrieverName = DEFAULT_RETRIEVER, doc_id: str | None = None,
            doc_type: str | None = None, history: Sequence[str] = (),
            as_of: str | None = None, status: str | Sequence[str] = ()) -> Answer: ...

    def check(self, text: str, title: str | None = None,
              as_of: str | None = None) -> CheckReport: ...

    def statuses(self, as_of: str | None = None) -> dict[str, DocStatus]: ...

    def passage(self, passage_id: str) -> Passage: ...

    def passages_of(self, doc_id: str) -> tuple[Passage, ...]: ...

    def document(self, doc_id: str) -> Document: ...


class Pipeline:
    def __init__(self, index: LoadedIndex, embedder: Embedder, llm: Any = None,
                 reranker: Any = None, backend: str | None = None,
                 milvus_uri: str | None = None):
        self.index = index
        self.index_dir: Path = index.folder
        self.manifest: Manifest = index.manifest
        self.passages: PassageStore = index.passages
        self.documents: tuple[Document, ...] = index.documents
        self.embedder = embedder
        self.llm = llm  # an LLMConfig when a language model is configured (RAGQA_LLM_*)
        self.reranker: Reranker | None = reranker  # rag.search.rerank.load_reranker's choice
        self.retriever = Retriever(index, make_backend(backend, index, milvus_uri),
                                   embedder)
        self.support = SupportModel.from_lexical(index.lexical, index.passages)
        self.answerer: Answerer = make_answerer(self.support, llm)
        self._doc_by_id = {d.id: d for d in index.documents}

    @property
    def keyword_only(self) -> bool:
        """True for a keyword-only index (vectors not built yet): every search is BM25."""
        return self.index.keyword_only

    @property
    def unembedded(self) -> int:
        """Passages without a vector yet (a partial index: found by keyword only); 0 when
        every passage has one, and for a keyword-only index (see ``keyword_only``)."""
        return self.manifest.unembedded

    @classmethod
    def load(cls, index_dir: str | Path | None = None, corpus_dir: str | Path | None = None,
             embedder: Embedder | None = None, verify: bool = True, llm: Any = "env",
             reranker: Any = "env", backend: str | None = None,
             milvus_uri: str | None = None, keyword_only: bool = False) -> Pipeline:
        """``backend``: ``local`` or ``milvus`` (default RAGQA_BACKEND, else ``local``);
        ``milvus_uri`` (default RAGQA_MILVUS_URI, else ``.ragqa/milvus.db``).
        ``keyword_only`` True accepts an index without vectors (``ragqa serve`` while the
        passages are embedded); otherwise such an index is an error.

        With the ``milvus`` backend and no index folder at ``index_dir`` (nor at the
        default), the whole index is read from the collection behind the alias
        (``rag.index.replica``): a stateless replica. It logs which it does."""
        from rag.answer.llm import LLMConfig
        from rag.embed import load_embedder
        from rag.index.embed_cache import cache_root
        from rag.search.rerank import load_reranker

        llm = LLMConfig.from_env() if llm == "env" else llm
        embedder = embedder or load_embedder()
        if isinstance(reranker, str):  # "env": RAGQA_RERANKER; else a spec load_reranker takes
            reranker = load_reranker(embedder, cache_root(index_dir or DEFAULT_INDEX_DIR),
                                     None if reranker == "env" else reranker)
        uri = milvus_only(index_dir, backend, milvus_uri)
        if uri is not None:
            from rag.index.replica import open_milvus_index

            log.info("no index folder at %s: reading the index from Milvus at %s",
                     index_dir or DEFAULT_INDEX_DIR, uri)
            index = open_milvus_index(uri, embedder.name, embedder.dim)
        else:
            index = open_index(index_dir or DEFAULT_INDEX_DIR, embedder.name, embedder.dim,
                               corpus_dir, verify, keyword_only)
        return cls(index, embedder, llm, reranker, backend, milvus_uri)

    # ------------------------------------------------------------ lookup

    def passage(self, passage_id: str) -> Passage:
        """The passage of an id; KeyError if the index has none."""
        return self.passages[self.passages.row_of(passage_id)]

    def passages_of(self, doc_id: str) -> tuple[Passage, ...]:
        return tuple(self.passages[row] for row in self.passages.rows_of(doc_id))

    def document(self, doc_id: str) -> Document:
        return self._doc_by_id[doc_id]

    def statuses(self, as_of: str | None = None) -> dict[str, DocStatus]:
        """Every document's status on a day (YYYY-MM-DD; default today), by id."""
        return self.retriever.statuses(as_of)

    def check(self, text: str, title: str | None = None, as_of: str | None = None) -> CheckReport:
        """Every clause reference in ``text`` resolved and flagged (``rag.check``)."""
        from rag.check import Checker

        checker = getattr(self, "_checker", None)
        if checker is None:
            checker = self._checker = Checker(self.documents, self.passages,
                                              self.retriever.titles)
        return checker.check(text, title=title, as_of=as_of)

    def _embedded(self, passage_id: str) -> bool:
        """Whether a passage has a vector (False only in a partial index)."""
        return not self.unembedded or self.retriever.embedded(self.passages.row_of(passage_id))

    # ------------------------------------------------------------ questions

    def parse(self, question: object, history: Sequence[str] = ()) -> Query:
        """The question parsed once: cleaned, resolved, expanded, tokenised, embedded."""
        return self.retriever.parse(question, history)

    def basis(self, query: Query, hits: Sequence[Hit]) -> Basis | None:
        """The measurements the refusal decision rests on (None for a clause lookup)."""
        if not hits or any(h.source == "clause" for h in hits):
            return None
        if self.keyword_only:  # no dense evidence either way: the lexical measures decide
            return measure_basis(query, hits, [], None)
        if query.vector is None:
            return None
        similarities = [float(self.retriever.vector_of(h.passage.id) @ query.vector)
                        for h in hits[:3] if self._embedded(h.passage.id)]
        if not similarities:  # a partial index whose top passages have no vector yet
            return measure_basis(query, hits, [], None)
        basis = measure_basis(query, hits, similarities,
                              self.retriever.background(query, BACKGROUND_DEPTH))
        if self.embedder.name != decide.EMBEDDER:  # its cosines are not the ones it was fitted on
            return replace(basis, sentence=None)
        return basis

    def retrieve(self, question: object, options: SearchOptions = SearchOptions(),
                 history: Sequence[str] = ()) -> tuple[Query, list[Hit]]:
        """The parsed question and its hits (reranked when a reranker is configured)."""
        from rag.search.ask import read_ask
        from rag.search.figures import promote_figures

        query = self.parse(question, history)
        if self.reranker is None:
            hits = self.retriever.search(query, options)
        else:
            deeper = replace(options, k=max(options.k, self.reranker.depth))
            hits = self.reranker.rerank(query,
                                        self.retriever.search(query, deeper))[: options.k]
        return query, promote_figures(read_ask(query.question), hits)

    def search(self, question: str, k: int = DEFAULT_K,
               retriever: RetrieverName = DEFAULT_RETRIEVER, doc_id: str | None = None,
               doc_type: str | None = None, history: Sequence[str] = (),
               as_of: str | None = None, status: str | Sequence[str] = ()) -> list[Hit]:
        options = SearchOptions(retriever, k, doc_id, doc_type, as_of, parse_statuses(status))
        return self.retrieve(question, options, history)[1]

    def ask(self, question: str, k: int = DEFAULT_K,
            retriever: RetrieverName = DEFAULT_RETRIEVER, doc_id: str | None = None,
            doc_type: str | None = None, history: Sequence[str] = (),
            as_of: str | None = None, status: str | Sequence[str] = ()) -> Answer:
        options = SearchOptions(retriever, k, doc_id, doc_type, as_of, parse_statuses(status))
        query, hits = self.retrieve(question, options, history)
        answer = with_status(self.answerer.answer(query, hits, self.basis(query, hits)), hits)
        note = KEYWORD_NOTE if self.keyword_only else PARTIAL_NOTE if any(
            not self._embedded(c.passage_id) for c in answer.citations) else None
        if note is None:
            return answer
        return replace(answer, note=f"{note} {answer.note}" if answer.note else note)


def milvus_only(index_dir: str | Path | None, backend: str | None,
                milvus_uri: str | None) -> str | None:
    """The Milvus URI to read the whole index from: with the ``milvus`` backend when
    there is no index folder (no manifest) at ``index_dir``; else None (the folder)."""
    import os

    from rag.index.folder import MANIFEST_FILE, recover_interrupted
    from rag.index.milvus import DEFAULT_URI, ENV_URI
    from rag.search.backends import backend_name

    if backend_name(backend) != "milvus":
        return None
    folder = Path(index_dir or DEFAULT_INDEX_DIR)
    recover_interrupted(folder)
    if (folder / MANIFEST_FILE).is_file():
        return None
    return milvus_uri or os.environ.get(ENV_URI) or DEFAULT_URI


def with_status(answer: Answer, hits: Sequence[Hit]) -> Answer:
    """The answer with each citation carrying its document's status (from its hit)."""
    status = {h.passage.doc_id: h.status for h in hits if h.status is not None}
    if not status:
        return answer
    return replace(answer, citations=tuple(replace(c, status=status.get(c.doc_id, c.status))
                                           for c in answer.citations))
