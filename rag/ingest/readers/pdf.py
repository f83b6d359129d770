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

Left out: multi-column reading order, rotated pages' text direction, form fields,
annotations, attachments; pages are kept one at a time (memory stays bounded for a
500-page file).
"""

from __future__ import annotations

import re
import unicodedata

from rag.errors import DocumentReadError
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
    """The text layer of a page as lines, top to bottom."""
    textpage = page.get_textpage()
    height = page.get_height() or 1.0
    width = page.get_width() or 1.0
    pieces = []
    try:
        for i in range(textpage.count_rects()):
            left, bottom, right, top = textpage.get_rect(i)
            text = textpage.get_text_bounded(left, bottom, right, top)
            text = text.replace("\r", "").replace("\n", "")
            if text.strip():
                pieces.append(((height - top) / height, (height - bottom) / height, left, right,
                               text))
    finally:
        textpage.close()
    return tuple(PlacedLine(_fold(t).strip(), top, bottom, right / width)
                 for top, bottom, right, t in _join_rows(group_rows_plain(pieces), height))


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
