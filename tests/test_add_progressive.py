"""``ragqa add`` is progressive: a new document is searchable by keyword at once and by
meaning once its passages are embedded, and a running pipeline follows both swaps.

The index is the smallest gazette of corpus/ (66 passages) with the corpus's shipped
embeddings and an empty embedding cache, so only the added document is embedded: a
short regulation written by ``regulation_text`` from the generator of
``tests/legal_texts.py`` (seeded), one of whose articles holds a known provision.
The embedding is held back by its progress callback until the test has asked its
question (an event, not a sleep), so "before" is deterministic.
"""

from __future__ import annotations

import random
import shutil
import threading
import time

import pytest
from conftest import CORPUS

from rag.errors import EmbeddingIncompleteError
from rag.index.build import build_index
from rag.index.collection import Change, add_files
from rag.index.folder import read_manifest
from rag.live import LivePipeline, pending
from rag.pipeline import PARTIAL_NOTE, Pipeline

BASE = "004_345c30e83f90ffdd.txt"
BASE_PASSAGES = 66
TITLE = "临汾市电动自行车停放充电管理规定"
FILE = "linfen_ebike.txt"
WAIT_S = 300.0  # an upper bound for a shared machine, never slept


QUESTION = "电动自行车可以在楼梯间充电吗？"  # in the words of the "charge" provision


def regulation_text(seed: int = 15) -> tuple[str, str, str]:
    """A rules text of eight articles (seeded) with the EBIKE "charge" provision in its
    fourth; (text, that article's label, a question about it)."""
    import legal_texts as lt

    w = lt._Writer(random.Random(seed), "规定")
    w.topic = lt.TOPICS["safety"]
    label = ""
    for i in range(7):
        if i == 3:
            label = w.fact(lt.EBIKE_FACTS["charge"], after="。")
        else:
            lt._any_article(w, w.topic)
    w.article(["本规定自2025年1月1日起施行。"])
    history = "（2024年10月8日临汾市人民政府令第9号公布　自2025年1月1日起施行）"
    return lt._render(TITLE, history, w, toc=False), label, QUESTION


@pytest.fixture(scope="module")
def embedder():
    from rag.embed import load_embedder

    return load_embedder()


