"""PDF: the text layer read with PDFium (pypdfium2), page by page; pages without a
usable text layer read by OCR.

Per page the decision is recorded in ``PageText.method`` and ``reason``: ``text``
when the text layer holds readable text; ``ocr`` when it is missing (a scan) or
garbage (mostly unmapped glyphs, private-use or replacement characters); ``none``
when OCR is not installed or found nothing. PDFium was measured against pdfplumber
and pypdf on generated gazette pages (``python -m benchmarks.run --only readers``):
same reading order, many times faster.

Lines are rebuilt from PDFium's text rectangles: rectangles on one baseline are one
line, left to right. Kangxi radicals that some fonts map characters to are folded
to the ideographs they stand for. The printed page label comes from the PDF's
/PageLabels when it has them.

Tables come out one row a line, cells joined by ``　`` (as the DOCX and web page
readers give them), marked ``PlacedLine.table`` so that cleaning never joins a row to
its neighbours:

- ruled tables (``find_tables``): ruling lines and rectangles that meet make a grid;
  each cell's text is what PDFium finds inside it, its wrapped lines joined within the
  cell, so a wrapped cell never becomes lines of its own; a row missing a column border
  (a cell merged across columns) gives that cell once;
- borderless tables (``aligned_rows``): at least three consecutive lines of three or
  more pieces standing apart, their edges lined up with the line before (left-aligned
  text or right-aligned numbers).

Left out: multi-column reading order, rotated pages' text direction, form fields,
annotations, attachments; pages are kept one at a time (memory stays bounded for a
500-page file). In tables: cells merged across rows (their text lands in one row, the
other rows get an empty cell), rotated tables, a row broken over a page break (its two
parts are two rows), nested tables, a cell holding ``　`` itself (it reads as two
cells), borderless tables with wrapped cells (the continuation line ends the run:
short runs stay prose lines) or with only two columns (a label and its text look the
same), tables drawn as images, header rows repeated on each page (kept, once a page).
"""

from __future__ import annotations

import functools
import re
import unicodedata

from rag.errors import DocumentReadError
from rag.ingest.clean import glue
from rag.ingest.readers import ocr
from rag.ingest.readers.base import NONE, OCR, TEXT, Extracted, PageText, PlacedLine
from rag.ingest.readers.base import fold_compatibility as _fold

MIN_TEXT_CHARS = 8  # fewer non-space characters than this: no text layer


