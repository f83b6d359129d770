"""Search on Milvus: dense and BM25 full-text search inside Milvus, fused there (RRF).

One ``MilvusClient`` code path serves both deployments: a local path ending in ``.db``
(``.ragqa/milvus.db``) runs Milvus Lite inside this process (``pip install
milvus-lite``, no server); an ``http://host:19530`` URI talks to a Milvus standalone
or cluster.

The collection holds what a citation needs, one row a passage: the stable passage id
(primary key), document id, title and type, source file, page, chapter, section,
article label and number, the verbatim text, the dense vector, and a ``lexical``
copy of the text (normalised, punctuation removed) that Milvus' BM25 function
tokenises with its jieba analyzer, our stop words filtered out. A question runs as
one ``hybrid_search``: the dense request and the BM25 request, each with the filters
(document ids, document type) pushed down as a Milvus expression, fused by Milvus'
RRF ranker (k 60, as ``rag.search``'s own fusion). Article lookup (第N条 of a named
document) is an exact filter query, never a similarity search.

Versions: a build writes a new collection ``ragqa_v<time>`` and only then points
the alias ``ragqa`` at it, so a half-built collection is never served (the promise
the folder swap keeps); the collection before it is kept, older ones dropped.
``sync`` updates the live collection in place: upsert by passage id what is new or
changed (a content hash per row says which), delete what is gone.

The collection records (property ``ragqa.info``) the embedder, its dimension and the
sha256 of the passages and of the documents it holds; opening it checks them against
the index folder.

Documents: beside each passage collection ``<name>`` a build writes ``<name>_docs``,
one row a document: its id, the record ``documents.jsonl`` holds (title, type, source,
pages, status fields; not the body) and the ids of the regulations it quotes (the
inverse of ``quotations.json``, bounded by what one document quotes);
``read_documents`` gives back what the folder's ``read_documents`` and
``read_quotations`` give. It moves with the alias and is dropped with its collection.

Left out: partitions per document type, Milvus' own embedding functions (vectors
come from ``rag.embed``, the same as FAISS's), authentication beyond what the URI
carries. A serving process without the index folder reads everything from here
(``rag.index.replica``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import BackendUnavailableError, IndexMismatchError, RagError
from rag.index.folder import document_record
from rag.text import STOPWORDS, search_text, tokenize
from rag.types import Document, Passage

log = logging.getLogger(__name__)

ENV_URI = "RAGQA_MILVUS_URI"
DEFAULT_URI = str(Path(".ragqa") / "milvus.db")
ALIAS = "ragqa"  # the name questions are asked of
PREFIX = "ragqa_v"  # collections written by builds
INFO_PROPERTY = "ragqa.info"
SCHEMA_VERSION = 1
TIMEOUT = 10.0  # seconds a Milvus call may take, retries included
# seconds Milvus Lite (a local .db) may take to start inside this process: no network to
# wait on, but on a busy machine its engine can take longer than a call's TIMEOUT to be up
LITE_START_TIMEOUT = 60.0
INSERT_BATCH = 512
RRF_K = 60
FLAT_BELOW = 200_000  # exact dense search below this many passages, HNSW above
MAX_VARCHAR = 65_535  # bytes, Milvus' limit for one VARCHAR value
NO_INT = -1  # page / article_no absent
_PUNCTUATION = re.compile(r"[^\w.\u3400-\u9fff]+")
PASSAGE_COLUMNS = ("id", "doc_id", "doc_title", "doc_type", "source_file", "page", "chapter",
           "section", "article", "article_no", "text")
DOCS_SUFFIX = "_docs"  # <collection>_docs: its documents


@dataclass(frozen=True)
class CollectionInfo:
    """What a collection was built from; checked when a pipeline opens it."""

    embedder: str
    dim: int
    passages_sha256: str  # of passages.jsonl, the same as the index folder's checksum
    schema: int = SCHEMA_VERSION
    documents_sha256: str = ""  # of the documents' records and quotations ('' none)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CollectionInfo:
        return cls(**json.loads(text))


def bigram_term(gram: str) -> str:
    """A character bigram as one ASCII term: jieba keeps an ASCII run whole, so Milvus'
    jieba analyzer indexes it as it stands (no Milvus analyzer emits CJK bigrams).

    >>> bigram_term("节约"), bigram_term("m2")
    ('bg008282007ea6', 'bg00006d000032')
    """
    return "bg" + "".join(f"{ord(ch):06x}" for ch in gram)


def lexical_text(text: str) -> str:
    """The text Milvus' BM25 analyzer sees: normalised as our own lexical index
    normalises it (NFKC, lower case), punctuation turned into spaces, then its
    character bigrams as ASCII terms; so the analyzer yields jieba's words and the
    bigrams, the tokens of our own ``mixed`` BM25.

    >>> lexical_text("节约能源。")
    '节约能源  bg008282007ea6 bg007ea60080fd bg0080fd006e90'
    """
    words = _PUNCTUATION.sub(" ", search_text(text))
    return words + " " + " ".join(bigram_term(g) for g in tokenize(text, "bigram"))


def content_hash(passage: Passage, search_body: str) -> str:
    """A row's content hash: what ``sync`` compares to find changed passages."""
    record = json.dumps(passage.to_json(), ensure_ascii=False, sort_keys=True) + search_body
    return hashlib.sha256(record.encode("utf-8")).hexdigest()


