"""Files to documents to passages: the whole ingestion, with no model involved.

``ingest(folder)`` reads the corpus (``corpus``), cleans each file and splits it into
documents (``clean``, ``documents``) and the documents into passages (``passages``).
It is deterministic: files in name order, documents in file order, passage ids
derived from file stem, document ordinal and passage ordinal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.clean import strip_page_furniture
from rag.corpus import Corpus, read_corpus
from rag.documents import split_documents
from rag.passages import ChunkingParams, split_passages
from rag.types import Document, Passage


@dataclass(frozen=True)
class Ingested:
    corpus: Corpus
    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]


def ingest(folder: str | Path, params: ChunkingParams = ChunkingParams()) -> Ingested:
    corpus = read_corpus(folder)
    documents: list[Document] = []
    passages: list[Passage] = []
    for corpus_file in corpus.files:
        for document in split_documents(strip_page_furniture(corpus_file.text), corpus_file.name):
            documents.append(document)
            passages.extend(split_passages(document, params))
    return Ingested(corpus, tuple(documents), tuple(passages))
