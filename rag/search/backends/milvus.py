"""The ``milvus`` search backend: ranking in a Milvus collection written by
``rag.index.milvus``.

``MilvusSearch`` runs dense search, BM25 full-text search (Milvus' BM25 function over
its jieba analyzer) and both fused by Milvus' RRF ranker as one ``hybrid_search``,
with the scope (documents) pushed down as a Milvus expression; article lookup is an
exact filter query. It answers passage ids and scores. ``MilvusBackend`` turns them
into rows of the index folder and applies the type weights and ties by id of the
local backend, so the two rank alike.

A URI that does not answer, a call that times out or a connection dropped
mid-question raise ``BackendUnavailableError`` naming the URI and the fix;
``MilvusBackend`` then answers from the local index and tries Milvus again
``RETRY_SECONDS`` later, reconnecting (and loading the collection) afresh.

An index read from Milvus alone (``rag.index.replica``, no folder) has no local index:
a question while Milvus is down raises the error (saying so), the next one after
``RETRY_SECONDS`` tries Milvus again. Its searches go to the collection it was read
from, not the alias, so a build switching the alias never mixes two collections'
rows; the vectors the refusal check compares are fetched by id (``VECTOR_CACHE`` kept).

Left out: Milvus' own rerankers beyond RRF, partitions, query-time consistency
levels other than the collection's default.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.errors import BackendUnavailableError, IndexMismatchError, RagError
from rag.index.folder import PASSAGES_FILE, LoadedIndex
from rag.index.milvus import (
    ALIAS,
    DEFAULT_URI,
    ENV_URI,
    PASSAGE_COLUMNS,
    RRF_K,
    TIMEOUT,
    alias_target,
    check_info,
    connect,
    describe_uri,
    filter_expr,
    lexical_text,
    passage_of_row,
    scope_expr,
    unavailable,
)
from rag.search.fusion import top_rows
from rag.search.query import Query, RetrieverName
from rag.types import Passage

from .base import Scope
from .local import CANDIDATES, TYPE_WEIGHT

log = logging.getLogger(__name__)
RETRY_SECONDS = 5.0  # after a failure, the local index answers this long
VECTOR_CACHE = 4096  # vectors fetched by id kept (16 KiB each at 384 dims … 1 KiB)
NO_FOLDER = "no index folder here, so nothing else can answer meanwhile"


class MilvusSearch:
    """Questions asked of the collection behind the alias at one URI.

    Every method returns ``(passage id, score)`` pairs, best first, ties by id, or
    raises ``BackendUnavailableError`` naming the URI when Milvus does not answer.
    """

    def __init__(self, uri: str, embedder: str, dim: int, passages_sha256: str | None = None,
                 alias: str = ALIAS, timeout: float = TIMEOUT, collection: str | None = None):
        """``collection``: ask that collection rather than the one behind ``alias``."""
        self.uri = uri
        self.alias = alias
        self.pinned = collection
        self.target = collection or alias  # the name every call asks
        self.timeout = timeout
        self._expected = (embedder, dim, passages_sha256)
        self._client: Any = None
        self.collection: str | None = None
        self._lock = threading.Lock()
        try:
            self._open()
        except BackendUnavailableError as exc:  # serve from the local index until it answers
            log.warning("%s; answering from the local index until it does", exc)

    def _open(self) -> None:
        """Connect and check the collection (IndexMismatchError when it does not fit)."""
        embedder, dim, passages_sha256 = self._expected
        client = connect(self.uri, self.timeout)
        uri = self.uri
        try:
            name = self.pinned or alias_target(client, self.alias)
            if name is None:
                raise IndexMismatchError(
                    f"no collection {self.alias!r} at {describe_uri(uri)}; build it with: "
                    f"ragqa index --backend milvus --milvus-uri {uri}")
            self.info = check_info(client, name, uri, embedder, dim, self.timeout)
            if passages_sha256 is not None and self.info.passages_sha256 != passages_sha256:
                # a build writes the folder, then the collection: for a moment they differ.
                # Ranked ids the folder lacks are left out (rag.search.retrieve).
                log.warning("the Milvus collection %s at %s holds other passages than the "
                            "index folder; update it with: ragqa index --backend milvus "
                            "--milvus-uri %s", name, describe_uri(uri), uri)
            client.load_collection(self.target, timeout=600)
        except RagError:
            raise
        except Exception as exc:
            raise unavailable(uri, exc) from exc
        self._client, self.collection = client, name

    @property
    def connected(self) -> bool:
        return self._client is not None

    def _ensure(self):
        if self._client is None:
            with self._lock:
                if self._client is None:
                    try:
                        self._open()
                    except IndexMismatchError as exc:  # found, but not what this index needs
                        raise BackendUnavailableError(str(exc)) from exc
        return self._client

    def _call(self, method: str, *args, **kwargs):
        client = self._ensure()
        try:
            return getattr(client, method)(*args, timeout=self.timeout, **kwargs)
        except Exception as exc:
            # connect afresh next time: a restarted Milvus may also need the collection
            # loaded again
            with self._lock:
                if self._client is client:
                    self._client = None
                    with contextlib.suppress(Exception):
                        client.close()
            raise unavailable(self.uri, exc) from exc

    @staticmethod
    def _pairs(result) -> list[tuple[str, float]]:
        pairs = [(str(hit["id"]), float(hit["distance"])) for hit in result[0]]
        return sorted(pairs, key=lambda x: (-x[1], x[0]))

    def dense(self, vector: np.ndarray, expr: str, limit: int) -> list[tuple[str, float]]:
        result = self._call("search", self.target, data=[_floats(vector)], anns_field="dense",
                            limit=limit, filter=expr, output_fields=["id"],
                            search_params={"metric_type": "IP", "params": {"ef": 128}})
        return self._pairs(result)

    def lexical(self, question: str, expr: str, limit: int) -> list[tuple[str, float]]:
        query = lexical_text(question).strip()
        if not query:
            return []
        result = self._call("search", self.target, data=[query], anns_field="sparse",
                            limit=limit, filter=expr, output_fields=["id"],
                            search_params={"metric_type": "BM25"})
        # Milvus Lite reports BM25 scores negated (a distance); a server, as they are
        return self._pairs([[{"id": h["id"], "distance": abs(h["distance"])}
                             for h in result[0]]])

    def hybrid(self, vector: np.ndarray, question: str, expr: str, depth: int,
               limit: int) -> list[tuple[str, float]]:
        """Dense and BM25, ``depth`` deep each, fused by Milvus' RRF ranker (k 60)."""
        from pymilvus import AnnSearchRequest, RRFRanker

        requests = [AnnSearchRequest(data=[_floats(vector)], anns_field="dense",
                                     param={"metric_type": "IP", "params": {"ef": 128}},
                                     limit=depth, expr=expr or None)]
        query = lexical_text(question).strip()
        if query:
            requests.append(AnnSearchRequest(data=[query], anns_field="sparse",
                                             param={"metric_type": "BM25"}, limit=depth,
                                             expr=expr or None))
        result = self._call("hybrid_search", self.target, requests, RRFRanker(RRF_K),
                            limit=limit, output_fields=["id"])
        return self._pairs(result)

    def article(self, article_no: int, doc_ids: Sequence[str] = (),
                doc_type: str | None = None) -> list[tuple[str, str]]:
        """(passage id, document id) of article ``article_no``, exact: a filter query."""
        expr = " and ".join(x for x in (f"article_no == {int(article_no)}",
                                        filter_expr(doc_ids, doc_type)) if x)
        rows = self._call("query", self.target, filter=expr, output_fields=["id", "doc_id"],
                          limit=16_384)
        return sorted((str(r["id"]), str(r["doc_id"])) for r in rows)

    def passages(self, ids: Sequence[str]) -> list[Passage]:
        """The passages of these ids, as the collection holds them (for a citation)."""
        if not ids:
            return []
        rows = self._call("get", self.target, ids=list(ids), output_fields=list(PASSAGE_COLUMNS))
        by_id = {r["id"]: passage_of_row(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these passage ids (those the collection holds)."""
        if not ids:
            return {}
        rows = self._call("get", self.target, ids=list(ids), output_fields=["id", "dense"])
        return {str(r["id"]): np.asarray(r["dense"], dtype=np.float32) for r in rows}

    def count(self) -> int:
        rows = self._call("query", self.target, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])


def _floats(vector: np.ndarray) -> list[float]:
    return np.asarray(vector, dtype=np.float32).reshape(-1).tolist()


class MilvusBackend:
    """A ``SearchBackend`` ranking in Milvus; the local backend answers while Milvus does
    not, and Milvus is tried again ``RETRY_SECONDS`` after a failure."""

    name = "milvus"

    def __init__(self, index: LoadedIndex, uri: str | None = None, timeout: float = TIMEOUT):
        from .local import LocalBackend

        # an index read from Milvus alone has no local index to answer meanwhile
        self.local = None if index.remote else LocalBackend(index)
        self.uri = index.remote or uri or os.environ.get(ENV_URI) or DEFAULT_URI
        self.search = MilvusSearch(self.uri, index.manifest.embedder, index.manifest.dim,
                                   index.manifest.checksums.get(PASSAGES_FILE), timeout=timeout,
                                   collection=index.collection)
        self._vectors: OrderedDict[int, np.ndarray] = OrderedDict()
        self._last_error: BackendUnavailableError | None = None
        self.passages = index.passages
        self._id_rank = index.passages.id_rank
        self._doc_of_row = index.passages.doc_of_row
        self._weight_of_doc = np.array([TYPE_WEIGHT.get(d.doc_type, 1.0)
                                        for d in index.documents])
        self._doc_ids = tuple(d.id for d in index.documents)
        self._lock = threading.Lock()
        # not reachable at load (logged by MilvusSearch): the local index answers first
        self._down_until = 0.0 if self.search.connected else time.monotonic() + RETRY_SECONDS

    # ------------------------------------------------------------ SearchBackend

    def ranked(self, query: Query, retriever: RetrieverName, scope: Scope,
               k: int) -> list[tuple[int, float]]:
        if scope.empty:
            return []
        if self.local is None:
            return self._remote(lambda: self._ranked(query, retriever, scope, k))
        if self._up():
            try:
                return self._ranked(query, retriever, scope, k)
            except BackendUnavailableError as exc:
                self._failed(exc)
        return self.local.ranked(query, retriever, scope, k)

    def vector(self, row: int) -> np.ndarray:
        if self.local is not None:
            return self.local.vector(row)  # the same vectors Milvus holds, no round trip
        with self._lock:
            cached = self._vectors.get(row)
            if cached is not None:
                self._vectors.move_to_end(row)
                return cached
        passage_id = self.passages[row].id
        found = self._remote(lambda: self.search.vectors([passage_id]))
        if passage_id not in found:
            raise BackendUnavailableError(
                f"the Milvus collection {self.search.target} at {self.uri} no longer holds "
                f"the passage {passage_id}; the next question reads the new collection")
        with self._lock:
            self._vectors[row] = found[passage_id]
            while len(self._vectors) > VECTOR_CACHE:
                self._vectors.popitem(last=False)
        return found[passage_id]

    def article_rows(self, article_no: int, doc_id: str | None = None) -> np.ndarray:
        """Rows of an article's passages, by an exact filter query in Milvus."""
        def exact() -> np.ndarray:
            found = self.search.article(article_no, (doc_id,) if doc_id else ())
            return np.array(sorted(r for r, _ in self._rows([(i, 1.0) for i, _ in found])),
                            dtype=np.int64)

        if self.local is None:
            return self._remote(exact)
        if self._up():
            try:
                return exact()
            except BackendUnavailableError as exc:
                self._failed(exc)
        return self.local.article_rows(article_no, doc_id)

    # ------------------------------------------------------------ parts

    def _ranked(self, query: Query, retriever: RetrieverName, scope: Scope,
                k: int) -> list[tuple[int, float]]:
        expr = scope_expr(scope.doc_ids, self._doc_ids)
        if retriever == "dense":
            if query.vector is None:
                return []
            return self._rows(self.search.dense(query.vector, expr, k))
        if retriever == "bm25":
            return self._rows(self.search.lexical(query.text, expr, k))
        depth = max(k, CANDIDATES)
        if query.vector is None:
            fused = dict(self._rows(self.search.lexical(query.text, expr, depth)))
        else:
            fused = dict(self._rows(self.search.hybrid(query.vector, query.text, expr, depth,
                                                       depth)))
        rows = list(fused)
        for row, weight in zip(rows, self._weight_of_doc[self._doc_of_row[rows]].tolist(),
                               strict=True):
            fused[row] *= weight
        return [(r, fused[r]) for r in top_rows(fused, k, self._id_rank)]

    def _rows(self, pairs: list[tuple[str, float]]) -> list[tuple[int, float]]:
        """(passage id, score) from Milvus as (row, score), ties broken by id. An id the
        folder lacks (a build writes the folder, then the collection) is left out."""
        rows = []
        for passage_id, score in pairs:
            try:
                rows.append((self.passages.row_of(passage_id), score))
            except KeyError:
                continue
        return sorted(rows, key=lambda x: (-x[1], self._id_rank[x[0]]))

    def _up(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BackendUnavailableError) -> None:
        with self._lock:
            first = time.monotonic() >= self._down_until
            self._down_until = time.monotonic() + RETRY_SECONDS
            self._last_error = exc
        if first:
            log.warning("%s; %s", exc, "answering from the local index meanwhile"
                        if self.local is not None else NO_FOLDER)

    def _remote(self, call):
        """``call()`` on Milvus for an index without a local one: while Milvus is down
        (``RETRY_SECONDS`` after a failure) the last error at once, else a fresh try."""
        if not self._up() and self._last_error is not None:
            raise self._no_folder(self._last_error)
        try:
            return call()
        except BackendUnavailableError as exc:
            self._failed(exc)
            raise self._no_folder(exc) from exc

    @staticmethod
    def _no_folder(exc: BackendUnavailableError) -> BackendUnavailableError:
        message = str(exc)
        return exc if NO_FOLDER in message else BackendUnavailableError(f"{message} ({NO_FOLDER})")
