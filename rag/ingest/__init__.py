"""ingest: files to documents to passages, with no model involved.

Modules: ``corpus`` (read and decode the files), ``clean`` (page furniture, broken
lines), ``documents`` (split a file into its documents, typed and titled),
``passages`` (one per article, or per heading section), ``quotations`` (which
documents quote a regulation), ``status`` (document number, issuer, dates, term and
kind, read from each text). Imports only the shared values.

``ingest(folder)`` reads the corpus (``corpus``), cleans each file and splits it into
documents (``clean``, ``documents``) and the documents into passages (``passages``).
It is deterministic: files in name order, documents in file order, passage ids
derived from file stem, document ordinal and passage ordinal.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.ingest.clean import strip_page_furniture
from rag.ingest.corpus import Corpus, read_corpus
from rag.ingest.documents import split_documents
from rag.ingest.passages import ChunkingParams, split_passages
from rag.ingest.status import with_status
from rag.types import Document, Passage


@dataclass(frozen=True)
class Ingested:
    corpus: Corpus
    documents: tuple[Document, ...]
    passages: tuple[Passage, ...]


def ingest(folder: str | Path, params: ChunkingParams = ChunkingParams(),
           read_cache: str | Path | None = None,
           ocr_cache: str | Path | None = None) -> Ingested:
    """``read_cache``: a folder where what was read from PDFs, DOCX, HTML and images is
    kept by content hash, so a rebuild does not OCR a scan again; ``ocr_cache``: where
    OCR keeps each page's lines (shared by every index built with that cache)."""
    corpus = read_corpus(folder, cache=read_cache, ocr_cache=ocr_cache)
    documents: list[Document] = []
    passages: list[Passage] = []
    for corpus_file in corpus.files:
        if corpus_file.lines is not None:
            lines = list(corpus_file.lines)  # read from pages (PDF, DOCX, HTML, images)
        else:
            lines = strip_page_furniture(corpus_file.text)
        found = split_documents(lines, corpus_file.name)
        for document in with_status(found):  # status fields read from the texts
            documents.append(document)
            passages.extend(split_passages(document, params))
    return Ingested(corpus, tuple(documents), tuple(passages))
