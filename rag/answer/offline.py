"""The offline answerer: a direct answer built from the cited words, three outcomes.

No language model is involved. A reply is one of three (``Answer.outcome``):

- ``answered``: the question's ask (``rag.search.ask``: yes/no, a number with its
  unit, who, where, how, a penalty) is held by the cited words. The reply leads with a
  direct answer built only from them (不能。 from 不得/禁止, 可以。 from 可以/有权, then
  the clause with the modal word, number, department or penalty, verbatim, with its
  condition), then quotes the sentences it rests on, each cited [n].
- ``detail_absent``: retrieval found the topic but the cited passages do not hold what
  was asked (no amount in an article asked 罚多少钱, no age for 几岁 …). The reply says
  what the documents do say, cites it, and says plainly which detail they do not give.
- ``refused``: nothing on the topic. The reply cites nothing, names the question's
  terms that occur nowhere in the documents, and lists the closest passages as
  possibly related.

A clause reference gets the whole article (``answered``).

The topic decision (refuse or not) rests on two measurements of the best passages
(``Basis``), each normalised within the question so that it carries over to another
corpus: ``coverage``, the share of the question's topic terms (question words such as
多少 or 能不能 left out, everyday words replaced by the glossary's documents' words)
found in the top passages; ``prominence``, how far the best passage's dense cosine
stands above the mean of the question's dense top 50. A question is refused only when
its terms are mostly absent from the top passages AND no passage stands out; a question
whose topic is found but whose detail is not gets ``detail_absent``. The two bars were
fitted by five-fold cross-validation on the fitting sets only (``ragqa eval
--calibrate``).

When the sentence reranker has measured the top passage (``Basis.sentence``), whether to
answer is decided by one fitted model instead (``rag.answer.decide``), over these two
measurements, the best sentence's cosine, and the detail check's share
(``detail_share``); the bars then only tell ``detail_absent`` (topic found) from
``refused``. Without that measure (a keyword-only index, ``RAGQA_RERANKER=none`` or a
cross-encoder) the bars and the detail check decide as described above.

Left out: paraphrase and synthesis (the language-model answerer's job), questions
that ask several things at once (the first ask found is answered).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.decide import DecisionFeatures, answers
from rag.search.ask import Ask, answer_clause, detail_name, holds_detail, read_ask, yes_no
from rag.search.glossary import covered_words
from rag.search.query import Query
from rag.text import split_sentences, tokenize
from rag.types import Answer, Citation, Hit, Passage

# The refusal rule: refuse only when the question's topic terms are mostly absent from the
# top passages (coverage below REFUSAL_COVERAGE) AND no passage stands out in dense
# similarity (prominence below REFUSAL_PROMINENCE). Both bars were fitted on the fitting
# sets eval/gold.jsonl, eval/dev_detail.jsonl and eval/dev.jsonl only (481 items;
# eval.calibrate.fit_refusal, ``ragqa eval --calibrate``): the pair that refuses most
# off-topic questions while refusing at most 0.04 of the answerable ones; five-fold
# cross-validated: refusal accuracy 0.71 at false refusals 0.038. Refitted over the hits
# as the sentence reranker orders them (coverage 0.775 before).
REFUSAL_COVERAGE = 0.725
REFUSAL_PROMINENCE = 0.014
REFUSAL_THRESHOLD = 0.0  # refuse below this adequacy (``Basis.adequacy``)
# Without a dense ranking (a keyword-only index while the vectors are built) coverage alone
# decides, with its own bar: the highest that refuses at most 0.04 of the answerable
# questions of the three fitting sets over BM25's top passages (0.015; it refuses 0.14 of
# the off-topic ones there: keyword-only answers seldom refuse).
KEYWORD_COVERAGE = 0.4
BACKGROUND_DEPTH = 50  # prominence: the best cosine against the mean of the dense top 50
# A question the refusal check would refuse that asks for a detail (an amount, an age, a
# deadline, a department) is answered "detail absent" instead when one of the top
# ANCHOR_DEPTH passages holds a phrase of it verbatim (ANCHOR_CHARS or more, a word in at
# most ANCHOR_RARE of the passages among its words): set by reading, not fitted; its
# effect on the fitting sets' outcomes is in the README.
ANCHOR_DEPTH = 5
ANCHOR_CHARS = 4
ANCHOR_RARE = 0.01
MAX_CITATIONS = 3
WHOLE_PASSAGE_CHARS = 260  # a passage this short is quoted whole
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
    """What the refusal decision looks at, for the top passages of one question. Both
    fields are a share or a difference within the question, so that they mean the same
    over another corpus: neither counts how often a word occurs in this one."""

    coverage: float  # share of the topic terms found in the top passages (0..1)
    # best dense cosine of the top passages minus the mean of the dense top 50; None
    # without a dense ranking (a keyword-only index)
    prominence: float | None
    # the largest cosine between the question and a sentence of the top passage, when the
    # sentence reranker measured it (``Hit.sentence``); None otherwise
    sentence: float | None = None

    def features(self) -> tuple[float, float]:
        """The measurements (coverage, prominence; 0 for a missing prominence)."""
        return (self.coverage, self.prominence or 0.0)

    @property
    def adequacy(self) -> float:
        """How far the better of the two measurements clears its bar, as a share of the
        bar: below REFUSAL_THRESHOLD (0) neither does, and the question is refused.

        >>> Basis(0.9, 0.005).adequacy > REFUSAL_THRESHOLD  # its terms are found
        True
        >>> Basis(0.4, 0.03).adequacy > REFUSAL_THRESHOLD  # one passage stands out
        True
        >>> Basis(0.4, 0.005).adequacy > REFUSAL_THRESHOLD  # neither: off topic
        False
        >>> Basis(0.5, None).adequacy > REFUSAL_THRESHOLD  # keyword-only: coverage decides
        True
        """
        if self.prominence is None:
            return self.coverage / KEYWORD_COVERAGE - 1.0
        return adequacy(self, REFUSAL_COVERAGE, REFUSAL_PROMINENCE)


def adequacy(basis: Basis, coverage_bar: float, prominence_bar: float) -> float:
    """``max(coverage / coverage_bar, prominence / prominence_bar) - 1``.

    >>> round(adequacy(Basis(0.5, 0.02), 0.8, 0.01), 3)
    1.0
    """
    return max(basis.coverage / coverage_bar, (basis.prominence or 0.0) / prominence_bar) - 1.0


BASIS_DEPTH = 3  # the refusal check looks at this many top hits


_QUESTION_WORD = re.compile(r"几|多少|多久|多长|多大|有没有|最多|最少|能不能|可不可以|怎么|怎样|如何|"
                            r"哪|谁|什么|是不是|会不会|要不要|吗|呢|^能|^可|^会|^要")


def topic_terms(terms: Sequence[str]) -> list[str]:
    """A question's terms without its question words (多少, 能不能, 哪个 …), in order.

    >>> topic_terms(["小孩", "几岁", "副驾驶", "能不能"])
    ['小孩', '副驾驶']
    """
    kept = [t for t in terms if not _QUESTION_WORD.search(t)]
    return kept or list(terms)


def documents_terms(query: Query) -> list[str]:
    """The topic terms a passage can be expected to hold: the everyday words that the
    glossary maps (whose documents' words the search text carries) left out."""
    lay = covered_words(query.question)
    return [t for t in topic_terms(query.terms) if not any(t in word for word in lay)]


def unknown_terms(query: Query, support: SupportModel) -> list[str]:
    """Topic terms that occur in no passage, everyday words the glossary maps left out."""
    return sorted({t for t in documents_terms(query) if t not in support.df})


def coverage(terms: Sequence[str], texts: Sequence[str]) -> float:
    """Share of the terms (distinct, punctuation left out) that the joined texts hold.

    >>> coverage(["网吧", "未成年人", "比特币", "？"], ["禁止未成年人进入网吧"])
    0.6666666666666666
    """
    words = {t for t in terms if any(ch.isalnum() for ch in t)}
    if not words:
        return 0.0
    joined = "".join(texts).lower()
    return sum(t.lower() in joined for t in words) / len(words)


def measure_basis(query: Query, hits: Sequence[Hit], similarities: Sequence[float],
                  background: float | None, depth: int = BASIS_DEPTH) -> Basis:
    """The Basis of the top ``depth`` hits: ``similarities`` are their dense cosines,
    ``background`` the mean cosine of the question's dense top BACKGROUND_DEPTH (None
    without a dense ranking: no prominence); the sentence cosine is the top hit's
    (``Hit.sentence``)."""
    topic = documents_terms(query) or topic_terms(query.terms)
    texts = [f"{h.passage.doc_title}{h.passage.section or ''}{h.passage.text}"
             for h in hits[:depth]]
    if background is None:
        return Basis(coverage(topic, texts), None)
    best = max(similarities[:depth], default=background)
    return Basis(coverage(topic, texts), best - background, hits[0].sentence if hits else None)


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
        return refusal(question, hits, unknown_terms(query, support))
    clause = [h for h in hits if h.source == "clause"]
    if clause:
        return _clause_answer(question, hits, clause)
    ask = read_ask(question)

    def anchored() -> Passage | None:
        """A question asking a detail, of a topic one of the top passages names verbatim:
        that passage (looked for only when a reply would otherwise not answer)."""
        return _anchored(query, hits, support) if ask.need is not None else None

    subject = subject_terms(query) or list(query.terms)
    cited = _cited(hits, support, query.terms)
    features = decision_features(query, hits, basis, support, ask, subject)
    if features is not None:  # the learned decision (rag.answer.decide)
        answered = answers(features)
    else:  # no sentence measure: the two checks
        answered = basis is not None and basis.adequacy >= threshold \
            and any(holds_answer(ask, p, subject, support) for p in cited)
    if answered:
        return _extractive_answer(question, hits, cited, support, query.terms, ask)
    return _not_answered(query, hits, cited, basis, support, threshold, ask, anchored)


def _not_answered(query: Query, hits: list[Hit], cited: list[Passage], basis: Basis | None,
                  support: SupportModel, threshold: float, ask: Ask,
                  anchored: Callable[[], Passage | None]) -> Answer:
    """Detail absent when the topic is found (its bars cleared) or a top passage names the
    question's phrase verbatim (``anchored()``), citing that passage first; else refused."""
    on_topic = basis is not None and basis.adequacy >= threshold
    phrase = anchored()
    if phrase is not None or on_topic:
        return _detail_absent(query.question, hits, [phrase] if phrase is not None else cited,
                              support, query.terms, ask)
    return refusal(query.question, hits, unknown_terms(query, support))


def decision_features(query: Query, hits: Sequence[Hit], basis: Basis | None,
                      support: SupportModel, ask: Ask | None = None,
                      subject: Sequence[str] | None = None) -> DecisionFeatures | None:
    """What ``rag.answer.decide`` weighs, over the top BASIS_DEPTH hits; None when a
    measurement is missing (a clause lookup, a keyword-only index, no sentence reranker):
    the two checks then decide."""
    if basis is None or basis.prominence is None or basis.sentence is None or not hits:
        return None
    ask = ask or read_ask(query.question)
    subject = (subject_terms(query) or list(query.terms)) if subject is None else subject
    share = max(detail_share(ask, h.passage, subject, support) for h in hits[:BASIS_DEPTH]) \
        if ask.need is not None else 0.0
    return DecisionFeatures(basis.prominence, basis.sentence, ask.need is not None, share)


def anchor_phrase(question: str, terms: Sequence[str], texts: Sequence[str],
                  rare: Callable[[str], bool]) -> str:
    """The longest phrase of the question that one of ``texts`` holds verbatim: two or
    more of its ``terms`` side by side in the question, ANCHOR_CHARS characters or more,
    one of them ``rare``; "" if there is none. A question the refusal check finds weak
    but whose specific phrase (儿童安全座椅) an article holds is on that article's topic.

    >>> anchor_phrase("儿童安全座椅政府给补贴多少钱？", ["儿童", "安全", "座椅", "政府", "补贴"],
    ...               ["应当配备并正确使用儿童安全座椅"], lambda t: t == "座椅")
    '儿童安全座椅'
    >>> anchor_phrase("政府工作人员能炒股吗？", ["政府", "工作", "人员", "炒股"],
    ...               ["政府工作人员应当依法履职"], lambda t: t == "炒股")
    ''
    """
    placed: list[tuple[int, int, str]] = []  # (start, end, term) in question order
    at = 0
    for term in terms:
        start = question.find(term, at)
        if start >= 0:
            placed.append((start, start + len(term), term))
            at = start + len(term)
    best = ""
    for i in range(len(placed)):
        for j in range(i + 1, len(placed)):
            if placed[j][0] != placed[j - 1][1]:
                break  # not side by side
            phrase = question[placed[i][0]:placed[j][1]]
            if len(phrase) > len(best) and len(phrase) >= ANCHOR_CHARS \
                    and any(rare(t) for _, _, t in placed[i:j + 1]) \
                    and any(phrase in text for text in texts):
                best = phrase
    return best


def _anchored(query: Query, hits: Sequence[Hit], support: SupportModel) -> Passage | None:
    """The best-ranked of the top ANCHOR_DEPTH hits that holds the question's anchor
    phrase (``anchor_phrase``), or None."""
    top = [h.passage for h in hits[:ANCHOR_DEPTH]]
    rare_df = ANCHOR_RARE * support.n

    def rare(term: str) -> bool:
        return 0 < support.df.get(term, 0) <= rare_df

    phrase = anchor_phrase(query.question, topic_terms(query.terms), [p.text for p in top],
                           rare)
    return next((p for p in top if phrase and phrase in p.text), None)


def refusal(question: str, hits: list[Hit], missing: Sequence[str] = ()) -> Answer:
    """Nothing on the topic: no citation; the terms the documents lack, when known.

    >>> refusal("比特币怎么挖？", [], ["比特币"]).text
    '现有文件中未找到关于“比特币怎么挖”的规定或说明（文件中没有出现：比特币），无法给出有依据的回答。'
    """
    topic = question.strip().rstrip("？?。.！!")[:40]
    absent = f"（文件中没有出现：{'、'.join(missing[:5])}）" if missing else ""
    text = f"现有文件中未找到关于“{topic}”的规定或说明{absent}，无法给出有依据的回答。"
    if hits:
        text += "以下内容可能相关，仅供参考："
    return Answer(question, text, True, (), tuple(hits), related=tuple(hits[:3]),
                  outcome="refused")


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


def _extractive_answer(question: str, hits: list[Hit], cited: list[Passage],
                       support: SupportModel, terms: Sequence[str], ask: Ask) -> Answer:
    """The answer from the cited passages: a direct lead, then their best sentences."""
    citations: list[Citation] = []
    parts: list[str] = []
    lead = ""
    tokens = set(terms)
    for p in cited:
        quote, best = _best_sentences(p.text, tokens, support, ask)
        if p.article and quote.startswith(p.article):  # the lead already names the article
            quote = quote[len(p.article) :].lstrip(" 　") or quote
        n = len(citations) + 1
        citations.append(_citation(n, p, quote))
        if not lead:
            lead = direct_answer(ask, best)
        parts.append(f"{'根据' if n == 1 else '另据'}{p.citation_label}：{quote}[{n}]")
    text = "\n".join(([lead] if lead else []) + parts)
    return Answer(question, text, False, tuple(citations), tuple(hits), outcome="answered")


SUBJECT_SHARE = 0.3  # share of the subject's terms a sentence (with its heading) must hold
_ASK_WORD = re.compile(r"罚|处罚|多少|几|金额|钱|比例|期限|时间|部门|单位|谁")


def subject_terms(query: Query) -> list[str]:
    """What the question is about: its topic terms without the words of its ask (罚款,
    多少, 比例, 部门 …), so that a sentence about another act's fine does not count.

    >>> from rag.search.clause import ClauseRef
    >>> q = Query("烟摊卖烟罚多少？", "", ClauseRef(None, (), None), ("烟摊", "卖烟", "罚款", "没"), ())
    >>> subject_terms(q)
    ['烟摊', '卖烟']
    """
    topic = documents_terms(query) or topic_terms(query.terms)
    return [t for t in topic if not _ASK_WORD.search(t) and len(t) > 1] or topic


def holds_answer(ask: Ask, passage: Passage, subject: Sequence[str],
                 support: SupportModel) -> bool:
    """Whether a sentence of the passage that is about the question's subject (holding at
    least SUBJECT_SHARE of the subject terms' IDF weight, counting the document title,
    heading and lead-in it sits under) holds what the question asks for: a number
    elsewhere in an article does not answer 罚多少钱 about another act."""
    return ask.need is None or detail_share(ask, passage, subject, support) >= SUBJECT_SHARE


def detail_share(ask: Ask, passage: Passage, subject: Sequence[str],
                 support: SupportModel) -> float:
    """The largest share of the subject terms' IDF weight held by a sentence of the
    passage (with the document title, heading and lead-in it sits under) that holds what
    the question asks for; 0 when no sentence holds it, 1 for a department asked of a
    passage whose heading names one."""
    if ask.kind == "who" and holds_detail(ask, passage.section or ""):
        return 1.0
    terms = sorted(t for t in set(subject) if t in support.df)  # words no passage holds
    total = sum(support.idf(t) for t in terms)                     # cannot tell passages apart
    sentences = split_sentences(passage.text) or [passage.text]
    lead = lead_in(sentences)  # items inherit it
    intro = "".join(sentences[:lead])
    frame = f"{passage.doc_title}{passage.section or ''}{intro}".lower()
    best = 0.0
    for i, sentence in enumerate(sentences):
        if holds_detail(ask, _strip_label(sentence)) or (i >= lead > 0 and holds_detail(ask, intro)):
            context = frame + sentence.lower()
            share = sum(support.idf(t) for t in terms if t in context) / total if total else 1.0
            best = max(best, share)
    return best


def lead_in(sentences: Sequence[str]) -> int:
    """How many sentences open an article's list: up to the first that ends with a colon
    (the lead-in its items depend on, however many sentences it takes); 0 without one.

    >>> lead_in(["违反本条例规定的，责令限期改正；", "逾期不改正的，处二百元以上一千元以下罚款：",
    ...          "（一）未开具合格证；", "（二）未保存合格证。"])
    2
    >>> lead_in(["第三十条　超出标准的不得用于营运。"])
    0
    """
    return next((i + 1 for i, s in enumerate(sentences) if s.endswith(("：", ":"))), 0)


def _cited(hits: list[Hit], support: SupportModel, terms: Sequence[str]) -> list[Passage]:
    """The passages to cite: the top hit, and the next ones that cover the question
    at least 0.6 times as well (at most MAX_CITATIONS)."""
    cited: list[Passage] = []
    top_support = None
    for hit in hits[:MAX_CITATIONS]:
        s = support.support(terms, [hit.passage.doc_title + hit.passage.text])
        if top_support is None:
            top_support = s
        elif s < 0.6 * top_support:
            break
        cited.append(hit.passage)
    return cited


def _detail_absent(question: str, hits: list[Hit], cited: list[Passage], support: SupportModel,
                   terms: Sequence[str], ask: Ask) -> Answer:
    """On topic, detail not given: what the top passage says, cited, then what is missing."""
    p = cited[0]
    quote, _ = _best_sentences(p.text, set(terms), support, Ask("what"))
    if p.article and quote.startswith(p.article):
        quote = quote[len(p.article) :].lstrip(" 　") or quote
    missing = (f"但现有文件未写明所问的{detail_name(ask)}，无法给出有依据的{detail_name(ask)}。"
               if ask.need is not None else "但现有文件未直接回答所问的问题，无法给出有依据的回答。")
    text = f"现有文件涉及这一问题，{p.citation_label}规定：{quote}[1]\n{missing}"
    return Answer(question, text, True, (_citation(1, p, quote),), tuple(hits),
                  outcome="detail_absent")


def direct_answer(ask: Ask, sentence: str) -> str:
    """The plain answer that leads a reply, built only from the words of ``sentence``:
    the yes/no its modal word carries, then the clause that holds what was asked.
    Empty when the ask needs no lead (how, what) or the sentence does not hold it.

    >>> direct_answer(Ask("yesno"), "不得让未满十二周岁的未成年人乘坐副驾驶座位；")
    '不能。不得让未满十二周岁的未成年人乘坐副驾驶座位。'
    >>> direct_answer(Ask("number", "age"), "应当为未满四周岁的未成年人配备并正确使用儿童安全座椅；")
    '应当为未满四周岁的未成年人配备并正确使用儿童安全座椅。'
    >>> direct_answer(Ask("how"), "应当及时报告。")
    ''
    >>> direct_answer(read_ask("有没有规定网络游戏防沉迷？"), "不得向未成年人提供诱导沉迷的产品。")
    '不得向未成年人提供诱导沉迷的产品。'
    """
    clause = answer_clause(ask, _strip_label(sentence))
    if not clause:
        return ""
    if ask.kind == "yesno":
        word = yes_no(clause) if ask.polar else None
        return f"{word}。{clause}。" if word else f"{clause}。"
    return f"{clause}。"


_ITEM_LABEL = re.compile(r"^(?:-\s*)?(?:第[一二三四五六七八九十百零〇]+条(?:【[^】]*】)?[\s　]*)?"
                         r"(?:[（(][一二三四五六七八九十]+[）)]\s*|\d+[.、．]\s*)?")


def _strip_label(sentence: str) -> str:
    """A sentence without its article or item label.

    >>> _strip_label("第十一条　(二)携带未成年人乘车的，应当…")
    '携带未成年人乘车的，应当…'
    """
    return _ITEM_LABEL.sub("", sentence.strip(), count=1)


def _best_sentences(text: str, tokens: set[str], support: SupportModel,
                    ask: Ask) -> tuple[str, str]:
    """The quote (the passage whole when short, else its best sentences in order) and
    the one sentence that best answers the ask: covering the question's terms, and
    holding what it asks for (a number with its unit, a department, a modal word)."""
    sentences = split_sentences(text) or [text]
    scored = []
    for i, s in enumerate(sentences):
        low = s.lower()
        weight = sum(support.idf(t) for t in tokens if t in low)
        scored.append((weight * (2.0 if answers_ask(ask, s) else 1.0), i))
    order = sorted(scored, key=lambda x: (-x[0], x[1]))
    best = sentences[order[0][1]]
    if len(text) <= WHOLE_PASSAGE_CHARS:
        return text, best
    keep = sorted(i for _, i in order[:3])
    if 0 not in keep and sentences[0].endswith(("：", ":")):
        keep = [0] + keep  # an item needs the sentence that introduces it
    return _join_verbatim(text, sentences, keep), best


def answers_ask(ask: Ask, sentence: str) -> bool:
    """Whether a sentence holds what the question asks for; for a yes/no, a modal word
    that carries the yes or no (不得, 可以: ``yes_no``), not an obligation (应当) that binds
    someone else as often as not.

    >>> answers_ask(read_ask("能卖烟给中学生吗？"), "禁止向未成年人销售烟、酒。")
    True
    >>> answers_ask(read_ask("能卖烟给中学生吗？"), "经营者应当设置不向未成年人销售标志。")
    False
    >>> answers_ask(read_ask("罚多少钱？"), "处二百元以上一千元以下罚款。")
    True
    """
    if ask.need is None:
        return False
    if ask.kind == "yesno" and ask.polar:
        return yes_no(_strip_label(sentence)) is not None
    return holds_detail(ask, sentence)


def _join_verbatim(text: str, sentences: Sequence[str], keep: Sequence[int]) -> str:
    r"""The kept sentences (indices in order) as the passage prints them: a run of
    consecutive ones is one span of the text, line breaks included; runs are joined
    by ……, so that every piece between two …… is verbatim.

    >>> text = "第一条　总则：\n（一）甲；\n（二）乙；\n（三）丙。"
    >>> _join_verbatim(text, split_sentences(text), [0, 1, 3])
    '第一条\u3000总则：\n（一）甲；……（三）丙。'
    """
    spans, start = [], 0
    for sentence in sentences:
        at = text.find(sentence, start)
        if at < 0:  # not found as printed: fall back to the sentence itself
            spans.append((-1, -1))
            continue
        spans.append((at, at + len(sentence)))
        start = at + len(sentence)
    pieces: list[str] = []
    run = [keep[0]]
    for i in list(keep[1:]) + [-1]:
        if i == run[-1] + 1 and spans[i][0] >= 0 and spans[run[0]][0] >= 0:
            run.append(i)
            continue
        first, last = spans[run[0]], spans[run[-1]]
        pieces.append(text[first[0]:last[1]] if first[0] >= 0 and last[0] >= 0
                      else "".join(sentences[j] for j in run))
        run = [i]
    return "……".join(pieces)


def _citation(n: int, p: Passage, quote: str) -> Citation:
    return Citation(n, p.id, p.doc_title, p.article, p.section, p.source_file, p.page, quote,
                    chapter=p.chapter)
