"""DOCX (Word 2007+) with python-docx: the body's paragraphs and tables in order.

- Headings (styles ``Title``, ``Heading 1``…) come out as markdown headings (``# …``),
  a paragraph in bold throughout as ``**…**``: the marks the gazette text files use.
- Automatically numbered paragraphs get their printed number back (``1.``, ``一、``,
  ``(一)``, ``第一条　``) from the numbering definitions, counted per list and level.
- A table comes out one line per row, cells separated by ``　`` (a merged cell once),
  so a row is never split into one cell per line.
- Page breaks (explicit, ``page break before``, and the breaks Word records where it
  last laid out a page) start a new page; a file without any is one unpaged page.

Left out: headers and footers (page furniture), footnotes, comments, text boxes,
tracked changes (the text as it stands is read), images (no OCR inside DOCX).
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from rag.errors import DocumentReadError
from rag.ingest.readers.base import TEXT, Extracted, PageText, PlacedLine, fold_compatibility

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 40 → 四十, 105 → 一百零五.

    >>> [chinese_number(n) for n in (1, 10, 12, 40, 99, 105, 120)]
    ['一', '十', '十二', '四十', '九十九', '一百零五', '一百二十']
    """
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n - 10] if n > 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    rest = n % 100
    tail = "" if rest == 0 else ("零" + chinese_number(rest) if rest < 10
                                 else (("一" if rest < 20 else "") + chinese_number(rest)))
    return _CN_DIGITS[n // 100] + "百" + tail


def format_number(fmt: str, n: int) -> str:
    """One level's counter in a numbering format.

    >>> format_number("decimal", 3), format_number("chineseCounting", 12)
    ('3', '十二')
    >>> format_number("lowerLetter", 2), format_number("decimalEnclosedCircle", 3)
    ('b', '③')
    """
    if fmt in ("chineseCounting", "chineseCountingThousand", "ideographTraditional",
               "taiwaneseCounting", "ideographDigital", "japaneseCounting"):
        return chinese_number(n)
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "bullet":
        return ""
    return str(n)


class _Numbering:
    """Counters for automatically numbered paragraphs."""

    def __init__(self, part: Any):
        self.levels: dict[tuple[str, int], tuple[str, str, int]] = {}  # (numId, ilvl) -> fmt
        self.counters: dict[tuple[str, int], int] = {}
        if part is None:
            return
        root = part.element
        abstract: dict[str, dict[int, tuple[str, str, int]]] = {}
        for a in root.iter(f"{_W}abstractNum"):
            levels: dict[int, tuple[str, str, int]] = {}
            for lvl in a.iter(f"{_W}lvl"):
                ilvl = int(lvl.get(f"{_W}ilvl"))
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                start = lvl.find(f"{_W}start")
                levels[ilvl] = (fmt.get(f"{_W}val") if fmt is not None else "decimal",
                                text.get(f"{_W}val") if text is not None else f"%{ilvl + 1}.",
                                int(start.get(f"{_W}val")) if start is not None else 1)
            abstract[a.get(f"{_W}abstractNumId")] = levels
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is None:
                continue
            for ilvl, level in abstract.get(ref.get(f"{_W}val"), {}).items():
                self.levels[(num.get(f"{_W}numId"), ilvl)] = level

    def label(self, num_id: str, ilvl: int) -> str:
        key = (num_id, ilvl)
        if key not in self.levels:
            return ""
        fmt, text, start = self.levels[key]
        self.counters[key] = self.counters.get(key, start - 1) + 1
        for (other, level) in list(self.counters):  # deeper levels restart
            if other == num_id and level > ilvl:
                del self.counters[(other, level)]

        def level_value(m: re.Match) -> str:
            level = int(m.group(1)) - 1
            lfmt = self.levels.get((num_id, level), (fmt, "", start))[0]
            value = self.counters.get((num_id, level), self.levels.get((num_id, level),
                                                                       (0, 0, 1))[2])
            return format_number(lfmt, value)

        label = re.sub(r"%(\d)", level_value, text)
        if not label or fmt == "bullet":
            return ""
        return label if label.endswith(("、", ".", "．", "）", ")", "　")) else label + "　"


def read(name: str, data: bytes, progress=None) -> Extracted:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentReadError(
            f"{name}: not a readable DOCX file, damaged or truncated ({exc}); save it again "
            "from Word (a .doc file: save it as .docx)"
        ) from exc
    try:
        numbering = _Numbering(document.part.numbering_part)
    except (KeyError, NotImplementedError):
        numbering = _Numbering(None)
    styles = {style.style_id: style.name or "" for style in document.styles}
    style_numbers = _style_numbering(document)
    pages: list[list[PlacedLine]] = [[]]
    breaks = 0
    for block in document.element.body.iterchildren():
        if block.tag == f"{_W}p":
            from docx.text.paragraph import Paragraph

            paragraph = Paragraph(block, document)
            if _breaks_before(block) and pages[-1]:
                pages.append([])
                breaks += 1
            text = _paragraph_text(paragraph, numbering, styles, style_numbers)
            if text:
                pages[-1].append(PlacedLine(fold_compatibility(text)))
            if _breaks_after(block):
                pages.append([])
                breaks += 1
        elif block.tag == f"{_W}tbl":
            from docx.table import Table

            pages[-1].extend(PlacedLine(fold_compatibility(t), table=True)
                             for t in table_rows(Table(block, document)))
    result = tuple(
        PageText(i, None, tuple(lines), TEXT)
        for i, lines in enumerate(p for p in pages if p)
    )
    if progress:
        progress(len(result), len(result), TEXT)
    return Extracted(name, "docx", result, paged=breaks > 0)


def _breaks_before(p) -> bool:
    ppr = p.find(f"{_W}pPr")
    if ppr is not None and ppr.find(f"{_W}pageBreakBefore") is not None:
        return ppr.find(f"{_W}pageBreakBefore").get(f"{_W}val", "true") not in ("0", "false")
    first_run = p.find(f"{_W}r")
    return first_run is not None and first_run.find(f"{_W}lastRenderedPageBreak") is not None


def _breaks_after(p) -> bool:
    return any(br.get(f"{_W}type") == "page" for br in p.iter(f"{_W}br"))


def _style_numbering(document) -> dict[str, tuple[str, int]]:
    """Style id -> (numId, level) for styles that number their paragraphs (List Number)."""
    found: dict[str, tuple[str, int]] = {}
    parents: dict[str, str] = {}
    for style in document.styles.element.iter(f"{_W}style"):
        style_id = style.get(f"{_W}styleId")
        based = style.find(f"{_W}basedOn")
        if based is not None:
            parents[style_id] = based.get(f"{_W}val")
        num = style.find(f"{_W}pPr/{_W}numPr")
        if num is not None and num.find(f"{_W}numId") is not None:
            level = num.find(f"{_W}ilvl")
            found[style_id] = (num.find(f"{_W}numId").get(f"{_W}val"),
                               int(level.get(f"{_W}val")) if level is not None else 0)
    for style_id in list(parents):
        chain, current = 0, style_id
        while current not in found and current in parents and chain < 10:
            current, chain = parents[current], chain + 1
        if current in found:
            found.setdefault(style_id, found[current])
    return found


def _paragraph_text(paragraph, numbering: _Numbering, styles: dict[str, str],
                    style_numbers: dict[str, tuple[str, int]]) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    ppr = paragraph._p.pPr
    style_id = ppr.pStyle.val if ppr is not None and ppr.pStyle is not None else ""
    style = styles.get(style_id, "")
    label = ""
    if ppr is not None and ppr.numPr is not None and ppr.numPr.numId is not None:
        ilvl = ppr.numPr.ilvl.val if ppr.numPr.ilvl is not None else 0
        label = numbering.label(str(ppr.numPr.numId.val), int(ilvl))
    elif style_id in style_numbers:
        label = numbering.label(*style_numbers[style_id])
    text = label + text
    if m := re.match(r"^Heading (\d)$", style):
        return "#" * min(int(m.group(1)), 6) + " " + text
    if style == "Title":
        return "# " + text
    runs = [r for r in paragraph.runs if r.text.strip()]
    if runs and all(r.bold for r in runs):
        return f"**{text}**"
    return text


def table_rows(table) -> list[str]:
    """One line per row: the cells' text joined by ``　``, merged cells once."""
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(p.text.strip() for p in cell.paragraphs if p.text.strip()))
        if any(cells):
            rows.append("　".join(c for c in cells))
    return rows
