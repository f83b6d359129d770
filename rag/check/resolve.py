"""Resolve each reference of a text to the indexed article, and say what is wrong with it.

For every reference ``rag.check.refs`` finds, one ``Finding``: the document and article
it resolves to (with the article's words), that document's status on the day asked
about, and an outcome:

- ``ok``: the article exists in a text in force (or whose entry into force the text does
  not give); ``own_text``: a 本条例第N条 of a text that is not indexed, found among the
  checked text's own articles.
- flags: ``no_such_article`` (past the document's last article, or a 款/项 it does not
  have), ``not_indexed`` (a title we do not hold: it cannot be checked, which is not to
  say it is wrong), ``near_miss`` (a title that nearly matches one we hold: suggested),
  ``ambiguous`` (a short title that fits several regulations), ``draft`` (an article of
  a draft: drafts are not indexed and their numbers are not the final text's, so it is
  never mapped to a final article), ``superseded`` and ``expired`` (the text it points
  to is no longer in force), ``no_title`` (a bare 第N条 in a text whose document cannot
  be told), ``malformed`` (a number that is not a numeral).

Titles are resolved by ``rag.search.clause.TitleResolver`` (full, abbreviated and
shortened titles); near misses by similarity of the normalized titles among
regulations of the same kind word (法 is never a near miss of 条例).
Left out: references by document number alone, 前款/前条, and which version of a
regulation a text dated before a revision meant.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from rag.check.refs import Reference, find_references, read_number
from rag.errors import CheckInputError
from rag.ingest.status import draft_subject, text_kind
from rag.numerals import int_to_chinese
from rag.search.clause import TitleResolver, _core
from rag.search.status import parse_as_of, set_aside, statuses, version_key
from rag.text import search_text
from rag.types import DocStatus, Document

MAX_CHECK_CHARS = 1_000_000  # characters in one checked text
OUTCOMES = {
    "ok": "引用无误",
    "own_text": "本文自身条文",
    "no_such_article": "条文不存在",
    "not_indexed": "未收录，无法核对",
    "near_miss": "标题近似",
    "ambiguous": "标题有歧义",
    "draft": "草案条文",
    "superseded": "已被替代",
    "expired": "已失效",
    "no_title": "未写明文件",
    "malformed": "序号有误",
}
NOT_FLAGGED = ("ok", "own_text")
NEAR_MISS_CUTOFF = 0.75  # similarity of normalized titles for a suggestion
_KIND_WORD = re.compile(r"(法|条例|办法|细则|规则|规定)$")
_ITEM = re.compile(r"^[-\s]*[（(][一二三四五六七八九十]+[）)]")
_RULES_TITLE = re.compile(r"(条例|办法|细则|规则|规定)(?:[(（]试行[)）])?$")
_OWN_ARTICLE = re.compile(r"^\s*第([一二三四五六七八九十百零〇两0-9０-９]+)条(?:[\s\u3000【]|$)")


@dataclass(frozen=True)
class TextContext:
    """What the checked text itself is: its title, and so what 本条例 and a bare 第N条
    point to."""

    title: str | None
    kind: str  # "regulation", "draft" (a 说明 or report on a draft), "other"
    subject: str | None  # for a draft: the title it is the draft of
    own_articles: tuple[int, ...] = ()  # article numbers that open a line of the text


@dataclass(frozen=True)
class Finding:
    """One reference, resolved."""

    line: int
    column: int
    written: str  # as written in the text
    reference: str  # the article it names, normalized: 第二十条第一款
    outcome: str  # one of OUTCOMES
    reason: str  # why, in words (empty for ok)
    doc_id: str | None = None  # the indexed document it resolves to
    doc_title: str | None = None  # resolved title; for a draft, 《…》(草案)
    article: str | None = None  # the article label in the index, e.g. 第二十条
    article_text: str | None = None  # the article's words
    passage_id: str | None = None
    status: str | None = None  # the resolved document's status code on as_of
    status_label: str | None = None
    suggestion: str | None = None  # a title we hold, for a near miss or a draft

    @property
    def flagged(self) -> bool:
        return self.outcome not in NOT_FLAGGED

    @property
    def outcome_label(self) -> str:
        return OUTCOMES[self.outcome]

    @property
    def resolved(self) -> str:
        if self.doc_title is None:
            return ""
        return f"《{self.doc_title}》{self.article or ''}"

    def to_json(self) -> dict:
        return {"line": self.line, "column": self.column, "written": self.written,
                "reference": self.reference, "outcome": self.outcome,
                "outcome_label": self.outcome_label, "flagged": self.flagged,
                "reason": self.reason, "doc_id": self.doc_id, "doc_title": self.doc_title,
                "article": self.article, "article_text": self.article_text,
                "passage_id": self.passage_id, "status": self.status,
                "status_label": self.status_label, "suggestion": self.suggestion}


@dataclass(frozen=True)
class CheckReport:
    findings: tuple[Finding, ...]
    context: TextContext
    as_of: str
    counts: dict = field(default_factory=dict)  # outcome -> how many

    def to_json(self) -> dict:
        return {"as_of": self.as_of, "title": self.context.title, "kind": self.context.kind,
                "references": len(self.findings),
                "flagged": sum(f.flagged for f in self.findings),
                "counts": dict(sorted(self.counts.items())),
                "findings": [f.to_json() for f in self.findings]}


def clean_input(text: object) -> str:
    """The text to check, or a CheckInputError that says what to do.

    >>> clean_input("  第一条\\x00 ")
    '第一条'
    >>> clean_input("   ")
    Traceback (most recent call last):
    ...
    rag.errors.CheckInputError: the text to check is empty; paste a text or give a file that cites articles, e.g. 《山西省节约能源条例》第二十条
    """
    if not isinstance(text, str):
        raise CheckInputError(f"the text to check must be text, got {type(text).__name__}")
    if "\x00" in text[:4096] and text.count("\x00") > 8:
        raise CheckInputError("the text to check looks binary (NUL bytes); give a UTF-8 or "
                              "GB18030 text file (.txt, .md)")
    text = "".join(ch for ch in text.replace("\r\n", "\n").replace("\r", "\n")
                   if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf")).strip()
    if not text:
        raise CheckInputError("the text to check is empty; paste a text or give a file that "
                              "cites articles, e.g. 《山西省节约能源条例》第二十条")
    if len(text) > MAX_CHECK_CHARS:
        raise CheckInputError(f"the text to check is {len(text):,} characters, over the "
                              f"{MAX_CHECK_CHARS:,} limit; check it in parts")
    return text


def decode_input(data: bytes, name: str = "the file") -> str:
    """Bytes of a text file as text: UTF-8 (with or without BOM), else GB18030.

    >>> decode_input("第一条".encode("gb18030"))
    '第一条'
    >>> decode_input(bytes(range(256)), "x.bin")
    Traceback (most recent call last):
    ...
    rag.errors.CheckInputError: x.bin is not a text file (binary content); give a UTF-8 or GB18030 text file (.txt, .md)
    """
    if b"\x00" in data[:65536]:
        raise CheckInputError(f"{name} is not a text file (binary content); give a UTF-8 or "
                              "GB18030 text file (.txt, .md)")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise CheckInputError(f"{name} is neither UTF-8 nor GB18030 text; save it as UTF-8 text")


def context_of(text: str, title: str | None = None) -> TextContext:
    """The checked text's own title (the given one, else its first line when that reads
    as a title), kind and article labels.

    >>> c = context_of("关于《山西省节约能源条例(修订草案)》的说明\\n第四十三条规定…")
    >>> c.kind, c.subject
    ('draft', '山西省节约能源条例')
    >>> c = context_of("某某条例\\n第一条　为了……\\n第二条　违反本条例第一条的")
    >>> c.title, c.kind, c.own_articles
    ('某某条例', 'regulation', (1, 2))
    """
    lines = [x.strip() for x in text.splitlines() if x.strip()]
    if title is None and lines:
        first = lines[0].replace("«", "《").replace("»", "》")
        if len(first) <= 60 and not re.search(r"[。；;：:，,]$|^第\S{1,6}条", first):
            title = first.replace("\u3000", "").replace(" ", "")
    own = []
    for line in lines:
        if m := _OWN_ARTICLE.match(line):
            try:
                own.append(read_number(m.group(1)))
            except ValueError:
                continue
    kind, subject = text_kind(title) if title else ("final", None)
    if kind in ("draft_explanation", "review_report"):
        return TextContext(title, "draft", subject, tuple(own))
    if (title and _RULES_TITLE.search(title)) or len(own) >= 2:
        return TextContext(title, "regulation", None, tuple(own))
    return TextContext(title, "other", None, tuple(own))


class Checker:
    """Checks the references of a text against one index's documents and articles."""

    def __init__(self, documents: Sequence[Document], passages,
                 titles: TitleResolver | None = None):
        self.documents = tuple(documents)
        self.passages = passages  # a rag.index.store.PassageStore (article_rows, rows)
        self.titles = titles or TitleResolver(self.documents)
        self._by_id = {d.id: d for d in self.documents}
        self._row = {d.id: i for i, d in enumerate(self.documents)}
        last = np.full(len(self.documents), -1, dtype=np.int64)
        np.maximum.at(last, np.asarray(passages.doc_of_row, dtype=np.int64),
                      np.asarray(passages.article_of_row, dtype=np.int64))
        self._last_article = last  # by document row; -1: no articles
        self._regulations = sorted((_core(d.title), d.id) for d in self.documents
                                   if d.doc_type == "regulation" and self._has_articles(d.id))
        # titles repeat in a text: each is resolved once per checker
        self.regulations_named = lru_cache(maxsize=4096)(self.titles.regulations_named)
        self.near_miss = lru_cache(maxsize=4096)(self._near_miss)
        self._statuses: tuple[str, dict[str, DocStatus]] | None = None  # the last day asked
        self._about: dict[str, list[str]] = {}  # core title -> documents about it
        for d in self.documents:
            if d.subject:
                self._about.setdefault(_core(d.subject), []).append(d.id)

    @classmethod
    def load(cls, index_dir) -> Checker:
        """A checker over an index folder (documents and passages; no model is loaded)."""
        from pathlib import Path

        from rag.index.folder import open_passages, read_documents, read_manifest, read_quotations

        folder = Path(index_dir)
        read_manifest(folder)
        documents = read_documents(folder)
        return cls(documents, open_passages(folder, documents),
                   TitleResolver(documents, read_quotations(folder)))

    def _has_articles(self, doc_id: str) -> bool:
        return bool(self._last_article[self._row[doc_id]] > 0)

    # ------------------------------------------------------------ checking

    def check(self, text: str, title: str | None = None, as_of=None) -> CheckReport:
        text = clean_input(text)
        day = parse_as_of(as_of)
        status = self._statuses_on(day)
        context = context_of(text, title)
        home = self._home(context)
        findings = tuple(self._resolve(r, context, home, status)
                         for r in find_references(text))
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.outcome] = counts.get(f.outcome, 0) + 1
        return CheckReport(findings, context, day, counts)

    def _statuses_on(self, day: str) -> dict[str, DocStatus]:
        cached = self._statuses
        if cached is None or cached[0] != day:
            cached = self._statuses = (day, statuses(self.documents, day))
        return cached[1]

    def _home(self, context: TextContext) -> str | None:
        """The indexed regulation the checked text is, when its title names one exactly."""
        if context.kind != "regulation" or not context.title:
            return None
        ids = [i for i in self.regulations_named(context.title)
               if _core(self._by_id[i].title) == _core(context.title)]
        exact = [i for i in ids if search_text(self._by_id[i].title) == search_text(context.title)]
        found = exact or ids
        return found[0] if found else None

    def _resolve(self, ref: Reference, context: TextContext, home: str | None,
                 status: dict[str, DocStatus]) -> Finding:
        base: dict[str, Any] = {"line": ref.line, "column": ref.column, "written": ref.written,
                "reference": ref.label}
        if ref.malformed:
            return Finding(**base, outcome="malformed",
                           reason=f"条文序号无法识别：{ref.malformed}；请写成 第二十条 或 第20条")
        scope, title = ref.scope, ref.title
        if scope in ("self", "bare"):
            if context.kind == "draft":
                scope, title = "draft", context.subject
            elif context.kind == "regulation" or scope == "self":
                if home is not None:
                    return self._article(base, ref, home, status)
                if context.own_articles:
                    return self._own(base, ref, context)
                return Finding(**base, outcome="no_title",
                               reason="“本条例”所指文件无法确定：文本没有可识别的标题，"
                                      "也不在索引中")
            else:
                return Finding(**base, outcome="no_title",
                               reason="未写明文件名称，无法确定所指文件")
        if scope == "draft":
            return self._draft(base, ref, title, context)
        return self._titled(base, ref, title or "", status)

    def _titled(self, base: dict, ref: Reference, title: str,
                status: dict[str, DocStatus]) -> Finding:
        ids = [i for i in self.regulations_named(title) if self._has_articles(i)]
        if title.startswith("山西省"):  # a full title: not a shortened one
            ids = [i for i in ids if _core(self._by_id[i].title) == _core(title)]
        if not ids:
            return self._unknown_title(base, ref, title, status)
        groups = {version_key(self._by_id[i]) for i in ids}
        exact = [i for i in ids if search_text(self._by_id[i].title) == search_text(title)]
        if len(groups) > 1 and len({version_key(self._by_id[i]) for i in exact}) != 1:
            names = "、".join(f"《{self._by_id[i].title}》" for i in sorted(ids))
            return Finding(**base, outcome="ambiguous",
                           reason=f"《{title}》可指多个文件：{names}；请写全称")
        candidates = exact or ids
        current = [i for i in candidates if not set_aside(status[i], status)]
        chosen = sorted(current or candidates,
                        key=lambda i: (self._by_id[i].effective or "", i))[-1]
        return self._article(base, ref, chosen, status)

    def _unknown_title(self, base: dict, ref: Reference, title: str,
                       status: dict[str, DocStatus]) -> Finding:
        near = self.near_miss(title)
        if near is not None:
            found = self._article(base, ref, near, status)
            hint = f"索引中没有《{title}》；是否指《{self._by_id[near].title}》？"
            if found.outcome != "ok":
                hint += f"（按该文件核对：{found.reason}）"
            return replace(found, outcome="near_miss", reason=hint,
                           suggestion=self._by_id[near].title)
        about = self._about.get(_core(title), [])
        reason = f"《{title}》未收录于索引，无法核对（这不表示引用有误）"
        if about:
            held = "、".join(f"《{self._by_id[i].title}》" for i in sorted(about)[:3])
            reason += f"；索引中只有{held}，没有其正文"
        return Finding(**base, outcome="not_indexed", reason=reason)

    def _near_miss(self, title: str) -> str | None:
        """The id of the regulation whose title nearly matches ``title`` (similar
        normalized title; when both end in a kind word, the same one), or None."""
        core = _core(title)
        kind = _KIND_WORD.search(core)
        pool = [c for c, _ in self._regulations if c != core and (
            kind is None or (_KIND_WORD.search(c) or kind).group(1) == kind.group(1))]
        close = difflib.get_close_matches(core, pool, n=1, cutoff=NEAR_MISS_CUTOFF)
        if not close:
            return None
        return next(i for c, i in self._regulations if c == close[0])

    def _draft(self, base: dict, ref: Reference, title: str | None,
               context: TextContext) -> Finding:
        subject = draft_subject(title) if title else (context.subject or context.title)
        if not subject:
            return Finding(**base, outcome="draft",
                           reason="草案条文：所指草案未写明，且草案不在索引中，无法核对")
        ids = [i for i in self.regulations_named(subject)
               if _core(self._by_id[i].title) == _core(subject) and self._has_articles(i)]
        reason = (f"草案条文：指《{subject}》草案的{ref.label}；草案未收录，条文序号"
                  f"不等于定稿序号，不作对应")
        suggestion = None
        if ids:
            final = self._by_id[ids[0]]
            last = int(self._last_article[self._row[final.id]])
            suggestion = final.title
            if ref.article is not None and ref.article > last:
                reason += f"；定稿《{final.title}》共{int_to_chinese(last)}条，没有{ref.label}"
            else:
                reason += f"；定稿见《{final.title}》（共{int_to_chinese(last)}条）"
        return Finding(**base, outcome="draft", reason=reason, doc_title=f"{subject}(草案)",
                       article=ref.label, suggestion=suggestion)

    def _own(self, base: dict, ref: Reference, context: TextContext) -> Finding:
        name = f"《{context.title}》" if context.title else "本文"
        if ref.article in context.own_articles:
            return Finding(**base, outcome="own_text", reason=f"指{name}自身的{ref.label}"
                           "（该文件不在索引中，按本文条文核对）",
                           doc_title=context.title, article=ref.label)
        last = max(context.own_articles)
        return Finding(**base, outcome="no_such_article",
                       reason=f"{name}共{int_to_chinese(last)}条，没有{ref.label}",
                       doc_title=context.title)

    def _article(self, base: dict, ref: Reference, doc_id: str,
                 status: dict[str, DocStatus]) -> Finding:
        document = self._by_id[doc_id]
        state = status[doc_id]
        found = {**base, "doc_id": doc_id, "doc_title": document.title,
                 "status": state.code, "status_label": state.label}
        last = int(self._last_article[self._row[doc_id]])
        rows = self.passages.article_rows(ref.article, doc_id) if ref.article else []
        if ref.article is None or len(rows) == 0:
            return Finding(**found, outcome="no_such_article",
                           reason=f"《{document.title}》共{int_to_chinese(last)}条，"
                                  f"没有{ref.label}")
        passages = [self.passages[int(r)] for r in sorted(rows)]
        text = "\n".join(p.text for p in passages)
        found.update(article=passages[0].article, article_text=text,
                     passage_id=passages[0].id)
        problem = _paragraph_problem(text, ref)
        if problem:
            return Finding(**found, outcome="no_such_article",
                           reason=f"《{document.title}》{passages[0].article}{problem}")
        if state.code == "superseded":
            newer = self._by_id.get(state.superseded_by or "")
            return Finding(**found, outcome="superseded", reason=state.note,
                           suggestion=newer.title if newer else None)
        if state.code == "expired":
            return Finding(**found, outcome="expired",
                           reason=f"所引文件已失效（{state.note}，核对日 {state.as_of}）")
        return Finding(**found, outcome="ok", reason="")


