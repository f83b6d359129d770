"""The Milvus search backend, for real: Milvus Lite in this process, and a Milvus Lite
server in a child process for the faults a network brings (a URI that does not
answer, a connection dropped mid-question, recovery).

One collection is written per test session (the real corpus, vectors from the
embedding cache) and every question is asked of it through ``Pipeline.search``.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import CACHE, CORPUS, free_port

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from rag.errors import BackendUnavailableError, IndexMismatchError  # noqa: E402
from rag.index import milvus as mv  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402


@pytest.fixture(scope="session")
def milvus_uri(built_index, tmp_path_factory):
    """A Milvus Lite file holding the real corpus, written once by a real build."""
    from rag.index.build import build_index

    uri = str(tmp_path_factory.mktemp("milvus") / "milvus.db")
    report = build_index(CORPUS, built_index, cache_dir=CACHE, progress=False, milvus_uri=uri)
    assert "alias switched" in report.milvus, report.summary()
    return uri


@pytest.fixture(scope="session")
def on_milvus(built_index, milvus_uri):
    return Pipeline.load(built_index, backend="milvus", milvus_uri=milvus_uri)


def top(hits, n=1):
    return [(h.passage.doc_title, h.passage.article) for h in hits[:n]]


@pytest.mark.parametrize("retriever", ["hybrid", "dense", "bm25"])
def test_citizen_question_finds_the_article(on_milvus, retriever):
    hits = on_milvus.search("网吧能让未成年人进去吗？", k=5, retriever=retriever)
    assert on_milvus.retriever.backend.name == "milvus"
    assert ("山西省未成年人保护条例", "第二十九条") in top(hits, 5)


def test_dense_ranking_is_the_faiss_ranking(on_milvus, pipeline):
    """Exact inner product on both sides: the same passages in the same order."""
    question = "孩子在学校被同学欺负了，学校应该怎么做？"
    milvus = on_milvus.search(question, k=10, retriever="dense")
    local = pipeline.search(question, k=10, retriever="dense")
    assert [h.passage.id for h in milvus] == [h.passage.id for h in local]
    assert np.allclose([h.score for h in milvus], [h.score for h in local], atol=1e-5)


def test_article_lookup_is_an_exact_filter_query(on_milvus):
    hits = on_milvus.search("《山西省节约能源条例》第二十条怎么规定的？", k=3)
    assert hits[0].source == "clause"
    assert top(hits) == [("山西省节约能源条例", "第二十条")]


def test_filters_are_pushed_down(on_milvus):
    notice = on_milvus.search("节约能源", k=8, doc_type="notice")
    assert notice and {h.passage.doc_type for h in notice} == {"notice"}
    doc_id = on_milvus.search("节约能源条例第二十条", k=1)[0].passage.doc_id
    within = on_milvus.search("法律责任 罚款", k=8, doc_id=doc_id)
    assert within and {h.passage.doc_id for h in within} == {doc_id}


def test_collection_records_what_it_was_built_from(on_milvus, milvus_uri):
    info = mv.collection_info(milvus_uri)
    assert (info.embedder, info.dim) == (on_milvus.embedder.name, on_milvus.embedder.dim)
    assert info.passages_sha256 == on_milvus.manifest.checksums["passages.jsonl"]
    assert on_milvus.retriever.backend.search.count() == len(on_milvus.passages)


def test_the_collection_holds_the_documents_and_who_quotes_them(milvus_uri, built_index):
    """Beside the passages, ``<collection>_docs`` gives back the folder's documents.jsonl
    and quotations.json, so a citation's title, type and status need no folder."""
    from rag.index.folder import read_documents, read_quotations

    stored = mv.read_documents(milvus_uri)
    assert stored.documents == tuple(sorted(read_documents(built_index), key=lambda d: d.id))
    assert stored.quoting == read_quotations(built_index)
    minors = [d for d in stored.documents if d.title == "山西省未成年人保护条例"]
    assert [d.doc_type for d in minors] == ["regulation"]
    assert minors[0].effective == "2024-01-01"  # its status fields travel with it