def quoted(value: str) -> str:
    """A string literal for a Milvus filter expression.

    >>> quoted('f#000'), quoted('a"b')
    ('"f#000"', '"a\\\\"b"')
    """
    return json.dumps(value, ensure_ascii=False)


def filter_expr(doc_ids: Sequence[str] = (), doc_type: str | None = None) -> str:
    """The Milvus expression for documents and a type ('' for none).

    >>> filter_expr(("d#001", "d#000"), "regulation")
    'doc_id in ["d#000", "d#001"] and doc_type == "regulation"'
    """
    parts = []
    if doc_ids:
        parts.append(f"doc_id in [{', '.join(quoted(d) for d in sorted(set(doc_ids)))}]")
    if doc_type:
        parts.append(f"doc_type == {quoted(doc_type)}")
    return " and ".join(parts)


def scope_expr(doc_ids: Sequence[str] | None, all_doc_ids: Sequence[str]) -> str:
    """The shorter Milvus expression for a set of documents among all: '' for all of
    them, ``doc_id not in`` the few left out, or ``doc_id in`` the few kept.

    >>> everything = ["a", "b", "c", "d"]
    >>> scope_expr(None, everything), scope_expr(everything, everything)
    ('', '')
    >>> scope_expr(["a", "b", "c"], everything), scope_expr(["b"], everything)
    ('doc_id not in ["d"]', 'doc_id in ["b"]')
    """
    if doc_ids is None:
        return ""
    kept = set(doc_ids)
    left_out = sorted(set(all_doc_ids) - kept)
    if len(left_out) < len(kept):
        return f"doc_id not in [{', '.join(quoted(d) for d in left_out)}]" if left_out else ""
    return filter_expr(tuple(kept))


def describe_uri(uri: str) -> str:
    """How messages name a URI: a Lite file with its absolute path."""
    return uri if "://" in uri else f"{uri} (Milvus Lite, {Path(uri).resolve()})"


