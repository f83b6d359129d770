"""The offline answerer: verbatim sentences of the retrieved articles, every one cited.

No language model is involved. The answer leads with its basis
(根据《山西省未成年人保护条例》第五十条，…), then gives the sentences or items of the
cited passages that answer the question, verbatim, each followed by its marker [n].
A clause reference gets the whole article. When retrieval gives no adequate basis,
the answer says so, cites nothing and lists the closest passages as possibly related.

Adequacy (``Basis.adequacy``) combines four measurements of the best passages:
``support``, the IDF-weighted share of the question's terms they contain; the dense
``similarity`` of the question to them; the share of the question's terms that
occur nowhere in the corpus; and ``agreement``, how many passages the dense and the
lexical retriever both put in their top five. Unanswerable questions are about things
the gazettes never mention, so the two retrievers grasp at different straws; plainly
worded answerable ones use lay words too, but both retrievers find their article. The weights and threshold are calibrated on the gold set
(``ragqa eval --calibrate``; README, Evaluation).

Left out: paraphrase and synthesis (that is the language-model answerer's job).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.search.query import Query
from rag.text import tokenize
from rag.types import Answer, Citation, Hit, Passage

REFUSAL_THRESHOLD = 0.32  # adequacy below this refuses; calibrated on eval/gold.jsonl
SIMILARITY_WEIGHT = 10.0  # per unit of cosine above 0.9 (e5 cosines sit in 0.8-1.0)
UNKNOWN_WEIGHT = 1.0  # per share of question terms found nowhere in the corpus
AGREEMENT_WEIGHT = 0.3  # for dense and lexical top fives sharing 3 or more passages
MAX_CITATIONS = 3
WHOLE_PASSAGE_CHARS = 260  # a passage this short is quoted whole
_SENTENCE_END = re.compile(r"(?<=[。；！？!?;])|\n")


def split_sentences(text: str) -> list[str]:
    """Sentences and items of a passage, verbatim, in order.

    >>> split_sentences("第三条　应当符合下列要求：\\n（一）给予特殊保护；\\n（二）尊重人格。")
    ['第三条\\u3000应当符合下列要求：', '（一）给予特殊保护；', '（二）尊重人格。']
    """
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


class SupportModel:
    """IDF of the corpus's terms, to weigh how well a passage covers a question."""

    def __init__(self, document_frequency: dict[str, int], n_passages: int):
        self.df = document_frequency
        self.n = max(1, n_passages)

    @classmethod
    def from_lexical(cls, lexical, passages: Sequence[Passage]) -> SupportModel:
        """From the BM25 index's own counts when it holds words (fast), else a pass."""
        if lexical.method in ("jieba", "mixed"):
            return cls(lexical.document_frequencies(), len(passages))
        return cls.from_passages(passages)

    @classmethod
    def from_passages(cls, passages: Sequence[Passage]) -> SupportModel:
        df: dict[str, int] = {}
        for p in passages:
            for token in set(tokenize(p.doc_title + p.text)):
                df[token] = df.get(token, 0) + 1
        return cls(df, len(passages))

    def idf(self, token: str) -> float:
        return math.log((self.n + 1) / (self.df.get(token, 0) + 0.5))

    def unknown_share(self, terms: Sequence[str]) -> float:
        """Share of a question's terms that occur in no passage."""
        tokens = set(terms)
        return sum(t not in self.df for t in tokens) / len(tokens) if tokens else 1.0

    def support(self, terms: Sequence[str], texts: list[str]) -> float:
        """IDF-weighted share of a question's terms found in the texts (0..1)."""
        tokens = sorted(set(terms))
        if not tokens:
            return 0.0
        joined = "".join(texts).lower()
        total = sum(self.idf(t) for t in tokens)
        found = sum(self.idf(t) for t in tokens if t in joined)
        return found / total if total else 0.0


@dataclass(frozen=True)
class Basis:
    """What the refusal decision looks at, for the top passages of one question."""

    support: float  # best IDF-weighted term coverage (0..1)
    similarity: float  # best dense cosine between question and passage
    unknown_share: float  # share of question terms that occur nowhere in the corpus
    agreement: float  # passages in both the dense and the lexical top 5, over 3, capped at 1

    @property
    def adequacy(self) -> float:
        """One number: refuse below REFUSAL_THRESHOLD.

        >>> round(Basis(0.5, 0.92, 0.25, 2 / 3).adequacy, 3)  # 0.5 + 0.2 - 0.25 + 0.2
        0.65
        """
        return (self.support + SIMILARITY_WEIGHT * (self.similarity - 0.9)
                - UNKNOWN_WEIGHT * self.unknown_share + AGREEMENT_WEIGHT * self.agreement)


BASIS_DEPTH = 3  # the refusal check looks at this many top hits


