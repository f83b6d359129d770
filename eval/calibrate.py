"""Calibrate the refusal rule: refusal accuracy against false refusals.

For every gold item (of one or several gold files) the offline answerer's ``Basis`` is
measured once (``bases_for``: term coverage and dense prominence of the best retrieved
passages); ``fit_refusal`` then fits the rule's two bars (refuse when coverage and
prominence are both below their bar) by grid search, and reports the same procedure's
out-of-fold figures. ``sweep`` gives the trade-off of a threshold on one score. Clause
lookups never refuse, so their items are left out.

Left out: per-type bars.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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
        lines.append(f"| {r.threshold:.3f}{mark} | {r.refusal_accuracy:.3f} | "
                     f"{r.false_refusal_rate:.3f} |")
    return "\n".join(lines)


# --- fitting the refusal score by cross-validation -------------------------------------

MAX_FALSE_REFUSALS = 0.04  # the threshold keeps held-out false refusals at or below this
FOLDS = 5


@dataclass(frozen=True)
class RefusalFit:
    """The two bars of the refusal rule (``rag.answer.offline``: refuse when coverage is
    below ``coverage`` and prominence below ``prominence``), fitted on all rows, and the
    out-of-fold figures of the same procedure run fold by fold."""

    coverage: float
    prominence: float
    out_of_fold_refusal_accuracy: float  # items expected refused, refused
    out_of_fold_false_refusals: float  # answerable items refused
    out_of_fold_detail_refused: float  # items expected detail_absent, refused
    table: tuple[TradeOff, ...]  # in-sample trade-off per prominence bar, coverage bar fixed


COVERAGE_GRID = tuple(round(0.3 + 0.025 * i, 3) for i in range(27))  # 0.30 … 0.95
PROMINENCE_GRID = tuple(round(0.001 * i, 3) for i in range(31))  # 0.000 … 0.030


def best_bars(x, refused_expected, answerable, max_false: float = MAX_FALSE_REFUSALS):
    """The (coverage, prominence) bars that refuse the most items expected refused while
    refusing at most ``max_false`` of the answerable ones (ties: the lower bars).

    >>> import numpy as np
    >>> x = np.array([[0.9, 0.03], [0.8, 0.002], [0.4, 0.03], [0.3, 0.004]])
    >>> best_bars(x, np.array([False, False, False, True]), np.array([True, True, True, False]))
    (0.325, 0.005)
    """
    best: tuple[tuple[bool, float, float, float], float, float] | None = None
    for c in COVERAGE_GRID:
        low_c = x[:, 0] < c
        for p in PROMINENCE_GRID:
            refused = low_c & (x[:, 1] < p)
            false = float(refused[answerable].mean()) if answerable.any() else 0.0
            caught = float(refused[refused_expected].mean()) if refused_expected.any() else 0.0
            key = (false <= max_false, caught - false, -c, -p)
            if best is None or key > best[0]:
                best = (key, c, p)
    assert best is not None
    return best[1], best[2]


def fit_refusal(rows: list[tuple[GoldItem, object]], folds: int = FOLDS,
                max_false: float = MAX_FALSE_REFUSALS) -> RefusalFit:
    """Fit the refusal rule's two bars on (item, Basis) rows (clause lookups, Basis None,
    left out), by grid search, with out-of-fold figures: each item is decided by the bars
    fitted on the other folds (item i in fold i mod ``folds``). The items expected
    ``refused`` are the ones to refuse; an unanswerable item expected ``detail_absent`` is
    on topic and should pass to the detail check, so its refusal is reported apart.
    """
    import numpy as np

    kept = [(item, basis) for item, basis in rows if basis is not None]
    x = np.array([basis.features() for _, basis in kept], dtype=float)
    expected = np.array([item.expected_outcome == "refused" for item, _ in kept])
    answerable = np.array([item.answerable for item, _ in kept])
    detail = ~expected & ~answerable
    fold = np.arange(len(kept)) % folds
    refused = np.zeros(len(kept), dtype=bool)
    for f in range(folds):
        c, p = best_bars(x[fold != f], expected[fold != f], answerable[fold != f], max_false)
        part = x[fold == f]
        refused[fold == f] = (part[:, 0] < c) & (part[:, 1] < p)
    c, p = best_bars(x, expected, answerable, max_false)
    table = []
    for bar in PROMINENCE_GRID:
        inside = (x[:, 0] < c) & (x[:, 1] < bar)
        table.append(TradeOff(bar, round(float(inside[expected].mean()), 4),
                              round(float(inside[answerable].mean()), 4)))

    def share(mask) -> float:
        return round(float(refused[mask].mean()), 4) if mask.any() else 0.0
    return RefusalFit(c, p, share(expected), share(answerable), share(detail), tuple(table))


def bases_for(items: list[GoldItem], pipeline, retriever: str = "hybrid"):
    """(item, Basis or None) for every item, as ``ragqa ask`` measures it."""
    out = []
    for item in items:
        query, hits = pipeline.retrieve(item.question, SearchOptions(retriever, 10))
        out.append((item, pipeline.basis(query, hits)))
    return out


# --- fitting the answer-or-not model (rag.answer.decide) --------------------------------

DECISION_L2 = 1.0  # ridge penalty on the standardised weights
DECISION_STEPS = 3000  # full-batch gradient steps (deterministic: no sampling)
DECISION_RATE = 0.5


@dataclass(frozen=True)
class DecisionFit:
    """The logistic model fitted on all rows, and the out-of-fold errors of the same
    procedure (item i decided by the model fitted without fold i mod ``folds``), with
    the two checks' errors on the same rows beside them."""

    model: object  # rag.answer.decide.DecisionModel
    n: int
    out_of_fold_false_refusals: int  # answerable items not answered
    out_of_fold_answered_unanswerable: int  # items expected refused or detail_absent, answered
    checks_false_refusals: int
    checks_answered_unanswerable: int


