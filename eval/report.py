"""report.md and the PNG plots of an evaluation run.

``render_report`` (pure, returns Markdown) holds: the run settings and what produced the
run (``eval.runs.Provenance``); a table of the configurations and one per question type,
each figure with its 95 % interval in brackets; for each comparison, per metric the
difference, its interval and p-value, and the questions that changed; the misses to
read first (per type: the right passage retrieved, the answer refused or cited wrong,
with what was cited and what was expected); the worst misses of the primary (first)
configuration, that is answerable items with no relevant passage in the top k or no
correct citation, with what was retrieved instead (top 3 titles and articles);
unanswerable items answered anyway; questions stopped by a library error.

``write_plots`` draws with matplotlib's Agg backend: hit@k for k = 1..10 per
configuration, hit@5 per answerable question type, and a latency histogram. Plot
labels are English only, so no CJK font is needed.

Left out: no HTML, no per-question listing of every item (see per_question.jsonl).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from eval.gold import GoldItem
from eval.metrics import ConfigRun, QuestionResult, by_type, hit_curve
from rag.types import citation_label

if TYPE_CHECKING:
    from eval.runs import Comparison, Provenance

MAX_MISSES = 25
TITLE_CHARS = 28
QUESTION_CHARS = 40

# (metrics.json key, column heading) of the comparison table, in order.
COLUMNS = (
    ("retrieval.hit@1", "hit@1"),
    ("retrieval.hit@5", "hit@5"),
    ("retrieval.hit@10", "hit@10"),
    ("retrieval.mrr@10", "MRR@10"),
    ("retrieval.ndcg@10", "nDCG@10"),
    ("retrieval.recall@10", "recall@10 (all places)"),
    ("citation.accuracy", "citation acc."),
    ("citation.precision", "citation prec."),
    ("answer.keypoint_recall", "key points"),
    ("refusal.accuracy", "refusal acc."),
    ("refusal.false_rate", "false refusals"),
    ("latency.p50_ms", "p50 ms"),
    ("latency.p95_ms", "p95 ms"),
)
PLOTS = ("hit_at_k.png", "hit5_by_type.png", "latency.png")


@dataclass(frozen=True)
class RunInfo:
    """The settings of a run, printed at the top of the report."""

    gold_path: str
    n_items: int
    k: int
    embedder: str
    limit: int | None = None


def cell(value: object) -> str:
    """A metric as a table cell: floats with 3 decimals, None as a dash.

    >>> cell(0.66666), cell(None), cell(12)
    ('0.667', '–', '12')
    """
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _ms(value: object) -> str:
    """A latency as a table cell.

    >>> _ms(1234.56), _ms(None)
    ('1234.6', '–')
    """
    return "–" if value is None else f"{value:.1f}"


def _text(value: str | None, limit: int) -> str:
    """Safe inside a Markdown table cell, cut to ``limit`` characters.

    >>> _text("a|b\\nc", 10), _text("甲" * 5, 3)
    ('a\\\\|b c', '甲甲甲…')
    """
    if not value:
        return ""
    value = " ".join(value.split()).replace("|", "\\|")
    return value if len(value) <= limit else value[:limit] + "…"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def with_ci(metrics: Mapping[str, object], key: str) -> str:
    """A figure and its interval (``<key>.ci_low`` / ``.ci_high``) as one cell.

    >>> with_ci({"a": 0.75, "a.ci_low": 0.25, "a.ci_high": 1.0}, "a"), with_ci({"a": 0.5}, "a")
    ('0.750 (0.250–1.000)', '0.500')
    >>> with_ci({"latency.p50_ms": 41.25, "latency.p50_ms.ci_low": 40.0,
    ...          "latency.p50_ms.ci_high": 43.5}, "latency.p50_ms")
    '41.2 (40.0–43.5)'
    """
    show = _ms if key.rsplit(".", 1)[-1].endswith("_ms") else cell
    value, low, high = (metrics.get(key), metrics.get(f"{key}.ci_low"),
                        metrics.get(f"{key}.ci_high"))
    if value is None or low is None or high is None:
        return show(value)
    return f"{show(value)} ({show(low)}–{show(high)})"


def _metric_cells(metrics: Mapping[str, object], prefix: str = "") -> list[str]:
    return [with_ci(metrics, prefix + key) for key, _ in COLUMNS]


def render_report(runs: Sequence[ConfigRun], items: Sequence[GoldItem], info: RunInfo,
                  plots: Sequence[str] = PLOTS, comparisons: Sequence[Comparison] = (),
                  provenance: Provenance | None = None) -> str:
    """The Markdown report (see the module docstring)."""
    lines = ["# Evaluation report", ""]
    counts = ", ".join(f"{kind} {sum(item.type == kind for item in items)}"
                       for kind in sorted({item.type for item in items}))
    lines += [
        f"- gold file: `{info.gold_path}`" + (f" (first {info.limit} items)" if info.limit
                                              else ""),
        f"- items scored: {info.n_items} ({counts})",
        f"- configurations: {', '.join(run.name for run in runs)}"
        f" (primary: {runs[0].name if runs else '–'})",
        f"- passages retrieved per question: {info.k}; embedder: `{info.embedder}`",
        "- scoring: docs/GOLD_FORMAT.md; retrieval, citation and key-point metrics over "
        "answerable items, refusal accuracy over unanswerable ones; `–` = no item to "
        "score. The baseline never refuses and cites its top chunk, which has no article.",
        "- in brackets: the 95 % bootstrap interval over questions"
        + (f" ({provenance.resamples:,} resamples, seed {provenance.seed})" if provenance
           else "") + "; recall@10 is the share of an item's gold places (evidence and "
        "each `also_ok`) found in the top 10, hit@k needs one of them.",
        "",
        *(render_provenance(provenance) if provenance else []),
        "## Configurations",
        "",
        _row(["configuration", *(heading for _, heading in COLUMNS)]),
        _row(["---"] * (len(COLUMNS) + 1)),
    ]
    lines += [_row([run.name, *_metric_cells(run.metrics)]) for run in runs]
    lines.append("")
    for name in plots:
        lines += [f"![{Path(name).stem}]({name})", ""]
    lines += _type_tables(runs)
    for comparison in comparisons:
        lines += render_comparison(comparison)
    if runs:
        lines += _misses_first(runs[0], items)
        lines += _misses(runs[0], items)
        lines += _answered_unanswerable(runs[0])
        lines += _outcomes(runs[0])
        lines += _errors(runs)
    return "\n".join(lines).rstrip() + "\n"


def _type_tables(runs: Sequence[ConfigRun]) -> list[str]:
    types = sorted({result.type for run in runs for result in run.results})
    lines = ["## By question type", ""]
    for kind in types:
        prefix = f"by_type.{kind}."
        n = runs[0].metrics.get(prefix + "n")
        lines += [f"### {kind} (n = {n})", "",
                  _row(["configuration", *(heading for _, heading in COLUMNS)]),
                  _row(["---"] * (len(COLUMNS) + 1))]
        lines += [_row([run.name, *_metric_cells(run.metrics, prefix)]) for run in runs]
        lines.append("")
    return lines


def render_provenance(p: Provenance) -> list[str]:
    """The "What produced this run" section."""
    configs = "; ".join(
        f"{c.name}: retriever {c.retriever}, answerer {c.answerer}"
        + (f", reranker {c.reranker}" if c.reranker else "") for c in p.configs)
    return [
        "## What produced this run", "",
        f"- gold file: `{p.gold_path}`, sha256 `{p.gold_sha256}`, {p.n_items} items",
        f"- index: `{p.index_dir}`, manifest sha256 `{p.index_manifest_sha256}`, "
        f"corpus sha256 `{p.corpus_sha256}`",
        f"- embedder: `{p.embedder}`; code: `{p.code_version}`",
        f"- configurations: {configs}",
        "- thresholds: " + ", ".join(f"{name} {value:g}" for name, value in p.thresholds),
        f"- bootstrap: {p.resamples:,} resamples, seed {p.seed}, level {p.level:g}",
        "",
    ]


def _mark(value: bool | None) -> str:
    return "–" if value is None else ("✓" if value else "✗")


# the keys a comparison shows per question type (all keys are in comparison.json)
TYPE_KEYS = ("retrieval.hit@1", "retrieval.hit@5", "retrieval.mrr@10", "citation.accuracy",
             "answer.keypoint_recall", "refusal.accuracy", "refusal.false_rate")
CHANGE_LABELS = {"retrieval.hit@1": "hit@1", "retrieval.hit@5": "hit@5",
                 "citation.accuracy": "cited correctly", "refusal.accuracy": "refused"}
MAX_CHANGES = 40


def render_comparison(comparison: Comparison) -> list[str]:
    """A comparison of two runs: per metric the difference, interval and p-value, and the
    questions that changed."""
    a, b = comparison.first, comparison.second
    headings = dict(COLUMNS)
    lines = [f"## {b} against {a}", "",
             f"Difference = {b} − {a}, paired by question; interval: 95 % paired bootstrap; "
             "p: two-sided paired randomization test (each question's two results swapped "
             "at random). **Bold**: p < 0.05 and an interval without 0. A p-value is per "
             "metric, not corrected for the many metrics shown.", "",
             _row(["metric", a, b, "difference", "95 % interval", "p", "questions"]),
             _row(["---"] * 7)]
    rows = [("", key) for key, _ in COLUMNS]
    types = sorted({key.split(".")[1] for key in comparison.differences
                    if key.startswith("by_type.")})
    rows += [(f"by_type.{kind}.", key) for kind in types for key in TYPE_KEYS]
    for prefix, key in rows:
        d = comparison.differences.get(prefix + key)
        if d is None or (prefix and d.first is None and d.second is None):
            continue  # no item of this type counts for this metric
        label = (prefix[len("by_type."):].rstrip(".") + ": " if prefix else "") \
            + headings.get(key, key)
        show = _ms if key.endswith("_ms") else cell
        real = d.p is not None and d.p < 0.05 and d.low is not None and (
            d.low > 0 or d.high < 0)
        diff = "–" if d.diff is None else f"{d.diff:+.3f}" if not key.endswith("_ms") \
            else f"{d.diff:+.1f}"
        interval = "–" if d.low is None else f"{show(d.low)} to {show(d.high)}"
        p = "–" if d.p is None else f"{d.p:.4f}"
        if real:
            diff, p = f"**{diff}**", f"**{p}**"
        lines.append(_row([label, show(d.first), show(d.second), diff, interval, p,
                           str(d.n)]))
    changes = comparison.changes
    losses = sum(any(x > y for x, y in c.values()) for _, _, c in changes)
    lines += ["", f"{len(changes)} questions changed in {', '.join(CHANGE_LABELS.values())}"
              f" ({losses} with a loss in {b}, first)"
              + (f"; the first {MAX_CHANGES} shown" if len(changes) > MAX_CHANGES else "")
              + ". ✓/✗: in " + f"{a} → in {b}.", ""]
    if changes:
        lines += [_row(["id", "type", "question", "changed"]), _row(["---"] * 4)]
        for first, _, change in changes[:MAX_CHANGES]:
            what = "; ".join(f"{CHANGE_LABELS.get(key, key)} {_mark(bool(x))}→{_mark(bool(y))}"
                             for key, (x, y) in change.items())
            lines.append(_row([first.id, first.type, _text(first.question, QUESTION_CHARS),
                               what]))
        lines.append("")
    return lines


def _expected(item: GoldItem | None) -> str:
    if item is None or not item.doc_title:
        return ""
    place = citation_label(_text(item.doc_title, TITLE_CHARS), item.article, item.section)
    extra = f" (+{len(item.also_ok)} other place{'s' if len(item.also_ok) > 1 else ''})" \
        if item.also_ok else ""
    return _text(place, 60) + extra


def _cited(result: QuestionResult) -> str:
    titles = {p.id: p for p in result.top}
    parts = []
    for citation in result.citations:
        shown = titles.get(citation.passage_id)
        where = f"《{_text(shown.title, TITLE_CHARS)}》" if shown else f"{citation.passage_id} "
        parts.append(f"{where}{citation.article or (shown.article if shown else '') or ''} "
                     f"{_mark(citation.correct)}")
    return "; ".join(parts)


def _misses_first(run: ConfigRun, items: Sequence[GoldItem], k: int = 10) -> list[str]:
    """Per type: the right passage was retrieved, yet the answer refused or cited wrong."""
    by_id = {item.id: item for item in items}
    failed = [r for r in run.results if r.answerable
              and any(rank <= k for rank in r.relevant_ranks)
              and (r.refused or not r.cited_correctly)]
    lines = [f"## Misses to read first ({run.name})", "",
             f"{len(failed)} answerable items whose right passage was in the top {k} but "
             "whose answer refused or cited no right place: the answer, not the retrieval, "
             "failed. Per type, by first relevant rank.", ""]
    for kind, group in by_type(failed).items():
        group = sorted(group, key=lambda r: (min(r.relevant_ranks), r.id))
        lines += [f"### {kind} ({len(group)})", "",
                  _row(["id", "question", "relevant at", "failure", "cited", "expected"]),
                  _row(["---"] * 6)]
        for r in group[:MAX_MISSES]:
            failure = "refused" if r.refused else (
                "wrong citation" if r.citations else "no citation")
            lines.append(_row([r.id, _text(r.question, QUESTION_CHARS),
                               ", ".join(str(x) for x in r.relevant_ranks if x <= k),
                               failure, _text(_cited(r), 120) or "nothing",
                               _expected(by_id.get(r.id))]))
        lines.append("")
    return lines


def _is_miss(result: QuestionResult, k: int = 10) -> bool:
    return result.answerable and (not any(rank <= k for rank in result.relevant_ranks)
                                  or not result.cited_correctly)


def _misses(run: ConfigRun, items: Sequence[GoldItem]) -> list[str]:
    by_id = {item.id: item for item in items}
    misses = sorted((r for r in run.results if _is_miss(r)),
                    key=lambda r: (bool(r.relevant_ranks), r.id))
    lines = [f"## Worst misses ({run.name})", "",
             f"{len(misses)} answerable items with no relevant passage in the top 10 or no "
             f"correct citation" + (f"; the first {MAX_MISSES} shown" if len(misses) > MAX_MISSES
                                    else "") + ", items without a relevant passage first.", ""]
    if not misses:
        return lines
    lines += [_row(["id", "type", "question", "expected", "first relevant rank", "cited",
                    "retrieved instead (top 3)"]), _row(["---"] * 7)]
    for result in misses[:MAX_MISSES]:
        item = by_id.get(result.id)
        expected = _text(citation_label(_text(item.doc_title, TITLE_CHARS), item.article,
                                        item.section), 60) \
            if item and item.doc_title else ""
        first = str(min(result.relevant_ranks)) if result.relevant_ranks else "none"
        cited = "refused" if result.refused else "; ".join(
            f"{c.passage_id} {c.article or ''} {'✓' if c.correct else '✗'}".replace("  ", " ")
            for c in result.citations) or "none"
        retrieved = "; ".join(f"{p.rank}. 《{_text(p.title, TITLE_CHARS)}》"
                              f"{_text(p.article, 30) or f'({p.id})'}"
                              for p in result.top[:3]) or "nothing"
        lines.append(_row([result.id, result.type, _text(result.question, QUESTION_CHARS),
                           expected, first, _text(cited, 80), _text(retrieved, 200)]))
    lines.append("")
    return lines


def _answered_unanswerable(run: ConfigRun) -> list[str]:
    wrong = sorted((r for r in run.results if not r.answerable and not r.refusal_correct),
                   key=lambda r: r.id)
    lines = [f"## Unanswerable questions not refused ({run.name})", ""]
    if not wrong:
        return lines + ["None.", ""]
    lines += [_row(["id", "question", "refused", "citations"]), _row(["---"] * 4)]
    lines += [_row([r.id, _text(r.question, QUESTION_CHARS), "yes" if r.refused else "no",
                    str(len(r.citations))]) for r in wrong[:MAX_MISSES]]
    return lines + [""]


def _outcomes(run: ConfigRun) -> list[str]:
    """The outcome confusion (answered / detail absent / refused against the gold's)."""
    from eval.metrics import outcome_table

    return [f"## Outcomes against the gold ({run.name})", "", *outcome_table(run.results), ""]


def _errors(runs: Sequence[ConfigRun]) -> list[str]:
    failed = [(run.name, r) for run in runs for r in run.results if r.error]
    if not failed:
        return []
    lines = ["## Questions stopped by an error", "",
             _row(["configuration", "id", "error"]), _row(["---"] * 3)]
    lines += [_row([name, r.id, _text(r.error, 160)]) for name, r in failed[:MAX_MISSES]]
    return lines + [""]


def write_report(out_dir: str | Path, runs: Sequence[ConfigRun], items: Sequence[GoldItem],
                 info: RunInfo, plots: Sequence[str] = PLOTS,
                 comparisons: Sequence[Comparison] = (),
                 provenance: Provenance | None = None) -> Path:
    """Write ``report.md`` into ``out_dir``; return its path."""
    path = Path(out_dir) / "report.md"
    path.write_text(render_report(runs, items, info, plots, comparisons, provenance),
                    encoding="utf-8")
    return path


def write_plots(out_dir: str | Path, runs: Sequence[ConfigRun]) -> list[str]:
    """Draw the three PNG plots into ``out_dir``; return their file names."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    metadata = {"Software": None}
    ks = list(range(1, 11))

    fig, ax = plt.subplots(figsize=(6, 4))
    for run in runs:
        ax.plot(ks, hit_curve(run.results, len(ks)), marker="o", label=run.name)
    ax.set(xlabel="k (passages retrieved)", ylabel="hit@k", ylim=(0, 1.05), xticks=ks,
           title="Relevant passage in top k (answerable items)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / PLOTS[0], dpi=100, metadata=metadata)
    plt.close(fig)

    types = sorted({r.type for run in runs for r in run.results if r.answerable})
    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.8 / max(1, len(runs))
    for position, run in enumerate(runs):
        values = [run.metrics.get(f"by_type.{kind}.retrieval.hit@5") or 0.0 for kind in types]
        ax.bar([i + position * width for i in range(len(types))], values, width,
               label=run.name)
    ax.set_xticks([i + width * (len(runs) - 1) / 2 for i in range(len(types))], types)
    ax.set(ylabel="hit@5", ylim=(0, 1.2), title="hit@5 by question type")
    ax.legend(loc="upper center", ncol=max(1, len(runs)), frameon=False)
    fig.tight_layout()
    fig.savefig(out / PLOTS[1], dpi=100, metadata=metadata)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    latencies = {run.name: [r.latency_ms for r in run.results] for run in runs}
    everything = [value for values in latencies.values() for value in values]
    if everything:
        low, high = min(everything), max(everything)
        bins = [low + (high - low) * i / 30 for i in range(31)] if high > low else 10
        for name, values in latencies.items():
            ax.hist(values, bins=bins, histtype="step", linewidth=1.5, label=name)
        ax.legend()
    ax.set(xlabel="latency per question (ms)", ylabel="questions",
           title="Latency, retrieval plus answer")
    fig.tight_layout()
    fig.savefig(out / PLOTS[2], dpi=100, metadata=metadata)
    plt.close(fig)
    return list(PLOTS)

