"""One loaded index and the questions asked of it: ``search`` and ``ask``.

``Pipeline.load`` reads the index folder with every check (format, embedder,
checksums, and the corpus hash when a corpus folder is given). It keeps documents
and FAISS in memory, BM25 memory-mapped, and passages in a ``rag.index.store.PassageStore``
(numpy columns in memory, each passage read from disk when it is returned).

``ask`` is the single code path behind ``ragqa ask``, the UI and the evaluation
harness: the offline answerer always, and the language-model answerer (``rag.answer.llm``)
on top when RAGQA_LLM_* configure one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from rag.errors import REBUILD_HINT, IndexMismatchError, QueryError
from rag.index.folder import (
    DEFAULT_INDEX_DIR,
    LEXICAL_DIR,
    open_passages,
    read_documents,
    read_manifest,
    read_quotations,
    verify_checksums,
)
from rag.index.store import PassageStore
from rag.index.vectors import prepare_loaded
from rag.search.clause import ClauseRef
from rag.search.retrieve import Filters, Retriever
from rag.types import Answer, Document, Hit, Passage

MAX_QUESTION_CHARS = 2000
_FOLLOW_UP = re.compile(r"^(那|那么|这|该|它|此|如果|若|违反|其)")


def clean_question(question: str) -> str:
    """A question with control characters removed; empty or oversize ones refused.

    >>> clean_question("  网吧\\x00能进吗？ ")
    '网吧能进吗？'
    """
    if not isinstance(question, str):
        raise QueryError(f"the question must be text, got {type(question).__name__}")
    text = "".join(ch for ch in question if ch in "\n\t" or ch.isprintable()).strip()
    if not text:
        raise QueryError("the question is empty; type a question, e.g. 网吧能让未成年人进去吗？")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(
            f"the question is {len(text):,} characters, over the {MAX_QUESTION_CHARS:,} limit; "
            "shorten it to the question itself"
        )
    return text


class Pipeline:
    def __init__(self, index_dir: Path, manifest, passages: PassageStore,
                 documents: tuple[Document, ...], vectors, lexical, embedder, llm=None,
                 reranker=None, quoting: dict[str, tuple[str, ...]] | None = None):
        from rag.answer.offline import SupportModel

        self.index_dir = index_dir
        self.llm = llm  # an LLMConfig when a language model is configured (RAGQA_LLM_*)
        self.reranker = reranker  # a CrossEncoderReranker when RAGQA_RERANKER is set
        self.manifest = manifest
        self.passages: PassageStore = passages
        self.documents: tuple[Document, ...] = documents
        self.embedder = embedder
        self.retriever = Retriever(passages, documents, vectors, lexical, embedder, quoting)
        self.support = SupportModel.from_lexical(lexical, passages)
        self._doc_by_id = {d.id: d for d in documents}

    @classmethod
    def load(cls, index_dir: str | Path | None = None, corpus_dir: str | Path | None = None,
             embedder=None, verify: bool = True, llm="env", reranker="env") -> Pipeline:
        import faiss

        from rag.answer.llm import LLMConfig
        from rag.embed import load_embedder
        from rag.index.lexical import LexicalIndex
        from rag.search.rerank import load_reranker

        llm = LLMConfig.from_env() if llm == "env" else llm
        reranker = load_reranker() if reranker == "env" else reranker
        index_dir = Path(index_dir or DEFAULT_INDEX_DIR)
        manifest = read_manifest(index_dir)
        embedder = embedder or load_embedder()
        if embedder.name != manifest.embedder or embedder.dim != manifest.dim:
            raise IndexMismatchError(
                f"the index at {str(index_dir)!r} was built with {manifest.embedder} "
                f"({manifest.dim} dims) but the configured embedder is {embedder.name} "
                f"({embedder.dim} dims); set RAGQA_EMBED_MODEL to match, or {REBUILD_HINT}"
            )
        if corpus_dir is not None:
            from rag.ingest.corpus import read_corpus

            current = read_corpus(corpus_dir).sha256
            if current != manifest.corpus_sha256:
                raise IndexMismatchError(
                    f"the corpus in {str(corpus_dir)!r} changed since the index at "
                    f"{str(index_dir)!r} was built; update it with: ragqa index"
                )
        if verify:
            verify_checksums(index_dir, manifest)
        documents = read_documents(index_dir)
        passages = open_passages(index_dir, documents)
        try:
            vectors = faiss.read_index(str(index_dir / "vectors.faiss"))
            prepare_loaded(vectors)
            lexical = LexicalIndex.load(index_dir / LEXICAL_DIR)
        except Exception as exc:  # faiss raises RuntimeError; numpy and json several kinds
            raise IndexMismatchError(f"the index at {str(index_dir)!r} is damaged ({exc}); "
                                     f"{REBUILD_HINT}") from exc
        if vectors.ntotal != len(passages) or len(passages) != manifest.n_passages:
            raise IndexMismatchError(
                f"the index at {str(index_dir)!r} holds {vectors.ntotal} vectors for "
                f"{len(passages)} passages; {REBUILD_HINT}"
            )
        return cls(index_dir, manifest, passages, documents, vectors, lexical, embedder, llm,
                   reranker, read_quotations(index_dir))

    # ------------------------------------------------------------ lookup

    def passage(self, passage_id: str) -> Passage:
        """The passage of an id; KeyError if the index has none."""
        return self.passages[self.passages.row_of(passage_id)]

    def passages_of(self, doc_id: str) -> tuple[Passage, ...]:
        return tuple(self.passages[row] for row in self.passages.rows_of(doc_id))

    def document(self, doc_id: str) -> Document:
        return self._doc_by_id[doc_id]

    # ------------------------------------------------------------ questions

    def resolve(self, question: str, history: Sequence[str] = ()) -> ClauseRef:
        """The clause reference of a question, documents carried over from a follow-up."""
        ref = self.retriever.titles.resolve(question)
        if ref.doc_ids or not history:
            return ref
        if len(question) > 24 and not _FOLLOW_UP.match(question):
            return ref
        for earlier in reversed(history):
            previous = self.retriever.titles.resolve(earlier)
            if previous.doc_ids:
                return ClauseRef(ref.article_no, previous.doc_ids, previous.mention)
        return ref

    def basis(self, question: str, hits: list[Hit]):
        """The measurements the refusal decision rests on (None for a clause lookup)."""
        from rag.answer.offline import measure_basis

        if not hits or any(h.source == "clause" for h in hits):
            return None
        query = self.retriever.query_vector(question)
        similarities = [float(self.retriever.vector_of(h.passage.id) @ query) for h in hits[:3]]
        return measure_basis(question, hits, self.support, similarities,
                             self.retriever.agreement(question))

    def retrieve(self, question: str, k: int = 10, retriever: str = "hybrid",
                 doc_id: str | None = None, doc_type: str | None = None,
                 history: Sequence[str] = ()) -> tuple[str, list[Hit]]:
        """The search query (the question with legal terms for lay words) and its hits."""
        from rag.search.glossary import expand

        question = clean_question(question)
        filters = Filters((doc_id,) if doc_id else (), doc_type)
        ref = self.resolve(question, history)
        query = expand(question)
        if ref.mention and ref.mention not in question:  # a follow-up: say what it is about
            query = f"{ref.mention} {query}"
        if self.reranker is None:
            return query, self.retriever.search(query, k, retriever, filters, ref)
        hits = self.retriever.search(query, max(k, self.reranker.depth), retriever, filters, ref)
        return query, self.reranker.rerank(question, hits)[:k]

    def search(self, question: str, k: int = 10, retriever: str = "hybrid",
               doc_id: str | None = None, doc_type: str | None = None,
               history: Sequence[str] = ()) -> list[Hit]:
        return self.retrieve(question, k, retriever, doc_id, doc_type, history)[1]

    def ask(self, question: str, k: int = 8, retriever: str = "hybrid",
            doc_id: str | None = None, doc_type: str | None = None,
            history: Sequence[str] = ()) -> Answer:
        from rag.answer.llm import answer_with_llm
        from rag.answer.offline import answer_offline

        query, hits = self.retrieve(question, k, retriever, doc_id, doc_type, history)
        question = clean_question(question)
        offline = answer_offline(question, hits, self.basis(query, hits), self.support, query)
        # the offline answerer decides refusals, and a clause lookup quotes the whole article
        if self.llm is None or offline.refused or any(h.source == "clause" for h in hits):
            return offline
        return answer_with_llm(question, hits, self.llm, lambda: offline)
