"""The scoring rules and metric arithmetic of eval/, on small hand-computed cases.

Also the harness, baseline and report with fakes in place of the index: no test here
needs a built index or a real embedding model.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import numpy as np
import pytest

from eval.baseline import Baseline, build_baseline, chunk_corpus
from eval.gold import GoldItem
from eval.harness import run_eval, score_answer, validate_configs
from eval.metrics import (
    CitationResult,
    QuestionResult,
    aggregate,
    count_relevant,
    covers,
    hit_at_k,
    is_relevant,
    is_relevant_any,
    longest_common_substring_len,
    metric_keys,
    ndcg_at_k,
    norm,
    percentile,
    reciprocal_rank,
    same_article,
    strip_citation_markers,
)
from rag.errors import LLMError, QueryError
from rag.types import Answer, Citation, Hit, Passage

EVIDENCE = "保护未成年人应当坚持最有利于未成年人的原则"  # 21 characters, all letters


def result(rid="q", kind="fact", ranks=(), n_relevant=None, citations=(), refused=False,
           covered=(), missed=(), latency=10.0) -> QuestionResult:
    return QuestionResult(rid, kind, "?", tuple(ranks), n_relevant, tuple(citations), refused,
                          tuple(covered), tuple(missed), latency, ())


def passage(pid="f#001:0001", text="", article=None, title="某条例", source="f.txt",
            doc_id=None) -> Passage:
    return Passage(pid, doc_id or pid.split(":")[0], title, "regulation", source, 1, None, None,
                   article, None, text)


# --- norm and text matching ----------------------------------------------------------


def test_norm_keeps_letters_and_digits_after_nfkc():
    assert norm("第十二条　（一）２０２３年９月.") == "第十二条一2023年9月"
    assert norm("«条例»") == norm("《条例》") == "条例"
    assert norm("Ａ-b c\n\t") == "Abc"
    assert norm("") == ""


def test_longest_common_substring_len_small_cases():
    assert longest_common_substring_len("abcdef", "xbcdy") == 3  # "bcd"
    assert longest_common_substring_len("aaaa", "aa") == 2
    assert longest_common_substring_len("", "abc") == 0
    assert longest_common_substring_len("甲乙丙", "丁戊己") == 0


def test_longest_common_substring_len_matches_brute_force():
    rng = random.Random(7)
    for _ in range(200):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
        brute = max((j - i for i in range(len(a)) for j in range(i + 1, len(a) + 1)
                     if a[i:j] in b), default=0)
        assert longest_common_substring_len(a, b) == brute, (a, b)


def test_longest_common_substring_len_is_fast_on_passage_sized_input():
    rng = random.Random(1)
    alphabet = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    passage_text = "".join(rng.choice(alphabet) for _ in range(1500))
    evidence = "".join(rng.choice(alphabet) for _ in range(80))
    start = time.perf_counter()
    for _ in range(200):
        longest_common_substring_len(passage_text, evidence)
    assert time.perf_counter() - start < 2.0  # about 1 ms a pair is plenty


def test_is_relevant_containment_ignores_punctuation_and_width():
    text = "第三条　保护未成年人应当坚持最有利于未成年人的原则。处理涉及未成年人事项，"
    assert is_relevant(text, EVIDENCE)
    assert is_relevant(text.replace("，", ","), "保护未成年人,应当坚持最有利于未成年人的原则")


def test_is_relevant_half_of_the_evidence_is_enough():
    # norm(EVIDENCE) has 21 characters: 11 in common is >= 21/2, 10 is not.
    assert is_relevant("前文" + EVIDENCE[:11], EVIDENCE)
    assert not is_relevant("前文" + EVIDENCE[:10], EVIDENCE)
    # An even length: 10 of 20 is exactly half, relevant.
    assert is_relevant(EVIDENCE[11:21] + "后文", EVIDENCE[1:21])


def test_is_relevant_never_for_passages_over_1500_characters():
    assert is_relevant(EVIDENCE + "字" * (1500 - 21), EVIDENCE)  # exactly 1,500 after norm
    assert not is_relevant(EVIDENCE + "字" * (1501 - 21), EVIDENCE)  # 1,501
    assert is_relevant(EVIDENCE + "。" * 3000, EVIDENCE)  # punctuation is not counted


def test_is_relevant_empty_evidence_never_matches():
    assert not is_relevant("任何文本", "")
    assert not is_relevant("任何文本", "。，")


def test_is_relevant_any_counts_also_ok_evidence():
    assert is_relevant_any("本条例自2024年1月1日起施行。", [EVIDENCE, "自2024年1月1日起施行"])
    assert not is_relevant_any("无关", [EVIDENCE])


def test_count_relevant_agrees_with_is_relevant():
    rng = random.Random(3)
    texts = ["".join(rng.choice("甲乙丙丁戊") for _ in range(rng.randint(0, 30)))
             for _ in range(60)]
    texts.append("甲" * 1600)  # over the cap: never relevant
    for _ in range(30):
        evidences = ["".join(rng.choice("甲乙丙丁戊") for _ in range(rng.randint(1, 9)))
                     for _ in range(rng.randint(1, 2))]
        expected = sum(is_relevant_any(text, evidences) for text in texts)
        assert count_relevant(texts, evidences) == expected, evidences


def test_same_article_compares_numbers():
    assert same_article("第12条", "第十二条")
    assert same_article("第１２条", "第十二条")
    assert same_article("第 一百零三 条", "第103条")
    assert same_article("第二十条之一", "第20条之一")
    assert not same_article("第二十条之一", "第二十条")
    assert not same_article("第十二条", "第二十一条")
    assert not same_article(None, "第一条")
    assert same_article("附则", "附　则")  # not a numbered article: compared as text


def test_covers_and_citation_markers():
    assert covers("自２０２４年１月１日起施行。", "2024年1月1日")
    assert not covers("十日内", "10日")
    assert not covers("anything", "。")  # an empty point covers nothing
    text = "自2024年1月1日[1]起施行[2,3]。"
    assert not covers(text, "1月1日起施行")  # the marker splits the point …
    assert covers(strip_citation_markers(text), "1月1日起施行")  # … so the harness strips it


# --- ranking metrics -----------------------------------------------------------------


def test_hit_at_k():
    assert hit_at_k([3], 1) == 0.0
    assert hit_at_k([3], 3) == 1.0
    assert hit_at_k([], 10) == 0.0
    assert hit_at_k([11], 10) == 0.0


def test_reciprocal_rank():
    assert reciprocal_rank([4, 2]) == 0.5  # first relevant at rank 2
    assert reciprocal_rank([10]) == 0.1
    assert reciprocal_rank([11]) == 0.0  # past rank 10
    assert reciprocal_rank([]) == 0.0


def test_ndcg_hand_computed():
    # ranks 1 and 3, 2 relevant in the collection:
    # DCG = 1/log2(2) + 1/log2(4) = 1 + 0.5 = 1.5; ideal = 1 + 1/log2(3) = 1.63093
    assert ndcg_at_k([1, 3], n_relevant=2) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # rank 2 only, 1 relevant: DCG = 1/log2(3) = 0.63093, ideal = 1
    assert ndcg_at_k([2], n_relevant=1) == pytest.approx(0.63093, abs=1e-5)
    # 20 relevant in the collection: the ideal is capped at 10 ranks
    ideal10 = sum(1 / math.log2(r + 1) for r in range(1, 11))
    assert ndcg_at_k([1], n_relevant=20) == pytest.approx(1 / ideal10)
    # unknown n_relevant: the ideal is what was found in the top 10 (here 1)
    assert ndcg_at_k([3]) == pytest.approx(0.5 / 1.0)
    assert ndcg_at_k([], n_relevant=3) == 0.0
    assert ndcg_at_k([11], n_relevant=1) == 0.0


def test_ndcg_never_drops_when_a_second_relevant_passage_is_found():
    assert ndcg_at_k([1, 3], n_relevant=2) > ndcg_at_k([1], n_relevant=2)


def test_percentile_linear():
    # p50 of 10,20,30,40: position 1.5 -> 20 + 0.5 * 10 = 25
    assert percentile([40, 10, 30, 20], 50) == 25.0
    # p95: position 3 * 0.95 = 2.85 -> 30 + 0.85 * 10 = 38.5
    assert percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)
    assert percentile([7], 95) == 7
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="0..100"):
        percentile([1], 101)


# --- aggregation ---------------------------------------------------------------------


FORMAT_KEYS = {
    "n", "retrieval.hit@1", "retrieval.hit@3", "retrieval.hit@5", "retrieval.hit@10",
    "retrieval.mrr@10", "retrieval.ndcg@10", "citation.accuracy", "citation.precision",
    "retrieval.recall@10",  # beyond GOLD_FORMAT.md's list: share of all gold places found
    "answer.keypoint_recall", "refusal.accuracy", "refusal.false_rate", "latency.p50_ms",
    "latency.p95_ms",
}


def test_aggregate_hand_computed():
    good = CitationResult("p1", "第二条", True)
    bad = CitationResult("p9", None, False)
    results = [
        # fact, relevant at 1, one good citation, 2 of 2 key points
        result("a", "fact", [1], 1, [good], covered=["x", "y"], latency=100),
        # fact, relevant at 4, one good + one bad citation, 1 of 2 key points
        result("b", "fact", [4], 1, [good, bad], covered=["x"], missed=["y"], latency=200),
        # clause, nothing relevant, refused (a false refusal), 0 of 1 key points
        result("c", "clause", [], 1, [], refused=True, missed=["z"], latency=300),
        # unanswerable, refused and cites nothing: right
        result("d", "unanswerable", [], 0, [], refused=True, latency=400),
        # unanswerable, answered with a citation: wrong
        result("e", "unanswerable", [], 0, [bad], refused=False, latency=500),
    ]
    m = aggregate(results)
    assert set(k for k in m if not k.startswith("by_type.")) == FORMAT_KEYS
    assert m["n"] == 5
    assert m["retrieval.hit@1"] == round(1 / 3, 4)  # a of a, b, c
    assert m["retrieval.hit@3"] == round(1 / 3, 4)
    assert m["retrieval.hit@5"] == round(2 / 3, 4)  # a and b
    assert m["retrieval.mrr@10"] == round((1 + 1 / 4 + 0) / 3, 4)  # 0.4167
    # nDCG: a = 1; b = (1/log2 5) / 1 = 0.4307; c = 0 -> mean 0.4769
    assert m["retrieval.ndcg@10"] == round((1 + 1 / math.log2(5)) / 3, 4)
    assert m["citation.accuracy"] == round(2 / 3, 4)  # a and b cite correctly
    assert m["citation.precision"] == round(2 / 3, 4)  # 2 correct of 3 (answerable only)
    assert m["answer.keypoint_recall"] == 0.5  # (1 + 0.5 + 0) / 3
    assert m["refusal.accuracy"] == 0.5  # d right, e wrong
    assert m["refusal.false_rate"] == round(1 / 3, 4)  # c
    assert m["latency.p50_ms"] == 300.0
    assert m["latency.p95_ms"] == 480.0  # position 4 * 0.95 = 3.8 -> 400 + 0.8 * 100
    assert m["by_type.fact.n"] == 2
    assert m["by_type.fact.retrieval.hit@1"] == 0.5
    assert m["by_type.clause.refusal.false_rate"] == 1.0
    assert m["by_type.unanswerable.refusal.accuracy"] == 0.5
    assert m["by_type.unanswerable.retrieval.hit@1"] is None  # nothing answerable to score
    assert m["by_type.fact.refusal.accuracy"] is None
    assert [k for k in m if k.startswith("by_type.")][0] == "by_type.clause.n"  # types sorted
    assert len(m) == 15 * 4  # overall plus three types, every key in each
    json.dumps(m)  # serialisable, no NaN


def test_metric_keys_are_the_format_keys():
    assert set(metric_keys()) == FORMAT_KEYS


# --- scoring one answer (harness, pure) ----------------------------------------------


ITEM = GoldItem("q1", "何时施行", "clause", "f.txt", "某条例", "第二条", None,
                "本条例自2024年1月1日起施行", "2024年1月1日", ("2024年1月1日", "起施行"))
RIGHT = passage("f#001:0002", "第二条　本条例自2024年1月1日起施行。", "第二条")
OTHER = passage("f#001:0003", "第三条　其他内容与本问题无关的文字。", "第三条")


def citation(p: Passage, article: str | None, n: int = 1) -> Citation:
    return Citation(n, p.id, p.doc_title, article, None, p.source_file, 1, p.text[:10])


def test_score_answer_ranks_citations_and_key_points():
    answer = Answer("何时施行", "自2024年1月1日[1]起施行。", False,
                    (citation(RIGHT, "第2条"), citation(OTHER, "第三条", 2)),
                    (Hit(OTHER, 0.9, 1), Hit(RIGHT, 0.8, 2)))
    r = score_answer(ITEM, answer, {}, 1, 5.0)
    assert r.relevant_ranks == (2,)
    assert [c.correct for c in r.citations] == [True, False]
    assert r.keypoints_covered == ("2024年1月1日", "起施行")
    assert [(p.rank, p.relevant) for p in r.top] == [(1, False), (2, True)]


def test_score_answer_wrong_article_is_a_wrong_citation():
    answer = Answer("何时施行", "……", False, (citation(RIGHT, "第三条"),), (Hit(RIGHT, 1, 1),))
    assert not score_answer(ITEM, answer, {}, 1, 5.0).citations[0].correct


def test_score_answer_looks_cited_passages_up_by_id():
    answer = Answer("何时施行", "……", False, (citation(RIGHT, "第二条"),), ())
    assert score_answer(ITEM, answer, {RIGHT.id: RIGHT}, 1, 5.0).citations[0].correct
    assert not score_answer(ITEM, answer, {}, 1, 5.0).citations[0].correct  # unknown id


def test_score_answer_unanswerable_refusal():
    item = GoldItem("u1", "火星基地的条例？", "unanswerable", None, None, None, None, "", "无",
                    ("火星基地",))
    refused = Answer(item.question, "语料中没有依据。", True, (), (Hit(OTHER, 0.1, 1),))
    r = score_answer(item, refused, {}, 0, 3.0)
    assert r.refusal_correct and r.relevant_ranks == () and r.keypoints_covered == ()


# --- configurations, baseline and the whole harness with fakes -----------------------


def test_validate_configs():
    assert validate_configs(None) == ["hybrid"]
    assert validate_configs(["baseline", "hybrid", "baseline"]) == ["baseline", "hybrid"]
    with pytest.raises(QueryError, match="'bm42'.*baseline, bm25, dense, hybrid"):
        validate_configs(["bm42"])


class FakeEmbedder:
    """Bag-of-characters vectors over a fixed alphabet: similar texts, similar vectors."""

    name = "fake-chars"
    alphabet = "本条例自年月日起施行保护未成年人原则其他内容"

    def __init__(self):
        self.passage_calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.array([text.count(ch) for ch in self.alphabet], dtype=np.float32) + 0.01
        return v / np.linalg.norm(v)

    def embed_passages(self, texts):
        self.passage_calls += 1
        return np.stack([self._vector(t) for t in texts])

    def embed_query(self, text):
        return self._vector(text)


class FakePipeline:
    """Stands in for rag.pipeline.Pipeline: ask returns fixed hits and cites the top one."""

    def __init__(self, passages):
        self.passages = tuple(passages)
        self.embedder = FakeEmbedder()
        self.asked: list[tuple[str, int, str]] = []

    def ask(self, question, k=8, retriever="hybrid"):
        self.asked.append((question, k, retriever))
        if "火星" in question:
            return Answer(question, "语料中没有依据。", True, (), ())
        order = self.passages if retriever != "bm25" else self.passages[::-1]
        hits = tuple(Hit(p, 1.0 / rank, rank, retriever) for rank, p in enumerate(order, 1))
        top = hits[0].passage
        return Answer(question, top.text + "[1]", False, (citation(top, top.article),), hits)


def write_gold(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items),
                    encoding="utf-8")
    return path


GOLD = [
    {"id": "q1", "question": "本条例何时施行", "type": "clause", "source_file": "f.txt",
     "doc_title": "某条例", "article": "第二条", "section": None,
     "evidence": "本条例自2024年1月1日起施行", "answer": "2024年1月1日",
     "key_points": ["2024年1月1日"]},
    {"id": "q2", "question": "火星基地建设条例", "type": "unanswerable", "source_file": None,
     "doc_title": None, "article": None, "section": None, "evidence": "", "answer": "无",
     "key_points": ["火星基地"]},
]


def test_chunk_corpus_and_baseline_cache(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "b.txt").write_text("保护未成年人原则。\n\n" * 80, encoding="utf-8")
    (corpus / "a.txt").write_text("本条例自2024年1月1日起施行。", encoding="utf-8")
    chunks = chunk_corpus(corpus)
    assert chunks[0].id == "a:b00000" and chunks[0].doc_title == "a.txt"
    assert all(c.article is None and len(c.text) <= 500 for c in chunks)
    assert len(chunks) > 2
    embedder = FakeEmbedder()
    first = build_baseline(corpus, embedder, tmp_path / "cache", progress=False)
    calls = embedder.passage_calls
    second = build_baseline(corpus, embedder, tmp_path / "cache", progress=False)
    assert embedder.passage_calls == calls  # the second run reads the cache
    assert np.array_equal(first.index.reconstruct_n(0, 3), second.index.reconstruct_n(0, 3))
    answer = second.ask("本条例何时施行", k=3)
    assert not answer.refused and answer.citations[0].passage_id == "a:b00000"
    assert [h.rank for h in answer.hits] == [1, 2, 3]


def test_baseline_rejects_mismatched_vectors():
    with pytest.raises(ValueError, match="2 chunks but 1 vectors"):
        Baseline([passage("a"), passage("b")], np.zeros((1, 3), np.float32), FakeEmbedder())


def test_run_eval_with_a_fake_pipeline_writes_every_output(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "f.txt").write_text("第二条　本条例自2024年1月1日起施行。\n\n第三条　其他内容。",
                                  encoding="utf-8")
    gold = write_gold(tmp_path / "gold.jsonl", GOLD)
    fake = FakePipeline([RIGHT, OTHER])
    out = tmp_path / "out"
    metrics = run_eval(gold, out, ["hybrid", "bm25", "baseline"], fake, corpus, progress=False)
    assert list(metrics) == ["hybrid", "bm25", "baseline"]
    assert ("本条例何时施行", 10, "hybrid") in fake.asked  # ten passages for hit@10
    hybrid = metrics["hybrid"]
    assert hybrid["retrieval.hit@1"] == 1.0 and hybrid["citation.accuracy"] == 1.0
    assert hybrid["refusal.accuracy"] == 1.0 and hybrid["answer.keypoint_recall"] == 1.0
    assert metrics["bm25"]["retrieval.hit@1"] == 0.0  # reversed order: relevant at rank 2
    assert metrics["bm25"]["retrieval.mrr@10"] == 0.5
    assert metrics["baseline"]["citation.accuracy"] == 0.0  # chunks carry no article
    assert metrics["baseline"]["refusal.accuracy"] == 0.0  # the baseline never refuses
    names = {p.name for p in out.iterdir()}
    assert {"metrics.json", "metrics_hybrid.json", "metrics_bm25.json", "metrics_baseline.json",
            "per_question.jsonl", "per_question_bm25.jsonl", "report.md", "hit_at_k.png",
            "hit5_by_type.png", "latency.png"} <= names
    assert json.loads((out / "metrics.json").read_text("utf-8"))["retrieval.hit@1"] == 1.0
    lines = (out / "per_question_bm25.jsonl").read_text("utf-8").splitlines()
    assert json.loads(lines[0])["relevant_ranks"] == [2]
    report = (out / "report.md").read_text("utf-8")
    assert "| hybrid |" in report and "## Worst misses (hybrid)" in report
    rerun = run_eval(gold, tmp_path / "again", ["hybrid", "bm25", "baseline"], fake, corpus,
                     progress=False, cache_dir=out / "cache")
    strip = {name: {k: v for k, v in m.items() if "latency" not in k}
             for name, m in metrics.items()}
    assert strip == {name: {k: v for k, v in m.items() if "latency" not in k}
                     for name, m in rerun.items()}  # deterministic


def test_run_eval_limit_and_misses_in_report(tmp_path):
    gold = write_gold(tmp_path / "gold.jsonl", GOLD)
    fake = FakePipeline([OTHER])  # never retrieves the relevant passage
    metrics = run_eval(gold, tmp_path / "out", None, fake, tmp_path, progress=False, limit=1)
    assert metrics["hybrid"]["n"] == 1 and metrics["hybrid"]["retrieval.hit@10"] == 0.0
    report = (tmp_path / "out" / "report.md").read_text("utf-8")
    assert "| q1 | clause |" in report and "1. 《某条例》第三条" in report
    with pytest.raises(QueryError, match="limit"):
        run_eval(gold, tmp_path / "out", None, fake, tmp_path, progress=False, limit=0)


def test_score_answer_uses_related_passages_when_a_refusal_has_no_hits():
    refused = Answer("何时施行", "语料中没有依据。", True, (), (), related=(Hit(RIGHT, 0.2, 1),))
    r = score_answer(ITEM, refused, {}, 1, 5.0)
    assert r.relevant_ranks == (1,) and r.refused and r.citations == ()


class FailingPipeline(FakePipeline):
    def ask(self, question, k=8, retriever="hybrid"):
        if "何时" in question:
            raise LLMError("the language model timed out after 30 s; retry or use --offline")
        return super().ask(question, k, retriever)


def test_run_eval_records_library_errors_and_goes_on(tmp_path):
    gold = write_gold(tmp_path / "gold.jsonl", GOLD)
    metrics = run_eval(gold, tmp_path / "out", ["dense"], FailingPipeline([RIGHT]), tmp_path,
                       progress=False)
    assert metrics["dense"]["n"] == 2 and metrics["dense"]["retrieval.hit@10"] == 0.0
    first = json.loads((tmp_path / "out" / "per_question.jsonl").read_text("utf-8").split("\n")[0])
    assert first["error"].startswith("LLMError: the language model timed out")
    assert "## Questions stopped by an error" in (tmp_path / "out" / "report.md").read_text("utf-8")