def test_a_collection_of_another_embedder_is_refused(tmp_path, pipeline):
    uri = str(tmp_path / "other.db")
    passages = list(pipeline.passages[:3])
    vectors = np.eye(3, 8, dtype=np.float32)
    mv.write_collection(uri, passages, vectors, [p.text for p in passages],
                        mv.CollectionInfo("st:some/other-model", 8, "0" * 64))
    with pytest.raises(IndexMismatchError) as caught:
        Pipeline.load(pipeline.index_dir, backend="milvus", milvus_uri=uri)
    message = str(caught.value)
    assert "st:some/other-model (8 dims)" in message and str(tmp_path) in message
    assert f"ragqa index --backend milvus --milvus-uri {uri} --rebuild" in message


def test_versions_switch_the_alias_and_sync_updates_by_id(tmp_path, pipeline):
    """A build writes a new collection and moves the alias (the one before is kept);
    ``sync`` upserts a changed passage and deletes a removed one, by id."""
    from dataclasses import replace

    uri = str(tmp_path / "versions.db")
    passages = list(pipeline.passages[:6])
    vectors = np.stack([pipeline.retriever.vector_of(p.id) for p in passages])
    texts = [p.text for p in passages]
    info = mv.CollectionInfo(pipeline.embedder.name, pipeline.embedder.dim, "a" * 64)
    first = mv.write_collection(uri, passages, vectors, texts, info)
    second = mv.write_collection(uri, passages, vectors, texts, info)
    third = mv.write_collection(uri, passages, vectors, texts, info)
    client = mv.connect(uri)
    assert client.describe_alias(mv.ALIAS)["collection_name"] == third
    names = set(client.list_collections())
    assert {second, third} <= names and first not in names

    changed = replace(passages[1], text=passages[1].text + "（修订）")
    kept = [passages[0], changed] + passages[3:]  # passages[2] removed
    report = mv.sync_collection(uri, kept, np.delete(vectors, 2, axis=0),
                                [p.text for p in kept], replace(info, passages_sha256="b" * 64))
    assert (report.upserted, report.deleted, report.unchanged) == (1, 1, 4)
    rows = client.query(mv.ALIAS, filter=f"id in {[p.id for p in passages[:3]]}",
                        output_fields=["id", "text"])
    assert {r["id"]: r["text"] for r in rows} == {passages[0].id: passages[0].text,
                                                  changed.id: changed.text}
    assert mv.collection_info(uri).passages_sha256 == "b" * 64


# ------------------------------------------------------------------------ faults


def test_a_uri_that_does_not_answer(pipeline, caplog):
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BackendUnavailableError) as caught:
        mv.collection_info(uri)
    assert uri in str(caught.value) and "RAGQA_MILVUS_URI" in str(caught.value)
    with caplog.at_level(logging.WARNING):
        served = Pipeline.load(pipeline.index_dir, backend="milvus", milvus_uri=uri,
                               embedder=pipeline.embedder)
        hits = served.search("网吧能让未成年人进去吗？", k=5)
    assert ("山西省未成年人保护条例", "第二十九条") in top(hits, 5)  # the local index answered
    assert any(uri in r.getMessage() and "local index" in r.getMessage()
               for r in caplog.records)