def read(name: str, data: bytes, use_ocr: bool = True, progress=None,
         ocr_cache=None) -> Extracted:
    """``ocr_cache``: the folder OCR keeps pages' lines in (``ocr.ocr_image``)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise DocumentReadError(_load_error(name, data, str(exc))) from exc
    try:
        count = len(document)
        if count == 0:
            raise DocumentReadError(f"{name}: the PDF has no pages; export it again from "
                                    "its source")
        pages = []
        for index in range(count):
            page = document[index]
            try:
                pages.append(_read_page(document, page, index, use_ocr, ocr_cache))
            finally:
                page.close()
            if progress:
                progress(index + 1, count, pages[-1].method)
    finally:
        document.close()
    return Extracted(name, "pdf", tuple(pages))


def _load_error(name: str, data: bytes, detail: str) -> str:
    """Why PDFium refused a file, from the file itself (PDFium's last-error code is
    process-wide, so a previous failure can show through).

    >>> _load_error("a.pdf", b"%PDF-1.3 <</Type /Pages /Count 0 /Kids []>>", "")
    'a.pdf: the PDF has no pages; export it again from its source'
    """
    if re.search(rb"/Encrypt\s*\d+\s+\d+\s+R|/Encrypt\s*<<", data):
        return (f"{name}: the PDF is encrypted (password-protected); save a copy without a "
                "password (print to PDF) and add that")
    if re.search(rb"/Count\s+0\b", data) and not re.search(rb"/Type\s*/Page(?!s)", data):
        return f"{name}: the PDF has no pages; export it again from its source"
    return (f"{name}: not a readable PDF, damaged or truncated ({detail}); download or "
            "export it again")


def _read_page(document, page, index: int, use_ocr: bool, ocr_cache=None) -> PageText:
    label = _label(document, index)
    lines = text_lines(page)
    method, reason = judge("".join(x.text for x in lines))
    if method == TEXT:
        return PageText(index, label, lines, TEXT, "")
    if not use_ocr:
        return PageText(index, label, lines, NONE, f"{reason}; OCR switched off")
    if not ocr.available():
        return PageText(index, label, (), NONE, f"{reason}; {ocr.INSTALL_HINT}")
    chosen = ocr.settings()
    image = page.render(scale=chosen.dpi / 72, grayscale=True).to_pil()
    found = ocr.ocr_image(image, cache=ocr_cache, chosen=chosen)
    if not found:
        return PageText(index, label, (), NONE, f"{reason}; OCR found no text")
    return PageText(index, label, found, OCR, reason)


def _label(document, index: int) -> str | None:
    try:
        label = document.get_page_label(index)
    except Exception:  # a malformed /PageLabels tree: no label
        return None
    return label or None


def text_lines(page) -> tuple[PlacedLine, ...]:
    """The text layer of a page as lines, top to bottom; a ruled table's rows as one
    line each (``table_rows``)."""
    textpage = page.get_textpage()
    height = page.get_height() or 1.0
    width = page.get_width() or 1.0
    pieces = []
    try:
        tables = find_tables(*_rulings(page))
        rows = [r for t in tables for r in _table_lines(textpage, t, width, height)]
        for i in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(i)
            if any(_inside(t, (left + right) / 2, (bottom + top) / 2) for t in tables):
                continue
            text = textpage.get_text_bounded(left, bottom, right, top)
            text = text.replace("\r", "").replace("\n", "")
            if text.strip():
                pieces.append(((height - top) / height, (height - bottom) / height, left, right,
                               text))
    finally:
        textpage.close()
    grouped = group_rows_plain(pieces)
    cells = [_spans(members, CELL_GAP * (bottom - top) * height)
             for top, bottom, members in grouped]
    aligned = aligned_rows([[(left, right) for left, right, _ in row] for row in cells])
    lines = [PlacedLine(_fold("　".join(c[2].strip() for c in cells[i]) if i in aligned
                              else t).strip(), top, bottom, right / width, table=i in aligned)
             for i, (top, bottom, right, t) in enumerate(_join_rows(grouped, height))]
    return tuple(sorted(lines + rows, key=lambda x: (x.top or 0.0, x.bottom or 0.0)))


# ---------------------------------------------------------------- ruled tables

RULE_THICKNESS = 2.0  # points: a path thinner than this is a ruling line
RULE_SLACK = 2.0  # points: rulings this close meet, or are one
MAX_RULINGS = 2000  # a page drawn with more paths than this is a drawing, not a table


def _rulings(page) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """The page's horizontal (y, x0, x1) and vertical (x, y0, y1) ruling segments, in PDF
    points (y up): thin paths, and the four edges of each rectangle drawn."""
    import pypdfium2.raw as raw

    across: list[tuple[float, float, float]] = []
    down: list[tuple[float, float, float]] = []
    for count, obj in enumerate(page.get_objects(filter=[raw.FPDF_PAGEOBJ_PATH])):
        if count > MAX_RULINGS:
            return [], []
        left, bottom, right, top = obj.get_bounds()
        w, h = right - left, top - bottom
        if h <= RULE_THICKNESS and w > 3 * RULE_THICKNESS:
            across.append(((bottom + top) / 2, left, right))
        elif w <= RULE_THICKNESS and h > 3 * RULE_THICKNESS:
            down.append(((left + right) / 2, bottom, top))
        elif w > 3 * RULE_THICKNESS and h > 3 * RULE_THICKNESS:
            across += [(bottom, left, right), (top, left, right)]
            down += [(left, bottom, top), (right, bottom, top)]
    return across, down


Table = tuple[tuple[float, float, float, float], list[tuple[float, float, list[float]]]]


def find_tables(across: list[tuple[float, float, float]],
                down: list[tuple[float, float, float]]) -> list[Table]:
    """Ruled tables from ruling segments (PDF points, y up): each as its box (left,
    bottom, right, top) and its rows top to bottom, a row as (top, bottom, the x of each
    column border that crosses it). A table is a set of rulings that meet, with at least
    two horizontal and three vertical ones; a row with fewer than two cells is still a
    row (a merged cell), a table without any row of two cells is a frame, not a table.

    >>> grid = find_tables([(100, 0, 200), (80, 0, 200), (60, 0, 200), (300, 0, 200)],
    ...                    [(0, 60, 100), (120, 60, 100), (200, 60, 100)])
    >>> [(box, [(t, b, xs) for t, b, xs in rows]) for box, rows in grid]
    [((0, 60, 200, 100), [(100, 80, [0, 120, 200]), (80, 60, [0, 120, 200])])]
    >>> find_tables([(100, 0, 200), (60, 0, 200)], [(0, 60, 100), (200, 60, 100)])  # a frame
    []
    """
    segments = [("h", *s) for s in across] + [("v", *s) for s in down]
    parent = list(range(len(segments)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (kind, a, lo, hi) in enumerate(segments):
        if kind != "h":
            continue
        for j, (other, x, y0, y1) in enumerate(segments):
            if other == "v" and lo - RULE_SLACK <= x <= hi + RULE_SLACK \
                    and y0 - RULE_SLACK <= a <= y1 + RULE_SLACK:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(segments)):
        groups.setdefault(root(i), []).append(i)
    tables = []
    for members in sorted(groups.values()):
        hs = [segments[i][1:] for i in members if segments[i][0] == "h"]
        vs = [segments[i][1:] for i in members if segments[i][0] == "v"]
        if len(hs) < 2 or len(vs) < 3:
            continue
        ys = _merge(sorted((y for y, _, _ in hs), reverse=True))
        rows = []
        for top, bottom in zip(ys, ys[1:], strict=False):
            middle = (top + bottom) / 2
            xs = _merge(sorted(x for x, y0, y1 in vs if y0 < middle < y1))
            rows.append((top, bottom, xs))
        if not any(len(xs) >= 3 for _, _, xs in rows):
            continue
        box = (min(x for _, x, _ in hs), ys[-1], max(x for _, _, x in hs), ys[0])
        tables.append((box, rows))
    return tables


def _merge(values: list[float]) -> list[float]:
    """Sorted values with those within ``RULE_SLACK`` of the previous kept one dropped."""
    out: list[float] = []
    for v in values:
        if not out or abs(v - out[-1]) > RULE_SLACK:
            out.append(v)
    return out


def _inside(table: Table, x: float, y: float) -> bool:
    left, bottom, right, top = table[0]
    return left <= x <= right and bottom <= y <= top


def _table_lines(textpage, table: Table, width: float, height: float) -> list[PlacedLine]:
    """One line per table row: its cells' text joined by ``　``, a cell's wrapped lines
    joined within the cell; rows without text left out."""
    lines = []
    right = table[0][2]
    for top, bottom, xs in table[1]:
        cells = []
        for left, end in zip(xs, xs[1:], strict=False):
            text = textpage.get_text_bounded(left + 0.5, bottom + 0.5, end - 0.5, top - 0.5)
            cells.append(join_cell(_fold(text)))
        if any(cells):
            lines.append(PlacedLine("　".join(cells).strip(), (height - top) / height,
                                    (height - bottom) / height, right / width, table=True))
    return lines


def join_cell(text: str) -> str:
    """A cell's wrapped lines as one: joined directly, with a space between Latin words.

    >>> join_cell("主要用于信息化建设运维、执法装备购置和业务\\r\\n培训等工作 ")
    '主要用于信息化建设运维、执法装备购置和业务培训等工作'
    >>> join_cell("Environmental\\r\\nImpact\\n")
    'Environmental Impact'
    """
    pieces = [p.strip() for p in re.split(r"[\r\n]+", text) if p.strip()]
    return functools.reduce(glue, pieces, "")


def group_rows_plain(pieces: list[tuple[float, float, float, float, str]]) -> list[list]:
    """Rows of (top, bottom, [(left, right, text)]) from placed pieces; see ocr.group_rows."""
    rows: list[list] = []
    for top, bottom, left, right, text in sorted(pieces, key=lambda x: (x[0], x[2])):
        if rows:
            r_top, r_bottom = rows[-1][0], rows[-1][1]
            if min(bottom, r_bottom) - max(top, r_top) > 0.5 * min(bottom - top, r_bottom - r_top):
                rows[-1][0], rows[-1][1] = min(top, r_top), max(bottom, r_bottom)
                rows[-1][2].append((left, right, text))
                continue
        rows.append([top, bottom, [(left, right, text)]])
    return rows


ALIGN_SLACK = 2.0  # points: cell edges this close are one column edge
CELL_GAP = 0.5  # of the line height: pieces further apart are cells of an aligned table
MIN_ALIGNED = 3  # rows in a run of aligned rows that make a borderless table


def _spans(members: list[tuple[float, float, str]], gap: float) -> list[tuple[float, float, str]]:
    """A row's cells as (left, right, text): its pieces split where they stand more than
    ``gap`` points apart."""
    spans: list[tuple[float, float, str]] = []
    for left, right, text in sorted(members):
        if spans and left - spans[-1][1] <= gap:
            spans[-1] = (spans[-1][0], max(right, spans[-1][1]), spans[-1][2] + text)
        else:
            spans.append((left, right, text))
    return spans


def aligned_rows(rows: list[list[tuple[float, float]]]) -> set[int]:
    """Indexes of the rows that form a borderless table: runs of at least ``MIN_ALIGNED``
    consecutive rows of three or more cells (pieces ``CELL_GAP`` of a line height apart),
    each with at least two cells besides its first whose left or right edge lines up with
    a cell of the row before (left-aligned text, right-aligned numbers). Prose seldom has
    three such pieces on consecutive lines, lined up.

    >>> row = [(0, 20), (60, 90), (150, 170)]
    >>> sorted(aligned_rows([[(0, 200)], row, row, [(0, 10), (55, 90), (140, 170)], [(0, 90)]]))
    [1, 2, 3]
    >>> aligned_rows([[(0, 20), (60, 90)]] * 5)  # two cells: a label and its text
    set()
    >>> aligned_rows([row, row, [(0, 20), (100, 120), (200, 220)], row])  # only two in line
    set()
    """
    def lines_up(cell: tuple[float, float], above: list[tuple[float, float]]) -> bool:
        return any(abs(cell[0] - a[0]) <= ALIGN_SLACK or abs(cell[1] - a[1]) <= ALIGN_SLACK
                   for a in above)

    found: set[int] = set()
    run: list[int] = []
    for i, cells in enumerate(rows):
        joins = (run and len(cells) >= 3
                 and sum(lines_up(c, rows[i - 1]) for c in cells[1:]) >= 2)
        if joins:
            run.append(i)
        else:
            if len(run) >= MIN_ALIGNED:
                found.update(run)
            run = [i] if len(cells) >= 3 else []
    if len(run) >= MIN_ALIGNED:
        found.update(run)
    return found


def _join_rows(rows: list[list], height: float) -> list[tuple[float, float, float, str]]:
    """Pieces of a row joined left to right, ``　`` where they stand a line height apart."""
    out = []
    for top, bottom, members in rows:
        members.sort()
        text = members[0][2]
        size = (bottom - top) * height  # the row's height in points
        for previous, item in zip(members, members[1:], strict=False):
            gap = item[0] - previous[1]
            text += ("　" if gap > size else "") + item[2]
        out.append((top, bottom, members[-1][1], text))
    return out


_READABLE = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff\u2e80-\u2fdf\u3000-\u303f\uff00-\uffef"
    r"\u0020-\u007e\u00a0-\u00ff\u2010-\u206f\u2460-\u24ff\u2150-\u218f\u25a0-\u25ff《》]"
)


def judge(text: str) -> tuple[str, str]:
    """Read a page's text layer (``text``) or OCR it, and why.

    >>> judge("第一条　为了保护未成年人身心健康，制定本条例。")
    ('text', '')
    >>> judge("  ")
    ('ocr', 'no text layer')
    >>> judge("\\ue000\\ue001\\ue002\\ue003\\ue004\\ue005\\ue006\\ue007\\ue008条例")
    ('ocr', 'garbage text layer (82% unreadable characters)')
    """
    chars = [c for c in text if not c.isspace()]
    if len(chars) < MIN_TEXT_CHARS:
        return OCR, "no text layer"
    bad = sum(1 for c in chars if not _READABLE.match(c) or unicodedata.category(c) == "Co")
    if bad / len(chars) > 0.3:
        return OCR, f"garbage text layer ({bad / len(chars):.0%} unreadable characters)"
    return TEXT, ""
