"""The naive baseline: fixed-size chunks, dense search, the top chunk as the answer.

What the structured pipeline is compared against. The raw corpus files (``*.txt``,
UTF-8, read as they are: no cleaning, no documents, no articles) are cut by
langchain-text-splitters' ``RecursiveCharacterTextSplitter`` (500 characters, 50 of
overlap), embedded with the pipeline's own embedder and searched exactly in a flat
``faiss.IndexFlatIP`` (vectors are L2-normalised, so inner product = cosine).

A chunk is a ``Passage`` with ``article``/``section``/``chapter``/``page`` None,
``doc_title`` the file name and id ``<file stem>:b<ordinal>``. Its "answer" for scoring
never refuses and cites its top-1 chunk, with that chunk's text as the answer text; so
its citations never carry an article (items naming one cannot be cited correctly)
and it never refuses an unanswerable question. Chunk vectors are cached in
``<cache_dir>/baseline_<key>.npy``, the key the sha256 of the embedder name and the
chunk texts, so a second run embeds only the questions.

Left out: no reranking, no lexical search, no language model.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter
from tqdm import tqdm

from rag.errors import CorpusError, EmbedderError
from rag.types import Answer, Citation, Hit, Passage

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50
EMBED_BATCH = 64
SOURCE = "baseline"


class Embedder(Protocol):
    """What the baseline needs of the pipeline's embedder."""

    name: str

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def chunk_corpus(corpus_dir: str | Path, chunk_size: int = CHUNK_SIZE,
                 chunk_overlap: int = CHUNK_OVERLAP) -> tuple[Passage, ...]:
    """Fixed-size chunks of every ``*.txt`` file in ``corpus_dir``, files in name order."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus folder not found: {str(corpus_dir)!r}; pass the folder "
                          f"that holds the gazette .txt files")
    files = sorted(corpus_dir.glob("*.txt"))
    if not files:
        raise CorpusError(f"no .txt files in {str(corpus_dir)!r}; pass the corpus folder")
    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap)
    chunks: list[Passage] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{str(path)!r} is not UTF-8 (byte {exc.start}); "
                              f"convert it to UTF-8") from None
        for ordinal, piece in enumerate(splitter.split_text(text)):
            chunks.append(chunk_passage(path.name, ordinal, piece))
    return tuple(chunks)


def chunk_passage(file_name: str, ordinal: int, text: str) -> Passage:
    """A chunk as a Passage without structure.

    >>> chunk_passage("000_ab.txt", 7, "正文").id
    '000_ab:b00007'
    """
    stem = Path(file_name).stem
    return Passage(id=f"{stem}:b{ordinal:05d}", doc_id=stem, doc_title=file_name,
                   doc_type="other", source_file=file_name, page=None, chapter=None,
                   section=None, article=None, article_no=None, text=text)


def cache_key(embedder_name: str, texts: Sequence[str]) -> str:
    """sha256 of the embedder name and the chunk texts (each length-prefixed).

    >>> cache_key("e", ["ab", "c"]) == cache_key("e", ["a", "bc"])
    False
    >>> len(cache_key("e", []))
    64
    """
    digest = hashlib.sha256(embedder_name.encode("utf-8") + b"\n")
    for text in texts:
        data = text.encode("utf-8")
        digest.update(f"{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


def embed_chunks(chunks: Sequence[Passage], embedder: Embedder, cache_dir: str | Path,
                 progress: bool = True) -> np.ndarray:
    """The (n, dim) float32 vectors of the chunks, from the cache when it holds them."""
    texts = [chunk.text for chunk in chunks]
    path = Path(cache_dir) / f"baseline_{cache_key(embedder.name, texts)[:32]}.npy"
    if path.is_file():
        vectors = np.load(path)
        if vectors.ndim == 2 and vectors.shape[0] == len(texts):
            return np.ascontiguousarray(vectors, dtype=np.float32)
    parts = []
    batches = range(0, len(texts), EMBED_BATCH)
    for start in tqdm(batches, desc="baseline: embedding chunks", unit="batch",
                      file=sys.stderr, disable=not progress):
        parts.append(np.asarray(embedder.embed_passages(texts[start:start + EMBED_BATCH]),
                                dtype=np.float32))
    vectors = np.ascontiguousarray(np.vstack(parts)) if parts else np.zeros((0, 1), np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(texts):
        raise EmbedderError(f"embedder {embedder.name!r} returned shape {vectors.shape} for "
                            f"{len(texts)} chunks; it must return one row per text")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.npy")
    np.save(partial, vectors)
    partial.replace(path)
    return vectors


class Baseline:
    """Chunks and their vectors in a flat inner-product index."""

    def __init__(self, chunks: Sequence[Passage], vectors: np.ndarray, embedder: Embedder):
        if len(chunks) != vectors.shape[0]:
            raise ValueError(f"{len(chunks)} chunks but {vectors.shape[0]} vectors")
        self.chunks = tuple(chunks)
        self.embedder = embedder
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    def search(self, question: str, k: int = 10) -> list[Hit]:
        """The k chunks nearest the question, best first (ties broken by chunk id)."""
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32).reshape(1, -1)
        count = min(k, len(self.chunks))
        if count <= 0:
            return []
        scores, indices = self.index.search(np.ascontiguousarray(query), count)
        found = [(float(score), self.chunks[int(index)]) for score, index
                 in zip(scores[0], indices[0], strict=True) if index >= 0]
        found.sort(key=lambda pair: (-pair[0], pair[1].id))
        return [Hit(passage=chunk, score=score, rank=rank, source=SOURCE)
                for rank, (score, chunk) in enumerate(found, 1)]

    def ask(self, question: str, k: int = 10) -> Answer:
        """Never refuses; cites the top chunk, whose text is the answer."""
        hits = self.search(question, k)
        if not hits:
            return Answer(question=question, text="", refused=True, citations=(), hits=(),
                          answerer=SOURCE)
        top = hits[0].passage
        citation = Citation(n=1, passage_id=top.id, doc_title=top.doc_title, article=None,
                            section=None, source_file=top.source_file, page=None, quote=top.text)
        return Answer(question=question, text=top.text, refused=False,
                      citations=(citation,), hits=tuple(hits), answerer=SOURCE)


def build_baseline(corpus_dir: str | Path, embedder: Embedder, cache_dir: str | Path,
                   chunk_size: int = CHUNK_SIZE, chunk_overlap: int = CHUNK_OVERLAP,
                   progress: bool = True) -> Baseline:
    """Chunk the corpus, embed (or load the cached vectors) and index the chunks."""
    chunks = chunk_corpus(corpus_dir, chunk_size, chunk_overlap)
    return Baseline(chunks, embed_chunks(chunks, embedder, cache_dir, progress), embedder)
