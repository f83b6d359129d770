"""Answer or not: one logistic model over six measurements of the best passages.

The offline answerer used to decide in two steps: a refusal check (is the topic there?)
and then a detail check (does a cited sentence about the subject hold what was asked?).
Each step had its own hand-set bar, and a citizen's question failed one or the other for
reasons a reader would not accept: an everyday word the documents never use (超标 for
超出标准) lowered the detail check's share, and an unrelated number passed it. Here the
measurements both steps look at, and one they did not (how close the best sentence of the
top passage is to the question), are weighed together by a logistic model:

- ``coverage`` and ``prominence``: the refusal check's (``rag.answer.offline.Basis``);
- ``sentence``: the largest cosine between the question and a sentence of the top
  passage (``rag.search.rerank.SentenceReranker``, which scores the sentences anyway);
- ``asks_detail``: whether the question asks for a detail (an amount, an age, a deadline,
  a department, a penalty: ``rag.search.ask.Ask.need``);
- ``detail_share``: for such a question, the largest share of the subject's IDF weight
  held by a sentence of the top passages that holds the asked kind of thing (0 when no
  sentence holds it; ``rag.answer.offline.detail_share``);
- ``unknown_share``: the share of the question's topic terms that no passage holds.

A question is answered when the model's probability is at least ``ANSWER_THRESHOLD``
and, when it asks for a detail, some top sentence on its subject holds one: a reply never
claims an amount it cannot quote.

The weights were fitted by ``ragqa eval --calibrate`` (``eval.calibrate.fit_decision``)
on the fitting sets only; the frozen set (eval/holdout.jsonl) was not used.

Left out: per-type models, and interactions beyond ``asks_detail * detail_share``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class DecisionFeatures:
    """What the answer-or-not decision measures, for one question and its top passages."""

    coverage: float  # share of the topic terms found in the top passages (0..1)
    prominence: float  # best dense cosine of the top passages minus the dense top 50's mean
    sentence: float  # best cosine between the question and a sentence of the top passage
    asks_detail: bool  # the question asks for an amount, an age, a department …
    detail_share: float  # see the module docstring; 0 when no detail is asked
    unknown_share: float  # share of the topic terms that occur in no passage

    def vector(self) -> tuple[float, ...]:
        """The model's inputs, in ``FEATURES`` order (the detail share counts only when a
        detail is asked).

        >>> DecisionFeatures(0.5, 0.02, 0.8, True, 0.4, 0.0).vector()
        (0.5, 0.02, 0.8, 1.0, 0.4, 0.0)
        >>> DecisionFeatures(0.5, 0.02, 0.8, False, 0.9, 0.0).vector()[4]
        0.0
        """
        f = self
        return (f.coverage, f.prominence, f.sentence, float(f.asks_detail),
                f.detail_share if f.asks_detail else 0.0, f.unknown_share)


FEATURES = tuple(field.name for field in fields(DecisionFeatures))


@dataclass(frozen=True)
class DecisionModel:
    """A logistic model over standardised inputs: ``p = 1 / (1 + exp(-z))`` with
    ``z = bias + sum(weight * (x - mean) / scale)``."""

    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, features: DecisionFeatures) -> float:
        """
        >>> m = DecisionModel((0.0,) * 6, (1.0,) * 6, (1.0, 0, 0, 0, 0, 0), 0.0)
        >>> round(m.probability(DecisionFeatures(2.0, 0, 0, False, 0, 0)), 3)
        0.881
        """
        z = self.bias + sum(w * (x - m) / s for x, m, s, w in zip(
            features.vector(), self.means, self.scales, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


# Fitted by ``ragqa eval --gold eval/gold.jsonl,eval/dev_detail.jsonl,eval/dev.jsonl
# --calibrate`` on the 447 items of the fitting sets that are not clause lookups. Five-fold
# out of fold: 16 answerable items not answered and 23 unanswerable ones answered, against
# 19 and 32 for the two checks (whose bars were fitted on these same items).
MODEL = DecisionModel(
    means=(0.769126, 0.026348, 0.918894, 0.744966, 0.499942, 0.068832),
    scales=(0.202325, 0.016004, 0.022265, 0.43588, 0.400414, 0.123072),
    weights=(-0.068388, 0.376377, 1.26013, -1.459477, 1.709996, -0.803521),
    bias=2.055504,
)
ANSWER_THRESHOLD = 0.5


def answers(features: DecisionFeatures, model: DecisionModel = MODEL,
            threshold: float = ANSWER_THRESHOLD) -> bool:
    """Whether to answer: the model's probability at least ``threshold``, and for a
    question that asks a detail, a top sentence on its subject that holds one.

    >>> m = DecisionModel((0.0,) * 6, (1.0,) * 6, (0, 0, 4.0, 0, 0, 0), -2.0)
    >>> answers(DecisionFeatures(0.9, 0.02, 0.9, False, 0.0, 0.0), m)
    True
    >>> answers(DecisionFeatures(0.9, 0.02, 0.9, True, 0.0, 0.0), m)  # no amount to quote
    False
    >>> answers(DecisionFeatures(0.9, 0.02, 0.2, False, 0.0, 0.0), m)  # not close enough
    False
    """
    if features.asks_detail and features.detail_share <= 0.0:
        return False
    return model.probability(features) >= threshold
