"""Cleaning text extracted from PDF gazettes: page furniture, broken lines, punctuation.

Three separate jobs, all pure functions:

1. ``strip_page_furniture`` drops page footers (`—１—`, `- 12 -`), running headers and
   county page markers, and keeps the page number of every remaining line.
2. ``join_lines`` rebuilds paragraphs from lines broken mid-sentence, keeping real
   paragraph, item and heading breaks, also where OCR lost the space after a label
   (第六章附则, 第四十六条本办法…) but not at a reference that opens a line (第十二条规定的).
3. ``display_text`` makes text read as proper Chinese (`«»`→`《》`, `.`→`。` where it is
   sentence punctuation); ``search_text`` is the separate normalization for matching
   (NFKC and friends) that never reaches what a user sees.

Left out: OCR repair (the files are born-digital), de-hyphenation of English words,
and tables (kept as the lines they were extracted to).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.numerals import CHINESE_NUMERAL_CHARS


@dataclass(frozen=True)
class Line:
    """One line of a corpus file after page furniture is gone."""

    text: str
    page: int | None  # printed page number, when the file lets us know it
    number: int  # 1-based line number in the source file
    opens_page: bool = False  # the first line of a physical page
    table: bool = False  # a table row, cells joined by ``　``: a paragraph of its own


# ---------------------------------------------------------------- page furniture

_FULLWIDTH_DIGITS = "０１２３４５６７８９"
# —１— , —０１— (people's congress gazettes print pages digit-reversed), - 12 -
_FOOTER_DASH = re.compile(r"^\s*—\s*([0-9０-９]{1,4})\s*—\s*$")
_FOOTER_HYPHEN = re.compile(r"^\s*[-－]\s*([0-9０-９]{1,4})\s*[-－]\s*$")
# running headers: "　山西省人民代表大会常务委员会公报２０２３５　",
# "· 政府工作报告 · 1/2023 稷山县人民政府公报", "1/2023 稷山县人民政府公报 · 人事任免 ·"
_RUNNING_HEADER = re.compile(
    r"^\s*(?:山西省人民代表大会常务委员会公报\s*[0-9０-９]+"
    r"|(?:·[^·]{1,20}·\s*)?\d+/\d{4}\s*\S{2,12}公报(?:\s*·[^·]{1,20}·)?)\s*$"
)
# a page marker dropped into running text: "· 政府工作报告 · 1/2023 稷山县人民政府公报 - 12 -"
_INLINE_MARKER = re.compile(
    r"\s*(?:·[^·\n]{1,20}·\s*)?\d+/\d{4}\s*\S{2,12}公报(?:\s*·[^·\n]{1,20}·)?\s*-\s*\d+\s*-\s*"
)


def _digits(text: str) -> int:
    return int(unicodedata.normalize("NFKC", text))


def footer_page(line: str) -> int | None:
    """The page number a footer line prints, or None when the line is no footer.

    Em-dash footers come from the people's congress gazettes, whose extraction
    reverses multi-digit page numbers (`—０１—` is page 10).

    >>> footer_page("—１—"), footer_page("—０１—"), footer_page("—４０１—")
    (1, 10, 104)
    >>> footer_page("- 12 -"), footer_page("第一条　为了保护"), footer_page("4.1")
    (12, None, None)
    """
    if m := _FOOTER_DASH.match(line):
        return _digits(m.group(1)[::-1])
    if m := _FOOTER_HYPHEN.match(line):
        return _digits(m.group(1))
    return None


def is_running_header(line: str) -> bool:
    """True for a gazette's running header or page caption line.

    >>> is_running_header("　山西省人民代表大会常务委员会公报２０２３５　")
    True
    >>> is_running_header("· 政府工作报告 · 1/2023 稷山县人民政府公报")
    True
    >>> is_running_header("山西省人民代表大会常务委员会公告")
    False
    """
    return bool(_RUNNING_HEADER.match(line))


def strip_page_furniture(raw: str) -> list[Line]:
    """Split a file into non-blank lines, dropping footers and running headers.

    A line that starts with exactly one ASCII space, or a running header, opens a
    new page in these extractions; footers anchor the count to printed page numbers. Pages stay
    None in a file that prints no page numbers.

    >>> lines = strip_page_furniture("甲乙\\n\\n丙丁\\n—１—\\n 戊己\\n—２—\\n 庚")
    >>> [(x.text, x.page, x.number) for x in lines]
    [('甲乙', 1, 1), ('丙丁', 1, 3), ('戊己', 2, 5), ('庚', 3, 7)]
    """
    raw_lines = raw.splitlines()
    kept: list[tuple[int, str, int, bool]] = []  # (line number, text, page ordinal, opens)
    anchors: list[tuple[int, int]] = []  # (physical page ordinal, printed page)
    ordinal, opened = 0, True
    for number, text in enumerate(raw_lines, start=1):
        header = is_running_header(text)
        if header or (text.startswith(" ") and not text.startswith("  ") and number > 1):
            ordinal += 1  # a page opens with a one-space line or with a running header
            opened = True
        page = footer_page(text)
        if page is not None:
            anchors.append((ordinal, page))
            continue
        if header:
            continue
        text = _INLINE_MARKER.sub("", text)
        text = text.strip().replace("\u3000", "　")
        if text.strip("　 \t"):
            kept.append((number, text, ordinal, opened))
            opened = False
    return [Line(text, _printed_page(o, anchors), n, op) for n, text, o, op in kept]


def _printed_page(ordinal: int, anchors: list[tuple[int, int]]) -> int | None:
    """Printed page of a physical page, from the nearest footer anchor (prefer earlier)."""
    if not anchors:
        return None
    before = [a for a in anchors if a[0] <= ordinal]
    o, page = before[-1] if before else anchors[0]
    return max(1, page + ordinal - o)


# ---------------------------------------------------------------- structure markers

_CN = CHINESE_NUMERAL_CHARS
# the labels of the legal hierarchy, each followed by a space, a bracket or the line end;
# ``rag.ingest.structure`` reads the hierarchy with these same patterns
ARTICLE_RE = re.compile(rf"^第([{_CN}0-9０-９]+)条(?:之([{_CN}]+))?(?=[\s　【（(]|$)")  # 第三条之一
BOOK_RE = re.compile(rf"^第([{_CN}]+)编(?:[\s　]|$)")
PART_RE = re.compile(rf"^第([{_CN}]+)分编(?:[\s　]|$)")  # 分编 of a code
CHAPTER_RE = re.compile(rf"^第([{_CN}]+)章(?:[\s　]|$)")
SECTION_RE = re.compile(rf"^第([{_CN}]+)节(?:[\s　]|$)")
MAX_HEADING_CHARS = 30  # a heading paragraph is no longer than this
# OCR may drop the space after a label: 第六章附则, 第四十六条本办法……
MAX_UNSPACED_TITLE = 16
HEADING_LABEL = rf"第[{_CN}]+(?:分编|编|章|节)"  # the label of any level above the articles
_UNSPACED_HEADING = re.compile(rf"^({HEADING_LABEL})(\S.{{0,{MAX_UNSPACED_TITLE - 1}}})$")
# what follows a label that a sentence refers to (第十二条规定的, 第六章的, 第三条第二款,
# 第五条至第七条, 第二条、第三条), never the words an article or a title opens with
_REFERENCE_AFTER = r"规定|[的之所至和与及或、第，。；：,.;:！？!?）)”]"
UNSPACED_ARTICLE_RE = re.compile(
    rf"^第([{_CN}0-9０-９]+)条(?:之([{_CN}]+))?(?![\s　【（(]|$|{_REFERENCE_AFTER})")
_TITLE_STOPS = re.compile(rf"[，。；：,;:！？!?“”\"]|^(?:{_REFERENCE_AFTER})")


def unspaced_heading(text: str) -> tuple[str, str] | None:
    """(label, title) of a heading line whose space after 第N章 / 第N节 / 第N编 / 第N分编
    OCR dropped: the whole line, a short title (at most MAX_UNSPACED_TITLE characters)
    with no sentence punctuation, not opening the way a reference does (规定, 的, 第…).

    >>> unspaced_heading("第六章附则"), unspaced_heading("第二节一般规定")
    (('第六章', '附则'), ('第二节', '一般规定'))
    >>> unspaced_heading("第一编总则"), unspaced_heading("第三分编准合同")
    (('第一编', '总则'), ('第三分编', '准合同'))
    >>> unspaced_heading("第六章规定的情形，由县人民政府决定")  # a reference in a sentence
    >>> unspaced_heading("第六章的规定适用于"), unspaced_heading("第三章第二节规定")
    (None, None)
    >>> unspaced_heading("第二章决策草案的形成和公众参与程序及专家论证")  # too long a title
    >>> unspaced_heading("第六章　附则")  # spaced: CHAPTER_RE's
    """
    m = _UNSPACED_HEADING.match(text.strip())
    if not m or _TITLE_STOPS.search(m.group(2)):
        return None
    return m.group(1), m.group(2)


_HEADING_RES = (
    re.compile(rf"^[{_CN}]+、"),  # 一、
    re.compile(rf"^[（(][{_CN}]+[）)]"),  # (一) （一）
    re.compile(r"^[0-9０-９]{1,2}(?:\.[0-9]{1,2}){0,3}(?:[、．.]|\s|　)"),  # 1. 1、 4.1 4.1.2
    re.compile(r"^[（(][0-9０-９]{1,2}[）)]"),  # (1)
    re.compile(r"^[①-⑳]"),
    re.compile(r"^#{1,6}\s"),  # markdown heading
    re.compile(r"^[-*]\s"),  # markdown list item
    re.compile(r"^\*\*"),  # bold line
    re.compile(r"^附[件表][:：]?"),  # 附件, 附表
    re.compile(r"^——"),  # dateline / dash list
    re.compile(r"^(?:目[\s　]*录|序[\s　]*言|附[\s　]*则)$"),  # 目录, 序言, 附则 on a line of their own
    re.compile(r"^[0-9０-９]{4}\s*年\s*[0-9０-９]{1,2}\s*月\s*[0-9０-９]{1,2}\s*日$"),  # signature date
    re.compile(r"^[（(]此件"),  # status marker (此件公开发布)
)


def starts_block(text: str) -> bool:
    """True when a line opens a new block: an article, chapter, heading or item.

    >>> [starts_block(s) for s in ("第十二条　学校应当", "第二章　家庭保护", "一、总体要求")]
    [True, True, True]
    >>> [starts_block(s) for s in ("(三)保护隐私", "4.1 信息报告", "当按照各自职责")]
    [True, True, False]
    >>> starts_block("第十二条规定的")  # a reference inside a sentence, not an article
    False
    >>> [starts_block(s) for s in ("第三条之一　在", "第一分编　通则", "目　　录", "附则规定")]
    [True, True, True, False]
    >>> [starts_block(s) for s in ("第六章附则", "第二节一般规定", "第六章规定的情形，由")]
    [True, True, False]
    """
    text = text.lstrip("　 ")
    if (ARTICLE_RE.match(text) or CHAPTER_RE.match(text) or SECTION_RE.match(text)
            or BOOK_RE.match(text) or PART_RE.match(text) or unspaced_heading(text)):
        return True
    return any(p.match(text) for p in _HEADING_RES)


# ---------------------------------------------------------------- joining lines

_TERMINAL = "。.！!？?；;：:…"
_CLOSERS = "”’）)》»」』】"


def ends_sentence(text: str) -> bool:
    """True when a line ends a sentence (closing quotes and brackets looked through).

    >>> ends_sentence("制定本条例."), ends_sentence("应当符合下列要求:"), ends_sentence("保障未")
    (True, True, False)
    >>> ends_sentence("（此件公开发布）"), ends_sentence("“十四五”节能减排目标。”")
    (False, True)
    """
    stripped = text.rstrip(" 　")
    while stripped and stripped[-1] in _CLOSERS:
        if stripped[-1] in ")）" and not stripped.endswith(("。)", "。）", ".)", ".）")):
            break
        stripped = stripped[:-1]
    return bool(stripped) and stripped[-1] in _TERMINAL


def typical_width(lines: list[str]) -> int:
    """The usual length of a full line: the 80th percentile of line lengths.

    >>> typical_width(["一二三四五"] * 4 + ["一二"])
    5
    """
    if not lines:
        return 0
    lengths = sorted(len(x) for x in lines)
    return lengths[min(len(lengths) - 1, int(len(lengths) * 0.8))]


def join_paragraphs(lines: list[Line], width: int) -> list[Line]:
    """``join_lines`` for Lines: each paragraph keeps the page and number of its first line.
    A table row (``Line.table``) is a paragraph of its own, never joined to a neighbour.

    >>> [p.text for p in join_paragraphs([Line("第一条　为了", 1, 1), Line("保护.", 2, 3)], 8)]
    ['第一条　为了保护.']
    >>> rows = [Line("项目　金额", 1, 1, table=True), Line("办公经费　12", 1, 2, table=True)]
    >>> [p.text for p in join_paragraphs([Line("如下", 1, 0), *rows, Line("特此", 1, 3)], 8)]
    ['如下', '项目　金额', '办公经费　12', '特此']
    """
    paragraphs: list[Line] = []
    for line in lines:
        if paragraphs and not line.table and not paragraphs[-1].table \
                and not _keeps_break(paragraphs[-1].text, line.text, width):
            last = paragraphs[-1]
            paragraphs[-1] = Line(glue(last.text, line.text), last.page, last.number)
        else:
            paragraphs.append(Line(line.text, line.page, line.number, table=line.table))
    return paragraphs


def join_lines(lines: list[str], width: int | None = None) -> list[str]:
    """Rebuild paragraphs from hard-wrapped lines.

    A line break is kept when the next line opens a block (article, heading, item),
    or when the line ends a sentence before reaching the full line width, or when
    a short heading-like line stands alone. Otherwise the lines are one sentence
    broken by the PDF and are joined.

    >>> join_lines(["第一条　为了保护未成年人身心", "健康,制定本条例.", "第二条　本条例适用于"])
    ['第一条　为了保护未成年人身心健康,制定本条例.', '第二条　本条例适用于']
    >>> join_lines(["一、总体要求", "坚持稳中求进。"])
    ['一、总体要求', '坚持稳中求进。']
    """
    width = width or typical_width(lines)
    return [p.text for p in join_paragraphs([Line(t, None, i) for i, t in enumerate(lines)], width)]


def _last_line_length(paragraph: str, width: int) -> int:
    return len(paragraph) % width if width and len(paragraph) > width else len(paragraph)


def glued_article_opens(previous: str, line: str) -> bool:
    """Whether a line that opens with an article label OCR glued to its text
    (UNSPACED_ARTICLE_RE) opens a paragraph after ``previous``, whatever their widths:
    after a sentence's end or a heading. A reference (第十二条规定的) never does.

    >>> glued_article_opens("县人民政府负责。", "第四十六条本办法"), glued_article_opens("第六章附则", "第四十六条本办法")
    (True, True)
    >>> glued_article_opens("县人民政府负责。", "第十二条规定的情形"), glued_article_opens("县人民政府", "第四十六条本办法")
    (False, False)
    """
    return bool(UNSPACED_ARTICLE_RE.match(line)) and (ends_sentence(previous)
                                                       or _heading(previous))


_OPEN_ENDS = ("、", "，", ",", "（", "(", "《", "“", "‘")  # a sentence goes on after these


def _keeps_break(previous: str, line: str, width: int) -> bool:
    """Whether the break between a paragraph so far and the next line is a real one.

    An article whose label lost its space to OCR opens a paragraph after a sentence's end,
    even a full-width line's, after a heading, and after a line short of the full width
    (a paragraph's last, its full stop lost to OCR too); a reference such as 第十二条规定的
    never does (see UNSPACED_ARTICLE_RE):

    >>> _keeps_break("一二三四五六七八九十一二三四五六七。", "第四十六条本办法自公布", 18)
    True
    >>> _keeps_break("第六章附则", "第四十六条本办法自公布", 18)
    True
    >>> _keeps_break("一二三四五六七八九十一二三四五六七。", "第十二条规定的情形，由", 18)
    False
    >>> _keeps_break("一二三四五六七八九十一二三四五六七八", "第四十六条本办法自公布", 18)
    False
    >>> _keeps_break("依法追究刑事责任", "第四十六条本办法自公布", 18)
    True
    >>> _keeps_break("依法追究刑事责任", "第十二条规定的情形", 18)
    False
    >>> _keeps_break("第九条、", "第十条删除了对重点用能单位", 18)  # a list of references
    False

    A heading that lost its space opens a paragraph when it is short of the full width;
    a full-width line that opens with 第N章 is a wrapped sentence going on:

    >>> _keeps_break("县人民政府负责。", "第六章附则", 18)
    True
    >>> _keeps_break("依照本办法", "第三章明确的事项由县人民政", 14)
    False
    """
    if starts_block(line) and not (unspaced_heading(line) and _full_width(line, width)):
        return True
    short = _last_line_length(previous, width) < width - 1
    if glued_article_opens(previous, line) or (
            short and UNSPACED_ARTICLE_RE.match(line)
            and not previous.rstrip(" 　").endswith(_OPEN_ENDS)):
        return True
    if ends_sentence(previous) and short:
        return True
    heading_like = starts_block(previous) and not ARTICLE_RE.match(previous)
    heading_like = heading_like and not ends_sentence(previous)
    return heading_like and len(previous) <= max(6, width * 0.6)


def _full_width(line: str, width: int) -> bool:
    """A line as long as the text's full lines (one character of slack): a wrapped one."""
    return width >= 12 and len(line.strip()) >= width - 1


def _heading(text: str) -> bool:
    """A chapter, section or book heading line, spaced or not, or a standalone 附则."""
    if len(text) > MAX_HEADING_CHARS or ends_sentence(text):
        return False
    return bool(CHAPTER_RE.match(text) or SECTION_RE.match(text) or BOOK_RE.match(text)
                or PART_RE.match(text) or unspaced_heading(text)
                or re.fullmatch(r"附[\s　]*则", text))


def glue(left: str, right: str) -> str:
    """Two pieces of one wrapped line as one: joined directly, with a space between Latin
    words.

    >>> glue("业务", "培训"), glue("Environmental", "Impact")
    ('业务培训', 'Environmental Impact')
    """
    if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() and right[:1].isalpha():
        return f"{left} {right}"
    return left + right


