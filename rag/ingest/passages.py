"""Split documents into cited passages: one per article, or one per heading section.

- Article-structured documents (条例、办法、细则、规则、规定): one passage per article
  (第X条), carrying its chapter and section (第二章 家庭保护 / 第一节 …), the label as
  printed and its number. Articles are accepted only in sequence (第一条, 第二条, …),
  so article numbers quoted inside the text never become articles. An article over
  the size cap is split at its paragraphs or items, every piece keeping the label.
- Other documents: passages follow the heading hierarchy (一、 （一） 1. 4.1.2 and
  markdown headings), each carrying its heading path; a section over the cap is split
  with langchain-text-splitters on Chinese separators, with a small overlap.

Left out: tables (kept as text lines) and cross-references between articles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.ingest.clean import ARTICLE_RE, CHAPTER_RE, SECTION_RE
from rag.numerals import chinese_to_int
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


def split_passages(document: Document, params: ChunkingParams = ChunkingParams()) -> list[Passage]:
    """All passages of one document, in reading order, with stable ids."""
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    if document.doc_type == "regulation" and _article_starts(paragraphs):
        pieces = list(_article_pieces(paragraphs, params))
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


def _article_starts(paragraphs: list[Paragraph]) -> list[int]:
    """Indexes of paragraphs that open articles 第一条, 第二条, … strictly in sequence."""
    starts, expected = [], 1
    for i, p in enumerate(paragraphs):
        m = ARTICLE_RE.match(p.text)
        if m and chinese_to_int(m.group(1)) == expected:
            starts.append(i)
            expected += 1
    return starts


def _article_pieces(paragraphs: list[Paragraph], params: ChunkingParams):
    starts = _article_starts(paragraphs)
    preamble = [p for p in paragraphs[: starts[0]] if not _heading_of_structure(p.text)]
    if preamble:  # the legislative history (题注) and any preface
        yield from _sized(preamble, params, _Piece("", preamble[0].page, section="题注"))
    chapter = section = None
    for p in paragraphs[: starts[0]]:
        chapter, section = _structure(p.text, chapter, section)
    bounds = starts[1:] + [len(paragraphs)]
    for start, end in zip(starts, bounds, strict=True):
        body, after = [], (chapter, section)
        for p in paragraphs[start:end]:
            if _heading_of_structure(p.text):  # a heading for the next article
                after = _structure(p.text, *after)
            else:
                body.append(p)
        m = ARTICLE_RE.match(body[0].text)
        assert m is not None  # _article_starts chose this paragraph by ARTICLE_RE
        template = _Piece(
            "", body[0].page, chapter=_join(chapter, section), article=m.group(0),
            article_no=chinese_to_int(m.group(1)),
        )
        yield from _sized(body, params, template)
        chapter, section = after


def _structure(text: str, chapter: str | None, section: str | None):
    """Chapter (章) and section (节) in force after a paragraph."""
    if CHAPTER_RE.match(text) and len(text) <= 30:
        return _clean_heading(text), None
    if SECTION_RE.match(text) and len(text) <= 30:
        return chapter, _clean_heading(text)
    return chapter, section


def _heading_of_structure(text: str) -> bool:
    return bool(CHAPTER_RE.match(text) or SECTION_RE.match(text)) and len(text) <= 30


def _clean_heading(text: str) -> str:
    """第一章　总　则 → 第一章 总则.

    >>> _clean_heading("第一章　总　则"), _clean_heading("第二章　家庭保护")
    ('第一章 总则', '第二章 家庭保护')
    """
    m = re.match(r"^(第\S+?[章节])[\s　]*(.*)$", text)
    if not m:
        return text
    name = re.sub(r"[\s　]+", "", m.group(2))
    return f"{m.group(1)} {name}".strip()


def _join(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return " > ".join(kept) if kept else None


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
    if markdown or _SUBCAPTION.match(plain):
        return 2 if in_level_one else 1
    return None


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
    for p in paragraphs:
        level = heading_level(p.text, any(lv == 1 for lv, _ in path))
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


def _sized(paragraphs: list[Paragraph], params: ChunkingParams, template: _Piece):
    """Group paragraphs into pieces under the cap; split a lone over-long paragraph."""
    group: list[Paragraph] = []
    for p in paragraphs:
        size = sum(len(x.text) + 1 for x in group)
        if group and size + len(p.text) > params.max_chars:
            yield _piece(group, template)
            group = []
        if len(p.text) > params.max_chars:
            for text in split_long_text(p.text, params):
                yield _piece([Paragraph(text, p.page, p.line)], template)
            continue
        group.append(p)
    if group:
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