def unavailable(uri: str, exc: BaseException) -> BackendUnavailableError:
    """The error for a Milvus that does not answer: the URI, the cause, the fix."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "://" not in uri:  # Milvus Lite: one process holds a .db folder at a time
        return BackendUnavailableError(
            f"Milvus Lite at {describe_uri(uri)} cannot be opened ({first[:200]}); another "
            "process may hold it (Milvus Lite serves one process a file): stop it, or point "
            f"{ENV_URI} at a Milvus server (http://host:19530) that many processes share")
    return BackendUnavailableError(
        f"Milvus at {uri} does not answer ({first[:200]}); start it, or set {ENV_URI} to "
        f"a running Milvus (http://host:19530) or to a local file ({DEFAULT_URI}) for Milvus "
        "Lite, or use the local index (RAGQA_BACKEND=local)"
    )


def lite_timeout(uri: str, timeout: float = TIMEOUT) -> float:
    """Seconds for a call that may start Milvus Lite or open one of its collections (Lite
    reads a collection from its file at its first use: more than ``TIMEOUT`` for a big
    one): at least ``LITE_START_TIMEOUT`` for a local file, ``timeout`` for a server.

    >>> lite_timeout("http://milvus:19530"), lite_timeout(".ragqa/milvus.db")
    (10.0, 60.0)
    """
    return timeout if "://" in uri else max(timeout, LITE_START_TIMEOUT)


def connect(uri: str, timeout: float = TIMEOUT):
    """A ``MilvusClient`` for a URI: Milvus Lite for a ``.db`` path, a server otherwise.

    ``timeout``: seconds to wait for a server; Milvus Lite, which starts here first, gets
    at least ``LITE_START_TIMEOUT``."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise RagError(f"the Milvus backend needs pymilvus and milvus-lite ({exc}); install "
                       "them with: pip install -e '.[scale]'") from exc
    if "://" not in uri:
        if not uri.endswith(".db"):
            raise RagError(f"the Milvus URI {uri!r} is neither http://host:port nor a local "
                           f"path ending in .db; use e.g. {DEFAULT_URI}")
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    timeout = lite_timeout(uri, timeout)
    # Milvus Lite's in-process server can drop a channel ("too many pings") while it is
    # busy; a local file is opened again a couple of times before giving up
    attempts = 3 if "://" not in uri else 1
    for attempt in range(attempts):
        try:
            return MilvusClient(uri=uri, timeout=timeout)
        except Exception as exc:  # pymilvus raises MilvusException, grpc errors, OSError
            if attempt == attempts - 1:
                raise unavailable(uri, exc) from exc
            time.sleep(1.0)
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------ writing


def _schema(dim: int):
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("doc_id", DataType.VARCHAR, max_length=512)
    schema.add_field("doc_title", DataType.VARCHAR, max_length=4096)
    schema.add_field("doc_type", DataType.VARCHAR, max_length=64)
    schema.add_field("source_file", DataType.VARCHAR, max_length=1024)
    schema.add_field("page", DataType.INT64)
    schema.add_field("chapter", DataType.VARCHAR, max_length=4096)
    schema.add_field("section", DataType.VARCHAR, max_length=8192)
    schema.add_field("article", DataType.VARCHAR, max_length=256)
    schema.add_field("article_no", DataType.INT64)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("lexical", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params=ANALYZER)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("content_sha", DataType.VARCHAR, max_length=64)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                 input_field_names=["lexical"], output_field_names=["sparse"]))
    return schema


# jieba in search mode (未成年人 -> 未成年, 成年人, 未成年人), our stop words removed
ANALYZER = {"tokenizer": "jieba",
            "filter": [{"type": "stop", "stop_words": sorted(STOPWORDS)}]}


def _index_params(client, n: int):
    params = client.prepare_index_params()
    if n < FLAT_BELOW:
        params.add_index("dense", index_type="FLAT", metric_type="IP")
    else:
        params.add_index("dense", index_type="HNSW", metric_type="IP",
                         params={"M": 32, "efConstruction": 200})
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": 1.5, "bm25_b": 0.75})
    return params


def _rows(passages: Sequence[Passage], vectors: np.ndarray, search_texts: Sequence[str]):
    for passage, vector, body in zip(passages, vectors, search_texts, strict=True):
        if len(passage.text.encode("utf-8")) > MAX_VARCHAR:
            raise RagError(f"passage {passage.id!r} is over {MAX_VARCHAR:,} bytes, more than a "
                           "Milvus text field holds; split it (chunking max_chars)")
        lexical = lexical_text(body).encode("utf-8")[:MAX_VARCHAR].decode("utf-8", "ignore")
        yield {
            "id": passage.id, "doc_id": passage.doc_id, "doc_title": passage.doc_title,
            "doc_type": passage.doc_type, "source_file": passage.source_file,
            "page": NO_INT if passage.page is None else passage.page,
            "chapter": passage.chapter or "", "section": passage.section or "",
            "article": passage.article or "",
            "article_no": NO_INT if passage.article_no is None else passage.article_no,
            "text": passage.text, "lexical": lexical,
            "dense": np.asarray(vector, dtype=np.float32).tolist(),
            "content_sha": content_hash(passage, body),
        }


