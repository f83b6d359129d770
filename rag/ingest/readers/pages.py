"""From pages to the cleaning path's lines: running headers, footers and page numbers
removed by where they stand and how they repeat, pages numbered as printed.

A line is page furniture when it stands at a page's edge (among the first or last two
lines, and, where the reader knows the geometry, in the top or bottom eighth of the
page) and either prints a bare page number (``—１２—``, ``- 12 -``, ``第3页``, ``3/40``)
or repeats, digits aside, at the edge of at least a third of the pages (nearly the
same text counts: OCR misreads a character now and then). Body text that happens to
sit at an edge is kept because it does not repeat.

On a page set in justified paragraphs (at least ``JUSTIFIED_SHARE`` of its lines end
at the right margin), a line that ends at the margin continues on the next line
unless that one opens a block (an article, a heading, an item): the two are one line,
as a paragraph is in the gazettes' text files. Without this, the last piece of a
wrapped paragraph reads like a title line. A table row (``PlacedLine.table``) is never
joined to the lines around it and stays a table row (``Line.table``).

Each kept line gets the page's printed number: the PDF's page label when numeric,
else the page number printed in its furniture, else its position in the file; files
without pages (HTML, a DOCX without page breaks) give None.

Left out: furniture at the left or right margin (vertical captions), watermarks.
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata

from rag.ingest.clean import (
    Line,
    glued_article_opens,
    starts_block,
    strip_page_furniture,
    unspaced_heading,
)
from rag.ingest.readers.base import Extracted, PageText

EDGE_LINES = 2  # lines at each end of a page that may be furniture
EDGE_BAND = 0.125  # fraction of the page height at the top and the bottom
REPEAT_SHARE = 1 / 3  # furniture repeats at the edge of this share of the pages
JUSTIFIED_SHARE = 0.4  # a page whose lines end at the margin this often is justified
MARGIN_SLACK = 0.025  # of the page width: a line ending this close to the margin is full

_NUMBER_PATTERNS = (
    re.compile(r"^[-—–―一_·•~\s]*(\d{1,4})[-—–―一_·•~\s]*$"),
    re.compile(r"^第\s*(\d{1,4})\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?$"),
    re.compile(r"^(\d{1,4})\s*/\s*\d{1,4}$"),
)


def page_number(text: str) -> int | None:
    """The page number a line prints alone, or None.

    >>> [page_number(t) for t in ("—１２—", "- 12 -", "第3页", "3/40", "一2一", "12")]
    [12, 12, 3, 3, 2, 12]
    >>> page_number("第十二条"), page_number("2023年"), page_number("4.1 信息报告")
    (None, None, None)
    """
    text = unicodedata.normalize("NFKC", text).strip()
    for pattern in _NUMBER_PATTERNS:
        if m := pattern.match(text):
            return int(m.group(1))
    return None


def furniture_key(text: str) -> str:
    """A line with digits and spaces folded: the same header on every page is one key.

    >>> furniture_key("山西省人民政府公报　2022年第12期") == furniture_key("山西省人民政府公报 2022年第1期")
    True
    """
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def _edge(page: PageText, i: int) -> bool:
    n = len(page.lines)
    if EDGE_LINES <= i < n - EDGE_LINES:
        return False
    line = page.lines[i]
    if line.top is None or line.bottom is None:
        return True
    return line.top < EDGE_BAND or line.bottom > 1 - EDGE_BAND


def find_furniture(pages: tuple[PageText, ...]) -> dict[tuple[int, int], int | None]:
    """(page index, line index) of each furniture line, with the page number it prints."""
    geometric = [p for p in pages if p.lines and p.lines[0].top is not None]
    if not geometric:
        return {}  # DOCX and HTML: headers and footers are not in the body
    counts: dict[str, int] = {}
    for page in geometric:
        keys = {furniture_key(x.text) for i, x in enumerate(page.lines) if _edge(page, i)}
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    threshold = max(3, math.ceil(REPEAT_SHARE * len(geometric)))
    frequent = [k for k, c in counts.items() if c >= threshold and len(k) >= 2]
    found: dict[tuple[int, int], int | None] = {}
    for page in geometric:
        for i, line in enumerate(page.lines):
            if not _edge(page, i):
                continue
            number = page_number(line.text)
            key = furniture_key(line.text)
            if number is not None or key in frequent or any(
                    difflib.SequenceMatcher(None, key, k).ratio() >= 0.85 for k in frequent):
                found[(page.index, i)] = number
    return found


def to_lines(extracted: Extracted) -> list[Line]:
    """The lines the cleaning path reads: furniture gone, printed page numbers on."""
    if extracted.text is not None:
        return strip_page_furniture(extracted.text)
    furniture = find_furniture(extracted.pages)
    lines: list[Line] = []
    tables: set[int] = set()  # numbers of the lines that are table rows
    number = 0
    for page in extracted.pages:
        printed = [n for (p, _), n in furniture.items() if p == page.index and n is not None]
        label = page.label if page.label and page.label.isdigit() else None
        if label is not None:
            page_no: int | None = int(label)
        elif printed:
            page_no = printed[-1]
        else:
            page_no = page.index + 1 if extracted.paged else None
        kept = []
        for i, line in enumerate(page.lines):
            number += 1
            if (page.index, i) not in furniture and line.text.strip():
                right = None if line.table else line.right
                kept.append((line.text.strip().replace("\u3000", "　"), number, right))
                if line.table:
                    tables.add(number)
        opens = extracted.paged
        for text, n in reflow(kept):
            lines.append(Line(text, page_no, n, opens, table=n in tables))
            opens = False
    return lines


def _opens_block(previous: str, text: str, full: bool) -> bool:
    """Whether ``text`` opens a block after the (full) line ``previous``: as
    ``starts_block`` says, but a heading that lost its space to OCR (第六章附则) only when
    its line is short of the margin, and an article label glued to its text (第四十六条本办法)
    after a sentence's end (``glued_article_opens``).

    >>> _opens_block("依照本办法", "第三章明确的事项由县人民政府", True)
    False
    >>> _opens_block("县人民政府负责。", "第六章附则", False), _opens_block("负责。", "第五条本办法", True)
    (True, True)
    """
    if unspaced_heading(text):
        return not full
    return starts_block(text) or glued_article_opens(previous, text)


def reflow(kept: list[tuple[str, int, float | None]]) -> list[tuple[str, int]]:
    """Lines of one page with justified paragraphs joined (see the module docstring).

    >>> full, short = 0.9, 0.5
    >>> reflow([("一二三", 1, full), ("四五。", 2, short), ("第二条　六七", 3, full),
    ...         ("八", 4, short), ("九十", 5, full), ("第三条　甲", 6, full)])
    [('一二三四五。', 1), ('第二条　六七八', 3), ('九十', 5), ('第三条　甲', 6)]
    >>> reflow([("一二三", 1, 0.9), ("四五", 2, 0.5), ("六七", 3, 0.5)])
    [('一二三', 1), ('四五', 2), ('六七', 3)]

    A line without a right end (a table row) is never joined, to either side:

    >>> reflow([("一二三", 1, full), ("甲　乙", 2, None), ("四", 3, full), ("五六", 4, full),
    ...         ("七", 5, full), ("八", 6, short)])
    [('一二三', 1), ('甲　乙', 2), ('四五六七八', 3)]
    """
    rights = [r for _, _, r in kept if r is not None]
    if len(rights) < 5:
        return [(t, n) for t, n, _ in kept]
    margin = max(rights)
    full = [r is not None and r >= margin - MARGIN_SLACK for _, _, r in kept]
    if sum(full) < JUSTIFIED_SHARE * len(kept):
        return [(t, n) for t, n, _ in kept]
    out: list[tuple[str, int]] = []
    joining = False
    for (text, n, right), is_full in zip(kept, full, strict=True):
        if joining and right is not None and not _opens_block(out[-1][0], text, is_full):
            out[-1] = (out[-1][0] + text, out[-1][1])
        else:
            out.append((text, n))
        joining = is_full
    return out
