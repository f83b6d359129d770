"""The answer-or-not decision (rag.answer.decide) on the real corpus and the offline model:
questions of the fitting sets whose outcome the two hand-set checks got wrong and the
fitted model gets right, each checked both ways, so the test fails if the model stops
deciding (or stops being better than the checks on them)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rag.answer import decide
from rag.answer.decide import MODEL, DecisionFeatures, answers
from rag.answer.offline import answer_offline, decision_features


def _outcomes(pipeline, question: str):
    """(the answer as ``ragqa ask`` gives it, the outcome of the two checks alone)."""
    query, hits = pipeline.retrieve(question)
    basis = pipeline.basis(query, hits)
    checks = answer_offline(query, hits, replace(basis, sentence=None), pipeline.support)
    return pipeline.ask(question), checks.outcome


@pytest.mark.parametrize(("question", "title", "article", "checks"), [
    # 超市、菜市场 are not the regulation's words (批发、零售市场): the coverage check refused
    ("蔬菜进了超市、菜市场以后，质量安全归哪个部门管？", "山西省农产品质量安全条例", "第五条",
     "refused"),
    # 银行网点 and 挂 are not its words either (经营场所, 设置警示标识)
    ("银行网点要不要挂防范非法集资的提示？", "山西省防范和处置非法集资工作实施细则", "第十五条",
     "refused"),
])
def test_a_question_in_everyday_words_is_answered_from_its_article(pipeline, question, title,
                                                                   article, checks):
    answer, by_checks = _outcomes(pipeline, question)
    assert by_checks == checks
    assert answer.outcome == "answered" and not answer.refused
    assert any((c.doc_title, c.article) == (title, article) for c in answer.citations)


def test_a_detail_the_documents_do_not_give_is_not_answered(pipeline):
    # the regulation covers carrying minors on e-bikes but sets no fine for it; the detail
    # check took a fine of another article for one
    answer, by_checks = _outcomes(pipeline, "电动自行车违规载未成年人罚多少？")
    assert by_checks == "answered"
    assert answer.outcome == "detail_absent" and answer.refused
    assert "未写明" in answer.text


def test_the_features_come_from_the_sentence_reranker(pipeline):
    query, hits = pipeline.retrieve("网吧能让未成年人进去吗？")
    basis = pipeline.basis(query, hits)
    assert hits[0].sentence is not None and basis.sentence == hits[0].sentence
    features = decision_features(query, hits, basis, pipeline.support)
    assert isinstance(features, DecisionFeatures)
    assert features.asks_detail  # a yes/no: it asks for the modal word
    assert features.detail_share == 1.0  # 不得 in a sentence on 网吧 and 未成年人
    assert features.sentence == hits[0].sentence and features.prominence == basis.prominence
    assert answers(features) and MODEL.probability(features) > 0.9
    # without a sentence measure (another reranker, or none) the two checks decide
    assert decision_features(query, hits, replace(basis, sentence=None),
                             pipeline.support) is None


def test_another_embedder_gets_the_two_checks(pipeline, monkeypatch):
    # the model's cosines are its embedder's: under another name no sentence measure is given
    query, hits = pipeline.retrieve("网吧能让未成年人进去吗？")
    assert pipeline.basis(query, hits).sentence is not None
    monkeypatch.setattr(decide, "EMBEDDER", "another:model")
    assert pipeline.basis(query, hits).sentence is None
