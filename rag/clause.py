"""Clause references in questions: which article, and which document, a question names.

``parse_article_no`` reads 第十二条 / 第12条 / 第１２条. ``TitleResolver`` finds the
documents a question names: a full title (《山西省节约能源条例》), a short one
(节约能源条例, 议事规则) or a partial one (非法集资细则), resolving it to the full
titles it can mean. Several documents come back when a short title is ambiguous.

Left out: references to paragraphs and items inside an article (第二款, 第（三）项),
and ranges (第十条至第十五条).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.clean import search_text
from rag.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int
from rag.types import Document

_ARTICLE_REF = re.compile(rf"第\s*([{CHINESE_NUMERAL_CHARS}0-9]+)\s*条")
_RULES_MENTION = re.compile(r"([\u4e00-\u9fff“”、\"]{2,40}?(?:条例|办法|细则|规则|规定))")
_PREFIXES = ("山西省", "省")


@dataclass(frozen=True)
class ClauseRef:
    article_no: int | None  # the article the question names, if any
    doc_ids: tuple[str, ...]  # the documents it names, best first (may be several)
    mention: str | None  # the words that named them
    related_ids: tuple[str, ...] = ()  # documents that issue, explain or quote them


def parse_article_no(question: str) -> int | None:
    """The article number a question names, or None.

    >>> parse_article_no("《山西省节约能源条例》第二十条怎么规定的？"), parse_article_no("第１２条")
    (20, 12)
    >>> parse_article_no("未成年人保护条例第62条讲什么"), parse_article_no("网吧能进吗")
    (62, None)
    """
    m = _ARTICLE_REF.search(search_text(question))
    return chinese_to_int(m.group(1)) if m else None


_ABBREVIATIONS = (("人大常委会", "人民代表大会常务委员会"), ("常委会", "常务委员会"),
                  ("人大", "人民代表大会"))


def _core(title: str) -> str:
    """A title without the province prefix or a trial marker, abbreviations spelt out.

    >>> _core("山西省节约能源条例"), _core("住宅物业服务质量星级评价管理办法(试行)")
    ('节约能源条例', '住宅物业服务质量星级评价管理办法')
    >>> _core("省人大常委会议事规则")
    '人民代表大会常务委员会议事规则'
    """
    text = search_text(title)
    for short, full in _ABBREVIATIONS:
        if full not in text:
            text = text.replace(short, full)
    text = re.sub(r"[(（]试行[)）]$", "", text)
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


class TitleResolver:
    """Resolves the document titles that a question mentions.

    ``quoting`` maps a document id to the ids of documents whose passages quote its
    title in 《》 (the 公告 that promulgates a regulation, a report on it).
    """

    def __init__(self, documents: tuple[Document, ...],
                 quoting: dict[str, tuple[str, ...]] | None = None):
        self.documents = documents
        self._regulations = [d for d in documents if d.doc_type == "regulation"]
        self._quoting = quoting or {}
        # normalized once: a question is matched against every title without re-normalizing
        self._core_of = {d.id: _core(d.title) for d in documents}
        self._by_prefix: dict[str, list[tuple[str, Document]]] = {}
        for d in documents:
            title = search_text(d.title)
            if len(d.title) >= 6:
                self._by_prefix.setdefault(title[:2], []).append((title, d))

    def resolve(self, question: str) -> ClauseRef:
        article_no = parse_article_no(question)
        text = search_text(question)
        quoted = re.findall(r"《([^》]+)》", text)
        for mention in quoted + self._mentions(text):
            docs = self._match(mention)
            if docs:
                return ClauseRef(article_no, tuple(d.id for d in docs), mention,
                                 self._related(docs))
        exact = [d for i in range(len(text) - 1)
                 for title, d in self._by_prefix.get(text[i : i + 2], ())
                 if text.startswith(title, i)]
        if exact:
            longest = max(len(d.title) for d in exact)
            best = [d for d in exact if len(d.title) == longest]
            return ClauseRef(article_no, tuple(d.id for d in best), best[0].title,
                             self._related(best))
        return ClauseRef(article_no, (), None)

    def _mentions(self, text: str) -> list[str]:
        mentions = []
        for m in _RULES_MENTION.finditer(text):
            mention = re.split(r"[的在里中和与对按据照]", m.group(1))[-1]
            mentions.append(mention if len(mention) >= 4 else m.group(1))
        return mentions

    def _match(self, mention: str) -> list[Document]:
        mention = _core(mention)
        if len(mention) < 4:
            return []
        exact = [d for d in self._regulations if self._core_of[d.id] == mention]
        if exact:
            return exact
        contained = [d for d in self._regulations if mention in self._core_of[d.id]]
        if contained:
            return contained
        scored = []
        for d in self._regulations:
            run = _longest_common_run(mention, self._core_of[d.id])
            if run >= 4 and run >= 0.6 * len(mention):
                scored.append((-run, d.id, d))
        if not scored:
            return []
        best = scored and min(scored)[0]
        return [d for run, _, d in sorted(scored) if run == best]

    def _related(self, docs: list[Document]) -> tuple[str, ...]:
        """Documents that issue, explain or quote these: the notice that issues them, their
        说明 and 审议报告 (by title), the 公告 that promulgates them (by quotation)."""
        cores = [self._core_of[d.id] for d in docs]
        named = {d.id for d in docs}
        related = {d.id for d in self.documents
                   if any(c in self._core_of[d.id] for c in cores)}
        for d in docs:
            related.update(self._quoting.get(d.id, ()))
        return tuple(sorted(related - named))
