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


# --- fitting the refusal score by cross-validation -------------------------------------

MAX_FALSE_REFUSALS = 0.04  # the threshold keeps held-out false refusals at or below this
FOLDS = 5


@dataclass(frozen=True)
class RefusalFit:
    """Logistic weights over the Basis fields (in ``rag.answer.offline.REFUSAL_WEIGHTS``
    order), the bias, the chosen threshold on the score, and the cross-validated table."""

    weights: tuple[float, ...]
    bias: float
    threshold: float  # refuse when the score is above it (adequacy below its negation)
    table: tuple[TradeOff, ...]  # out-of-fold trade-off per score threshold


def fit_logistic(x, y, l2: float = 1.0, steps: int = 3000, rate: float = 0.1):
    """Class-balanced, L2-regularised logistic regression by gradient descent (numpy).

    Returns (weights, bias) on the original feature scale.

    >>> import numpy as np
    >>> w, b = fit_logistic(np.array([[0.0], [0.1], [0.9], [1.0]]), np.array([0, 0, 1, 1.0]))
    >>> bool(w[0] > 0) and bool(b + w[0] * 0.05 < 0 < b + w[0] * 0.95)
    True
    """
    import numpy as np

    mean, scale = x.mean(0), x.std(0) + 1e-9
    z = (x - mean) / scale
    w, b = np.zeros(z.shape[1]), 0.0
    positive = y.mean()
    weight = np.where(y == 1, 0.5 / positive, 0.5 / (1 - positive))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = weight * (p - y)
        w -= rate * (z.T @ g / len(y) + l2 * w / len(y))
        b -= rate * g.mean()
    return w / scale, float(b - (w / scale) @ mean)


def fit_refusal(rows: list[tuple[GoldItem, object]], folds: int = FOLDS,
                max_false: float = MAX_FALSE_REFUSALS) -> RefusalFit:
    """Fit the refusal score on (item, Basis) rows (clause lookups, Basis None, left out).

    Each item's out-of-fold score comes from a model fitted on the other folds (item i
    in fold i mod ``folds``); the threshold is the lowest that keeps the out-of-fold
    false refusals at or below ``max_false``. The weights are then fitted on all rows.
    """
    import numpy as np

    kept = [(item, basis) for item, basis in rows if basis is not None]
    x = np.array([basis.features() for _, basis in kept], dtype=float)
    y = np.array([item.type == "unanswerable" for item, _ in kept], dtype=float)
    fold = np.arange(len(kept)) % folds
    scores = np.zeros(len(kept))
    for f in range(folds):
        w, b = fit_logistic(x[fold != f], y[fold != f])
        scores[fold == f] = x[fold == f] @ w + b
    candidates = sorted({round(float(s), 2) for s in scores})
    table = []
    chosen = max(candidates)
    for t in candidates:
        refused = scores > t
        false = float(refused[y == 0].mean()) if (y == 0).any() else 0.0
        table.append(TradeOff(t, round(float(refused[y == 1].mean()), 4), round(false, 4)))
        if false <= max_false:
            chosen = min(chosen, t)
    w, b = fit_logistic(x, y)
    return RefusalFit(tuple(round(float(v), 3) for v in w), round(b, 3), chosen, tuple(table))


def bases_for(items: list[GoldItem], pipeline, retriever: str = "hybrid"):
    """(item, Basis or None) for every item, as ``ragqa ask`` measures it."""
    out = []
    for item in items:
        query, hits = pipeline.retrieve(item.question, SearchOptions(retriever, 10))
        out.append((item, pipeline.basis(query, hits)))
    return out