def measure_basis(query: Query, hits: Sequence[Hit], support: SupportModel,
                  similarities: list[float], shared_top5: int, depth: int = BASIS_DEPTH) -> Basis:
    """The Basis of the top ``depth`` hits; ``similarities`` are their dense cosines."""
    covered = [support.support(query.terms, [h.passage.doc_title + h.passage.text])
               for h in hits[:depth]]
    return Basis(max(covered, default=0.0), max(similarities[:depth], default=0.0),
                 support.unknown_share(query.terms), min(shared_top5, 3) / 3)


class OfflineAnswerer:
    """The extractive answerer: decides refusals and quotes verbatim (``answer_offline``)."""

    name = "extractive"

    def __init__(self, support: SupportModel, threshold: float = REFUSAL_THRESHOLD):
        self.support = support
        self.threshold = threshold

    def answer(self, query: Query, hits: Sequence[Hit], basis: Basis | None) -> Answer:
        return answer_offline(query, list(hits), basis, self.support, self.threshold)


def answer_offline(query: Query, hits: list[Hit], basis: Basis | None, support: SupportModel,
                   threshold: float = REFUSAL_THRESHOLD) -> Answer:
    """The cited answer; ``basis`` None means the hits came from a clause lookup. The
    query's search text (the question with legal terms added) picks what to quote."""
    question = query.question
    if not hits:
        return refusal(question, hits)
    clause = [h for h in hits if h.source == "clause"]
    if clause:
        return _clause_answer(question, hits, clause)
    if basis is None or basis.adequacy < threshold:
        return refusal(question, hits)
    return _extractive_answer(question, hits, support, query.terms)


def refusal(question: str, hits: list[Hit]) -> Answer:
    topic = question.strip().rstrip("？?。.！!")[:40]
    text = f"现有文件中未找到关于“{topic}”的规定或说明，无法给出有依据的回答。"
    if hits:
        text += "以下内容可能相关，仅供参考："
    return Answer(question, text, True, (), tuple(hits), related=tuple(hits[:3]))


def _clause_answer(question: str, hits: list[Hit], clause: list[Hit]) -> Answer:
    groups: dict[str, list[Hit]] = {}
    for h in clause:
        groups.setdefault(h.passage.doc_id, []).append(h)
    citations, parts = [], []
    for n, group in enumerate(groups.values(), start=1):
        first = group[0].passage
        whole = "\n".join(h.passage.text for h in group)
        citations.append(_citation(n, first, whole))
        parts.append(f"{first.citation_label}规定：\n{whole}[{n}]")
    if len(groups) > 1:
        label = clause[0].passage.article
        head = f"多部文件都有{label}，请问您指的是哪一部？按相关程度排列如下：\n\n"
        text = head + "\n\n".join(parts)
    else:
        text = "根据" + parts[0]
    return Answer(question, text, False, tuple(citations), tuple(hits))


def _extractive_answer(question: str, hits: list[Hit], support: SupportModel,
                       terms: Sequence[str]) -> Answer:
    top_support = None
    citations: list[Citation] = []
    parts: list[str] = []
    tokens = set(terms)
    for hit in hits[:MAX_CITATIONS]:
        p = hit.passage
        s = support.support(terms, [p.doc_title + p.text])
        if top_support is None:
            top_support = s
        elif s < 0.6 * top_support:
            break
        quote = _best_sentences(p.text, tokens, support)
        if p.article and quote.startswith(p.article):  # the lead already names the article
            quote = quote[len(p.article) :].lstrip(" 　") or quote
        n = len(citations) + 1
        citations.append(_citation(n, p, quote))
        lead = "根据" if n == 1 else "另据"
        parts.append(f"{lead}{p.citation_label}：{quote}[{n}]")
    return Answer(question, "\n".join(parts), False, tuple(citations), tuple(hits))


def _best_sentences(text: str, tokens: set[str], support: SupportModel) -> str:
    """The passage whole when short, else its best-covering sentences in order."""
    if len(text) <= WHOLE_PASSAGE_CHARS:
        return text
    sentences = split_sentences(text)
    scored = []
    for i, s in enumerate(sentences):
        low = s.lower()
        scored.append((sum(support.idf(t) for t in tokens if t in low), i))
    keep = sorted(i for _, i in sorted(scored, key=lambda x: (-x[0], x[1]))[:3])
    if 0 not in keep and sentences[0].endswith(("：", ":")):
        keep = [0] + keep  # an item needs the sentence that introduces it
    out = sentences[keep[0]]
    for previous, i in zip(keep, keep[1:], strict=False):
        out += ("" if i == previous + 1 else "……") + sentences[i]
    return out


def _citation(n: int, p: Passage, quote: str) -> Citation:
    return Citation(n, p.id, p.doc_title, p.article, p.section, p.source_file, p.page, quote)
