"""An index read from Milvus alone: what a stateless serving replica loads, no folder.

``open_milvus_index(uri)`` reads the collection behind the alias ``ragqa`` (written
by ``ragqa index --backend milvus``) and gives the ``LoadedIndex`` a pipeline serves
from, with every check a folder gets that applies: the collection's schema, embedder
and dimension (``rag.index.milvus.check_info``), and that its passages belong to the
documents its ``_docs`` companion holds.

- Passages: every row's citation fields and text, read in pages of
  ``PAGE_ROWS`` by a query iterator, held in memory (``MemoryPassageStore``, the
  ``PassageStore`` interface) in id order (a document's passages in their order).
- Documents and quotations: ``rag.index.milvus.read_documents``.
- BM25 statistics for the refusal check: a ``LexicalIndex`` built here from the
  passages, with the build's own text and tokenizer (``embedding_text``,
  ``DEFAULT_TOKENIZER``), so its document frequencies are the folder's.
- Vectors: not read; the search backend fetches the few the refusal check compares
  by id (``rag.search.backends.milvus``). ``LoadedIndex.remote`` names the URI.

Memory and time (``python -m benchmarks.run --only replica``, 1,969 passages): about
9 KiB a passage of its own (1.2 KiB passages, 7.4 KiB BM25 statistics) and 7–9 s to
read on two busy cores, two thirds of it tokenising for the BM25 statistics; linear in
the passages, so the limit is some 10^4 passages (10^5: about 0.9 GiB and 8 minutes).
Past that the document frequencies belong in Milvus at build time and the passages
queried by id per hit (left out). ``collection_stamp`` says which collection and
content the alias serves now, for a serving process to follow builds (``rag.live``).

Left out: incremental reload (a changed collection is read again whole), and the
index folder's other readers (source files for the documents page, ``ragqa change``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.errors import BackendUnavailableError, IndexMismatchError, RagError
from rag.index.folder import FORMAT_VERSION, LoadedIndex, Manifest
from rag.index.milvus import (
    ALIAS,
    DOCS_SUFFIX,
    PASSAGE_COLUMNS,
    _stored,
    alias_target,
    check_info,
    connect,
    describe_uri,
    passage_of_row,
    read_documents,
    unavailable,
)
from rag.index.store import NO_ARTICLE, PASSAGES_FILE, PassageStore
from rag.types import Document, Passage

log = logging.getLogger(__name__)

PAGE_ROWS = 1000  # rows a query-iterator page reads
MILVUS_INDEX = "milvus"  # the faiss_index a Milvus-only index's manifest names


class MemoryPassageStore(PassageStore):
    """The ``PassageStore`` interface over passages held in memory (read from Milvus).

    >>> doc = Document("f#000", "山西省节约能源条例", "regulation", "f.txt", 1, 1)
    >>> ps = [Passage(f"f#000:{i:04d}", "f#000", doc.title, "regulation", "f.txt", 1, None,
    ...               None, f"第{n}条", i + 1, "……") for i, n in enumerate("一二")]
    >>> store = MemoryPassageStore(ps, [doc])
    >>> store.row_of("f#000:0001"), store.rows_of("f#000").tolist(), len(store)
    (1, [0, 1], 2)
    >>> store.article_rows(2).tolist(), store[-1].article
    ([1], '第二条')
    """

    def __init__(self, passages: Sequence[Passage], documents: Sequence[Document]):
        self.documents = tuple(documents)
        self._passages = tuple(passages)
        self._doc_row = {d.id: i for i, d in enumerate(self.documents)}
        missing = sorted({p.doc_id for p in self._passages} - set(self._doc_row))
        if missing:
            raise IndexMismatchError(f"passages of documents the index does not hold: "
                                     f"{', '.join(missing[:5])}")
        n = len(self._passages)
        self.doc_of_row = np.array([self._doc_row[p.doc_id] for p in self._passages],
                                   dtype=np.int32)
        self.article_of_row = np.array(
            [NO_ARTICLE if p.article_no is None else p.article_no for p in self._passages],
            dtype=np.int32)
        order = sorted(range(n), key=lambda i: self._passages[i].id)
        self.id_rank = np.empty(n, dtype=np.int32)
        self.id_rank[order] = np.arange(n, dtype=np.int32)
        self._by_id_rank = np.array(order, dtype=np.int32)
        self._row_of_id = {p.id: i for i, p in enumerate(self._passages)}
        self._read = lru_cache(maxsize=0)(self._read_row)  # held already: no cache

    def __iter__(self) -> Iterator[Passage]:
        return iter(self._passages)

    def _read_row(self, row: int) -> Passage:
        return self._passages[row]

    def row_of(self, passage_id: str) -> int:
        return self._row_of_id[passage_id]

    def close(self) -> None:
        return None


def collection_stamp(uri: str, client=None, alias: str = ALIAS) -> tuple[str, str, str] | None:
    """What the alias serves now: (collection, passages sha256, documents sha256); None
    when there is no collection yet. A build that switches the alias, or a sync that
    changes the passages in place, changes it. ``client``: one from ``connect(uri)`` to
    reuse. Raises BackendUnavailableError when Milvus does not answer."""
    from rag.index.milvus import _read_info

    try:
        client = client or connect(uri)
        name = alias_target(client, alias)
        if name is None:
            return None
        info = _read_info(client, name, uri)
    except RagError:
        raise
    except Exception as exc:
        raise unavailable(uri, exc) from exc
    return name, info.passages_sha256, info.documents_sha256


def open_milvus_index(uri: str, embedder_name: str, embedder_dim: int,
                      alias: str = ALIAS) -> LoadedIndex:
    """The index behind ``alias`` at ``uri``, read whole from Milvus (no folder).

    Raises ``BackendUnavailableError`` when Milvus does not answer, ``IndexMismatchError``
    when there is no collection, it lacks its documents, or its embedder or dimension is
    not this one's (each message names the URI and the command that fixes it)."""
    from rag.index.build import DEFAULT_TOKENIZER, embedding_text
    from rag.index.lexical import LexicalIndex

    no_fallback = "(no index folder here: nothing else can answer)"
    try:
        client = connect(uri)
        name = alias_target(client, alias)
        if name is None:
            raise IndexMismatchError(
                f"no collection {alias!r} at {describe_uri(uri)} {no_fallback}; build it "
                f"with: ragqa index --backend milvus --milvus-uri {uri}")
        info = check_info(client, name, uri, embedder_name, embedder_dim)
        client.load_collection(name, timeout=600)
        rows = _stored(client, name, PASSAGE_COLUMNS[1:], PAGE_ROWS)
    except BackendUnavailableError as exc:
        raise BackendUnavailableError(f"{exc} {no_fallback}") from exc
    except RagError:
        raise
    except Exception as exc:
        raise BackendUnavailableError(f"{unavailable(uri, exc)} {no_fallback}") from exc
    stored = read_documents(uri, alias)
    passages = [passage_of_row(dict(zip(PASSAGE_COLUMNS, (i, *rows[i]), strict=True)))
                for i in sorted(rows)]
    if not passages:
        raise IndexMismatchError(f"the Milvus collection {name} at {describe_uri(uri)} holds "
                                 f"no passages; build it with: ragqa index --backend milvus "
                                 f"--milvus-uri {uri} --rebuild")
    documents = stored.documents
    try:
        store = MemoryPassageStore(passages, documents)
    except IndexMismatchError as exc:
        raise IndexMismatchError(
            f"the Milvus collection {name} at {describe_uri(uri)}: {exc} (its {DOCS_SUFFIX} "
            f"collection is out of date); update it with: ragqa index --backend milvus "
            f"--milvus-uri {uri}") from exc
    lexical = LexicalIndex.build([embedding_text(p) for p in passages], DEFAULT_TOKENIZER)
    manifest = Manifest(
        format_version=FORMAT_VERSION, embedder=info.embedder, dim=info.dim,
        corpus_sha256="", files=(), chunking={}, lexical_tokenizer=DEFAULT_TOKENIZER,
        faiss_index=MILVUS_INDEX, n_passages=len(passages), n_documents=len(documents),
        checksums={PASSAGES_FILE: info.passages_sha256})
    log.info("read %d passages and %d documents of %s from Milvus at %s", len(passages),
             len(documents), name, describe_uri(uri))
    return LoadedIndex(Path(uri), manifest, documents, store, None, lexical, stored.quoting,
                       remote=uri, collection=name)

