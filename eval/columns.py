"""Per-question columns of the metrics.json figures, their intervals and comparisons.

``metric_columns`` turns one group of ``QuestionResult`` values into an
``eval.stats.Column`` per metric key (``n`` aside): the same definitions as
``eval.metrics.group_metrics`` (a test holds every column's value equal to the
aggregate's), written as per-question numerators and denominators so that
``eval.stats`` can resample them. Ranking keys take the per-question values of
``eval.trec.library_ranking`` when given, else ``eval.metrics``' own functions.

``interval_metrics`` gives every key of metrics.json (overall and ``by_type.<type>.``)
its bootstrap interval; ``with_intervals`` writes them beside each figure as
``<key>.ci_low`` / ``<key>.ci_high``, plus ``bootstrap.resamples``, ``bootstrap.seed``
and ``bootstrap.level``. ``compare_results`` pairs two runs question by question and
gives each key's difference, interval and p-value (``eval.stats.paired_differences``).

A metric that ``group_metrics`` reports but no column here describes gets no interval
(its cells show the figure alone); add its column here to give it one.

Left out: intervals for ``n`` (a count, not an estimate).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from eval.metrics import (
    HIT_KS,
    Metrics,
    QuestionResult,
    hit_at_k,
    ndcg_at_k,
    place_recall,
    reciprocal_rank,
)
from eval.stats import (
    LEVEL,
    RESAMPLES,
    SEED,
    Column,
    Difference,
    Interval,
    bootstrap_intervals,
    paired_differences,
    point,
)

Ranking = Mapping[str, Mapping[str, float]]  # metrics.json key -> {question id: value}


def metric_columns(results: Sequence[QuestionResult],
                   ranking: Ranking | None = None) -> dict[str, Column]:
    """One column per metric key of a group of results, in the results' order.

    >>> from eval.metrics import CitationResult
    >>> r = QuestionResult("q1", "fact", "?", (2,), 1, (CitationResult("p", None, True),),
    ...                    False, ("a",), ("b",), 100.0, (), place_ranks=(2, None))
    >>> u = QuestionResult("q2", "unanswerable", "?", (), 0, (), True, (), (), 300.0, ())
    >>> c = metric_columns([r, u])
    >>> c["retrieval.hit@3"].num.tolist(), c["retrieval.hit@3"].den.tolist()
    ([1.0, 0.0], [1.0, 0.0])
    >>> c["retrieval.recall@10"].num.tolist(), c["refusal.accuracy"].num.tolist()
    ([0.5, 0.0], [0.0, 1.0])
    """
    def own(key: str, result: QuestionResult) -> float:
        if key.startswith("retrieval.hit@"):
            return hit_at_k(result.relevant_ranks, int(key.rsplit("@", 1)[1]))
        if key == "retrieval.mrr@10":
            return reciprocal_rank(result.relevant_ranks)
        return ndcg_at_k(result.relevant_ranks, result.n_relevant)

    def rank_value(key: str, result: QuestionResult) -> float | None:
        if not result.answerable:
            return None
        if ranking is not None and key in ranking:
            return ranking[key].get(result.id, 0.0)
        return own(key, result)

    columns: dict[str, Column] = {}
    for key in (*(f"retrieval.hit@{k}" for k in HIT_KS), "retrieval.mrr@10",
                "retrieval.ndcg@10"):
        columns[key] = Column.mean([rank_value(key, r) for r in results])
    columns["retrieval.recall@10"] = Column.mean(
        [place_recall(r.place_ranks) if r.answerable and r.place_ranks else None
         for r in results])
    columns["citation.accuracy"] = Column.mean(
        [float(r.cited_correctly) if r.answerable else None for r in results])
    columns["citation.precision"] = Column.ratio(
        [sum(c.correct for c in r.citations) if r.answerable else 0 for r in results],
        [len(r.citations) if r.answerable else 0 for r in results])
    columns["answer.keypoint_recall"] = Column.mean(
        [r.keypoint_recall if r.answerable else None for r in results])
    columns["refusal.accuracy"] = Column.mean(
        [None if r.answerable else float(r.refusal_correct) for r in results])
    columns["refusal.false_rate"] = Column.mean(
        [float(r.refused) if r.answerable else None for r in results])
    latencies = [r.latency_ms for r in results]
    columns["latency.p50_ms"] = Column.quantile(latencies, 50)
    columns["latency.p95_ms"] = Column.quantile(latencies, 95)
    return columns


def groups(results: Sequence[QuestionResult]) -> dict[str, list[QuestionResult]]:
    """The metrics.json groups: ``""`` (all results), then ``by_type.<type>.`` sorted.

    >>> r = QuestionResult("q", "fact", "?", (), 0, (), False, (), (), 1.0, ())
    >>> list(groups([r]))
    ['', 'by_type.fact.']
    """
    out = {"": list(results)}
    for kind in sorted({r.type for r in results}):
        out[f"by_type.{kind}."] = [r for r in results if r.type == kind]
    return out


def interval_metrics(results: Sequence[QuestionResult], ranking: Ranking | None = None,
                     resamples: int = RESAMPLES, seed: int = SEED,
                     level: float = LEVEL) -> dict[str, Interval | None]:
    """The bootstrap interval of every metrics.json key that has a column."""
    out: dict[str, Interval | None] = {}
    for prefix, members in groups(results).items():
        found = bootstrap_intervals(metric_columns(members, ranking), resamples, seed, level)
        out.update({prefix + key: interval for key, interval in found.items()})
    return out


def digits_of(key: str) -> int:
    """Latencies are rounded to 0.1 ms, rates to 4 decimals (as ``eval.metrics``).

    >>> digits_of("by_type.fact.latency.p95_ms"), digits_of("retrieval.hit@1")
    (1, 4)
    """
    return 1 if key.rsplit(".", 1)[-1].endswith("_ms") else 4


def with_intervals(metrics: Metrics, intervals: Mapping[str, Interval | None],
                   resamples: int = RESAMPLES, seed: int = SEED,
                   level: float = LEVEL) -> Metrics:
    """metrics.json: each figure followed by its ``.ci_low`` and ``.ci_high``, then the
    bootstrap settings.

    >>> m = with_intervals({"n": 4, "retrieval.hit@1": 0.75},
    ...                    {"retrieval.hit@1": Interval(0.25, 1.0)})
    >>> list(m.items())[1:4]
    [('retrieval.hit@1', 0.75), ('retrieval.hit@1.ci_low', 0.25), ('retrieval.hit@1.ci_high', 1.0)]
    >>> m["bootstrap.resamples"], m["bootstrap.level"]
    (10000, 0.95)
    """
    out: Metrics = {}
    for key, value in metrics.items():
        out[key] = value
        if key in intervals:
            interval = intervals[key]
            digits = digits_of(key)
            out[f"{key}.ci_low"] = None if interval is None else round(interval.low, digits)
            out[f"{key}.ci_high"] = None if interval is None else round(interval.high, digits)
    out["bootstrap.resamples"] = resamples
    out["bootstrap.seed"] = seed
    out["bootstrap.level"] = level
    return out


def compare_results(first: Sequence[QuestionResult], second: Sequence[QuestionResult],
                    first_ranking: Ranking | None = None, second_ranking: Ranking | None = None,
                    resamples: int = RESAMPLES, seed: int = SEED,
                    level: float = LEVEL) -> dict[str, Difference]:
    """``second − first`` for every key, overall and by type, paired by question id.

    Both runs must hold the same question ids (``ValueError`` otherwise); the order
    of ``first`` is used for both.

    >>> r = QuestionResult("q", "fact", "?", (1,), 1, (), False, (), (), 1.0, ())
    >>> d = compare_results([r], [r])
    >>> d["retrieval.hit@1"].diff, d["retrieval.hit@1"].p
    (0.0, 1.0)
    """
    by_id = {r.id: r for r in second}
    if set(by_id) != {r.id for r in first} or len(by_id) != len(second):
        only_first = sorted({r.id for r in first} - set(by_id))
        only_second = sorted(set(by_id) - {r.id for r in first})
        raise ValueError(f"the runs hold different questions: only in the first "
                         f"{only_first[:5]}, only in the second {only_second[:5]}")
    paired = [by_id[r.id] for r in first]
    out: dict[str, Difference] = {}
    first_groups, second_groups = groups(first), groups(paired)
    for prefix, members in first_groups.items():
        found = paired_differences(metric_columns(members, first_ranking),
                                   metric_columns(second_groups[prefix], second_ranking),
                                   resamples, seed, level, digits=6)
        out.update({prefix + key: _rounded(difference, digits_of(key))
                    for key, difference in found.items()})
    return out


def _rounded(d: Difference, digits: int) -> Difference:
    def r(value: float | None) -> float | None:
        return None if value is None else round(value, digits)

    return Difference(r(d.first), r(d.second), r(d.diff), r(d.low), r(d.high), d.p, d.n)


def changed(first: Sequence[QuestionResult], second: Sequence[QuestionResult],
            keys: Sequence[str]) -> list[tuple[QuestionResult, QuestionResult, dict]]:
    """Questions whose 0/1 value of any of ``keys`` differs between the runs.

    Each entry: the first run's result, the second's, and ``{key: (first, second)}`` for
    the keys that changed. Losses (1 → 0) first, then gains, each by id.

    >>> a = QuestionResult("q1", "fact", "?", (1,), 1, (), False, (), (), 1.0, ())
    >>> b = QuestionResult("q1", "fact", "?", (4,), 1, (), False, (), (), 1.0, ())
    >>> [(x.id, c) for x, _, c in changed([a], [b], ["retrieval.hit@1", "retrieval.hit@5"])]
    [('q1', {'retrieval.hit@1': (1, 0)})]
    """
    by_id = {r.id: r for r in second}
    first_columns = metric_columns(first)
    second_columns = metric_columns([by_id[r.id] for r in first])
    out = []
    for position, result in enumerate(first):
        changes = {}
        for key in keys:
            a, b = first_columns[key], second_columns[key]
            if a.den[position] > 0 and b.den[position] > 0 \
                    and a.num[position] != b.num[position]:
                changes[key] = (int(round(a.num[position])), int(round(b.num[position])))
        if changes:
            out.append((result, by_id[result.id], changes))
    out.sort(key=lambda entry: (not any(a > b for a, b in entry[2].values()), entry[0].id))
    return out


def ranking_figures(results: Sequence[QuestionResult], ranking: Ranking) -> Metrics:
    """The ranking keys of metrics.json (overall and by type) from per-question values.

    >>> r = QuestionResult("q", "fact", "?", (), 0, (), False, (), (), 1.0, ())
    >>> ranking_figures([r], {"retrieval.hit@1": {"q": 1.0}})
    {'retrieval.hit@1': 1.0, 'by_type.fact.retrieval.hit@1': 1.0}
    """
    out: Metrics = {}
    for prefix, members in groups(results).items():
        columns = metric_columns(members, ranking)
        out.update({prefix + key: point(columns[key]) for key in ranking})
    return out
