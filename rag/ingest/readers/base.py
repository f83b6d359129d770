"""What every reader returns: a file's pages, each a list of placed lines.

A reader turns one file's bytes into ``Extracted``: its pages in order, each with its
printed label (when the file says it), the lines read from it (top to bottom, each
with its vertical place on the page when the format has one) and how the page was
read (``text``, ``ocr`` or ``none``, and why). Nothing here knows about gazettes:
page furniture, paragraphs and documents come later (``rag.ingest.readers.pages``,
then the same cleaning path as a .txt file).

Left out: columns (a line is everything on one baseline), right-to-left text, fonts.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

# how a page was read
TEXT, OCR, NONE = "text", "ocr", "none"


@dataclass(frozen=True)
class PlacedLine:
    """One line of a page. ``top``/``bottom``: fractions of the page height from the
    top (0 at the top edge); ``right``: its right end as a fraction of the page width;
    None where the format has no geometry (DOCX, HTML). ``table``: the line is a table
    row, its cells joined by ``　`` (never joined to the lines around it)."""

    text: str
    top: float | None = None
    bottom: float | None = None
    right: float | None = None
    table: bool = field(default=False, repr=False)  # shown only where it matters


@dataclass(frozen=True)
class PageText:
    index: int  # 0-based page index in the file
    label: str | None  # printed page label from the file (PDF /PageLabels), if any
    lines: tuple[PlacedLine, ...]
    method: str = TEXT  # TEXT, OCR or NONE
    reason: str = ""  # why it was read that way: "no text layer", "garbage text layer …"


@dataclass(frozen=True)
class Extracted:
    """A file as read: its format, its pages, and, for text files, the text itself."""

    name: str  # bare file name
    format: str  # "txt", "pdf", "docx", "html", "image"
    pages: tuple[PageText, ...]
    text: str | None = None  # a .txt file's decoded text (cleaned by the .txt path)
    encoding: str | None = None
    paged: bool = True  # False: the format has no pages (HTML, DOCX without breaks)

    @property
    def ocr_pages(self) -> int:
        return sum(p.method == OCR for p in self.pages)

    def summary(self) -> str:
        """One line: pages read, how.

        >>> Extracted("a.pdf", "pdf", (PageText(0, "1", (), TEXT),
        ...                            PageText(1, "2", (), OCR, "no text layer"))).summary()
        'a.pdf: pdf, 2 pages (1 text layer, 1 OCR: page 2 no text layer)'
        """
        if self.format == "txt":
            return f"{self.name}: text ({self.encoding})"
        text = sum(p.method == TEXT for p in self.pages)
        parts = [f"{text} text layer"] if self.format == "pdf" else []
        if self.ocr_pages:
            why = "; ".join(f"page {p.label or p.index + 1} {p.reason}"
                            for p in self.pages if p.method == OCR)
            parts.append(f"{self.ocr_pages} OCR: {why}" if self.ocr_pages <= 3
                         else f"{self.ocr_pages} OCR")
        empty = sum(p.method == NONE for p in self.pages)
        if empty:
            parts.append(f"{empty} without text")
        detail = f" ({', '.join(parts)})" if parts else ""
        return f"{self.name}: {self.format}, {len(self.pages)} pages{detail}"


# CJK radicals supplement forms that PDF fonts map simplified characters to; NFKC
# leaves them alone (it folds only the Kangxi radicals block)
_RADICALS = str.maketrans("⻄⻅⻆⻉⻋⻓⻔⻘⻙⻚⻛⻜⻝⻢⻥⻦⻩⻬⻮⻰",
                          "西见角贝车长门青韦页风飞食马鱼鸟黄齐齿龙")


def fold_compatibility(text: str) -> str:
    """Kangxi radicals, CJK radicals and compatibility ideographs as the ideographs they
    stand for (NFKC on those characters only: full-width digits and punctuation stay as
    printed, the cleaning path relies on them).

    >>> fold_compatibility("⼭⻄省　第１条 ⾦⻔")
    '山西省　第１条 金门'
    """
    text = text.translate(_RADICALS)
    return "".join(
        unicodedata.normalize("NFKC", ch)
        if "\u2e80" <= ch <= "\u2fdf" or "\uf900" <= ch <= "\ufaff" else ch
        for ch in text
    )