def _paragraph_problem(text: str, ref: Reference) -> str | None:
    """What the article lacks of a 第M款第K项 reference, or None.

    >>> r = Reference(1, 0, "", "title", "x", 5, 3)
    >>> _paragraph_problem("第五条　一。\\n二：\\n(一)甲；\\n(二)乙。", r)
    '只有二款，没有第三款'
    >>> _paragraph_problem("第五条　一。\\n二：\\n(一)甲；\\n(二)乙。", Reference(1, 0, "", "title", "x", 5, 2, 2))
    """
    lines = [x for x in text.split("\n") if x.strip()]
    paragraphs: list[list[str]] = []  # each 款 with its 项
    for line in lines:
        if _ITEM.match(line) and paragraphs:
            paragraphs[-1].append(line)
        else:
            paragraphs.append([])
    if ref.paragraph:
        if ref.paragraph > len(paragraphs):
            return f"只有{int_to_chinese(len(paragraphs))}款，没有第{int_to_chinese(ref.paragraph)}款"
        items = len(paragraphs[ref.paragraph - 1])
    else:
        items = sum(len(p) for p in paragraphs)
    if ref.item and ref.item > items:
        where = f"第{int_to_chinese(ref.paragraph)}款" if ref.paragraph else ""
        return f"{where}只有{int_to_chinese(items)}项，没有第（{int_to_chinese(ref.item)}）项"
    return None


