"""Split a corpus file into its documents (公告, 条例, 说明, 报告, 通知, 方案 …).

A gazette file holds many documents. Three layouts are recognised from the text
itself, not from the file name:

- ``numbered``: government gazettes whose documents carry a document number (文号)
  on a line of its own (`晋政办发〔2022〕91号`); the title is the block of lines just
  above it, the notice ends at its status marker (`(此件公开发布)`), and rules
  issued by the notice follow it under their own title.
- ``congress``: people's congress gazettes where every document opens a new page
  with a title block (`关于«…»的说明`, `山西省人民代表大会常务委员会公告`), and a
  regulation starts inside a page with its title over its legislative history.
- ``markdown``: a notice followed by its attachment under a `#` heading.

Anything else is one document. Left out: tables of contents (used by nobody, they
would only duplicate titles), covers and back matter (posters, QR captions).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from rag.ingest.clean import (
    ARTICLE_RE,
    CHAPTER_RE,
    Line,
    ends_sentence,
    join_paragraphs,
    starts_block,
    typical_width,
)
from rag.ingest.structure import article_run, legal_kind
from rag.text import display_text, squeeze_cjk_spaces
from rag.types import Document, Paragraph

DOC_NUMBER_RE = re.compile(
    r"^[\u4e00-\u9fff]{1,8}\s*[〔\[［【]\s*(\d{4})\s*[〕\]］】]\s*(\d+)\s*号$"
)
STATUS_RE = re.compile(r"^[（(]此件[^）)]*[）)]$")
DATE_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_TITLE_END = re.compile(
    r"(公告|公\s*告|通告|通知|通\s*知|条例|规则|细则|办法|规定|说明|报告|决定|决议|名单|议程"
    r"|意见|讲话[(（]摘要[)）]|注释|纪要|方案|计划|规划|预案|责任分解)(?:[(（][^()（）]{1,16}[)）])?$"
)
_RULES_TITLE = re.compile(r"(条例|规则|细则|办法|规定)(?:[(（]试行[)）])?$")
_ORG_LINE = re.compile(r"(委员会|检查组|常委会|人民政府|办公厅|办公室|人大|主席团|[厅局])$")
_LEGISLATIVE_HISTORY = re.compile(r"^[（(]\s*[0-9０-９]{4}\s*年")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def title_text(lines: list[str]) -> str:
    """A title as printed: lines joined, PDF spaces inside words removed, «» → 《》.

    >>> title_text(["关于«山西省未成年人保护条例", "(修订草案)»的说明"])
    '关于《山西省未成年人保护条例(修订草案)》的说明'
    >>> title_text(["山西省人民政府 关于印发山西省“十四五”节能减排 实施方案的通知"])
    '山西省人民政府关于印发山西省“十四五”节能减排实施方案的通知'
    """
    joined = _book_marks(squeeze_cjk_spaces("".join(x.strip() for x in lines)))
    joined = re.sub(r"(?<=[\u4e00-\u9fff”》»）)])\s+(?=[\u4e00-\u9fff“《«（(])", "", joined)
    joined = re.sub(r"(?<=[\u4e00-\u9fff“《«（(])\s+(?=[\u4e00-\u9fff”》»）)])", "", joined)
    return display_text(joined).replace("\u3000", "")


def _book_marks(text: str) -> str:
    """Book-title marks that OCR read as ``<`` and ``>``, back as 《》 and 〈〉 where a 《
    is open (a ``>`` closes an open 〈 first, else the 《).

    >>> _book_marks("《条例（草案）>的说明"), _book_marks("《实施<文物保护法>办法》"), _book_marks("a>b")
    ('《条例（草案）》的说明', '《实施〈文物保护法〉办法》', 'a>b')
    """
    out, marks = [], []
    for c in text:
        if c in "《«":
            marks.append("《")
        elif c in "》»" and marks:
            marks.pop()
        elif c == "<" and marks:
            c = "〈"
            marks.append("〈")
        elif c == ">" and marks:
            c = "〉" if marks.pop() == "〈" else "》"
        out.append(c)
    return "".join(out)


def classify(title: str, has_articles: bool) -> str:
    """The document type from its title and whether its text is article-structured.

    An article-structured text (a run of 第N条 in sequence) is a ``regulation`` whatever
    its title ends in (法, 解释, 决定 …); ``Document.kind`` says which kind of law it is.

    >>> classify("山西省未成年人保护条例", True), classify("关于《山西省未成年人保护条例(修订草案)》的说明", False)
    ('regulation', 'explanation')
    >>> classify("山西省人民政府关于印发山西省新污染物治理工作方案的通知", False)
    'notice'
    >>> classify("山西省“十四五”节能减排实施方案", False), classify("山西省人民代表大会常务委员会任免名单", False)
    ('plan', 'list')
    >>> classify("中华人民共和国民法典", True), classify("中华人民共和国民法典", False)
    ('regulation', 'other')
    """
    t = re.sub(r"[(（][^()（）]{1,16}[)）]$", "", title.replace(" ", "").replace("　", ""))
    if has_articles:
        return "regulation"
    rules = [
        ("explanation", r"说明$"),
        ("notice", r"(公告|通告|通知|公\s*告|函)$"),
        ("decision", r"(决定|决议)$"),
        ("list", r"(名单|议程|责任分解)$"),
        ("report", r"(报告|审议意见|研究意见|纪要)$"),
        ("plan", r"(方案|计划|规划|预案|实施意见)$"),
        ("regulation", r"(条例|规则|细则|办法|规定)([(（]试行[)）])?$"),
    ]
    for doc_type, pattern in rules:
        if re.search(pattern, t):
            return doc_type
    return "other"


def iso_date(text: str) -> str | None:
    """The first date printed in a text, as ISO.

    >>> iso_date("２０２３年９月２２日修订通过"), iso_date("2023年 1月 30日"), iso_date("无")
    ('2023-09-22', '2023-01-30', None)
    """
    m = DATE_RE.search(_nfkc(text))
    return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None


# ---------------------------------------------------------------- spans


class _Span:
    """A document under construction: where it starts and what its header said."""

    def __init__(self, start: int, title_lines: list[str], issuer: str | None = None,
                 doc_number: str | None = None):
        self.start = start
        self.title_lines = title_lines
        self.issuer = issuer
        self.doc_number = doc_number
        self.end: int | None = None  # exclusive; None: up to the next span
        self.header = len(title_lines)  # lines above the body: title, and issuer when apart
        self.issued_by_notice = False  # rules that a notice issues (they follow it)


def detect_layout(lines: list[Line]) -> str:
    """``numbered``, ``congress``, ``markdown`` or ``single`` (see the module docstring)."""
    texts = [x.text.strip() for x in lines]
    numbered = sum(bool(DOC_NUMBER_RE.match(_nfkc(t))) for t in texts)
    pages = sum(x.opens_page for x in lines)
    if pages >= 10 and numbered * 15 < pages:
        return "congress"  # with, at most, a few numbered letters at the end
    if numbered >= 2:
        return "numbered"
    if any(t.startswith("# ") for t in texts):
        return "markdown"
    return "single"


def _numbered_spans(lines: list[Line]) -> list[_Span]:
    texts = [x.text.strip() for x in lines]
    spans: list[_Span] = []
    floor = 0  # no title block reaches above the previous document's status marker
    for j, text in enumerate(texts):
        if not DOC_NUMBER_RE.match(_nfkc(text)):
            continue
        i = j
        while i > floor and j - i < 4 and _title_piece(texts[i - 1]):
            i -= 1
        block = texts[i:j]
        if not block:
            continue
        issuer = None
        if len(block) > 1 and _ORG_LINE.search(block[0]) and len(block[0]) <= 16:
            issuer = block[0]
        elif m := re.match(r"^(\S{2,20}?)\s+关于", block[0]):
            issuer = m.group(1)
        if not spans and i > 0 and not _is_front_matter(texts[:i]):
            spans.append(_Span(0, [texts[0]]))
        spans.append(_Span(i, block, issuer, squeeze_cjk_spaces(text)))
        floor = j
        # the notice ends at its status marker; rules it issues may follow
        for k in range(j + 1, len(texts)):
            if DOC_NUMBER_RE.match(_nfkc(texts[k])):
                break
            if STATUS_RE.match(texts[k]):
                spans[-1].end = k + 1
                floor = k + 1
                rules = _issued_rules(texts, k + 1, title_text(block), texts[j:k])
                if rules is not None:
                    spans.append(_Span(rules[0], rules[1], issuer))
                    spans[-1].issued_by_notice = True
                    floor = rules[0] + len(rules[1])
                break
    return spans


def _title_piece(text: str) -> bool:
    return (
        len(text) <= 60
        and not ends_sentence(text)
        and not starts_block(text)
        and not re.search(r"[(（]\d+[)）]$|---|^【|见网络版", text)
        and not STATUS_RE.match(text)
        and not DATE_RE.search(_nfkc(text))
        and not text.startswith(("附件", "（见", "(见"))
    )


def _is_front_matter(texts: list[str]) -> bool:
    return any(t.replace(" ", "") in ("目录", "目　录") for t in texts)


def _issued_rules(
    texts: list[str], k: int, notice_title: str, body: list[str]
) -> tuple[int, list[str]] | None:
    """Where the rules a notice issues start, and their title lines, if they follow it."""
    while k < len(texts) and texts[k].startswith(("附件", "（见", "(见")):
        k += 1
    block: list[str] = []
    while k + len(block) < len(texts) and len(block) < 3 and _title_piece(texts[k + len(block)]):
        block.append(texts[k + len(block)])
        if _TITLE_END.search(title_text(block)):
            break
    candidate = title_text(block)
    if not block or not _TITLE_END.search(candidate) or _ORG_LINE.search(candidate):
        return None
    if candidate in notice_title or f"《{candidate}》" in title_text(body):
        return k, block
    return None


def _congress_spans(lines: list[Line]) -> list[_Span]:
    texts = [x.text.strip() for x in lines]
    width = typical_width(texts)
    spans: list[_Span] = []
    for i, line in enumerate(lines):
        block = None
        closes = _closes_document(texts, i, line.opens_page, width)
        inside = bool(spans) and spans[-1].start + spans[-1].header > i  # a title's lines
        after_prose = i > 0 and (_prose(texts[i - 1], width)
                                 or i > 1 and len(texts[i - 2]) > 0.6 * width)
        if not closes and not inside and after_prose and (
                line.opens_page or _ORG_LINE.search(texts[i]) and _plain_name(texts[i])):
            # prose above (or a paragraph's last line) whose full stop may be lost (OCR): a
            # dateline or salutation under the title shows that a document starts (a list
            # of names above goes on)
            block = _title_block(texts, i)
            follower = texts[i + len(block)] if block and i + len(block) < len(texts) else ""
            block = block if block and _under_title(follower) else None
        elif closes:
            if line.opens_page:
                block = _title_block(texts, i)
            elif _ORG_LINE.search(texts[i]) and len(texts[i]) <= 24 and _plain_name(texts[i]):
                block = _title_block(texts, i)  # a report or list that starts inside a page
                follower = texts[i + len(block)] if block and i + len(block) < len(texts) else ""
                block = block if block and _follows_title(follower) else None
        if block:
            issuer = None
            header = len(block)
            if len(block) > 1 and block[1].startswith("关于") and _ORG_LINE.search(block[0]):
                issuer, block = block[0], block[1:]
            spans.append(_Span(i, block, issuer))
            spans[-1].header = header
        elif _starts_regulation(texts, i) and (not spans or spans[-1].start + spans[-1].header <= i):
            above = i - 1 if i and re.search(r"(人民代表大会|委员会|会议|人民政府)$", texts[i - 1]) else i
            if spans and spans[-1].start >= above:
                above = i
            if not (lines[above].opens_page or _closes_document(texts, above)):
                continue  # the end of a paragraph whose full stop is lost (OCR)
            spans.append(_Span(above, texts[above : i + 1]))
    numbered = [s for s in _numbered_spans(lines) if s.doc_number]
    starts = {s.start for s in spans}
    merged = spans + [s for s in numbered if all(abs(s.start - t) > 3 for t in starts)]
    return sorted(merged, key=lambda s: s.start)


def _closes_document(texts: list[str], i: int, at_page: bool = False, width: int = 0) -> bool:
    """Can a document end just above line i: file start, a full stop, a signature date,
    or, at a page start, a short list item (an agenda ends without a full stop) or the
    last line of a wrapped paragraph: well short of the full ``width``, under a longer line
    (its full stop may be lost to OCR). Short lines under short lines (a list of names)
    do not close.

    >>> _closes_document(["一二三四五六七八九十", "施行", "关于"], 2, True, 10)
    True
    >>> _closes_document(["一二三四五六七八九十", "一二三四五六七八九", "关于"], 2, True, 10)
    False
    >>> _closes_document(["甲乙　丙丁", "戊己", "关于"], 2, True, 10)
    False
    """
    if i == 0:
        return True
    previous = texts[i - 1]
    if ends_sentence(previous) or re.fullmatch(r"\S{4,14}日", _nfkc(previous).replace(" ", "")):
        return True
    if at_page and i > 1 and 0 < len(previous) <= 0.6 * width < len(texts[i - 2]):
        return True
    return (at_page and starts_block(previous) and not ARTICLE_RE.match(previous)
            and len(previous) <= 24)


def _plain_name(text: str) -> bool:
    """An issuer line: a name, with no digits or sentence punctuation in it."""
    return not re.search(r"[0-9０-９,，.。;；:：]", text)


def _follows_title(text: str) -> bool:
    """The line under a title: a dateline, an adoption note, a salutation."""
    return text.startswith(("———", "(", "（", "主任", "各位", "根据", "　　")) or text.endswith(
        (":", "：")
    )


def _prose(text: str, width: int) -> bool:
    """A line of running text: a wrapped (long) line, or one with sentence punctuation.

    >>> _prose("以上报告，请予审议", 22), _prose("罗清宇", 22), _prose("汪　凡 张　波 骞　进", 22)
    (True, False, False)
    """
    return len(text) > 0.6 * width or bool(re.search(r"[，、：；,;:]", text))


def _under_title(text: str) -> bool:
    """A dateline (``_dateline``), a salutation, or the ``根据…`` that opens a survey
    report: what a document opens with under its title.

    >>> _under_title("主任、各位副主任、　秘书长、各位委员："), _under_title("主任会议决定")
    (True, False)
    """
    return _dateline(text) or text.startswith("根据") or (
        text.startswith(("主任", "各位")) and text.endswith((":", "：")))


def _dateline(text: str) -> bool:
    """The line under a speech's or decision's title: ``———2023年…`` or ``(2023年…``, the
    dash as OCR may read it (``一``, ``-``); or under a 公告's: its number, ``(第十六号)``.

    >>> _dateline("———２０２３年５月２５日在"), _dateline("一-2023年5月25日在"), _dateline("一是加强")
    (True, True, False)
    >>> _dateline("（第十六号）"), _dateline("(第三号)规定")
    (True, False)
    """
    return bool(re.match(r"^([—一\-－–]{1,4}|[（(])\s*[0-9０-９]{4}\s*年", text)
                or re.match(r"^[（(]第[一二三四五六七八九十百0-9０-９]+号[)）]$", text))


def _title_block(texts: list[str], i: int) -> list[str] | None:
    block: list[str] = []
    for text in texts[i : i + 5]:
        if (
            ends_sentence(text)
            or text.startswith(("———", "主任", "各位"))
            or _LEGISLATIVE_HISTORY.match(text)
            or re.match(r"^[（(]第[一二三四五六七八九十]+号[)）]$", text)
            or (block and (ARTICLE_RE.match(text) or CHAPTER_RE.match(text)))
            or (block and _complete_title(block))
            or (not block and starts_block(text))
            or DATE_RE.search(_nfkc(text))
            or _inside_sentence(text)
        ):
            break
        block.append(text)
    if block and len("".join(block)) <= 90 and _complete_title(block):
        return block
    return None


def _inside_sentence(text: str) -> bool:
    """Marks a title never carries: a comma, full stop or semicolon between words, or a
    definition (``以下简称``). Official titles are punctuated only by book-title marks,
    quotes, brackets and 、, so a line with these is body text even where OCR dropped the
    full stop that ended it.

    >>> _inside_sentence("关法律、行政法规，结合本省实际，制定本条例"), _inside_sentence("关于«条例»的说明")
    (True, False)
    >>> _inside_sentence("任会议（以下简称主任会议）决定"), _inside_sentence("规定的,从其规定")
    (True, True)
    """
    return bool(re.search(r"[。；;，]|[\u4e00-\u9fff][.,][\u4e00-\u9fff]|以下简称", text))


def _complete_title(block: list[str]) -> bool:
    """A title ends with a document word and leaves no bracket open.

    >>> _complete_title(["关于«山西省未成年人保护条例"]), _complete_title(["关于«条例»的说明"])
    (False, True)
    """
    title = title_text(block)
    balanced = title.count("《") == title.count("》") and title.count("(") == title.count(")")
    return balanced and bool(_TITLE_END.search(title))


def _starts_regulation(texts: list[str], i: int) -> bool:
    """A regulation's title line, followed by its legislative history or first article."""
    text = title_text([texts[i]])
    if len(text) > 40 or not _RULES_TITLE.search(text) or ends_sentence(texts[i]) \
            or _inside_sentence(texts[i]):
        return False
    following = texts[i + 1] if i + 1 < len(texts) else ""
    return bool(
        _LEGISLATIVE_HISTORY.match(following)
        or CHAPTER_RE.match(following)
        or ARTICLE_RE.match(following)
    )


def _markdown_spans(lines: list[Line]) -> list[_Span]:
    texts = [x.text.strip() for x in lines]
    spans = [_Span(0, [t.strip("*# ") for t in _bold_block(texts)] or [texts[0]])]
    for i, text in enumerate(texts):
        if text.startswith("# ") and i > 0:
            spans.append(_Span(i, [text.lstrip("# ").strip("* ")]))
    return spans


def _bold_block(texts: list[str]) -> list[str]:
    block = []
    for text in texts:
        if not text.startswith("**"):
            break
        block.append(text)
    return block


# ---------------------------------------------------------------- documents


def split_documents(lines: list[Line], source_file: str) -> list[Document]:
    """Split the cleaned lines of one file into its documents, in file order."""
    if not lines:
        return []
    layout = detect_layout(lines)
    spans = {
        "numbered": _numbered_spans,
        "congress": _congress_spans,
        "markdown": _markdown_spans,
    }.get(layout, lambda ls: [_Span(0, [ls[0].text.strip()])])(lines)
    if not spans:
        spans = [_Span(0, [lines[0].text.strip()])]
    width = typical_width([x.text for x in lines])
    stem = source_file.rsplit(".", 1)[0]
    documents = []
    for ordinal, span in enumerate(spans):
        following = spans[ordinal + 1].start if ordinal + 1 < len(spans) else len(lines)
        end = min(span.end or following, following)
        body = lines[span.start + span.header : end]
        documents.append(_document(span, body, lines[span.start:end], width, stem, ordinal,
                                   source_file))
    if all(d.page_start is None for d in documents):
        documents = _pages_from_contents(documents, [x.text for x in lines])
    return documents


_TOC_ENTRY = re.compile(r"[(（]\s*(\S{1,8}[〔\[［]\d{4}[〕\]］]\s*\d+\s*号)\s*[)）]\s*[(（](\d{1,4})[)）]$")


def _number_key(doc_number: str) -> str:
    """晋政函[2022]109 号 and 晋政函〔2022〕109号 are one number."""
    return re.sub(r"[\s〔〕\[\]［］]", "", _nfkc(doc_number))


def _pages_from_contents(documents: list[Document], texts: list[str]) -> list[Document]:
    """Page spans from a table of contents (目录), for a file that prints no page numbers.

    A notice starts on the page its entry gives; the rules it issues follow from that
    page on; each ends before the next entry's page. Passages get no page of their own.
    """
    toc = {_number_key(m.group(1)): int(m.group(2))
           for t in texts if (m := _TOC_ENTRY.search(t.strip()))}
    entry_pages = sorted({int(m.group(1)) for t in texts
                          if (m := re.search(r"[(（](\d{1,4})[)）]$", t.strip()))})
    starts: list[int | None] = []
    current = None
    for d in documents:
        if d.doc_number and _number_key(d.doc_number) in toc:
            current = toc[_number_key(d.doc_number)]
        elif d.doc_number:
            current = None
        starts.append(current)
    result = []
    for i, d in enumerate(documents):
        start = starts[i]
        later = [p for p in entry_pages if start is not None and p > start]
        end = later[0] - 1 if later else start
        result.append(replace(d, page_start=starts[i], page_end=end))
    return result


def _document(span: _Span, body: list[Line], whole: list[Line], width: int, stem: str,
              ordinal: int, source_file: str) -> Document:
    title = title_text(span.title_lines).strip("*# ")
    paragraphs = tuple(
        Paragraph(display_text(p.text.strip() if p.table else squeeze_cjk_spaces(p.text.strip())),
                  p.page, p.number)
        for p in join_paragraphs(body, width)  # a table row keeps the spaces between its cells
    )
    has_articles = bool(article_run([p.text for p in paragraphs]))
    doc_type = classify(title, has_articles)
    # the kind of law, from the title and the note under it (who passed or promulgated it)
    note = " ".join(p.text for p in paragraphs[:3])
    kind = (legal_kind(title, note, span.issued_by_notice) if has_articles
            else "other" if doc_type == "regulation" else doc_type)
    pages = [x.page for x in whole if x.page is not None]
    header = " ".join(x.text for x in whole[:12])
    if span.doc_number:  # a numbered document is dated by its signature
        header = " ".join(x.text for x in whole[-6:])
    return Document(
        id=f"{stem}#{ordinal:03d}",
        title=title,
        doc_type=doc_type,
        kind=kind,
        source_file=source_file,
        page_start=min(pages) if pages else None,
        page_end=max(pages) if pages else None,
        issuer=span.issuer,
        date=_document_date(whole, header),
        doc_number=span.doc_number,
        paragraphs=paragraphs,
    )


def _document_date(whole: list[Line], header: str) -> str | None:
    """The dateline or legislative-history date, else the signature date."""
    if date := iso_date(header):
        return date
    for line in whole[-8:]:
        if date := iso_date(line.text):
            return date
    return None