@pytest.fixture
def setup(tmp_path, embedder):
    """(corpus, index, the regulation's path, its article, its question)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / BASE, corpus / BASE)
    shutil.copytree(CORPUS / "embeddings", corpus / "embeddings")
    index = tmp_path / ".ragqa" / "index"  # its cache, .ragqa/cache, starts empty
    report = build_index(corpus, index, embedder=embedder, progress=False)
    assert report.embedded == 0 and report.n_passages == BASE_PASSAGES
    text, label, question = regulation_text()
    path = tmp_path / "downloads" / FILE
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return corpus, index, path, label, question


def _top_citation(answer) -> tuple[str, str | None, str]:
    assert not answer.refused, answer.text
    cited = answer.citations[0]
    return cited.doc_title, cited.article, cited.passage_id


def test_an_added_document_answers_by_keyword_then_by_meaning(setup, embedder):
    corpus, index, path, label, question = setup
    live = LivePipeline(index, check_seconds=0, embedder=embedder, llm=None, reranker=None)
    partial: list[Change] = []
    keyword_in, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def held(done: int, total: int) -> None:
        if done == 0:  # before the first passage is embedded: the keyword swap is in
            keyword_in.set()
            release.wait(WAIT_S)

    def add() -> None:
        try:
            outcome.append(add_files([path], index, corpus_dir=corpus, embedder=embedder,
                                     on_partial=partial.append, on_embedding=held))
        except BaseException as exc:  # noqa: BLE001 - checked below
            outcome.append(exc)

    thread = threading.Thread(target=add)
    thread.start()
    try:
        assert keyword_in.wait(WAIT_S), outcome
        first = partial[0]
        new = first.passages - BASE_PASSAGES
        assert new >= 8 and first.unembedded == new  # every new passage, no old one
        assert read_manifest(index).unembedded == new
        assert "searchable by keyword now" in first.summary
        before = live.ask(question)
        assert _top_citation(before)[:2] == (TITLE, label)
        assert {h.source for h in before.hits if h.passage.doc_title == TITLE} == {"bm25"}
        assert before.note.startswith(PARTIAL_NOTE)
        assert live.ask("引导焦化、钢铁、化工等传统产业绿色转型的人大代表建议由哪个部门负责办理？"
                        ).note is None  # an answer from embedded passages only: no note
        status = pending(live)
        assert (status.scope, status.to_embed, status.embedded) == ("added", new, 0)
        assert f"新加入的 {new} 段尚未嵌入" in status.describe()
    finally:
        release.set()
        thread.join(WAIT_S)
    change = outcome[0]
    assert isinstance(change, Change), change
    assert (change.keyword_first, change.unembedded, change.passages) == \
        (new, 0, BASE_PASSAGES + new)
    after = live.ask(question)
    assert _top_citation(after) == _top_citation(before)  # the same passage, same format
    assert after.citations[0].label == before.citations[0].label
    assert {h.source for h in after.hits} == {"hybrid"} and after.note is None
    assert pending(live) is None
    complete = Pipeline.load(index, embedder=embedder, llm=None, reranker=None)
    assert complete.unembedded == 0 and complete.index.vectors.ntotal == BASE_PASSAGES + new


class _Failing:
    """The real embedder, except that embedding passages fails (a killed worker)."""

    def __init__(self, real) -> None:
        self.real = real
        self.name, self.dim, self.version = real.name, real.dim, real.version

    def embed_query(self, text: str):
        return self.real.embed_query(text)

    def embed_passages(self, texts, progress: bool = False):
        raise RuntimeError("embedding worker killed")


def test_a_failed_embedding_keeps_the_added_document_searchable(setup, embedder):
    corpus, index, path, label, question = setup
    from ui.documents import DocumentManager

    live = LivePipeline(index, check_seconds=0, embedder=_Failing(embedder), llm=None,
                        reranker=None)
    manager = DocumentManager(live)  # the 文档管理 tab: rag.live.add_in_background
    message = manager.upload([str(path)])
    unembedded = read_manifest(index).unembedded
    assert message.startswith(f"已加入 {FILE}") and "现可按关键词检索" in message
    assert f"正在为其 {unembedded} 段生成语义向量" in message and unembedded >= 8
    # only the new document's passages: the upload names no corpus folder (no shipped
    # embeddings), the old passages' vectors come from the index it replaces
    assert unembedded == read_manifest(index).n_passages - BASE_PASSAGES
    deadline = time.monotonic() + WAIT_S
    while manager.embedding_running():  # the background thread ends in "failed"
        assert time.monotonic() < deadline, live.build
        time.sleep(0.05)
    assert live.build.stage == "failed" and "embedding worker killed" in live.build.error
    assert "向量生成失败，暂按关键词检索" in pending(live).describe()
    assert "向量生成失败" in manager.embedding_status()
    answer = live.ask(question)
    assert _top_citation(answer)[:2] == (TITLE, label)
    assert answer.note.startswith(PARTIAL_NOTE)

    with pytest.raises(EmbeddingIncompleteError, match="run the same ragqa add again"):
        add_files([path], index, corpus_dir=corpus, embedder=_Failing(embedder))
    assert read_manifest(index).unembedded == unembedded  # still keyword-searchable
    again = add_files([path], index, corpus_dir=corpus, embedder=embedder)
    assert "already indexed, unchanged" in again.notes[-1]
    assert again.keyword_first == unembedded and read_manifest(index).unembedded == 0
    live.refresh()
    assert live.ask(question).note is None


def test_a_partial_index_left_behind_is_finished_by_serve(setup, embedder, tmp_path):
    """An add that failed (or was stopped) after its keyword swap: ``ragqa serve``
    (``open_or_build``) answers from it at once and embeds the rest in the background.
    Its row list is checked like every other file of the index."""
    corpus, index, path, label, question = setup
    from rag.errors import IndexMismatchError
    from rag.index.folder import UNEMBEDDED_FILE
    from rag.live import open_or_build

    with pytest.raises(EmbeddingIncompleteError):
        add_files([path], index, corpus_dir=corpus, embedder=_Failing(embedder))
    unembedded = read_manifest(index).unembedded
    damaged = tmp_path / "damaged"
    shutil.copytree(index, damaged)
    (damaged / UNEMBEDDED_FILE).unlink()
    with pytest.raises(IndexMismatchError, match=f"{UNEMBEDDED_FILE} is missing"):
        Pipeline.load(damaged, embedder=embedder, llm=None, reranker=None)

    live = open_or_build(index, corpus, embedder=embedder, llm=None, reranker=None)
    assert live.build.scope == "added" and live.build.to_embed == unembedded
    deadline = time.monotonic() + WAIT_S
    while live.build.running:  # the background thread ends in "done"
        assert time.monotonic() < deadline, live.build
        time.sleep(0.05)
    assert live.build.stage == "done", live.build
    assert read_manifest(index).unembedded == 0 and live.current.unembedded == 0
    answer = live.ask(question)
    assert _top_citation(answer)[:2] == (TITLE, label) and answer.note is None
