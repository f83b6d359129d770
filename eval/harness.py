"""Run configurations over a gold file and write metrics, per-question results and a report.

``run_eval`` scores each configuration on each gold item:

- ``bm25``, ``dense``, ``hybrid``: ``pipeline.ask(question, k=k, retriever=config)``,
  the code path of ``ragqa ask`` (with ``k`` = 10 by default so that hit@10, MRR@10
  and nDCG@10 see ten passages); ``answer.hits`` (``answer.related`` when a refusal
  leaves ``hits`` empty) give the retrieval metrics,
  ``answer.citations`` the citation metrics, ``answer.text`` the key points.
- ``baseline``: ``eval.baseline`` (fixed-size chunks, same embedder).

A citation is correct when the passage it names (looked up by ``passage_id`` among the
searched collection and the answer's hits) is relevant to an evidence of the item and,
where that evidence's place names an article (the item's ``article``, or an
``also_ok`` entry's), the citation's article is the same. The nDCG ideal counts the
relevant passages of the whole searched collection (``metrics.relevant_indices``).
A question whose ``ask`` raises a library error (``RagError``) is scored as an empty,
unrefused answer and its error is kept in per_question.jsonl and the report.

The ranking figures of metrics.json (hit@k, MRR@10, nDCG@10) are ir-measures' on the
TREC run and qrels (``eval.trec``); every figure, overall and by type, carries its 95 %
bootstrap interval (``<key>.ci_low`` / ``.ci_high``, ``eval.columns``), and the primary
configuration is compared with each other one (difference, interval, paired
randomization p-value, questions that changed: ``comparison.json`` and the report).

Written into ``out_dir``: ``metrics.json``, ``per_question.jsonl``, ``run.trec`` and
``qrels.trec`` for the first configuration; ``metrics_<config>.json``,
``per_question_<config>.jsonl``, ``run_<config>.trec`` and ``qrels_<config>.trec`` for
each when several run; ``comparison.json`` when several run; ``run.json`` (what produced
the run, ``eval.runs``); ``report.md``; ``hit_at_k.png``, ``hit5_by_type.png``,
``latency.png``. Baseline chunk vectors are cached in ``cache_dir`` (default
``out_dir/cache``). Same inputs give the same files, latencies aside. Latency is the
wall time of one ``ask`` call; each configuration first answers one untimed warm-up
question so that lazy loading is not counted.

Left out: no parallelism (latency is measured one question at a time), no command line.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.columns import interval_metrics, ranking_figures, with_intervals
from eval.gold import GoldItem, load_gold
from eval.metrics import (
    RANK_CUTOFF,
    CitationResult,
    ConfigRun,
    QuestionResult,
    RetrievedPassage,
    aggregate,
    covers,
    is_relevant,
    outcome_counts,
    relevant_indices,
    same_article,
    strip_citation_markers,
)
from eval.report import RunInfo, write_plots, write_report
from eval.runs import Comparison, compare, provenance_for, write_run_json
from eval.stats import LEVEL, RESAMPLES, SEED
from eval.trec import Qrels, library_ranking, qrels_lines, run_lines, write_lines
from rag.errors import QueryError, RagError
from rag.types import Answer, Passage

CONFIGS = ("baseline", "bm25", "dense", "hybrid")
DEFAULT_CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def run_eval(gold_path: str | Path, out_dir: str | Path, configs: Sequence[str] | None = None,
             pipeline: Any = None, corpus_dir: str | Path = DEFAULT_CORPUS,
             progress: bool = True, limit: int | None = None, k: int = RANK_CUTOFF,
             cache_dir: str | Path | None = None, resamples: int = RESAMPLES,
             seed: int = SEED) -> dict[str, dict[str, float | int | None]]:
    """Score each configuration on the gold file; write the outputs; return the metrics.

    ``configs`` are names among CONFIGS (default ``["hybrid"]``; the first is the primary
    one, written to metrics.json). ``pipeline`` is a loaded ``rag.pipeline.Pipeline``
    (loaded from the default index when None). ``limit`` keeps the first N items.
    ``resamples`` and ``seed`` drive the bootstrap intervals and the paired tests.
    Returns ``{config: metrics}`` in the order given.
    """
    if resamples < 100:
        raise QueryError(f"resamples must be at least 100 for a 95 % interval, got {resamples}")
    names = validate_configs(configs)
    if limit is not None and limit < 1:
        raise QueryError(f"limit must be a positive number of items, got {limit}")
    items = load_gold(gold_path)[:limit]
    if pipeline is None:
        from rag.pipeline import Pipeline  # the index loads only when needed

        pipeline = Pipeline.load()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs: list[ConfigRun] = []
    qrels: dict[str, dict[str, tuple[str, ...]]] = {}
    pipeline_collection: _Collection | None = None
    started = time.perf_counter()
    for name in names:
        if name == "baseline":
            from eval.baseline import build_baseline  # faiss and the splitter load only here

            baseline = build_baseline(corpus_dir, pipeline.embedder,
                                      cache_dir if cache_dir is not None else out / "cache",
                                      progress=progress)
            collection = _Collection(baseline.chunks)
            ask: Callable[[str], Answer] = partial(baseline.ask, k=k)
        else:
            if pipeline_collection is None:
                pipeline_collection = _Collection(pipeline.passages)
            collection = pipeline_collection
            ask = partial(pipeline.ask, k=k, retriever=name)
        results = tuple(_run_items(name, items, ask, collection, k, progress))
        qrels[name] = collection.qrels(items)
        runs.append(ConfigRun(name=name, results=results,
                              metrics={**aggregate(results), **outcome_counts(results)}))
    statistics_started = time.perf_counter()
    runs, comparisons = add_statistics(runs, qrels, k, resamples, seed)
    statistics_s = time.perf_counter() - statistics_started
    _write_outputs(out, runs)
    _write_trec(out, runs, qrels, k)
    provenance = provenance_for(pipeline, gold_path, len(items), names, k, resamples, seed,
                                LEVEL, limit)
    (out / "comparison.json").unlink(missing_ok=True)
    if comparisons:
        _write_json(out / "comparison.json", [c.to_json() for c in comparisons])
    info = RunInfo(gold_path=str(gold_path), n_items=len(items), k=k,
                   embedder=str(getattr(pipeline.embedder, "name", "unknown")), limit=limit)
    plots = write_plots(out, runs)
    write_report(out, runs, items, info, plots, comparisons, provenance)
    total_s = time.perf_counter() - started
    answering_s = sum(r.latency_ms for run in runs for r in run.results) / 1000
    write_run_json(out, replace(provenance, answering_s=round(answering_s, 2),
                                beyond_answering_s=round(total_s - answering_s, 2),
                                statistics_s=round(statistics_s, 2)))
    return {run.name: dict(run.metrics) for run in runs}


def add_statistics(runs: Sequence[ConfigRun], qrels: Mapping[str, Qrels], k: int,
                   resamples: int, seed: int) -> tuple[list[ConfigRun], list[Comparison]]:
    """Ranking figures from the library, every figure's interval, and the comparisons of
    the primary configuration with each other one (``primary − other``)."""
    finished = []
    rankings = {}
    for run in runs:
        ranking = library_ranking(run.results, qrels[run.name], k)
        rankings[run.name] = ranking
        metrics = {**run.metrics, **ranking_figures(run.results, ranking)}
        intervals = interval_metrics(run.results, ranking, resamples, seed, LEVEL)
        finished.append(replace(run, metrics=with_intervals(metrics, intervals, resamples,
                                                            seed, LEVEL)))
    primary = finished[0] if finished else None
    comparisons = [compare(other.name, other.results, primary.name, primary.results,
                           rankings[other.name], rankings[primary.name], resamples, seed, LEVEL)
                   for other in finished[1:]] if primary else []
    return finished, comparisons


def validate_configs(configs: Sequence[str] | None) -> list[str]:
    """The configuration names, duplicates dropped, order kept; unknown ones refused.

    >>> validate_configs(None), validate_configs(["dense", "bm25", "dense"])
    (['hybrid'], ['dense', 'bm25'])
    >>> validate_configs(["bm42"])
    Traceback (most recent call last):
    ...
    rag.errors.QueryError: unknown configuration 'bm42'; choose from baseline, bm25, dense, hybrid
    """
    if configs is None:
        return ["hybrid"]
    if isinstance(configs, str):
        configs = [configs]
    names: list[str] = []
    for name in configs:
        if name not in CONFIGS:
            raise QueryError(f"unknown configuration {name!r}; choose from {', '.join(CONFIGS)}")
        if name not in names:
            names.append(name)
    if not names:
        raise QueryError(f"no configuration given; choose from {', '.join(CONFIGS)}")
    return names


class _Collection:
    """The passages a configuration searches: lookup by id, relevant counts per item."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.by_id = {passage.id: passage for passage in passages}
        self.texts = tuple(passage.text for passage in passages)
        self.ids = tuple(passage.id for passage in passages)
        self._relevant: dict[str, tuple[str, ...]] = {}

    def n_relevant(self, item: GoldItem) -> int:
        return len(self.relevant_ids(item))

    def relevant_ids(self, item: GoldItem) -> tuple[str, ...]:
        """The ids of the collection's passages relevant to the item, sorted."""
        if item.id not in self._relevant:
            self._relevant[item.id] = tuple(sorted(
                self.ids[index] for index in relevant_indices(self.texts, item.evidences)))
        return self._relevant[item.id]

    def qrels(self, items: Sequence[GoldItem]) -> dict[str, tuple[str, ...]]:
        """The relevant passage ids of every answerable item (the TREC qrels)."""
        return {item.id: self.relevant_ids(item) for item in items if item.answerable}