def _server(data_dir, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "milvus_lite", "server", "--data-dir",
                                str(data_dir), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                mv.collection_info(f"http://127.0.0.1:{port}")
                return process
            except BackendUnavailableError:
                time.sleep(0.3)
        raise AssertionError("the Milvus Lite server did not start")
    except BaseException:
        process.kill()
        process.wait()
        raise


QUESTION_29 = "网吧能让未成年人进去吗？"  # 《山西省未成年人保护条例》第二十九条


def _server_with_top_passages(pipeline, data_dir, question: str, sha: str):
    """A Milvus Lite server on a free port holding the top five passages of a question
    (their vectors and documents from the shared index): (server, uri, port, passages)."""
    from rag.index.build import embedding_text

    port = free_port()
    uri = f"http://127.0.0.1:{port}"
    passages = [h.passage for h in pipeline.search(question, k=5)]
    vectors = np.stack([pipeline.retriever.vector_of(p.id) for p in passages])
    documents = sorted({pipeline.document(p.doc_id) for p in passages}, key=lambda d: d.id)
    server = _server(data_dir, port)
    try:
        mv.write_collection(uri, passages, vectors, [embedding_text(p) for p in passages],
                            mv.CollectionInfo(pipeline.embedder.name, pipeline.embedder.dim,
                                              sha * 64), documents=documents)
        assert mv.read_documents(uri).documents == tuple(documents)  # over the URI
    except BaseException:
        server.kill()
        server.wait()
        raise
    return server, uri, port, passages


def test_dropped_connection_mid_question_and_recovery(pipeline, tmp_path, monkeypatch, caplog):
    """A served pipeline whose Milvus server dies keeps answering from the local index,
    and ranks on Milvus again once it is back."""
    import rag.search.backends.milvus as backend

    monkeypatch.setattr(backend, "RETRY_SECONDS", 0.5)
    question = QUESTION_29
    expected = pipeline.search(question, k=5)
    server, uri, port, passages = _server_with_top_passages(  # the collection holds these
        pipeline, tmp_path / "data", question, "c")
    try:
        served = Pipeline.load(pipeline.index_dir, backend="milvus", milvus_uri=uri,
                               embedder=pipeline.embedder)
        remote = served.retriever.backend
        on_milvus = served.search(question, k=5, retriever="dense")
        assert {h.passage.id for h in on_milvus} == {p.id for p in passages}
    finally:
        server.kill()
        server.wait()
    with caplog.at_level(logging.WARNING):
        down = served.search(question, k=5)
    assert [h.passage.id for h in down] == [h.passage.id for h in expected]  # local answer
    assert any(uri in r.getMessage() for r in caplog.records)

    server = _server(tmp_path / "data", port)
    try:
        time.sleep(0.6)  # past the retry interval
        deadline = time.monotonic() + 30
        while True:
            assert served.retriever.backend is remote
            back = served.search("节约能源 法律责任", k=3, retriever="dense")
            # the collection holds only the five passages: a Milvus answer names them
            if {h.passage.id for h in back} <= {p.id for p in passages}:
                break
            assert time.monotonic() < deadline, "did not rank on Milvus again"
            time.sleep(0.6)
    finally:
        server.kill()
        server.wait()


def test_later_builds_upsert_and_delete_by_id(tmp_path):
    """A build on a collection of the same embedder updates it in place: a file added
    is upserted, a file removed is deleted, by passage id; nothing else is rewritten."""
    import shutil

    from rag.index.build import build_index

    corpus, uri = tmp_path / "corpus", str(tmp_path / "milvus.db")
    corpus.mkdir()
    small, other = "004_345c30e83f90ffdd.txt", "003_2f4097cb1dcd751f.txt"
    shutil.copy(CORPUS / small, corpus / small)

    def build():
        return build_index(corpus, tmp_path / "index", cache_dir=CACHE, progress=False,
                           milvus_uri=uri)

    first = build()
    assert "alias switched" in first.milvus
    name = mv.connect(uri).describe_alias(mv.ALIAS)["collection_name"]
    shutil.copy(CORPUS / other, corpus / other)  # add a file
    added = build()
    assert f"{added.n_passages - first.n_passages} upserted, 0 deleted, " \
           f"{first.n_passages} unchanged" in added.milvus
    (corpus / small).unlink()  # remove one
    removed = build()
    assert f"0 upserted, {first.n_passages} deleted, {removed.n_passages} unchanged" \
        in removed.milvus
    assert mv.connect(uri).describe_alias(mv.ALIAS)["collection_name"] == name  # in place
    assert {d.source_file for d in mv.read_documents(uri).documents} == {other}
    assert "up to date" in build().milvus
    served = Pipeline.load(tmp_path / "index", backend="milvus", milvus_uri=uri)
    assert served.retriever.backend.search.count() == removed.n_passages
    assert {h.passage.source_file for h in served.search("条例", k=10)} == {other}


# ------------------------------------------------------------------------ replicas


def test_a_replica_reads_everything_from_milvus(milvus_uri, on_milvus, pipeline, tmp_path):
    """No index folder: passages, documents, quotations and the refusal check's statistics
    come from the collection, and a citizen's question gets the folder's answer."""
    missing = tmp_path / "no-index"
    replica = Pipeline.load(missing, backend="milvus", milvus_uri=milvus_uri,
                            embedder=pipeline.embedder)
    assert not missing.exists() and replica.index.remote == milvus_uri
    assert replica.retriever.backend.local is None  # nothing read from a folder
    assert len(replica.passages) == len(pipeline.passages)
    assert replica.index.quoting == pipeline.index.quoting

    question = "网吧能让未成年人进去吗？"
    got, want = replica.ask(question), pipeline.ask(question)
    cited = [(c.doc_id, c.label, c.page) for c in got.citations]
    assert cited == [(c.doc_id, c.label, c.page) for c in want.citations]
    assert cited[0][1] == "《山西省未成年人保护条例》第二十九条"
    assert (got.outcome, got.text) == (want.outcome, want.text) == ("answered", want.text)
    minors = replica.document(cited[0][0])
    assert minors.title == "山西省未成年人保护条例" and minors.effective == "2024-01-01"

    within = dict(k=8, doc_id=cited[0][0])
    ids = [h.passage.id for h in replica.search("营业场所 禁入 标志", **within)]
    assert ids == [h.passage.id for h in on_milvus.search("营业场所 禁入 标志", **within)]
    assert ids and {pipeline.passage(i).doc_id for i in ids} == {cited[0][0]}


def test_a_replica_follows_the_alias(pipeline, tmp_path):
    """A build switching the alias is picked up by a serving replica, whole."""
    from rag.index.build import embedding_text
    from rag.live import LivePipeline

    uri = str(tmp_path / "follow.db")
    hits = pipeline.search("网吧能让未成年人进去吗？", k=8)
    passages = sorted({h.passage for h in hits}, key=lambda p: p.id)
    documents = sorted({pipeline.document(p.doc_id) for p in passages}, key=lambda d: d.id)

    def write(some):
        vectors = np.stack([pipeline.retriever.vector_of(p.id) for p in some])
        mv.write_collection(uri, some, vectors, [embedding_text(p) for p in some],
                            mv.CollectionInfo(pipeline.embedder.name, pipeline.embedder.dim,
                                              str(len(some)) * 64), documents=documents)

    write(passages[:3])
    live = LivePipeline(tmp_path / "no-index", check_seconds=0.2, backend="milvus",
                        milvus_uri=uri, embedder=pipeline.embedder, llm=None, reranker=None)
    try:
        assert [p.id for p in live.passages] == [p.id for p in passages[:3]]
        write(passages)
        deadline = time.monotonic() + 30
        while len(live.passages) != len(passages):
            assert time.monotonic() < deadline, "the replica did not follow the alias"
            time.sleep(0.2)
        found = live.search("网吧 未成年人", k=len(passages), retriever="dense")
        assert {h.passage.id for h in found} == {p.id for p in passages}
    finally:
        live.close()


def test_a_replica_without_milvus_says_there_is_no_fallback(pipeline, tmp_path):
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BackendUnavailableError) as caught:
        Pipeline.load(tmp_path / "no-index", backend="milvus", milvus_uri=uri,
                      embedder=pipeline.embedder)
    message = str(caught.value)
    assert uri in message and "RAGQA_MILVUS_URI" in message and "no index folder" in message