def _batches(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def write_collection(uri: str, passages: Sequence[Passage], vectors: np.ndarray,
                     search_texts: Sequence[str], info: CollectionInfo,
                     alias: str = ALIAS, documents: Sequence[Document] = (),
                     quoting: Mapping[str, Sequence[str]] | None = None) -> str:
    """Write every passage into a new collection, then point ``alias`` at it.

    ``search_texts`` are the texts BM25 indexes (``rag.build.embedding_text``: title and
    place with the text). ``documents`` (with ``quoting``, regulation id -> ids of the
    documents quoting it) go to ``<name>_docs`` first. Returns the new collection's
    name. A failure before the alias moves leaves the served collection as it was
    (the half-built one is dropped).
    """
    client = connect(uri)
    name = f"{PREFIX}{time.time_ns()}"
    try:
        client.create_collection(name, schema=_schema(info.dim),
                                 index_params=_index_params(client, len(passages)),
                                 properties={INFO_PROPERTY: info.to_json()})
        for batch in _batches(_rows(passages, vectors, search_texts), INSERT_BATCH):
            client.insert(name, batch, timeout=60)
        client.flush(name, timeout=600)
        client.load_collection(name, timeout=600)
        if documents:
            _put_documents(client, name, documents, quoting or {})
        previous = alias_target(client, alias)
        if previous is None:
            client.create_alias(name, alias, timeout=TIMEOUT)
        else:
            client.alter_alias(name, alias, timeout=TIMEOUT)
    except RagError:
        _drop_with_documents(client, name)
        raise
    except Exception as exc:
        _drop_with_documents(client, name)
        raise unavailable(uri, exc) from exc
    # keep the collection just replaced (a question in flight may still read it)
    for old in sorted(c for c in client.list_collections()
                      if c.startswith(PREFIX) and not c.endswith(DOCS_SUFFIX)):
        if old not in (name, previous):
            _drop_with_documents(client, old)
    log.info("Milvus at %s: %s now serves %d passages (was %s)", uri, alias, len(passages),
             previous)
    return name


def alias_target(client, alias: str) -> str | None:
    if alias not in client.list_aliases().get("aliases", []):
        return None
    return client.describe_alias(alias)["collection_name"]


def _drop_quietly(client, name: str) -> None:
    try:
        client.drop_collection(name)
    except Exception as exc:  # a failed cleanup must not hide the error that caused it
        log.warning("could not drop the Milvus collection %s (%s)", name, exc)


def _drop_with_documents(client, name: str) -> None:
    _drop_quietly(client, name)
    try:
        has_documents = client.has_collection(name + DOCS_SUFFIX)
    except Exception:  # noqa: BLE001 - Milvus gone: nothing more to clean up now
        return
    if has_documents:
        _drop_quietly(client, name + DOCS_SUFFIX)


@dataclass(frozen=True)
class SyncReport:
    upserted: int
    deleted: int
    unchanged: int


def sync_collection(uri: str, passages: Sequence[Passage], vectors: np.ndarray,
                    search_texts: Sequence[str], info: CollectionInfo,
                    alias: str = ALIAS, documents: Sequence[Document] = (),
                    quoting: Mapping[str, Sequence[str]] | None = None) -> SyncReport:
    """Bring the live collection to these passages in place: upsert by id what is new or
    changed, delete the ids that are gone; its documents the same way when given. The
    collection must hold the same embedder and dimension (else write a new one with
    ``write_collection``)."""
    client = connect(uri)
    try:
        name = alias_target(client, alias)
        if name is None:
            raise IndexMismatchError(f"no collection {alias!r} at {describe_uri(uri)}; build "
                                     "it with: ragqa index --backend milvus --rebuild")
        check_info(client, name, uri, info.embedder, info.dim)
        client.load_collection(name, timeout=600)
        stored = _stored_hashes(client, name)
        rows = list(_rows(passages, vectors, search_texts))
        changed = [r for r in rows if stored.get(r["id"]) != r["content_sha"]]
        gone = sorted(set(stored) - {r["id"] for r in rows})
        for batch in _batches(changed, INSERT_BATCH):
            client.upsert(name, batch, timeout=60)
        for batch in _batches(gone, INSERT_BATCH):
            client.delete(name, ids=batch, timeout=60)
        if documents:
            _put_documents(client, name, documents, quoting or {})
        client.alter_collection_properties(name, properties={INFO_PROPERTY: info.to_json()})
        client.flush(name, timeout=600)
    except RagError:
        raise
    except Exception as exc:
        raise unavailable(uri, exc) from exc
    return SyncReport(len(changed), len(gone), len(rows) - len(changed))


def _stored_hashes(client, name: str) -> dict[str, str]:
    """Every row's id and content hash, read in pages by a query iterator."""
    return {key: values[0] for key, values in _stored(client, name, ("content_sha",)).items()}


def _stored(client, name: str, fields: Sequence[str], page: int = 1000) -> dict[str, tuple]:
    """Every row's id and these fields, read in pages of ``page`` rows by a query
    iterator."""
    # Milvus Lite's in-process server logs a traceback for a timestamp call the iterator
    # makes first (it then uses the client's clock); silence that one logger meanwhile
    server_log = logging.getLogger("grpc._server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    try:
        iterator = client.query_iterator(name, batch_size=page, filter="",
                                         output_fields=["id", *fields], timeout=60)
    finally:
        server_log.setLevel(level)
    stored: dict[str, tuple] = {}
    while True:
        batch = iterator.next()
        if not batch:
            break
        stored.update((r["id"], tuple(r[f] for f in fields)) for r in batch)
    iterator.close()
    return stored


# ------------------------------------------------------------------------ documents


@dataclass(frozen=True)
class StoredDocuments:
    """What a documents collection gives back: the index folder's documents.jsonl and
    quotations.json."""

    documents: tuple[Document, ...]  # by id
    quoting: dict[str, tuple[str, ...]]  # regulation id -> ids of documents quoting it


def documents_sha256(documents: Sequence[Document],
                     quoting: Mapping[str, Sequence[str]]) -> str:
    """What ``CollectionInfo.documents_sha256`` records: a change of any document's
    record (a status field read anew) or of the quotations updates the collection."""
    record = json.dumps([[document_record(d) for d in documents],
                         {k: list(v) for k, v in sorted(quoting.items())}],
                        ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(record.encode("utf-8")).hexdigest()


def quotes_of(quoting: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Regulation -> documents quoting it, turned round: document -> regulations it quotes.

    >>> quotes_of({"r1": ["a", "b"], "r2": ["a"]})
    {'a': ['r1', 'r2'], 'b': ['r1']}
    >>> quoting_of(quotes_of({"r1": ["a", "b"], "r2": ["a"]}))
    {'r1': ('a', 'b'), 'r2': ('a',)}
    """
    quotes: dict[str, list[str]] = {}
    for regulation, documents in sorted(quoting.items()):
        for doc_id in documents:
            quotes.setdefault(doc_id, []).append(regulation)
    return {k: sorted(v) for k, v in sorted(quotes.items())}


def quoting_of(quotes: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The inverse of ``quotes_of``: regulation -> the documents quoting it, sorted."""
    quoting: dict[str, list[str]] = {}
    for doc_id, regulations in quotes.items():
        for regulation in regulations:
            quoting.setdefault(regulation, []).append(doc_id)
    return {k: tuple(sorted(v)) for k, v in sorted(quoting.items())}


def _documents_schema():
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("record", DataType.VARCHAR, max_length=MAX_VARCHAR)  # documents.jsonl
    schema.add_field("quotes", DataType.VARCHAR, max_length=MAX_VARCHAR)  # regulation ids
    schema.add_field("unit", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
    return schema


def _document_row(document: Document, quotes: Sequence[str]) -> dict:
    record = json.dumps(document_record(document), ensure_ascii=False, sort_keys=True)
    listed = json.dumps(list(quotes), ensure_ascii=False)
    for field, value in (("record", record), ("quotes", listed)):
        if len(value.encode("utf-8")) > MAX_VARCHAR:
            raise RagError(f"the {field} of document {document.id!r} is over {MAX_VARCHAR:,} "
                           "bytes, more than a Milvus text field holds")
    return {"id": document.id, "record": record, "quotes": listed, "unit": [1.0, 0.0]}


def _put_documents(client, name: str, documents: Sequence[Document],
                   quoting: Mapping[str, Sequence[str]]) -> None:
    """``<name>_docs`` made to hold these documents: created when missing, then what
    is new or changed upserted by id and what is gone deleted."""
    docs = name + DOCS_SUFFIX
    if not client.has_collection(docs):
        params = client.prepare_index_params()
        params.add_index("unit", index_type="FLAT", metric_type="IP")
        client.create_collection(docs, schema=_documents_schema(), index_params=params)
    client.load_collection(docs, timeout=600)
    quotes = quotes_of(quoting)
    stored = _stored(client, docs, ("record", "quotes"))
    rows = [_document_row(d, quotes.get(d.id, ())) for d in documents]
    changed = [r for r in rows if stored.get(r["id"]) != (r["record"], r["quotes"])]
    gone = sorted(set(stored) - {r["id"] for r in rows})
    for batch in _batches(changed, INSERT_BATCH):
        client.upsert(docs, batch, timeout=60)
    for batch in _batches(gone, INSERT_BATCH):
        client.delete(docs, ids=batch, timeout=60)
    client.flush(docs, timeout=600)


def read_documents(uri: str, alias: str = ALIAS) -> StoredDocuments:
    """The documents of the collection behind ``alias`` and who quotes each regulation,
    as the index folder's ``read_documents`` and ``read_quotations`` give them."""
    client = connect(uri)
    try:
        name = alias_target(client, alias)
        if name is None:
            raise IndexMismatchError(f"no collection {alias!r} at {describe_uri(uri)}; build "
                                     f"it with: ragqa index --backend milvus --milvus-uri {uri}")
        docs = name + DOCS_SUFFIX
        if not client.has_collection(docs):
            raise IndexMismatchError(
                f"the Milvus collection {name} at {describe_uri(uri)} holds no documents "
                f"(written by an earlier version); add them with: ragqa index --backend "
                f"milvus --milvus-uri {uri}")
        client.load_collection(docs, timeout=600)
        stored = _stored(client, docs, ("record", "quotes"))
    except RagError:
        raise
    except Exception as exc:
        raise unavailable(uri, exc) from exc
    documents = tuple(Document(**json.loads(stored[i][0])) for i in sorted(stored))
    quoting = quoting_of({i: json.loads(stored[i][1]) for i in sorted(stored)})
    return StoredDocuments(documents, quoting)


def collection_info(uri: str, alias: str = ALIAS) -> CollectionInfo | None:
    """What the collection behind ``alias`` was built from; None when there is none."""
    client = connect(uri)
    try:
        name = alias_target(client, alias)
        return None if name is None else _read_info(client, name, uri)
    except RagError:
        raise
    except Exception as exc:
        raise unavailable(uri, exc) from exc


def _read_info(client, name: str, uri: str, timeout: float = TIMEOUT) -> CollectionInfo:
    properties = client.describe_collection(name, timeout=lite_timeout(uri, timeout)).get(
        "properties") or {}
    try:
        return CollectionInfo.from_json(properties[INFO_PROPERTY])
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexMismatchError(
            f"the Milvus collection {name} at {describe_uri(uri)} was not written by ragqa "
            f"(no readable {INFO_PROPERTY}); rebuild it with: ragqa index --backend milvus "
            "--rebuild") from exc


def check_info(client, name: str, uri: str, embedder: str, dim: int,
               timeout: float = TIMEOUT) -> CollectionInfo:
    """The collection's record, checked against this program and its embedder."""
    info = _read_info(client, name, uri, timeout)
    rebuild = f"rebuild it with: ragqa index --backend milvus --milvus-uri {uri} --rebuild"
    if info.schema != SCHEMA_VERSION:
        raise IndexMismatchError(
            f"the Milvus collection {name} at {describe_uri(uri)} has schema {info.schema}, "
            f"this program reads {SCHEMA_VERSION}; {rebuild}")
    if (info.embedder, info.dim) != (embedder, dim):
        raise IndexMismatchError(
            f"the Milvus collection {name} at {describe_uri(uri)} was built with "
            f"{info.embedder} ({info.dim} dims) but the embedder is {embedder} ({dim} dims); "
            f"set RAGQA_EMBED_MODEL to {info.embedder}, or {rebuild}")
    return info


def passage_of_row(row: dict) -> Passage:
    """The passage a collection row holds (the inverse of what a build writes)."""
    record: dict[str, Any] = {name: row.get(name) for name in PASSAGE_COLUMNS}
    for name in ("chapter", "section", "article"):
        record[name] = record[name] or None
    for name in ("page", "article_no"):
        record[name] = None if record[name] in (None, NO_INT) else int(record[name])
    return Passage(**record)
