"""The scoring rules of docs/GOLD_FORMAT.md as pure functions, and the metrics.json arithmetic.

Text matching: ``norm`` (NFKC, keep Unicode letters and digits), ``is_relevant``
(containment or a longest common substring at least half the evidence; passages over
``MAX_PASSAGE_CHARS`` normalised characters never relevant), ``same_article``
(第12条 == 第十二条), ``covers`` (key points; the harness first removes [n] citation
markers with ``strip_citation_markers``, which would split a key point in two).

Ranking: ``hit_at_k``, ``reciprocal_rank`` and ``ndcg_at_k`` take the 1-based ranks of
the relevant passages of one question. nDCG uses binary relevance; its ideal DCG puts
``min(n_relevant, k)`` relevant passages at ranks 1, 2, …, where ``n_relevant`` is the
number of passages in the *whole searched collection* relevant to the question (the
harness counts them), so retrieving a second relevant passage never lowers the score.
When ``n_relevant`` is not known (None) the ideal falls back to the relevant passages
found in the top k, or 1 when none was found.

Aggregation: ``aggregate`` turns ``QuestionResult`` values into the flat dotted keys of
metrics.json (``"retrieval.hit@1"``, ``"by_type.fact.retrieval.hit@1"``, …). Choices
made where docs/GOLD_FORMAT.md leaves room:

- retrieval, citation and key-point metrics are over answerable items;
  ``citation.precision`` pools the citations of the answerable items that cite;
- ``refusal.accuracy`` counts an unanswerable item right when the answer refuses *and*
  cites nothing (the scoring rule for unanswerable items);
- latency percentiles are over all items (linear interpolation between ranks);
- a metric over an empty set of items is ``None`` (JSON null), not 0;
- rates are rounded to 4 decimals, latencies to 0.1 ms.

Left out: graded relevance, answer judging beyond key-point containment.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache

from rag.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int

MAX_PASSAGE_CHARS = 1500  # after norm: longer passages are never relevant
RANK_CUTOFF = 10  # MRR@10, nDCG@10, hit@10
HIT_KS = (1, 3, 5, 10)

Metrics = dict[str, float | int | None]


# --- text matching -------------------------------------------------------------------


@lru_cache(maxsize=65536)
def norm(text: str) -> str:
    """NFKC, then keep only Unicode letters and digits (categories L* and N*).

    >>> norm("第十二条　本条例自２０２４年1月1日起施行.")
    '第十二条本条例自2024年1月1日起施行'
    >>> norm("«山西省 未成年人保护条例»") == norm("《山西省未成年人保护条例》")
    True
    >>> norm("ＡＢＣ，ｄ-e\\n")
    'ABCde'
    """
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def longest_common_substring(a: str, b: str) -> str:
    """The longest common substring of ``a`` and ``b`` (the first such in the shorter).

    Binary search on the length: a common substring of length L exists only if one of
    length L-1 does, and each test is at most ``len(shorter)`` ``in`` checks run in C;
    about 7 rounds for an 80-character evidence against a 1,500-character passage.

    >>> longest_common_substring("abcdef", "zzcdezz"), longest_common_substring("ab", "xy")
    ('cde', '')
    """
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    best = ""
    low, high = 0, len(short)
    while low < high:
        middle = (low + high + 1) // 2
        found = next((short[i:i + middle] for i in range(len(short) - middle + 1)
                      if short[i:i + middle] in long), None)
        if found is None:
            high = middle - 1
        else:
            low, best = middle, found
    return best


def longest_common_substring_len(a: str, b: str) -> int:
    """Length of the longest common substring of ``a`` and ``b``.

    >>> longest_common_substring_len("abcdef", "zzcdezz")
    3
    >>> longest_common_substring_len("未成年人保护", "保护未成年人")
    4
    >>> longest_common_substring_len("abc", ""), longest_common_substring_len("abc", "xyz")
    (0, 0)
    """
    return len(longest_common_substring(a, b))


def is_relevant(passage_text: str, evidence: str) -> bool:
    """Whether a passage is relevant to one evidence span (docs/GOLD_FORMAT.md).

    Relevant when ``norm(passage)`` contains ``norm(evidence)`` or their longest common
    substring is at least half of ``norm(evidence)``; never when the passage is longer
    than 1,500 characters after ``norm``, nor for an empty evidence.

    >>> is_relevant("第三条　保护未成年人应当坚持最有利于未成年人的原则。", "坚持最有利于未成年人的原则")
    True
    >>> is_relevant("……应当坚持最有利于", "坚持最有利于未成年人的原则")  # 6 of 13 characters
    False
    >>> is_relevant("……应当坚持最有利于未成", "坚持最有利于未成年人的原则")  # 8 of 13
    True
    >>> is_relevant("坚持最有利于未成年人的原则" + "字" * 1500, "坚持最有利于未成年人的原则")
    False
    """
    return _relevant_norm(norm(passage_text), norm(evidence))


def is_relevant_any(passage_text: str, evidences: Iterable[str]) -> bool:
    """Relevant to at least one of the evidences (the main one and ``also_ok``).

    >>> is_relevant_any("本条例自2024年1月1日起施行。", ["无关的证据文本在这里", "自2024年1月1日起施行"])
    True
    """
    text = norm(passage_text)
    return any(_relevant_norm(text, norm(evidence)) for evidence in evidences)


def _relevant_norm(text: str, evidence: str) -> bool:
    if not evidence or len(text) > MAX_PASSAGE_CHARS:
        return False
    if evidence in text:
        return True
    return 2 * longest_common_substring_len(text, evidence) >= len(evidence)


def count_relevant(passage_texts: Sequence[str], evidences: Iterable[str]) -> int:
    """How many passages of a collection are relevant to any of the evidences.

    Fast over a whole index: a passage is relevant exactly when it holds one of the
    windows of ``ceil(len/2)`` characters of a normalised evidence, so the passages are
    joined once and only those windows are searched.

    >>> count_relevant(["甲乙丙丁戊己", "丙丁戊己庚辛", "子丑寅卯"], ["乙丙丁戊"])
    2
    >>> count_relevant(["甲乙丙丁"], [""])
    0
    """
    return len(relevant_indices(tuple(passage_texts), tuple(evidences)))


def relevant_indices(passage_texts: tuple[str, ...], evidences: tuple[str, ...]) -> set[int]:
    """Indices of the passages relevant to any of the evidences (see ``count_relevant``).

    >>> sorted(relevant_indices(("甲乙丙丁戊己", "丙丁戊己庚辛", "子丑寅卯"), ("卯辰巳午", "乙丙丁戊")))
    [0, 1]
    """
    joined, starts = _joined(passage_texts)
    found: set[int] = set()
    for evidence in evidences:
        target = norm(evidence)
        if not target:
            continue
        width = (len(target) + 1) // 2
        for i in range(len(target) - width + 1):
            window = target[i:i + width]
            position = joined.find(window)
            while position >= 0:
                index = _bisect_right(starts, position) - 1
                found.add(index)
                position = joined.find(window, position + 1)
    return {index for index in found if len(norm(passage_texts[index])) <= MAX_PASSAGE_CHARS}


@lru_cache(maxsize=4)
def _joined(passage_texts: tuple[str, ...]) -> tuple[str, tuple[int, ...]]:
    """The normalised passages joined by a separator ``norm`` never keeps, and starts."""
    starts: list[int] = []
    parts: list[str] = []
    position = 0
    for text in passage_texts:
        starts.append(position)
        piece = norm(text)
        parts.append(piece)
        position += len(piece) + 1
    return "\x00".join(parts), tuple(starts)


def _bisect_right(values: Sequence[int], target: int) -> int:
    low, high = 0, len(values)
    while low < high:
        middle = (low + high) // 2
        if target < values[middle]:
            high = middle
        else:
            low = middle + 1
    return low


_ARTICLE = re.compile(rf"^第([0-9{CHINESE_NUMERAL_CHARS}]+)条(.*)$")


def article_key(label: str) -> tuple[int, str] | str:
    """A comparable key for an article label: (number, rest) when it parses, else the text.

    >>> article_key("第十二条"), article_key("第１２条"), article_key(" 第 十二 条之一 ")
    ((12, ''), (12, ''), (12, '之一'))
    >>> article_key("附则")
    '附则'
    """
    text = "".join(unicodedata.normalize("NFKC", label).split())
    match = _ARTICLE.match(text)
    if match:
        try:
            return chinese_to_int(match.group(1)), match.group(2)
        except ValueError:
            return text
    return text


def same_article(a: str | None, b: str | None) -> bool:
    """Whether two article labels name the same article (NFKC; 第12条 == 第十二条).

    None (no article) matches nothing, not even None.

    >>> same_article("第12条", "第十二条"), same_article("第十二条", "第二十一条")
    (True, False)
    >>> same_article("第一百零三条", "第103条"), same_article(None, "第一条"), same_article(None, None)
    (True, False, False)
    """
    if a is None or b is None:
        return False
    return article_key(a) == article_key(b)


_MARKER = re.compile(r"\[\d+(?:\s*[,，、]\s*\d+)*\]")


def strip_citation_markers(answer_text: str) -> str:
    """The answer without its [n] citation markers, which would otherwise split a key
    point in two (``1月1日[1]起施行`` normalises to ``1月1日1起施行``).

    >>> strip_citation_markers("自2024年1月1日[1]起施行[2, 3]。")
    '自2024年1月1日起施行。'
    """
    return _MARKER.sub("", answer_text)


def covers(answer_text: str, point: str) -> bool:
    """Whether an answer covers a key point: ``norm(answer)`` contains ``norm(point)``.

    >>> covers("自２０２４年１月１日起施行。", "2024年1月1日"), covers("十日内", "10日")
    (True, False)
    """
    target = norm(point)
    return bool(target) and target in norm(answer_text)


# --- ranking metrics -----------------------------------------------------------------


def hit_at_k(relevant_ranks: Sequence[int], k: int) -> float:
    """1.0 when a relevant passage is at rank ``k`` or better, else 0.0.

    >>> hit_at_k([3, 7], 1), hit_at_k([3, 7], 3), hit_at_k([], 10)
    (0.0, 1.0, 0.0)
    """
    return 1.0 if any(1 <= rank <= k for rank in relevant_ranks) else 0.0


def reciprocal_rank(relevant_ranks: Sequence[int], k: int = RANK_CUTOFF) -> float:
    """1 / rank of the first relevant passage, 0 past rank ``k``.

    >>> reciprocal_rank([4, 2]), reciprocal_rank([11]), reciprocal_rank([])
    (0.5, 0.0, 0.0)
    """
    ranks = [rank for rank in relevant_ranks if 1 <= rank <= k]
    return 1.0 / min(ranks) if ranks else 0.0


def ndcg_at_k(relevant_ranks: Sequence[int], n_relevant: int | None = None,
              k: int = RANK_CUTOFF) -> float:
    """Binary-relevance nDCG@k: sum of 1/log2(rank+1) over relevant ranks, over the ideal.

    The ideal puts ``min(n_relevant, k)`` relevant passages at ranks 1.. (see the module
    docstring); ``n_relevant`` None means: as many as were found in the top k, at least 1.

    >>> ndcg_at_k([1]), round(ndcg_at_k([1], n_relevant=2), 4)  # 1/1 ; 1/(1 + 1/log2(3))
    (1.0, 0.6131)
    >>> round(ndcg_at_k([2], n_relevant=1), 4), ndcg_at_k([], n_relevant=3), ndcg_at_k([12])
    (0.6309, 0.0, 0.0)
    """
    ranks = sorted({rank for rank in relevant_ranks if 1 <= rank <= k})
    if not ranks:
        return 0.0
    ideal_count = len(ranks) if n_relevant is None else max(n_relevant, len(ranks))
    ideal_count = max(1, min(ideal_count, k))
    dcg = sum(1.0 / math.log2(rank + 1) for rank in ranks)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, ideal_count + 1))
    return dcg / ideal


def place_recall(place_ranks: Sequence[int | None], k: int = RANK_CUTOFF) -> float:
    """Share of an item's gold places (its evidence and each ``also_ok``) that have a
    relevant passage at rank ``k`` or better: hit@k asks for one place, this for all.

    >>> place_recall([1, None]), place_recall([3, 12], 10), place_recall([2])
    (0.5, 0.5, 1.0)
    """
    if not place_ranks:
        return 0.0
    return sum(rank is not None and rank <= k for rank in place_ranks) / len(place_ranks)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default).

    >>> percentile([10, 20, 30, 40], 50), percentile([10, 20, 30, 40], 95)
    (25.0, 38.5)
    >>> percentile([], 50) is None
    True
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- per-question results and aggregation --------------------------------------------


@dataclass(frozen=True)
class CitationResult:
    """One citation an answer gave, and whether it is correct for the item."""

    passage_id: str
    article: str | None
    correct: bool


@dataclass(frozen=True)
class RetrievedPassage:
    """One retrieved passage, as shown in the report."""

    rank: int
    id: str
    title: str
    article: str | None
    relevant: bool


@dataclass(frozen=True)
class QuestionResult:
    """How one configuration did on one gold item (a line of per_question.jsonl)."""

    id: str
    type: str
    question: str
    relevant_ranks: tuple[int, ...]  # 1-based ranks of relevant retrieved passages
    n_relevant: int | None  # relevant passages in the searched collection (nDCG ideal)
    citations: tuple[CitationResult, ...]
    refused: bool
    keypoints_covered: tuple[str, ...]
    keypoints_missed: tuple[str, ...]
    latency_ms: float
    top: tuple[RetrievedPassage, ...]  # the retrieved passages, best first
    error: str | None = None  # the library error that stopped this question, if any
    # per gold place (evidence, then each also_ok): best rank of a passage relevant to it
    place_ranks: tuple[int | None, ...] = ()
    outcome: str = ""  # the reply's outcome (answered, detail_absent, refused)
    expected_outcome: str = ""  # the gold item's (``GoldItem.expected_outcome``)

    @property
    def answerable(self) -> bool:
        return self.type != "unanswerable"

    @property
    def keypoint_recall(self) -> float | None:
        total = len(self.keypoints_covered) + len(self.keypoints_missed)
        return len(self.keypoints_covered) / total if total else None

    @property
    def cited_correctly(self) -> bool:
        return any(citation.correct for citation in self.citations)

    @property
    def refusal_correct(self) -> bool:
        """For an unanswerable item: refused and cited nothing, or a reply whose outcome
        says refused or detail absent (GOLD_FORMAT.md)."""
        return (self.refused and not self.citations) or \
            self.outcome in ("refused", "detail_absent")

    def to_json(self) -> dict:
        record = asdict(self)
        record["relevant_ranks"] = list(self.relevant_ranks)
        record["place_ranks"] = list(self.place_ranks)
        record["latency_ms"] = round(self.latency_ms, 1)
        return record


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else None


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def metric_keys() -> tuple[str, ...]:
    """The metric keys of one group, in the order metrics.json lists them.

    >>> metric_keys()[:3], len(metric_keys())
    (('n', 'retrieval.hit@1', 'retrieval.hit@3'), 15)
    """
    return ("n", *(f"retrieval.hit@{k}" for k in HIT_KS), "retrieval.mrr@10",
            "retrieval.ndcg@10", "retrieval.recall@10", "citation.accuracy", "citation.precision",
            "answer.keypoint_recall", "refusal.accuracy", "refusal.false_rate",
            "latency.p50_ms", "latency.p95_ms")


def group_metrics(results: Sequence[QuestionResult]) -> Metrics:
    """The metric keys (without the by_type prefix) for one group of results.

    >>> r = QuestionResult("q1", "fact", "?", (2,), 1, (CitationResult("p", None, True),),
    ...                    False, ("a",), ("b",), 100.0, ())
    >>> u = QuestionResult("q2", "unanswerable", "?", (), 0, (), True, (), (), 300.0, ())
    >>> m = group_metrics([r, u])
    >>> m["n"], m["retrieval.hit@1"], m["retrieval.hit@3"], m["retrieval.mrr@10"]
    (2, 0.0, 1.0, 0.5)
    >>> m["answer.keypoint_recall"], m["refusal.accuracy"], m["latency.p50_ms"]
    (0.5, 1.0, 200.0)
    """
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    out: Metrics = {"n": len(results)}
    for k in HIT_KS:
        out[f"retrieval.hit@{k}"] = _mean(hit_at_k(r.relevant_ranks, k) for r in answerable)
    out["retrieval.mrr@10"] = _mean(reciprocal_rank(r.relevant_ranks) for r in answerable)
    out["retrieval.ndcg@10"] = _mean(
        ndcg_at_k(r.relevant_ranks, r.n_relevant) for r in answerable)
    out["retrieval.recall@10"] = _mean(
        place_recall(r.place_ranks) for r in answerable if r.place_ranks)
    out["citation.accuracy"] = _mean(float(r.cited_correctly) for r in answerable)
    citations = [c for r in answerable for c in r.citations]
    out["citation.precision"] = (
        round(sum(c.correct for c in citations) / len(citations), 4) if citations else None)
    out["answer.keypoint_recall"] = _mean(
        r.keypoint_recall for r in answerable if r.keypoint_recall is not None)
    out["refusal.accuracy"] = _mean(float(r.refusal_correct) for r in unanswerable)
    out["refusal.false_rate"] = _mean(float(r.refused) for r in answerable)
    latencies = [r.latency_ms for r in results]
    out["latency.p50_ms"] = _rounded(percentile(latencies, 50), 1)
    out["latency.p95_ms"] = _rounded(percentile(latencies, 95), 1)
    return out


def aggregate(results: Sequence[QuestionResult]) -> Metrics:
    """metrics.json: the overall keys, then ``by_type.<type>.<key>`` for each type present.

    Types come in sorted order; every group lists every key (None where undefined).

    >>> r = QuestionResult("q1", "fact", "?", (1,), 1, (), False, (), (), 5.0, ())
    >>> m = aggregate([r])
    >>> m["retrieval.hit@1"], m["by_type.fact.retrieval.hit@1"], m["by_type.fact.n"]
    (1.0, 1.0, 1)
    >>> m["citation.precision"] is None and m["refusal.accuracy"] is None
    True
    """
    out = group_metrics(results)
    for kind in sorted({r.type for r in results}):
        group = group_metrics([r for r in results if r.type == kind])
        out.update({f"by_type.{kind}.{key}": value for key, value in group.items()})
    return out


def hit_curve(results: Sequence[QuestionResult], max_k: int = RANK_CUTOFF) -> list[float]:
    """hit@k for k = 1..max_k over the answerable results (for the plot).

    >>> hit_curve([QuestionResult("q", "fact", "?", (2,), 1, (), False, (), (), 1.0, ())], 3)
    [0.0, 1.0, 1.0]
    """
    answerable = [r for r in results if r.answerable]
    return [_mean(hit_at_k(r.relevant_ranks, k) for r in answerable) or 0.0
            for k in range(1, max_k + 1)]


def by_type(results: Sequence[QuestionResult]) -> Mapping[str, list[QuestionResult]]:
    """Results grouped by item type, types sorted.

    >>> list(by_type([QuestionResult("b", "fact", "?", (), 0, (), False, (), (), 1.0, ()),
    ...               QuestionResult("a", "clause", "?", (), 0, (), False, (), (), 1.0, ())]))
    ['clause', 'fact']
    """
    groups: dict[str, list[QuestionResult]] = {}
    for result in results:
        groups.setdefault(result.type, []).append(result)
    return {kind: groups[kind] for kind in sorted(groups)}


@dataclass(frozen=True)
class ConfigRun:
    """One configuration's results over a gold file, and its metrics.json values."""

    name: str  # "baseline", "bm25", "dense" or "hybrid"
    results: tuple[QuestionResult, ...]
    metrics: Mapping[str, float | int | None]


