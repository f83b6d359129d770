"""Rank fusion and ordering, as pure functions.

Left out: score-based fusion (CombSUM and friends) and learned weights.
"""

from __future__ import annotations

import numpy as np

RRF_K = 60


def rrf(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Reciprocal rank fusion: score(d) = sum over lists of 1 / (k + rank of d).

    >>> fused = rrf([[7, 3, 5], [3, 9]], k=60)
    >>> sorted(fused, key=lambda d: (-fused[d], d))
    [3, 7, 9, 5]
    >>> round(fused[3], 5)  # 1/(60+2) + 1/(60+1)
    0.03252
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            scores[row] = scores.get(row, 0.0) + 1.0 / (k + rank)
    return scores


def top_rows(scores: dict[int, float], k: int, id_rank: np.ndarray) -> list[int]:
    """Rows by score, ties broken by passage id (``id_rank``: each row's place in id order).

    >>> top_rows({4: 0.5, 2: 0.5, 7: 0.9}, 2, np.array([0, 0, 3, 0, 1, 0, 0, 2]))
    [7, 4]
    """
    return sorted(scores, key=lambda r: (-scores[r], id_rank[r]))[:k]
