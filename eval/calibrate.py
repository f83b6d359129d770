"""Calibrate the refusal threshold: refusal accuracy against false refusals, per threshold.

For every gold item the offline answerer's ``Basis.adequacy`` is computed once (term
coverage, dense similarity and unknown terms of the best retrieved passages); a
threshold t refuses every item whose adequacy is below t. Sweeping t gives the trade-off between
refusing unanswerable items and wrongly refusing answerable ones. Clause lookups
never refuse, so their items are left out of the false-refusal count only if they
hit the clause path.

Left out: per-type thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

from eval.gold import GoldItem
from rag.search.query import SearchOptions


@dataclass(frozen=True)
class TradeOff:
    threshold: float
    refusal_accuracy: float  # unanswerable items refused
    false_refusal_rate: float  # answerable items refused


def sweep(supports: list[tuple[GoldItem, float]], thresholds: list[float]) -> list[TradeOff]:
    """Trade-off at each threshold.

    >>> from eval.gold import GoldItem
    >>> def item(t):
    ...     return GoldItem("x", "q", t, None, None, None, None, "", "", (), (), 1)
    >>> rows = sweep([(item("unanswerable"), 0.2), (item("fact"), 0.6), (item("fact"), 0.3)],
    ...              [0.25, 0.5])
    >>> [(r.threshold, r.refusal_accuracy, r.false_refusal_rate) for r in rows]
    [(0.25, 1.0, 0.0), (0.5, 1.0, 0.5)]
    """
    unanswerable = [s for item, s in supports if item.type == "unanswerable"]
    answerable = [s for item, s in supports if item.type != "unanswerable"]
    rows = []
    for t in thresholds:
        refused_u = sum(s < t for s in unanswerable) / len(unanswerable) if unanswerable else 0.0
        refused_a = sum(s < t for s in answerable) / len(answerable) if answerable else 0.0
        rows.append(TradeOff(round(t, 3), round(refused_u, 4), round(refused_a, 4)))
    return rows


def supports_for(items: list[GoldItem], pipeline, retriever: str = "hybrid"):
    """(item, adequacy) for every item; a clause lookup never refuses (adequacy 9)."""
    out = []
    for item in items:
        query, hits = pipeline.retrieve(item.question, SearchOptions(retriever, 10))
        basis = pipeline.basis(query, hits)
        out.append((item, 9.0 if basis is None else basis.adequacy))
    return out


def markdown(rows: list[TradeOff], chosen: float) -> str:
    lines = ["| threshold | refusal accuracy | false refusals |", "| --- | --- | --- |"]
    for r in rows:
        mark = " **(chosen)**" if abs(r.threshold - chosen) < 1e-9 else ""
        lines.append(f"| {r.threshold:.2f}{mark} | {r.refusal_accuracy:.3f} | "
                     f"{r.false_refusal_rate:.3f} |")
    return "\n".join(lines)