# --- outcomes ------------------------------------------------------------------------

OUTCOME_NAMES = ("answered", "detail_absent", "refused")


def reply_outcome(result: QuestionResult) -> str:
    """The reply's outcome; a reply without one is refused when ``refused``, else answered.

    >>> r = QuestionResult("q", "fact", "?", (), 1, (), True, (), (), 1.0, ())
    >>> reply_outcome(r), reply_outcome(QuestionResult("q", "fact", "?", (), 1, (), False,
    ...                                                (), (), 1.0, (), outcome="answered"))
    ('refused', 'answered')
    """
    if result.outcome in OUTCOME_NAMES:
        return result.outcome
    return "refused" if result.refused else "answered"


def expected_outcome(result: QuestionResult) -> str:
    """The gold's outcome: the item's own, else answered (answerable) or refused."""
    if result.expected_outcome in OUTCOME_NAMES:
        return result.expected_outcome
    return "answered" if result.answerable else "refused"


def outcome_counts(results: Sequence[QuestionResult]) -> Metrics:
    """Confusion of the reply's outcome against the gold's, overall and by type.

    Keys ``outcome.<expected>.<got>`` and ``by_type.<type>.outcome.<expected>.<got>``
    (counts, every cell listed for the expected outcomes present).

    >>> rs = [QuestionResult("a", "fact", "?", (), 1, (), True, (), (), 1.0, ()),
    ...       QuestionResult("b", "unanswerable", "?", (), 0, (), True, (), (), 1.0, (),
    ...                      outcome="detail_absent", expected_outcome="detail_absent")]
    >>> m = outcome_counts(rs)
    >>> m["outcome.answered.refused"], m["outcome.detail_absent.detail_absent"]
    (1, 1)
    >>> m["by_type.unanswerable.outcome.detail_absent.answered"]
    0
    """
    out: Metrics = {}
    groups = {"": list(results)}
    groups.update({f"by_type.{kind}.": group for kind, group in by_type(results).items()})
    for prefix, group in groups.items():
        for wanted in OUTCOME_NAMES:
            members = [r for r in group if expected_outcome(r) == wanted]
            if not members:
                continue
            for got in OUTCOME_NAMES:
                out[f"{prefix}outcome.{wanted}.{got}"] = sum(
                    reply_outcome(r) == got for r in members)
    return out


def outcome_table(results: Sequence[QuestionResult]) -> list[str]:
    """Markdown rows: per type and expected outcome, how many replies got each outcome.

    >>> outcome_table([QuestionResult("a", "fact", "?", (), 1, (), False, (), (), 1.0, ())])[2]
    '| fact | answered | 1 | 1 | 0 | 0 |'
    """
    lines = ["| type | expected | n | answered | detail_absent | refused |",
             "| --- | --- | --- | --- | --- | --- |"]
    for kind, group in by_type(results).items():
        for wanted in OUTCOME_NAMES:
            members = [r for r in group if expected_outcome(r) == wanted]
            if members:
                cells = [str(sum(reply_outcome(r) == got for r in members))
                         for got in OUTCOME_NAMES]
                lines.append(f"| {kind} | {wanted} | {len(members)} | {' | '.join(cells)} |")
    return lines
