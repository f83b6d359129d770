"""What a document's own text says about its standing: number, body, dates, term, kind.

Read at ingest, for every document, from its text and from the notice or 公告 that
issues it (the document just above it in the same file):

- ``doc_number``: the 文号 (晋政办发〔2022〕98号); rules issued by a notice carry the
  notice's number, a regulation promulgated by a 公告 carries the 公告's number
  (山西省人民代表大会常务委员会公告第十三号).
- ``issuer``: the body that issued or promulgated it.
- ``adopted``: the date adopted (the last date of a legislative history, 通过/修订/修正)
  or issued (the signature of the notice that issues it).
- ``effective``: the date it takes effect, from 本条例自…起施行 (or the 公告's
  公布，自…起施行); 自公布/发布/印发之日起 is the issuing date, …三十日后 adds the days.
- ``term`` and ``ends``: a limit as printed (有效期5年, 试行期两年, 暂行, 试行) and, when
  the text gives a length and a start, the last day in force.
- ``text_kind``: ``final``, ``draft_explanation`` (说明 of a 草案), ``review_report``
  (审议意见/审议结果/研究意见的报告 on a draft) or ``amending_decision``
  (关于修改《…》的决定); ``subject`` is the title such a text is about.

A field the text does not give stays None: nothing is guessed. Left out: repeal
clauses (…同时废止) of texts not in the corpus, and dates of entry into force given
only by reference to another text.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.ingest.documents import DATE_RE, iso_date
from rag.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int
from rag.types import Document

TEXT_KINDS = ("final", "draft_explanation", "review_report", "amending_decision")

_DATE = DATE_RE  # one pattern for a printed date, owned by rag.ingest.documents
_NUM = rf"[0-9{CHINESE_NUMERAL_CHARS}]+"
# the subject of an entry-into-force sentence: 本条例, 本实施办法, 此工作方案, 本办法由…解释，
_SELF = (r"(?:本|此)[\u4e00-\u9fff]{0,6}?(?:条例|办法|细则|规则|规定|决定|通告|公告|预案|方案|意见"
         r"|通知|计划)")
_EFFECTIVE = re.compile(
    rf"(?:{_SELF}(?:由[^。；]{{1,40}}?负责解[释读][，,、]?(?:{_SELF})?)?|公布[，,])\s*"
    rf"自\s*(?P<when>[^。；;，,自]{{2,24}}?)\s*起\s*(?:(?P<days>{_NUM})\s*日后)?\s*"
    r"(?:施行|实施|执行|生效)"
)
_ISSUE_DAY = re.compile(r"^(?:公布|发布|印发|颁布|通过|签发)之日$")
_TERM = re.compile(rf"(?P<what>有效期|试行期|试行)\s*(?:为\s*)?(?P<n>{_NUM})\s*年")
_TERM_UNTIL = re.compile(r"有效期(?:至|到)\s*(?P<date>\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日)")
_HISTORY = re.compile(r"^[（(]\s*\d{4}\s*年.{4,400}?(?:通过|修订|修正|批准)\s*[）)]")
_HISTORY_BODY = re.compile(rf"日(?:根据)?(\S{{4,40}}?)第{_NUM}次会议(?:通过|修订|修正|批准)")
_PROMULGATION = re.compile(rf"^[（(](第{_NUM}号)[）)]")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def iso(text: str) -> str | None:
    """The first date in a text, as ISO (full-width digits and spaces allowed).

    >>> iso("２０２３年９月２２日修订通过"), iso("自 2022 年 12 月 30 日起"), iso("公布之日")
    ('2023-09-22', '2022-12-30', None)
    """
    day = iso_date(text)
    if day is None:
        return None
    try:  # a date the calendar does not have (2月30日) is no date
        return dt.date.fromisoformat(day).isoformat()
    except ValueError:
        return None


def add_years(day: str, years: int) -> str:
    """The last day of a term of ``years`` starting on ``day`` (ISO dates).

    >>> add_years("2022-10-08", 2), add_years("2024-02-29", 1)
    ('2024-10-07', '2025-02-27')
    """
    start = dt.date.fromisoformat(day)
    try:
        end = start.replace(year=start.year + years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + years, day=28)
    return (end - dt.timedelta(days=1)).isoformat()


def text_kind(title: str) -> tuple[str, str | None]:
    """The kind of text a title announces, and the title it is about.

    >>> text_kind("关于《山西省节约能源条例(修订草案)》的说明")
    ('draft_explanation', '山西省节约能源条例')
    >>> text_kind("关于《山西省地方病防治条例(修订草案)》研究意见的报告")
    ('review_report', '山西省地方病防治条例')
    >>> text_kind("关于修改《山西省节约能源条例》等九部地方性法规的决定")
    ('amending_decision', '山西省节约能源条例')
    >>> text_kind("关于批准《大同市湿地保护条例》的决定"), text_kind("山西省节约能源条例")
    (('final', '大同市湿地保护条例'), ('final', None))
    """
    t = _nfkc(title).replace(" ", "")
    if (m := re.match(r"^关于《(.+?)》的说明$", t)) and "草案" in m[1]:
        return "draft_explanation", draft_subject(m[1])
    if m := re.match(r"^关于《(.+?)》(?:审议意见|审议结果|研究意见|修改情况|审查意见)的报告$", t):
        return "review_report", draft_subject(m[1])
    if m := re.match(r"^关于修改《(.+?)》.*的决定$", t):
        return "amending_decision", m[1]
    if m := re.match(r"^关于批准《(.+?)》的决定$", t):
        return "final", m[1]
    return "final", None


def draft_subject(title: str) -> str:
    """The title a draft's title is the draft of.

    >>> draft_subject("山西省节约能源条例(修订草案)"), draft_subject("某某条例（草案修改稿）")
    ('山西省节约能源条例', '某某条例')
    """
    return re.sub(r"[(（](?:修订|修正)?草案[^()（）]{0,6}[)）]$", "", _nfkc(title)).strip()


@dataclass(frozen=True)
class EntryIntoForce:
    """What an entry-into-force sentence says."""

    date: str | None  # ISO, when it prints one
    on_issue: bool  # 自公布/发布/印发之日起
    days_after: int  # …起三十日后实施
    term: str | None  # 有效期5年, 试行期两年, 有效期至2025年…
    years: int | None  # the term's length in years
    until: str | None  # ISO, 有效期至…


def entry_into_force(text: str) -> EntryIntoForce | None:
    """The last sentence of a text that says when the text itself takes effect.

    >>> entry_into_force("第六十二条　本条例自２０２４年１月１日起施行。").date
    '2024-01-01'
    >>> e = entry_into_force("本办法由县司法局负责解读，本办法自印发之日起施行。")
    >>> e.on_issue, e.date
    (True, None)
    >>> e = entry_into_force("第二十二条 本办法自发布之日起三十日后实施,有效期两年。")
    >>> e.on_issue, e.days_after, e.term, e.years
    (True, 30, '有效期两年', 2)
    >>> entry_into_force("本规定自 2022 年 10 月 8 日起施行,有效期两年。").term
    '有效期两年'
    >>> entry_into_force("该法自２０１８年１０月１日起施行。") is None  # another text
    True
    """
    found = None
    for sentence in re.split(r"[。\n]", _nfkc(text).replace("\u3000", " ")):
        for m in _EFFECTIVE.finditer(sentence):
            found = (sentence, m)
    if found is None:
        return None
    sentence, m = found
    when = m["when"].replace(" ", "")
    rest = sentence[m.end():]
    term = _TERM.search(rest)
    until = _TERM_UNTIL.search(rest)
    return EntryIntoForce(
        date=iso(when),
        on_issue=bool(_ISSUE_DAY.match(when)),
        days_after=chinese_to_int(m["days"]) if m["days"] else 0,
        term=(term.group(0).replace(" ", "") if term else
              until.group(0).replace(" ", "") if until else None),
        years=chinese_to_int(term["n"]) if term else None,
        until=iso(until["date"]) if until else None,
    )


def legislative_history(text: str) -> tuple[str | None, str | None]:
    """The last date of a legislative history at the head of a text, and the body that
    adopted the text then.

    >>> legislative_history("(２０００年５月２８日山西省第九届人民代表大会常务委员会第十六次会议通过"
    ...                     "２０２３年９月２２日山西省第十四届人民代表大会常务委员会第五次会议修订)第一章")
    ('2023-09-22', '山西省第十四届人民代表大会常务委员会')
    >>> legislative_history("第一章 总则")
    (None, None)
    """
    m = _HISTORY.match(_nfkc(text).strip())
    if not m:
        return None, None
    history = m.group(0)
    dates = [iso(d.group(0)) for d in _DATE.finditer(history)]
    bodies = _HISTORY_BODY.findall(history)
    return (dates[-1] if dates else None), (bodies[-1] if bodies else None)


def signature(document: Document) -> tuple[str | None, str | None]:
    """The signing body and date of a notice or 公告: its first paragraph that is a date
    alone, and the short name just above it."""
    texts = [p.text.strip() for p in document.paragraphs]
    for i, text in enumerate(texts):
        if _DATE.fullmatch(_nfkc(text).strip()):
            name = texts[i - 1] if i else ""
            plain = 4 <= len(name) <= 40 and not re.search(r"[。，,；;：:]", name)
            return (name if plain else None), iso(text)
    return None, None


def _issues(parent: Document, child: Document) -> bool:
    """Does ``parent`` (a notice or 公告) issue or promulgate ``child``?"""
    if parent.doc_type != "notice" or parent.source_file != child.source_file:
        return False
    title = child.title.replace(" ", "")
    return title in parent.title.replace(" ", "") or f"《{title}》" in parent.text[:600]


def status_fields(document: Document, parent: Document | None = None) -> Document:
    """``document`` with the fields its own text (and its issuing notice's) give."""
    kind, subject = text_kind(document.title)
    head = document.paragraphs[0].text if document.paragraphs else ""
    adopted, adopted_by = legislative_history(head)
    issuer = document.issuer
    doc_number = document.doc_number
    promulgation = _PROMULGATION.match(_nfkc(head)) if document.doc_type == "notice" else None
    issued = None
    if document.doc_type == "notice" or document.doc_number:  # signed: a notice, an opinion
        signer, issued = signature(document)
        issuer = issuer or signer
        if promulgation:  # a 公告 (第十三号)
            doc_number = doc_number or f"{document.title}{promulgation[1]}"
    if parent is not None:
        issuer = issuer or parent.issuer
        doc_number = doc_number or parent.doc_number
        issued = parent.adopted
    issuer = issuer or adopted_by
    adopted = adopted or issued or (document.date if kind != "final" else None)
    effective = ends = term = None
    if kind != "draft_explanation" and kind != "review_report":
        clause = entry_into_force(document.text)
        if clause is None and parent is not None:
            clause = entry_into_force(parent.text)
        if clause is not None:
            start = clause.date
            if clause.on_issue and (issued or adopted):
                start = issued or adopted
            if start and clause.days_after:
                start = (dt.date.fromisoformat(start)
                         + dt.timedelta(days=clause.days_after)).isoformat()
            effective = start
            term = clause.term
            ends = clause.until or (add_years(start, clause.years)
                                    if start and clause.years else None)
        if term is None:  # the title's own words, not a title it quotes
            bare = re.sub(r"《[^》]*》|\s", "", document.title)
            term = "暂行" if "暂行" in bare else "试行" if re.search(r"[(（]试行[)）]$", bare) else None
    return replace(document, issuer=issuer, doc_number=doc_number, adopted=adopted,
                   effective=effective, ends=ends, term=term, text_kind=kind, subject=subject)


def with_status(documents: Sequence[Document]) -> list[Document]:
    """Every document of one file with its status fields (file order kept)."""
    result: list[Document] = []
    for document in documents:
        previous = result[-1] if result else None
        parent = previous if previous is not None and _issues(previous, document) else None
        result.append(status_fields(document, parent))
    return result
