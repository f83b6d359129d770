"""Uncertainty of evaluation figures: bootstrap intervals and paired tests (pure, numpy).

Every metric of metrics.json is one of two kinds over the questions of a run:

- a **ratio** ``sum(num) / sum(den)``: a mean over a subset of the questions is
  ``num = value`` and ``den = 1`` for the questions in the subset, ``0`` elsewhere
  (hit@k over answerable items, refusal accuracy over unanswerable ones); a pooled
  rate is the pooled counts (citation precision: correct citations / citations);
- a **percentile** of the values of the questions with ``den > 0`` (latency p50, p95).

A ``Column`` holds one metric's per-question ``num`` and ``den``. Resampling is over
*questions* (the unit that was sampled), so a subset's size varies from one resample to
the next, as it would with another draw of questions.

- ``bootstrap_intervals``: percentile-bootstrap intervals (default 95 %, 10,000
  resamples, seeded). All the metrics of one group share one resample matrix, and the
  ratio metrics are one matrix product, so a few hundred questions take milliseconds.
- ``paired_differences``: for two runs over the same questions, per metric the
  difference ``second − first``, its paired-bootstrap interval (the same resampled
  questions for both runs) and a two-sided paired randomization test (Fisher's, as
  ranx and Smucker et al. 2007: each question's pair of results is swapped with
  probability 1/2; the p-value is the share of swaps whose absolute difference is at
  least the observed one, counted as ``(hits + 1) / (resamples + 1)`` so it is never 0).
  Two identical runs give difference 0, interval [0, 0] and p = 1.

A resample where a ratio's denominator is 0 (no question of the subset drawn) gives no
value and is left out of the percentiles. Percentiles use numpy's default (linear).

Left out: BCa and studentized intervals, corrections for testing many metrics at once
(a p-value here is per metric: with 16 metrics, one below 0.05 by chance is expected),
stratified resampling by question type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from eval.metrics import percentile

RESAMPLES = 10_000
SEED = 0
LEVEL = 0.95


@dataclass(frozen=True)
class Column:
    """One metric's per-question values: ``sum(num)/sum(den)``, or a percentile of ``num``.

    ``percentile`` None means a ratio; a number q (0..100) means the q-th percentile of
    ``num`` over the questions with ``den > 0``.
    """

    num: np.ndarray
    den: np.ndarray
    percentile: float | None = None

    @classmethod
    def mean(cls, values: Sequence[float | None]) -> Column:
        """A mean over the questions whose value is not None.

        >>> c = Column.mean([1.0, None, 0.0, 1.0])
        >>> c.num.tolist(), c.den.tolist(), point(c)
        ([1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 1.0, 1.0], 0.6667)
        """
        values = list(values)
        return cls(np.array([0.0 if v is None else float(v) for v in values]),
                   np.array([0.0 if v is None else 1.0 for v in values]))

    @classmethod
    def ratio(cls, num: Sequence[float], den: Sequence[float]) -> Column:
        """Pooled counts: ``sum(num) / sum(den)``.

        >>> point(Column.ratio([1, 0, 2], [1, 0, 4]))
        0.6
        """
        return cls(np.asarray(num, dtype=float), np.asarray(den, dtype=float))

    @classmethod
    def quantile(cls, values: Sequence[float | None], q: float) -> Column:
        """The q-th percentile of the values that are not None.

        >>> point(Column.quantile([10.0, 20.0, 30.0, 40.0], 50), 1)
        25.0
        """
        return cls(np.array([0.0 if v is None else float(v) for v in values]),
                   np.array([0.0 if v is None else 1.0 for v in values]), float(q))

    def __len__(self) -> int:
        return len(self.num)


@dataclass(frozen=True)
class Interval:
    """A confidence interval and how it was drawn."""

    low: float
    high: float
    level: float = LEVEL
    resamples: int = RESAMPLES
    seed: int = SEED


@dataclass(frozen=True)
class Difference:
    """``second − first`` for one metric: the value, its interval and the p-value."""

    first: float | None
    second: float | None
    diff: float | None
    low: float | None
    high: float | None
    p: float | None
    n: int  # questions that count for the metric in either run


def point(column: Column, digits: int = 4) -> float | None:
    """The metric's value on the questions as they are (None when nothing counts).

    >>> point(Column.mean([None, None])) is None
    True
    """
    keep = column.den > 0
    if not keep.any():
        return None
    if column.percentile is None:
        value = float(column.num.sum() / column.den.sum())
    else:
        # the harness's own percentile, so a figure and its point agree to the last digit
        value = float(percentile(column.num[keep].tolist(), column.percentile) or 0.0)
    return round(value, digits)


def resample_indices(n: int, resamples: int = RESAMPLES, seed: int = SEED) -> np.ndarray:
    """``(resamples, n)`` question indices drawn with replacement, seeded.

    >>> idx = resample_indices(5, 3, seed=1)
    >>> idx.shape, bool((idx >= 0).all() and (idx < 5).all())
    ((3, 5), True)
    >>> bool((resample_indices(5, 3, 1) == idx).all())
    True
    """
    if n < 1 or resamples < 1:
        raise ValueError(f"need at least one question and one resample, got n={n}, "
                         f"resamples={resamples}")
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def counts_of(indices: np.ndarray) -> np.ndarray:
    """How often each question occurs in each resample: ``(resamples, n)`` counts.

    >>> counts_of(np.array([[0, 0, 2], [1, 2, 2]])).tolist()
    [[2, 0, 1], [0, 1, 2]]
    """
    resamples, n = indices.shape
    offsets = (indices + n * np.arange(resamples)[:, None]).ravel()
    return np.bincount(offsets, minlength=resamples * n).reshape(resamples, n)


def _ratio_stats(columns: list[Column], counts: np.ndarray) -> np.ndarray:
    """``(resamples, metrics)`` ratio statistics, NaN where a denominator is 0."""
    num = np.stack([c.num for c in columns], axis=1)
    den = np.stack([c.den for c in columns], axis=1)
    counts = counts.astype(float)
    top, bottom = counts @ num, counts @ den
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def percentile_of_counts(values: np.ndarray, counts: np.ndarray, q: float) -> np.ndarray:
    """The q-th percentile of each row's multiset: ``counts[r, i]`` copies of ``values[i]``.

    numpy's linear method, without materialising the resamples: the values are sorted
    once and each order statistic is read off the cumulative counts. NaN for an empty row.

    >>> values = np.array([30.0, 10.0, 20.0, 40.0])
    >>> percentile_of_counts(values, np.array([[1, 1, 1, 1], [0, 2, 0, 1], [0, 0, 0, 0]]), 50)
    array([25., 10., nan])
    >>> float(np.percentile([10, 10, 40], 95)), float(percentile_of_counts(values,
    ...                                                np.array([[0, 2, 0, 1]]), 95)[0])
    (37.0, 37.0)
    """
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    cumulative = np.cumsum(np.take(counts, order, axis=1), axis=1, dtype=np.int32)
    total = cumulative[:, -1]
    position = q / 100 * np.maximum(total - 1, 0)
    low = np.floor(position)
    high = np.minimum(low + 1, np.maximum(total - 1, 0))
    # the j-th order statistic (0-based) sits at the first i with cumulative[i] > j
    i_low = np.argmax(cumulative > low[:, None], axis=1)
    i_high = np.argmax(cumulative > high[:, None], axis=1)
    a, b = ordered[i_low], ordered[i_high]
    out = a + (b - a) * (position - low)
    return np.where(total > 0, out, np.nan)


def _masked(counts: np.ndarray, den: np.ndarray) -> np.ndarray:
    """The counts with the questions that do not count (``den == 0``) zeroed."""
    return counts if (den > 0).all() else counts * (den > 0)


def _bounds(stats: np.ndarray, level: float) -> tuple[float, float] | None:
    stats = stats[~np.isnan(stats)]
    if not len(stats):
        return None
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(stats, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_intervals(columns: Mapping[str, Column], resamples: int = RESAMPLES,
                        seed: int = SEED, level: float = LEVEL,
                        digits: int = 4) -> dict[str, Interval | None]:
    """A percentile-bootstrap interval for each metric; every column has the same length.

    A toy run of four questions, three hits: the resampled hit rate is K/4 with
    K ~ Binomial(4, 3/4), P(K <= 0) = 1/256 < 2.5 % < P(K <= 1) = 13/256, and
    P(K <= 3) = 175/256 < 97.5 %, so the 95 % interval is [1/4, 4/4]:

    >>> bootstrap_intervals({"hit": Column.mean([1, 1, 0, 1])})["hit"]
    Interval(low=0.25, high=1.0, level=0.95, resamples=10000, seed=0)
    >>> bootstrap_intervals({"none": Column.mean([None, None])})["none"] is None
    True
    """
    if not columns:
        return {}
    lengths = {len(column) for column in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    n = lengths.pop()
    if n == 0:
        return {key: None for key in columns}
    counts = counts_of(resample_indices(n, resamples, seed))
    out: dict[str, Interval | None] = {}
    ratio_keys = [key for key, column in columns.items() if column.percentile is None]
    stats: dict[str, np.ndarray] = {}
    if ratio_keys:
        matrix = _ratio_stats([columns[key] for key in ratio_keys], counts)
        stats.update({key: matrix[:, position] for position, key in enumerate(ratio_keys)})
    for key, column in columns.items():
        if column.percentile is not None:
            stats[key] = percentile_of_counts(column.num, _masked(counts, column.den),
                                              column.percentile)
    for key in columns:
        bounds = _bounds(stats[key], level)
        out[key] = None if bounds is None else Interval(
            round(bounds[0], digits), round(bounds[1], digits), level, resamples, seed)
    return out


def paired_differences(first: Mapping[str, Column], second: Mapping[str, Column],
                       resamples: int = RESAMPLES, seed: int = SEED, level: float = LEVEL,
                       digits: int = 4) -> dict[str, Difference]:
    """``second − first`` per metric both runs have, over the same questions in the same order.

    Two identical runs: difference 0, interval [0, 0], p = 1.

    >>> a = {"hit": Column.mean([1, 0, 1, 1, 0])}
    >>> d = paired_differences(a, a)["hit"]
    >>> d.diff, d.low, d.high, d.p
    (0.0, 0.0, 0.0, 1.0)

    A second run that gains on every one of 12 questions: the only swaps as extreme
    are none and all, 2 of 2^12, so p is about 2 / 4096:

    >>> d = paired_differences({"hit": Column.mean([0] * 12)}, {"hit": Column.mean([1] * 12)})
    >>> d["hit"].diff, d["hit"].low, d["hit"].high, d["hit"].p < 0.002
    (1.0, 1.0, 1.0, True)
    """
    keys = [key for key in first if key in second]
    lengths = {len(first[key]) for key in keys} | {len(second[key]) for key in keys}
    if len(lengths) > 1:
        raise ValueError(f"runs over different numbers of questions: {sorted(lengths)}")
    if not keys:
        return {}
    n = lengths.pop()
    out: dict[str, Difference] = {}
    if n == 0:
        return {key: Difference(None, None, None, None, None, None, 0) for key in keys}
    counts = counts_of(resample_indices(n, resamples, seed))
    swaps = np.random.default_rng([seed, 1]).random((resamples, n)) < 0.5
    ratio_keys = [key for key in keys if first[key].percentile is None]
    boot: dict[str, np.ndarray] = {}
    null: dict[str, np.ndarray] = {}
    if ratio_keys:
        a_cols = [first[key] for key in ratio_keys]
        b_cols = [second[key] for key in ratio_keys]
        diff = _ratio_stats(b_cols, counts) - _ratio_stats(a_cols, counts)
        a_num = np.stack([c.num for c in a_cols], axis=1)
        a_den = np.stack([c.den for c in a_cols], axis=1)
        b_num = np.stack([c.num for c in b_cols], axis=1)
        b_den = np.stack([c.den for c in b_cols], axis=1)
        # a swapped question moves its (num, den) from one run to the other
        s = swaps.astype(float)
        keep = 1.0 - s
        with np.errstate(invalid="ignore", divide="ignore"):
            a_top, a_bottom = keep @ a_num + s @ b_num, keep @ a_den + s @ b_den
            b_top, b_bottom = keep @ b_num + s @ a_num, keep @ b_den + s @ a_den
            perm = (np.where(b_bottom > 0, b_top / np.where(b_bottom > 0, b_bottom, 1), np.nan)
                    - np.where(a_bottom > 0, a_top / np.where(a_bottom > 0, a_bottom, 1),
                               np.nan))
        for position, key in enumerate(ratio_keys):
            boot[key], null[key] = diff[:, position], perm[:, position]
    for key in keys:
        a, b = first[key], second[key]
        if a.percentile is None:
            continue
        q = a.percentile
        boot[key] = (percentile_of_counts(b.num, _masked(counts, b.den), q)
                     - percentile_of_counts(a.num, _masked(counts, a.den), q))
        # a swap draws a question's value from the other run: one pool of both runs' values
        pool = np.concatenate([a.num, b.num])
        den = np.concatenate([a.den, b.den])
        taken = swaps.astype(np.int32)
        left = 1 - taken
        null[key] = (
            percentile_of_counts(pool, _masked(np.concatenate([taken, left], axis=1), den), q)
            - percentile_of_counts(pool, _masked(np.concatenate([left, taken], axis=1), den),
                                   q))
    for key in keys:
        a, b = first[key], second[key]
        value_a, value_b = point(a, 12), point(b, 12)
        counted = int(((a.den > 0) | (b.den > 0)).sum())
        if value_a is None or value_b is None:
            out[key] = Difference(_round(value_a, digits), _round(value_b, digits), None, None,
                                  None, None, counted)
            continue
        observed = value_b - value_a
        bounds = _bounds(boot[key], level)
        spread = null[key][~np.isnan(null[key])]
        extreme = int((np.abs(spread) >= abs(observed) - 1e-12).sum())
        p = (extreme + 1) / (len(spread) + 1)
        out[key] = Difference(
            round(value_a, digits), round(value_b, digits), round(observed, digits),
            None if bounds is None else round(bounds[0], digits),
            None if bounds is None else round(bounds[1], digits), round(p, 4), counted)
    return out


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
