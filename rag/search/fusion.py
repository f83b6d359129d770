"""Rank fusion and ordering, as pure functions.

``rrf_partial`` fuses over a partial index (passages added but not embedded yet): a
passage without a vector cannot have a dense rank, so it is taken to rank by meaning
where it ranks by keyword, and its lexical term counts twice. It then ranks as a
passage both lists agree on would, neither hidden behind passages that merely have
two ranks nor lifted above ones whose two ranks are better.

Left out: score-based fusion (CombSUM and friends) and learned weights.
"""

from __future__ import annotations

from collections.abc import Container

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


def rrf_partial(dense: list[int], lexical: list[int], unembedded: Container[int],
                k: int = RRF_K) -> dict[int, float]:
    """``rrf`` of a dense and a lexical ranking where the rows in ``unembedded`` have no
    vector (and so are in no dense ranking): each such row's lexical rank stands in for
    its dense rank.

    >>> fused = rrf_partial([1, 2, 3], [9, 1, 2], unembedded={9})
    >>> sorted(fused, key=lambda d: (-fused[d], d))  # 9: 2/61; 1: 1/61 + 1/62
    [9, 1, 2, 3]
    >>> plain = rrf([[1, 2, 3], [9, 1, 2]])  # without the stand-in, 9 falls behind 1 and 2
    >>> sorted(plain, key=lambda d: (-plain[d], d))
    [1, 2, 9, 3]
    >>> rrf_partial([1, 2], [2, 1], unembedded=set()) == rrf([[1, 2], [2, 1]])
    True
    """
    scores = rrf([dense, lexical], k)
    for rank, row in enumerate(lexical, start=1):
        if row in unembedded:
            scores[row] += 1.0 / (k + rank)
    return scores


def top_rows(scores: dict[int, float], k: int, id_rank: np.ndarray) -> list[int]:
    """Rows by score, ties broken by passage id (``id_rank``: each row's place in id order).

    >>> top_rows({4: 0.5, 2: 0.5, 7: 0.9}, 2, np.array([0, 0, 3, 0, 1, 0, 0, 2]))
    [7, 4]
    """
    return sorted(scores, key=lambda r: (-scores[r], id_rank[r]))[:k]
