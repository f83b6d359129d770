"""TREC run and qrels files of an evaluation run, and the ranking metrics computed on them
by ir-measures (trec_eval underneath, through pytrec_eval).

Files (plain text, one line each, space-separated, ids sorted so the same run gives the
same bytes):

- ``run.trec`` / ``run_<config>.trec``: ``<question id> Q0 <passage id> <rank> <score>
  <config>`` for every passage a question retrieved, ranks 1..k. The score is
  ``k + 1 − rank``, so trec_eval (which sorts by score) reads the ranks as retrieved.
- ``qrels.trec`` / ``qrels_<config>.trec``: ``<question id> 0 <passage id> 1`` for every
  passage of the searched collection relevant to an answerable question (docs/GOLD_FORMAT.md:
  its evidence or an ``also_ok`` evidence), so nDCG's ideal and recall see them all.
  The baseline searches its own chunks, so its qrels differ from the pipeline's.

``library_ranking`` computes, per question, hit@1/3/5/10 (ir-measures ``Success@k``),
MRR@10 (``RR@10``) and nDCG@10 (``nDCG@10``, binary gains, log2 discount), keyed as in
metrics.json. trec_eval leaves out a question with nothing retrieved or no relevant
passage; such a question scores 0 here, as it does in ``eval.metrics``. These values
are what metrics.json reports; ``eval.metrics``' own functions compute the same figures
and a test holds the two equal.

Left out: graded relevance; trec_eval's other measures (an evaluator runs them on the
files: ``ir_measures qrels.trec run.trec 'P@5 R@10'``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from eval.metrics import HIT_KS, RANK_CUTOFF, QuestionResult

# metrics.json key -> ir-measures measure name
LIBRARY_MEASURES = {
    **{f"retrieval.hit@{k}": f"Success@{k}" for k in HIT_KS},
    "retrieval.mrr@10": f"RR@{RANK_CUTOFF}",
    "retrieval.ndcg@10": f"nDCG@{RANK_CUTOFF}",
}

Qrels = Mapping[str, Sequence[str]]  # question id -> relevant passage ids


def run_lines(results: Sequence[QuestionResult], tag: str, k: int = RANK_CUTOFF) -> list[str]:
    """The TREC run lines of a configuration's results.

    >>> from eval.metrics import RetrievedPassage
    >>> r = QuestionResult("q1", "fact", "?", (2,), 1, (), False, (), (), 1.0,
    ...                    (RetrievedPassage(1, "p9", "t", None, False),
    ...                     RetrievedPassage(2, "p3", "t", None, True)))
    >>> run_lines([r], "hybrid")
    ['q1 Q0 p9 1 10 hybrid', 'q1 Q0 p3 2 9 hybrid']
    """
    lines = []
    for result in sorted(results, key=lambda r: r.id):
        for passage in sorted(result.top, key=lambda p: (p.rank, p.id)):
            if passage.rank <= k:
                lines.append(f"{result.id} Q0 {passage.id} {passage.rank} "
                             f"{k + 1 - passage.rank} {tag}")
    return lines


def qrels_lines(qrels: Qrels) -> list[str]:
    """The TREC qrels lines, questions and passages sorted.

    >>> qrels_lines({"q2": ["b", "a"], "q1": ["c"]})
    ['q1 0 c 1', 'q2 0 a 1', 'q2 0 b 1']
    """
    return [f"{qid} 0 {pid} 1" for qid in sorted(qrels) for pid in sorted(qrels[qid])]


def write_lines(path: str | Path, lines: Iterable[str]) -> Path:
    path = Path(path)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_qrels(path: str | Path) -> dict[str, list[str]]:
    """A qrels file back into ``{question id: [relevant passage ids]}`` (grade > 0)."""
    qrels: dict[str, list[str]] = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 4 and float(parts[3]) > 0:
            qrels.setdefault(parts[0], []).append(parts[2])
    return qrels


def library_ranking(results: Sequence[QuestionResult], qrels: Qrels,
                    k: int = RANK_CUTOFF) -> dict[str, dict[str, float]]:
    """Per metrics.json ranking key, ``{question id: value}`` for every answerable result.

    >>> from eval.metrics import RetrievedPassage
    >>> r = QuestionResult("q1", "fact", "?", (2,), 2, (), False, (), (), 1.0,
    ...                    (RetrievedPassage(1, "p9", "t", None, False),
    ...                     RetrievedPassage(2, "p3", "t", None, True)))
    >>> values = library_ranking([r], {"q1": ["p3", "p4"]})
    >>> values["retrieval.hit@1"], values["retrieval.hit@3"], values["retrieval.mrr@10"]
    ({'q1': 0.0}, {'q1': 1.0}, {'q1': 0.5})
    >>> round(values["retrieval.ndcg@10"]["q1"], 4)  # (1/log2 3) / (1 + 1/log2 3)
    0.3869
    """
    import ir_measures
    from ir_measures import Qrel, ScoredDoc

    answerable = [r for r in results if r.answerable]
    out: dict[str, dict[str, float]] = {key: {r.id: 0.0 for r in answerable}
                                        for key in LIBRARY_MEASURES}
    wanted = {r.id for r in answerable}
    qrel_rows = [Qrel(qid, pid, 1) for qid in sorted(qrels) if qid in wanted
                 for pid in sorted(qrels[qid])]
    run_rows = [ScoredDoc(r.id, p.id, float(k + 1 - p.rank))
                for r in answerable for p in r.top if p.rank <= k]
    if not qrel_rows or not run_rows:
        return out
    by_name = {name: key for key, name in LIBRARY_MEASURES.items()}
    measures = [ir_measures.parse_measure(name) for name in LIBRARY_MEASURES.values()]
    for metric in ir_measures.iter_calc(measures, qrel_rows, run_rows):
        key = by_name[str(metric.measure)]
        if metric.query_id in out[key]:
            out[key][metric.query_id] = float(metric.value)
    return out