def _run_items(name: str, items: Sequence[GoldItem], ask: Callable[[str], Answer],
               collection: _Collection, k: int, progress: bool) -> list[QuestionResult]:
    if items:  # one untimed call first, so lazy loading (dictionaries, models) is not timed
        with suppress(RagError):  # the timed call records it
            ask(items[0].question)
    results = []
    for item in tqdm(items, desc=f"eval {name}", unit="q", file=sys.stderr,
                     disable=not progress):
        error = None
        start = time.perf_counter()
        try:
            answer = ask(item.question)
        except RagError as exc:
            answer = Answer(question=item.question, text="", refused=False, citations=(),
                            hits=())
            error = f"{type(exc).__name__}: {exc}"
        latency_ms = (time.perf_counter() - start) * 1000
        n_relevant = collection.n_relevant(item) if item.answerable else 0
        results.append(score_answer(item, answer, collection.by_id, n_relevant, latency_ms,
                                    k=k, error=error))
    return results


def score_answer(item: GoldItem, answer: Answer, passages_by_id: dict[str, Passage],
                 n_relevant: int | None, latency_ms: float, k: int = RANK_CUTOFF,
                 error: str | None = None) -> QuestionResult:
    """Score one answer against its gold item (pure: no index needed).

    >>> from rag.types import Citation, Hit
    >>> p = Passage("d#1:1", "d#1", "某条例", "regulation", "f.txt", 1, None, None, "第二条", 2,
    ...             "第二条　本条例自2024年1月1日起施行。")
    >>> item = GoldItem("q1", "何时施行", "fact", "f.txt", "某条例", "第二条", None,
    ...                 "本条例自2024年1月1日起施行", "2024年1月1日", ("2024年1月1日",))
    >>> c = Citation(1, p.id, "某条例", "第2条", None, "f.txt", 1, "自2024年1月1日起施行")
    >>> answer = Answer("何时施行", "自2024年1月1日[1]起施行。", False, (c,), (Hit(p, 0.9, 1),))
    >>> r = score_answer(item, answer, {p.id: p}, 1, 12.0)
    >>> r.relevant_ranks, r.citations[0].correct, r.keypoints_covered, r.place_ranks
    ((1,), True, ('2024年1月1日',), (1,))
    """
    hits = list(answer.hits or answer.related)
    lookup = {**{hit.passage.id: hit.passage for hit in hits}, **passages_by_id}
    places = _places(item)
    relevant_ids = {hit.passage.id for hit in hits
                    if any(is_relevant(hit.passage.text, evidence) for evidence, _ in places)}
    relevant_ranks = tuple(sorted({hit.rank for hit in hits if hit.passage.id in relevant_ids}))
    place_ranks = tuple(
        min((hit.rank for hit in hits if hit.passage.id in relevant_ids and hit.rank <= k
             and is_relevant(hit.passage.text, evidence)), default=None)
        for evidence, _ in places)
    citations = tuple(
        CitationResult(passage_id=c.passage_id, article=c.article,
                       correct=_citation_correct(lookup.get(c.passage_id), c.article, places))
        for c in answer.citations)
    text = strip_citation_markers(answer.text)
    points = item.key_points if item.answerable else ()
    top = tuple(
        RetrievedPassage(rank=hit.rank, id=hit.passage.id, title=hit.passage.doc_title,
                         article=hit.passage.article or hit.passage.section,
                         relevant=hit.passage.id in relevant_ids)
        for hit in sorted(hits, key=lambda h: (h.rank, h.passage.id)) if hit.rank <= k)
    return QuestionResult(
        id=item.id, type=item.type, question=item.question, relevant_ranks=relevant_ranks,
        n_relevant=n_relevant, citations=citations, refused=answer.refused,
        keypoints_covered=tuple(p for p in points if covers(text, p)),
        keypoints_missed=tuple(p for p in points if not covers(text, p)),
        latency_ms=latency_ms, top=top, error=error, place_ranks=place_ranks,
        outcome=getattr(answer, "outcome", "") or "", expected_outcome=item.expected_outcome)


