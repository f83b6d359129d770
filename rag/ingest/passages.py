"""Split documents into cited passages: one per article, or one per heading section.

- Article-structured documents (a run of 第N条 in sequence, ``rag.ingest.structure``, whatever
  the title): one passage per article, carrying its path (``chapter``: 第三编 合同 >
  第一分编 通则 > 第二章 … > 第一节 …), the label as printed (第一百三十三条之一) and its
  number. The title note (题注) and a 序言 come first as passages of their own; a 目录
  is dropped; 附件 and 附表 after the last article are passages of no article. An
  article over the size cap is split at its paragraphs, every piece keeping the label
  and naming its 款 (``section``: 第二款, 第一款至第二款).
- Other documents: passages follow the heading hierarchy (一、 （一） 1. 4.1.2 and
  markdown headings), each carrying its heading path; list items (（五）…；) and
  sentences that introduce a list (…包括下列条款：) are text, never headings. A section
  over the cap is split with langchain-text-splitters on Chinese separators, with a
  small overlap.

Left out: tables (kept as text lines) and cross-references between articles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.ingest.clean import MAX_HEADING_CHARS
from rag.ingest.structure import (
    CHAPTER,
    article_label,
    article_run,
    attachment_label,
    clean_heading,
    compact,
    contents_span,
    is_preface_heading,
    numbered_heading,
    structure_level,
    unspaced_article_label,
)
from rag.numerals import int_to_chinese
from rag.types import Document, Paragraph, Passage


@dataclass(frozen=True)
class ChunkingParams:
    """Recorded in the index manifest: changing any of them rebuilds the passages."""

    max_chars: int = 600  # target size of a passage
    overlap_chars: int = 60  # overlap between pieces of one over-long section
    min_chars: int = 40  # smaller sections merge into the next one under the same heading


_LEVEL_PATTERNS = (
    (1, re.compile(r"^[一二三四五六七八九十百]+、")),
    (2, re.compile(r"^[（(][一二三四五六七八九十百]+[）)]")),
    (3, re.compile(r"^[0-9０-９]{1,2}(?:\.[0-9]{1,2}){0,3}(?=[、．.\s　]|[\u4e00-\u9fff])")),
)
_MARKDOWN = re.compile(r"^(#{1,6})\s*")
_SUBCAPTION = re.compile(r"^(?:[（(][一二三四五六七八九十]+[）)])?\S{2,12}[:：]$")
_LIST_INTRO = re.compile(r"下列|如下|以下|包括|包含")  # …包括下列条款： introduces a list
_ITEM_END = ("；", ";", "，", ",")


def split_passages(document: Document, params: ChunkingParams = ChunkingParams()) -> list[Passage]:
    """All passages of one document, in reading order, with stable ids."""
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    starts = article_run([p.text for p in paragraphs])
    if starts:
        pieces = list(_article_pieces(paragraphs, starts, params))
    else:
        pieces = list(_section_pieces(paragraphs, params))
    # a file without page numbers (pages from its table of contents) pins a passage to a
    # page only when its whole document is on one page
    one_page = document.page_start if document.page_start == document.page_end else None
    return [
        Passage(
            id=f"{document.id}:{ordinal:04d}",
            doc_id=document.id,
            doc_title=document.title,
            doc_type=document.doc_type,
            source_file=document.source_file,
            page=piece.page if piece.page is not None else one_page,
            chapter=piece.chapter,
            section=piece.section,
            article=piece.article,
            article_no=piece.article_no,
            text=piece.text,
        )
        for ordinal, piece in enumerate(pieces)
        if piece.text.strip()
    ]


@dataclass(frozen=True)
class _Piece:
    text: str
    page: int | None
    chapter: str | None = None
    section: str | None = None
    article: str | None = None
    article_no: int | None = None


# ---------------------------------------------------------------- articles

_ITEM = re.compile(r"^(?:[（(][一二三四五六七八九十百]+[）)]|[0-9０-９]{1,2}[.、．]|[①-⑳])")
_Path = tuple[tuple[int, str], ...]  # (level, heading) from the top
_CAPTION = re.compile(r"^[表图]\s*[0-9０-９]+")  # 表1 …, 图2 …: captions, never section names


def _push(path: _Path, level: int, heading: str) -> _Path:
    """The path after a heading of ``level`` (0, a standalone 附则, closes every level)."""
    return tuple((lv, h) for lv, h in path if level > 0 and lv < level) + ((level, heading),)


def _path_label(path: _Path) -> str | None:
    return " > ".join(h for _, h in path) or None


def _heading_at(texts: list[str], i: int, chaptered: bool) -> tuple[int, str] | None:
    """(level, heading) when paragraph i is a heading of the hierarchy, else None."""
    text = texts[i]
    level = structure_level(text)
    if level is not None:
        return level, clean_heading(text)
    following = texts[i + 1] if i + 1 < len(texts) else None
    previous = texts[i - 1] if i else ""
    if (not chaptered and numbered_heading(text, following)
            and not previous.rstrip().endswith(("：", ":", "；", ";"))):
        return CHAPTER, compact(text)
    return None


def _article_pieces(paragraphs: list[Paragraph], starts: list[int], params: ChunkingParams):
    """Title note, preface, articles (under their path) and attachments, in reading order."""
    texts = [p.text for p in paragraphs]
    chaptered = any(structure_level(t) is not None for t in texts)
    contents = contents_span(texts[: starts[0]])
    skipped = set(range(*contents)) if contents else set()
    path: _Path = ()
    note: list[Paragraph] = []  # the legislative history (题注) and any preface text
    preface: list[Paragraph] = []  # under a 序言 heading
    in_preface = False
    for i in range(starts[0]):
        if i in skipped:
            continue
        heading = _heading_at(texts, i, chaptered)
        if heading:
            path, in_preface = _push(path, *heading), False
        elif is_preface_heading(texts[i]):
            in_preface = True
        else:
            (preface if in_preface else note).append(paragraphs[i])
    if note:
        yield from _sized(note, params, _Piece("", note[0].page, section="题注"))
    if preface:
        yield from _sized(preface, params, _Piece("", preface[0].page, section="序言"))
    end = next((j for j in range(starts[-1] + 1, len(texts)) if attachment_label(texts[j])),
               len(texts))
    for start, stop in zip(starts, starts[1:] + [end], strict=True):
        body, after = [paragraphs[start]], path
        for k in range(start + 1, stop):
            heading = _heading_at(texts, k, chaptered)
            if heading:  # a heading for the next article
                after = _push(after, *heading)
            else:
                body.append(paragraphs[k])
        label = article_label(body[0].text) or unspaced_article_label(body[0].text)
        assert label is not None  # article_run chose this paragraph by its label
        template = _Piece("", body[0].page, chapter=_path_label(path), article=label.label,
                          article_no=label.number)
        yield from _article_sized(body, params, template)
        path = after
    yield from _attachments(paragraphs[end:], params)


def _article_sized(body: list[Paragraph], params: ChunkingParams, template: _Piece):
    """An article in pieces under the cap; the pieces of a split article name their 款."""
    clause, numbers = 0, []
    for i, p in enumerate(body):
        clause += 1 if i == 0 or not _ITEM.match(p.text) else 0
        numbers.append(clause)
    groups = list(_groups(body, params))
    for group, first, last in groups:
        section = None
        if len(groups) > 1:
            a, b = numbers[first], numbers[last]
            section = f"第{int_to_chinese(a)}款" + (f"至第{int_to_chinese(b)}款" if b != a else "")
        yield _piece(group, replace(template, section=section))


def _attachments(paragraphs: list[Paragraph], params: ChunkingParams):
    """附件 and 附表 after the last article: one section each, named by its label and the
    title line under it; captions and table rows inside are text, never sections."""
    i = 0
    while i < len(paragraphs):
        label = attachment_label(paragraphs[i].text) or "附件"
        j = i + 1
        while j < len(paragraphs) and not attachment_label(paragraphs[j].text):
            j += 1
        group = paragraphs[i:j]
        title = group[1].text if len(group) > 1 else ""
        if (title and len(title) <= MAX_HEADING_CHARS and not re.search(r"[。；;，,]", title)
                and not _CAPTION.match(title) and not label.endswith(("：", ":"))):
            label = f"{label} {compact(title)}"
        yield from _sized(group, params, _Piece("", group[0].page, section=label))
        i = j


# ---------------------------------------------------------------- heading sections


def heading_level(text: str, in_level_one: bool) -> int | None:
    """The heading level of a paragraph that opens a section, or None for body text.

    >>> heading_level("一、总体要求", False), heading_level("(二)主要目标。到2025年", False)
    (1, 2)
    >>> heading_level("4.1 信息报告", False), heading_level("2023 年全省生产总值增长", False)
    (3, None)
    >>> heading_level("## **二、省教育厅**", False), heading_level("### 政协委员意见建议:", True)
    (1, 2)
    """
    markdown = _MARKDOWN.match(text)
    plain = _MARKDOWN.sub("", text).strip("* ")
    for level, pattern in _LEVEL_PATTERNS:
        found = pattern.match(plain)
        if found:
            if level == 3 and not _short_heading(plain):
                return None
            if level == 3 and "." in found.group(0):
                return 3 + found.group(0).count(".") - 1
            return level
    if markdown or (_SUBCAPTION.match(plain) and not _LIST_INTRO.search(plain)):
        return 2 if in_level_one else 1
    return None


def is_list_item(text: str, list_open: bool) -> bool:
    """An item of a list (（五）违约责任；), not a heading: one short clause, inside a list
    that a sentence opened (…包括下列条款：) or an earlier item kept open (…；).

    >>> is_list_item("（五）违约责任；", True), is_list_item("（二）合理确定劳动定额。坚持按劳分配。", True)
    (True, False)
    >>> is_list_item("（一）加强组织领导", False)
    False
    """
    body = text.rstrip()
    return (list_open and bool(_ITEM.match(body)) and len(body) <= 80
            and "。" not in body[:-1] and not re.search(r"[.!?！？]", body[:-1]))


def _opens_list(text: str, was_item: bool) -> bool:
    """Whether the paragraph after this one may be a list item."""
    body = text.rstrip()
    return body.endswith(("：", ":")) or (was_item and body.endswith(_ITEM_END))


def _short_heading(text: str) -> bool:
    return len(text) <= 24 and not re.search(r"[。；;，,]", text)


def heading_label(text: str) -> str:
    """The part of a heading paragraph that names the section.

    >>> heading_label("(一)煤炭清洁高效利用工程。坚持以煤炭和煤电")
    '(一)煤炭清洁高效利用工程'
    >>> heading_label("## **二、省教育厅**")
    '二、省教育厅'
    """
    plain = _MARKDOWN.sub("", text).strip("* ").rstrip(":：")
    head = re.split(r"[。；;]", plain, maxsplit=1)[0]
    return head if len(head) <= 40 else head[:40] + "…"


def _section_pieces(paragraphs: list[Paragraph], params: ChunkingParams):
    path: list[tuple[int, str]] = []  # (level, label) from the top
    pending: list[Paragraph] = []
    pending_path: str | None = None
    list_open = False
    for p in paragraphs:
        level = heading_level(p.text, any(lv == 1 for lv, _ in path))
        plain = _MARKDOWN.sub("", p.text).strip("* ")
        item = is_list_item(plain, list_open)
        if item:
            level = None
        list_open = _opens_list(plain, item)
        if level is not None:
            if pending and len("".join(x.text for x in pending)) >= params.min_chars:
                yield from _sized(pending, params, _Piece("", pending[0].page, section=pending_path))
                pending = []
            path = [(lv, lb) for lv, lb in path if lv < level] + [(level, heading_label(p.text))]
            pending_path = " > ".join(lb for _, lb in path)
        if level is None or not pending:
            pending_path = pending_path if pending else " > ".join(lb for _, lb in path) or None
        pending.append(Paragraph(_MARKDOWN.sub("", p.text).replace("**", ""), p.page, p.line))
    if pending:
        yield from _sized(pending, params, _Piece("", pending[0].page, section=pending_path))


# ---------------------------------------------------------------- sizing


def _groups(paragraphs: list[Paragraph], params: ChunkingParams):
    """Paragraphs grouped under the cap, a lone over-long paragraph split at sentences:
    (group, index of its first paragraph, index of its last)."""
    group: list[Paragraph] = []
    first = 0
    for i, p in enumerate(paragraphs):
        size = sum(len(x.text) + 1 for x in group)
        if group and size + len(p.text) > params.max_chars:
            yield group, first, i - 1
            group = []
        if len(p.text) > params.max_chars:
            for text in split_long_text(p.text, params):
                yield [Paragraph(text, p.page, p.line)], i, i
            continue
        if not group:
            first = i
        group.append(p)
    if group:
        yield group, first, len(paragraphs) - 1


def _sized(paragraphs: list[Paragraph], params: ChunkingParams, template: _Piece):
    """Group paragraphs into pieces under the cap; split a lone over-long paragraph."""
    for group, _, _ in _groups(paragraphs, params):
        yield _piece(group, template)


def _piece(group: list[Paragraph], template: _Piece) -> _Piece:
    return _Piece(
        "\n".join(x.text for x in group), group[0].page, template.chapter, template.section,
        template.article, template.article_no,
    )


def split_long_text(text: str, params: ChunkingParams) -> list[str]:
    """Split text over the cap at Chinese sentence boundaries, with a small overlap.

    >>> parts = split_long_text("甲乙丙丁。" * 200, ChunkingParams(max_chars=300, overlap_chars=20))
    >>> max(len(p) for p in parts) <= 300, "".join(parts).count("甲") >= 200
    (True, True)
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=params.max_chars,
        chunk_overlap=params.overlap_chars,
        separators=["\n", "。", "；", "！", "？", "，", "、", ""],
        keep_separator="end",
        length_function=len,
    )
    return [chunk.strip() for chunk in splitter.split_text(text) if chunk.strip()]
