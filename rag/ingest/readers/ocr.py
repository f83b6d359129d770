"""Offline OCR of page images with RapidOCR (PP-OCRv4 models shipped inside the
``rapidocr-onnxruntime`` wheel: nothing is downloaded at run time).

``ocr_image`` returns the page's lines top to bottom, each with its place on the page.
A wide gap between two characters on one line (the ideographic space after
``第五条``, which OCR drops) comes back as ``　``, so articles still start as printed.

It is an optional extra (``pip install 'ragqa[ocr]'``); ``available()`` says whether it
is installed. Left out: vertical text, tables as cells, handwriting.
"""

from __future__ import annotations

import importlib.util
import statistics
import threading

from rag.ingest.readers.base import PlacedLine, fold_compatibility

INSTALL_HINT = "install the OCR extra: pip install 'ragqa[ocr]'"
_engine = None
_lock = threading.Lock()


def available() -> bool:
    """True when the OCR package is installed."""
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def engine():
    """The one OCR engine of this process (loaded on first use, about 2 s)."""
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR()
        return _engine


def spaced_text(text: str, boxes: list | None) -> str:
    """A recognised line with ``　`` where the gap between two characters is wide.

    ``boxes``: one box (four corner points) per character, as RapidOCR's word boxes.

    >>> box = lambda x0, x1: [[x0, 0], [x1, 0], [x1, 20], [x0, 20]]
    >>> spaced_text("第五条共产", [box(0, 20), box(21, 41), box(42, 62), box(84, 104), box(105, 125)])
    '第五条　共产'
    >>> spaced_text("第五条", None)
    '第五条'
    """
    if not boxes or len(boxes) != len(text) or len(text) < 2:
        return text
    lefts = [min(p[0] for p in b) for b in boxes]
    rights = [max(p[0] for p in b) for b in boxes]
    widths = [r - left for left, r in zip(lefts, rights, strict=True)]
    unit = statistics.median(widths) or 1
    out = [text[0]]
    for i in range(1, len(text)):
        gap = lefts[i] - rights[i - 1]
        if gap > 0.6 * unit and not text[i - 1].isspace() and not text[i].isspace():
            out.append("　")
        out.append(text[i])
    return "".join(out)


def ocr_image(image) -> tuple[PlacedLine, ...]:
    """The text lines of a page image (PIL image), top to bottom."""
    import numpy as np

    array = np.asarray(image.convert("RGB"))
    height, width = array.shape[0], array.shape[1]
    result, _ = engine()(array, return_word_box=True)
    items = []
    for entry in result or []:
        box, text = entry[0], entry[1]
        words = entry[3] if len(entry) > 3 else None
        top = min(p[1] for p in box) / height
        bottom = max(p[1] for p in box) / height
        left = min(p[0] for p in box)
        right = max(p[0] for p in box)
        items.append((top, bottom, left / width, right / width, spaced_text(text, words)))
    return tuple(PlacedLine(fold_compatibility(t), top, bottom, right)
                 for top, bottom, right, t in group_rows(items))


def group_rows(
    items: list[tuple[float, float, float, float, str]],
) -> list[tuple[float, float, float, str]]:
    """Boxes (top, bottom, left, right, text) on one baseline joined left to right, with
    ``　`` between two boxes; rows (top, bottom, right, text) top to bottom.

    >>> group_rows([(0.1, 0.12, 0.5, 0.9, "乙"), (0.1, 0.12, 0, 0.4, "甲"),
    ...             (0.2, 0.22, 0, 0.09, "丙")])
    [(0.1, 0.12, 0.9, '甲　乙'), (0.2, 0.22, 0.09, '丙')]
    """
    rows: list[list] = []
    for item in sorted(items, key=lambda x: (x[0], x[2])):
        top, bottom = item[0], item[1]
        if rows:
            r_top, r_bottom = rows[-1][0], rows[-1][1]
            overlap = min(bottom, r_bottom) - max(top, r_top)
            if overlap > 0.5 * min(bottom - top, r_bottom - r_top):
                rows[-1][0], rows[-1][1] = min(top, r_top), max(bottom, r_bottom)
                rows[-1][2].append(item)
                continue
        rows.append([top, bottom, [item]])
    out = []
    for top, bottom, members in rows:
        members.sort(key=lambda x: x[2])
        text = members[0][4]
        for previous, item in zip(members, members[1:], strict=False):
            gap = item[2] - previous[3]
            text += ("　" if gap > 0 else "") + item[4]
        out.append((top, bottom, members[-1][3], text))
    return out