def _places(item: GoldItem) -> list[tuple[str, str | None]]:
    """(evidence, article) for the item's main place and each also_ok place."""
    if not item.answerable:
        return []
    places = [(item.evidence, item.article)]
    places.extend((other.evidence, other.article) for other in item.also_ok)
    return [(evidence, article) for evidence, article in places if evidence.strip()]


def _citation_correct(passage: Passage | None, article: str | None,
                      places: list[tuple[str, str | None]]) -> bool:
    if passage is None:
        return False
    return any(is_relevant(passage.text, evidence)
               and (wanted is None or same_article(article, wanted))
               for evidence, wanted in places)


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_trec(out: Path, runs: Sequence[ConfigRun], qrels: Mapping[str, Qrels],
                k: int) -> None:
    """run.trec and qrels.trec for the primary configuration, ``_<config>`` for each."""
    several = len(runs) > 1
    for position, run in enumerate(runs):
        for suffix in ([""] if position == 0 else []) + ([f"_{run.name}"] if several else []):
            write_lines(out / f"run{suffix}.trec", run_lines(run.results, run.name, k))
            write_lines(out / f"qrels{suffix}.trec", qrels_lines(qrels[run.name]))


def _write_outputs(out: Path, runs: Sequence[ConfigRun]) -> None:
    several = len(runs) > 1
    for position, run in enumerate(runs):
        targets = ([""] if position == 0 else []) + ([f"_{run.name}"] if several else [])
        metrics_text = json.dumps(dict(run.metrics), ensure_ascii=False, indent=2) + "\n"
        lines = "".join(json.dumps(result.to_json(), ensure_ascii=False) + "\n"
                        for result in run.results)
        for suffix in targets:
            (out / f"metrics{suffix}.json").write_text(metrics_text, encoding="utf-8")
            (out / f"per_question{suffix}.jsonl").write_text(lines, encoding="utf-8")
