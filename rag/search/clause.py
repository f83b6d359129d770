"""Clause references in questions: which article, and which document, a question names.

``parse_article_no`` reads 第十二条 / 第12条 / 第１２条 (``parse_article_sub`` the 之一 of
第一百三十三条之一). ``TitleResolver`` finds the documents a question names: a full
title (《山西省节约能源条例》), a short one (节约能源条例, 议事规则, 劳动合同法, 民法典,
关于审理劳动争议案件适用法律问题的解释（一）) or a partial one (非法集资细则), resolving it
to the full titles it can mean. Short titles drop the issuer's place (中华人民共和国, any
province or region) and, for a title "X关于Y", what precedes 关于 (最高人民法院关于…).
Several documents come back when a short title is ambiguous.

Left out: references to paragraphs and items inside an article (第二款, 第（三）项),
ranges (第十条至第十五条), and nicknames that are no part of a title (劳动争议解释一).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.ingest.structure import PROVINCES
from rag.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int
from rag.text import search_text
from rag.types import Document

_ARTICLE_REF = re.compile(rf"第\s*([{CHINESE_NUMERAL_CHARS}0-9]+)\s*条(?:之([一二三四五六七八九十]+))?")
_RULES_MENTION = re.compile(r"([\u4e00-\u9fff“”、\"]{2,40}?(?:条例|办法|细则|规则|规定))")
_NATION = "中华人民共和国"
_PREFIXES = (*PROVINCES, "省")
_ISSUERS = re.compile(r"^(?:最高人民法院|最高人民检察院)(?:、(?:最高人民法院|最高人民检察院))?")
MIN_ALIAS = 2  # 刑法
MAX_NAMED = 10  # a mention fitting more titles than this is too generic to name one
FUZZY_CANDIDATES = 500  # titles sharing most bigrams with a mention, compared in full


@dataclass(frozen=True)
class ClauseRef:
    article_no: int | None  # the article the question names, if any
    doc_ids: tuple[str, ...]  # the documents it names, best first (may be several)
    mention: str | None  # the words that named them
    related_ids: tuple[str, ...] = ()  # documents that issue, explain or quote them
    article_sub: int = 0  # 1 for 第X条之一, 0 for 第X条


def _aliases(core: str) -> set[str]:
    """The short titles a document goes by: its core, and for "X关于Y" Y and 关于Y.

    >>> sorted(_aliases("最高人民法院关于审理劳动争议案件适用法律问题的解释(一)"))
    ['关于审理劳动争议案件适用法律问题的解释(一)', '审理劳动争议案件适用法律问题的解释(一)']
    >>> sorted(_aliases("人民代表大会常务委员会关于加强预算审查监督的决定"))[:2]
    ['人民代表大会常务委员会关于加强预算审查监督的决定', '关于加强预算审查监督的决定']
    """
    aliases = {core} if not _ISSUERS.match(core) else set()
    head, found, rest = core.partition("关于")
    if found and len(rest) >= MIN_ALIAS + 2:
        aliases |= {rest, "关于" + rest}
    return {a for a in aliases if len(a) >= MIN_ALIAS}


def parse_article_no(question: str) -> int | None:
    """The article number a question names, or None.

    >>> parse_article_no("《山西省节约能源条例》第二十条怎么规定的？"), parse_article_no("第１２条")
    (20, 12)
    >>> parse_article_no("未成年人保护条例第62条讲什么"), parse_article_no("网吧能进吗")
    (62, None)
    """
    m = _ARTICLE_REF.search(search_text(question))
    return chinese_to_int(m.group(1)) if m else None


def parse_article_sub(question: str) -> int:
    """The 之N of an inserted article a question names (第一百三十三条之一 → 1), else 0.

    >>> parse_article_sub("刑法第一百三十三条之一"), parse_article_sub("刑法第一百三十三条")
    (1, 0)
    """
    m = _ARTICLE_REF.search(search_text(question))
    return chinese_to_int(m.group(2)) if m and m.group(2) else 0


_ABBREVIATIONS = (("人大常委会", "人民代表大会常务委员会"), ("常委会", "常务委员会"),
                  ("人大", "人民代表大会"))


def _core(title: str) -> str:
    """A title without the province prefix or a trial marker, abbreviations spelt out.

    >>> _core("山西省节约能源条例"), _core("住宅物业服务质量星级评价管理办法(试行)")
    ('节约能源条例', '住宅物业服务质量星级评价管理办法')
    >>> _core("省人大常委会议事规则"), _core("中华人民共和国刑法"), _core("浙江省物业管理条例")
    ('人民代表大会常务委员会议事规则', '刑法', '物业管理条例')
    """
    text = search_text(title)
    for short, full in _ABBREVIATIONS:
        if full not in text:
            text = text.replace(short, full)
    text = re.sub(r"[(（]试行[)）]$", "", text)
    if text.startswith(_NATION) and len(text) >= len(_NATION) + MIN_ALIAS:
        return text[len(_NATION) :]
    for prefix in _PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix) + 3:
            return text[len(prefix) :].strip("“”\"")
    return text.strip("“”\"")


def _longest_common_run(a: str, b: str) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, start=1):
            if ch == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def _bigrams(text: str) -> set[str]:
    """
    >>> sorted(_bigrams("节约能源"))
    ['约能', '能源', '节约']
    """
    return {text[i : i + 2] for i in range(len(text) - 1)}


class TitleResolver:
    """Resolves the document titles that a question mentions.

    ``quoting`` maps a document id to the ids of documents whose passages quote its
    title in 《》 (the 公告 that promulgates a regulation, a report on it).

    Titles are normalized once and indexed by character bigrams, so a question is
    matched against a handful of candidate titles, not every title: at 10^5
    documents resolving stays well under a millisecond or two.
    """

    def __init__(self, documents: Sequence[Document],
                 quoting: dict[str, tuple[str, ...]] | None = None):
        self.documents = tuple(documents)
        self._quoting = quoting or {}
        self._core = [_core(d.title) for d in self.documents]  # by document row
        self._is_regulation = np.array([d.doc_type == "regulation" for d in self.documents],
                                       dtype=bool)
        postings: dict[str, list[int]] = {}
        for row, core in enumerate(self._core):
            for gram in _bigrams(core):
                postings.setdefault(gram, []).append(row)
        self._postings = {g: np.array(rows, dtype=np.int32) for g, rows in postings.items()}
        # titles as printed, for a question that writes one out without 《》
        self._by_title: dict[str, list[int]] = {}
        for row, d in enumerate(self.documents):
            if len(d.title) >= 6:
                self._by_title.setdefault(search_text(d.title), []).append(row)
        self._title_lengths = sorted({len(t) for t in self._by_title}, reverse=True)
        # short titles of the article-structured documents (劳动合同法, 民法典, 刑法)
        self._by_alias: dict[str, list[int]] = {}
        for row, core in enumerate(self._core):
            if self._is_regulation[row]:
                for alias in _aliases(core):
                    self._by_alias.setdefault(alias, []).append(row)
        self._alias_lengths = sorted({len(a) for a in self._by_alias}, reverse=True)

    def resolve(self, question: str) -> ClauseRef:
        article_no = parse_article_no(question)
        sub = parse_article_sub(question)
        text = search_text(question)
        quoted = re.findall(r"《([^》]+)》", text)
        for mention in quoted + self._mentions(text):
            rows = self._match(mention)
            if rows:
                return self._ref(article_no, rows, mention, sub)
        for length in self._alias_lengths:  # the longest short title written out wins
            found = sorted({row for i in range(len(text) - length + 1)
                            for row in self._by_alias.get(text[i : i + length], ())})
            if found and len(found) <= MAX_NAMED:
                return self._ref(article_no, found, self._core[found[0]], sub)
        for length in self._title_lengths:  # the longest title written out wins
            found = sorted({row for i in range(len(text) - length + 1)
                            for row in self._by_title.get(text[i : i + length], ())})
            if found:
                return self._ref(article_no, found, self.documents[found[0]].title, sub)
        return ClauseRef(article_no, (), None, article_sub=sub)

    def regulations_named(self, mention: str) -> tuple[str, ...]:
        """Ids of the regulations a title names: the same title once the province prefix
        and a 试行 mark are set aside, else the titles containing it (a shortened title),
        no fuzzy match; () when it fits none or more than MAX_NAMED."""
        core = _core(mention)
        if len(core) < 4:
            return ()
        contained = [r for r in self._containing(core).tolist() if self._is_regulation[r]]
        named = [r for r in contained if self._core[r] == core] or contained
        return tuple(self.documents[r].id for r in named) if len(named) <= MAX_NAMED else ()

    def _ref(self, article_no: int | None, rows: list[int], mention: str,
             sub: int = 0) -> ClauseRef:
        return ClauseRef(article_no, tuple(self.documents[r].id for r in rows), mention,
                         self._related(rows), sub)

    def _mentions(self, text: str) -> list[str]:
        mentions = []
        for m in _RULES_MENTION.finditer(text):
            mention = re.split(r"[的在里中和与对按据照]", m.group(1))[-1]
            mentions.append(mention if len(mention) >= 4 else m.group(1))
        return mentions

    def _containing(self, text: str) -> np.ndarray:
        """Rows of the documents whose normalized title contains ``text``."""
        grams = sorted(_bigrams(text), key=lambda g: len(self._postings.get(g, ())))
        if not grams or grams[0] not in self._postings:
            return np.empty(0, dtype=np.int32)
        rows = self._postings[grams[0]]
        for gram in grams[1:]:
            rows = np.intersect1d(rows, self._postings[gram], assume_unique=True)
        return np.array([r for r in rows.tolist() if text in self._core[r]], dtype=np.int32)

    def _match(self, mention: str) -> list[int]:
        """Regulation rows a mention names: the same title, a title containing it, else
        the titles sharing the longest run of characters with it. A mention that fits
        more than MAX_NAMED titles (管理办法) names none of them."""
        mention = _core(mention)
        if len(mention) < 4:
            return []
        contained = [r for r in self._containing(mention).tolist() if self._is_regulation[r]]
        named = [r for r in contained if self._core[r] == mention] or contained
        if named:
            return named if len(named) <= MAX_NAMED else []
        need = max(4, math.ceil(0.6 * len(mention)))  # characters in one common run
        shared = [self._postings[g] for g in _bigrams(mention) if g in self._postings]
        if not shared:
            return []
        counts = np.bincount(np.concatenate(shared), minlength=len(self.documents))
        counts[~self._is_regulation] = 0
        # a common run of n characters shares n-1 bigrams: fewer cannot reach ``need``
        candidates = np.flatnonzero(counts >= need - 1)
        if len(candidates) > FUZZY_CANDIDATES:
            candidates = candidates[np.argsort(-counts[candidates], kind="stable")]
            candidates = np.sort(candidates[:FUZZY_CANDIDATES])
        scored = [(run, r) for r in candidates.tolist()
                  if (run := _longest_common_run(mention, self._core[r])) >= need]
        if not scored:
            return []
        best = max(run for run, _ in scored)
        rows = sorted((self.documents[r].id, r) for run, r in scored if run == best)
        return [r for _, r in rows] if len(rows) <= MAX_NAMED else []

    def _related(self, rows: list[int]) -> tuple[str, ...]:
        """Documents that issue, explain or quote these: the notice that issues them, their
        说明 and 审议报告 (by title), the 公告 that promulgates them (by quotation)."""
        related = {self.documents[r].id for core in {self._core[row] for row in rows}
                   for r in self._containing(core).tolist()}
        for row in rows:
            related.update(self._quoting.get(self.documents[row].id, ()))
        return tuple(sorted(related - {self.documents[r].id for r in rows}))