def fit_logistic(x, y, l2: float = DECISION_L2, steps: int = DECISION_STEPS,
                 rate: float = DECISION_RATE):
    """A ridge logistic regression on standardised columns, by full-batch gradient
    descent from zero (the same rows give the same model).

    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
    >>> m = fit_logistic(x, y)
    >>> [round(float(v), 2) for v in (m.means[0], m.scales[0])], m.weights[0] > 0
    ([1.5, 1.12], True)
    """
    import numpy as np

    from rag.answer.decide import DecisionModel

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    w = np.zeros(z.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        g = p - y
        w -= rate * (z.T @ g / len(y) + l2 * w / len(y))
        b -= rate * float(g.mean())
    return DecisionModel(tuple(round(float(v), 6) for v in mean),
                         tuple(round(float(v), 6) for v in scale),
                         tuple(round(float(v), 6) for v in w), round(b, 6))


def fit_decision(rows: list[tuple[GoldItem, object, bool]], folds: int = FOLDS) -> DecisionFit:
    """Fit ``rag.answer.decide``'s model on (item, DecisionFeatures, answered by the two
    checks) rows; items without features (clause lookups) are left out. An item is to be
    answered when its expected outcome is ``answered``."""
    import numpy as np

    from rag.answer.decide import answers

    kept = [(item, f, checks) for item, f, checks in rows if f is not None]
    x = np.array([f.vector() for _, f, _ in kept], dtype=float)
    y = np.array([item.expected_outcome == "answered" for item, _, _ in kept], dtype=float)
    fold = np.arange(len(kept)) % folds
    said = np.zeros(len(kept), dtype=bool)
    for k in range(folds):
        model = fit_logistic(x[fold != k], y[fold != k])
        for i in np.flatnonzero(fold == k):
            said[i] = answers(kept[i][1], model)
    checks = np.array([c for _, _, c in kept], dtype=bool)
    want = y.astype(bool)
    return DecisionFit(fit_logistic(x, y), len(kept), int((want & ~said).sum()),
                       int((~want & said).sum()), int((want & ~checks).sum()),
                       int((~want & checks).sum()))


def decisions_for(items: list[GoldItem], pipeline, retriever: str = "hybrid"):
    """(item, DecisionFeatures or None, answered by the two checks) for every item, as
    ``ragqa ask`` measures them."""
    from rag.answer.offline import answer_offline, decision_features

    out = []
    for item in items:
        query, hits = pipeline.retrieve(item.question, SearchOptions(retriever, 10))
        basis = pipeline.basis(query, hits)
        features = decision_features(query, hits, basis, pipeline.support)
        plain = None if basis is None else replace(basis, sentence=None)  # the two checks
        checks = answer_offline(query, hits, plain, pipeline.support).outcome == "answered"
        out.append((item, features, checks))
    return out