def test_a_replica_says_when_milvus_drops_and_recovers(pipeline, tmp_path, monkeypatch):
    """No folder, so no local answer: a question while the server is down is the error
    (naming the URI and saying so); once it is back, questions are answered again."""
    import rag.search.backends.milvus as backend

    monkeypatch.setattr(backend, "RETRY_SECONDS", 0.5)
    question = QUESTION_29
    server, uri, port, _ = _server_with_top_passages(pipeline, tmp_path / "data", question, "d")
    try:
        replica = Pipeline.load(tmp_path / "no-index", backend="milvus", milvus_uri=uri,
                                embedder=pipeline.embedder)
        assert replica.ask(question).citations[0].label == "《山西省未成年人保护条例》第二十九条"
    finally:
        server.kill()
        server.wait()
    with pytest.raises(BackendUnavailableError) as caught:
        replica.ask(question)
    assert uri in str(caught.value) and "no index folder" in str(caught.value)

    server = _server(tmp_path / "data", port)
    try:
        deadline = time.monotonic() + 30
        while True:
            time.sleep(0.6)  # past the retry interval
            try:
                answer = replica.ask(question)
                break
            except BackendUnavailableError:
                assert time.monotonic() < deadline, "did not answer from Milvus again"
        assert answer.citations[0].label == "《山西省未成年人保护条例》第二十九条"
    finally:
        server.kill()
        server.wait()
