"""The document browser's model: indexed documents, their passages and navigation.

Only documents the pipeline knows are served: every lookup goes through the ids in
``pipeline.documents`` (read again when a rebuilt index is swapped in); nothing here
takes a file path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rag.errors import RagError
from rag.types import Document, Passage
from ui.render import doc_type_name, shorten_label

if TYPE_CHECKING:
    from rag.pipeline import QA


class UnknownItemError(LookupError):
    """A document or passage id that is not in the index."""


@dataclass(frozen=True)
class Located:
    """A passage with its document and its 1-based position there."""

    document: Document
    passage: Passage
    position: int
    total: int


class Catalogue:
    """Read-only view of the pipeline's documents for the UI (thread-safe for reads)."""

    def __init__(self, pipeline: QA) -> None:
        self._pipeline = pipeline
        self._seen: tuple[Document, ...] | None = None
        self._documents: dict[str, Document] = {}
        self._passages: dict[str, tuple[Passage, ...]] = {}
        self._doc_labels: dict[str, str] = {}

    @property
    def documents(self) -> dict[str, Document]:
        """The indexed documents by id, read anew when the index was rebuilt (a file added
        or removed while serving)."""
        current = self._pipeline.documents
        if current is not self._seen:
            self._passages = {}
            self._doc_labels = _unique_labels([(d.id, _document_label(d)) for d in current])
            self._documents = {d.id: d for d in current}
            self._seen = current
        return self._documents

    # ------------------------------------------------------------ choices

    def document_choices(self) -> list[tuple[str, str]]:
        """(label, doc id) for every indexed document, in corpus order."""
        documents = self.documents
        return [(self._doc_labels[doc_id], doc_id) for doc_id in documents]

    def type_choices(self) -> list[tuple[str, str]]:
        """(Chinese name, doc type) of the types present in the index."""
        seen = dict.fromkeys(d.doc_type for d in self.documents.values())
        return [(doc_type_name(t), t) for t in seen]

    def passage_choices(self, doc_id: str) -> list[tuple[str, str]]:
        """(label, passage id) for the passages of ``doc_id``, in order."""
        passages = self.passages(doc_id)
        pairs = [(p.id, _passage_label(p, i)) for i, p in enumerate(passages, start=1)]
        labels = _unique_labels(pairs)
        return [(labels[p.id], p.id) for p in passages]

    # ------------------------------------------------------------ lookups

    def document(self, doc_id: str | None) -> Document:
        if not doc_id or doc_id not in self.documents:
            raise UnknownItemError(f"unknown document id {doc_id!r}")
        return self.documents[doc_id]

    def passages(self, doc_id: str) -> tuple[Passage, ...]:
        """The passages of an indexed document (cached)."""
        self.document(doc_id)
        cached = self._passages.get(doc_id)
        if cached is None:
            cached = tuple(self._pipeline.passages_of(doc_id))
            self._passages[doc_id] = cached
        return cached

    def passage(self, passage_id: str) -> Passage | None:
        """The passage with this id, or ``None`` when the index has none."""
        try:
            passage = self._pipeline.passage(passage_id)
        except (LookupError, ValueError, RagError):
            return None
        if passage is None or passage.doc_id not in self.documents:
            return None
        return passage

    def locate(self, passage_id: str | None, doc_id: str | None = None) -> Located:
        """Where ``passage_id`` sits; the first passage of ``doc_id`` when it is empty."""
        if passage_id:
            passage = self.passage(passage_id)
            if passage is None or (doc_id and passage.doc_id != doc_id):
                raise UnknownItemError(f"unknown passage id {passage_id!r}")
            doc_id = passage.doc_id
        document = self.document(doc_id)
        passages = self.passages(document.id)
        if not passages:
            raise UnknownItemError(f"document {document.id!r} has no passages")
        ids = [p.id for p in passages]
        index = ids.index(passage_id) if passage_id in ids else 0
        return Located(document, passages[index], index + 1, len(passages))

    def step(self, doc_id: str, passage_id: str | None, delta: int) -> Located:
        """The passage ``delta`` places after (before, if negative) ``passage_id``."""
        here = self.locate(passage_id, doc_id)
        passages = self.passages(here.document.id)
        index = min(max(here.position - 1 + delta, 0), len(passages) - 1)
        return Located(here.document, passages[index], index + 1, len(passages))


def _document_label(doc: Document) -> str:
    extra = [doc_type_name(doc.doc_type)]
    if doc.doc_number:
        extra.append(doc.doc_number)
    elif doc.date:
        extra.append(doc.date)
    return f"{shorten_label(doc.title, 60)}（{'，'.join(extra)}）"


def _passage_label(passage: Passage, position: int) -> str:
    if passage.article:
        return passage.article
    if passage.section:
        return shorten_label(passage.section.split(" > ")[-1], 40)
    return f"第 {position} 段"


def _unique_labels(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """id -> label, with ``（2）``, ``（3）``… appended to repeated labels."""
    counts: dict[str, int] = {}
    out: dict[str, str] = {}
    for key, label in pairs:
        counts[label] = counts.get(label, 0) + 1
        out[key] = label if counts[label] == 1 else f"{label}（{counts[label]}）"
    return out
