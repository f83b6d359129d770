"""Offline OCR of page images with RapidOCR (PP-OCRv4 models shipped inside the
``rapidocr-onnxruntime`` wheel: nothing is downloaded at run time).

``ocr_image`` returns the page's lines top to bottom, each with its place on the page.
A wide gap between two characters on one line (the ideographic space after
``第五条``, which OCR drops) comes back as ``　``, so articles still start as printed.
The detector at times misses a whole line of a dense page; a band between two rows
wider than usual is cut out and read again (``second_look``), and the lines found
there are added.

How it runs is one ``OcrSettings`` (``SETTINGS``): the resolution PDF pages are
rendered at, onnxruntime's threads, detection size, recognition batch, the angle
classifier. The defaults are the fastest setting measured that keeps character
accuracy at or above 0.99 on the generated scans (docs/formats.md, ``python -m
benchmarks.run --only ocr_speed``). ``RAGQA_OCR_THREADS`` sets the threads (default 1:
on a shared machine one thread per process wastes nothing on spinning; give more on a
machine of your own).

With a ``cache`` folder, a page's lines are kept by the sha256 of its image and the
settings that change the result, so a rebuild never OCRs a page twice (the index
builds keep it in ``<cache>/ocr/``, beside the embedding cache).

Tables come out one row a line, cells joined by ``　`` and marked ``PlacedLine.table``
(as the PDF reader gives them): lines whose pieces between wide gaps line up in three
or more columns over three or more rows, a wrapped cell's tail (a line under its row
holding only such tails) joined within its cell (``ocr_tables``).

It is an optional extra (``pip install 'ragqa[ocr]'``); ``available()`` says whether it
is installed. Left out: vertical text, handwriting, pages turned by 90° (the angle
classifier turns single lines upside down, not pages); in tables, what
``ocr_tables`` leaves out (two columns, fewer than three rows, cells merged across
columns, a wrapped first column).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import statistics
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.ingest.readers import ocr_tables
from rag.ingest.readers.base import PlacedLine, fold_compatibility

INSTALL_HINT = "install the OCR extra: pip install 'ragqa[ocr]'"
CACHE_FOLDER = "ocr"  # under the cache root, beside the embedding cache
CACHE_VERSION = 4  # bump when what is cached (the engine's boxes) changes
# A second look for lines the detector missed (a whole line of a dense page, at times):
# bands between rows whose edges are at least MISSED_GAP line heights apart, or whose
# middles are at least MISSED_PITCH line pitches apart (at most MISSED_SPAN either way),
# are cut out, with half a line above and below, and read again; what is found whose
# middle lies in the band is added. Set by reading three such pages (docs/formats.md),
# not fitted.
MISSED_GAP = 0.6
MISSED_PITCH = 1.5
MISSED_SPAN = 4.0
MISSED_PAD = 0.5  # line heights cut out above and below a band


@dataclass(frozen=True)
class OcrSettings:
    """How pages are OCR'd. ``dpi``: PDF pages are rendered at this resolution;
    ``threads``: onnxruntime intra-op threads per model (0: onnxruntime's own choice, a
    thread per core, idle ones spinning); ``det_side``: the longest
    side the text detector sees, in pixels (0: RapidOCR's own rule, the image as it is
    up to 2000); ``rec_batch``: lines recognised per batch; ``cls``: run the
    180° line classifier."""

    dpi: int = 200
    threads: int = 1
    det_side: int = 0
    rec_batch: int = 1
    cls: bool = True

    def result_key(self) -> str:
        """What changes the text read (threads do not).

        >>> OcrSettings().result_key() == OcrSettings(threads=4).result_key()
        True
        >>> OcrSettings().result_key() == OcrSettings(cls=False).result_key()
        False
        """
        fields = asdict(self)
        fields.pop("threads")
        return json.dumps(fields, sort_keys=True)


def _threads() -> int:
    value = os.environ.get("RAGQA_OCR_THREADS", "1")
    if not value.isdigit() or int(value) < 1:
        from rag.errors import RagError

        raise RagError(f"RAGQA_OCR_THREADS={value!r} is not a whole number ≥ 1; "
                          "set it to the threads OCR may use, e.g. 1")
    return int(value)


SETTINGS = OcrSettings()
_engines: dict[OcrSettings, object] = {}
_lock = threading.Lock()


def available() -> bool:
    """True when the OCR package is installed."""
    return importlib.util.find_spec("rapidocr_onnxruntime") is not None


def settings() -> OcrSettings:
    """``SETTINGS`` with the threads ``RAGQA_OCR_THREADS`` asks for."""
    from dataclasses import replace

    return replace(SETTINGS, threads=_threads())


def engine(chosen: OcrSettings | None = None):
    """The OCR engine of this process for these settings (loaded on first use, about 2 s)."""
    chosen = chosen or settings()
    with _lock:
        if chosen not in _engines:
            _engines[chosen] = _load(chosen)
        return _engines[chosen]


def _load(chosen: OcrSettings):
    from rapidocr_onnxruntime import RapidOCR

    options: dict = {"intra_op_num_threads": chosen.threads, "inter_op_num_threads": 1,
                     "rec_batch_num": chosen.rec_batch, "use_cls": chosen.cls}
    if chosen.det_side:
        options.update(det_limit_type="max", det_limit_side_len=chosen.det_side)
    return RapidOCR(**options)


def spaced_text(text: str, chars: list | None) -> str:
    """A recognised line with ``　`` where the gap between two characters is wide: more
    than 0.6 of the line's median ideograph width (of all its characters when it has no
    ideograph), so the narrow digits of ``晋政函〔2022〕109号`` do not make the ordinary
    gaps between its ideographs look wide. After a 第N条 opening the line, a gap wider
    than the line's usual gap between ideographs by 0.15 of that width is enough: the
    narrow space an article label is often printed with (measured on the generated scans:
    244 of 246 labels, against 6.5 % of other gaps, which keep the 0.6 rule).

    ``chars``: one [left, right] per character, as RapidOCR's word boxes give them.

    >>> span = lambda x0, x1: [x0, x1]
    >>> spaced_text("第五条共产", [span(0, 20), span(21, 41), span(42, 62), span(84, 104),
    ...                           span(105, 125)])
    '第五条　共产'
    >>> spaced_text("晋政函109号", [span(0, 20), span(28, 48), span(56, 76), span(78, 88),
    ...                            span(89, 99), span(100, 110), span(114, 134)])
    '晋政函109号'
    >>> spaced_text("第五条本法", [span(0, 20), span(22, 42), span(44, 64), span(72, 92),
    ...                           span(94, 114)])
    '第五条　本法'
    >>> spaced_text("第五条", None)
    '第五条'
    """
    breaks = wide_gaps(text, chars)
    return "".join(("　" if i in breaks else "") + c for i, c in enumerate(text))


def wide_gaps(text: str, chars: list | None) -> set[int]:
    """Where ``spaced_text`` puts a ``　``: the indexes of the characters after a wide gap.

    >>> sorted(wide_gaps("甲乙丙", [[0, 20], [50, 70], [71, 91]]))
    [1]
    """
    if not chars or len(chars) != len(text) or len(text) < 2:
        return set()
    widths = [right - left for left, right in chars]
    wide = [w for w, c in zip(widths, text, strict=True) if _ideograph(c)]
    unit = statistics.median(wide or widths) or 1
    gaps = [chars[i][0] - chars[i - 1][1] for i in range(1, len(text))
            if _ideograph(text[i - 1]) and _ideograph(text[i])]
    usual = statistics.median(gaps) if gaps else 0.0
    label = _LABEL.match(text)
    found = set()
    for i in range(1, len(text)):
        gap = chars[i][0] - chars[i - 1][1]
        # the space after an opening 第N条 is often a narrow one: wider than usual is enough
        at_label = label is not None and i == label.end() and gap > usual + 0.15 * unit
        if (gap > 0.6 * unit or at_label) and not text[i - 1].isspace() \
                and not text[i].isspace():
            found.add(i)
    return found


_LABEL = re.compile(r"^第[〇零一二三四五六七八九十百千0-9０-９]+条")


def _ideograph(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"


def ocr_image(image, cache: str | Path | None = None,
              chosen: OcrSettings | None = None) -> tuple[PlacedLine, ...]:
    """The text lines of a page image (PIL image), top to bottom; with ``cache``, what
    the OCR engine found is kept there by the image's sha256 and the settings that change
    it (the engine's boxes and text, so a change to the steps after it needs no new OCR)."""
    chosen = chosen or settings()
    target = None
    if cache is not None:
        digest = hashlib.sha256(
            f"{CACHE_VERSION}:{chosen.result_key()}:{image.mode}:{image.size}".encode())
        digest.update(image.tobytes())
        target = Path(cache) / f"{digest.hexdigest()}.json"
        if target.is_file():
            try:
                return placed_lines(json.loads(target.read_text(encoding="utf-8")))
            except (ValueError, TypeError, KeyError):
                pass  # a damaged entry: read the page again
    found = _recognise(image, chosen)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, target)
    return placed_lines(found)


def _recognise(image, chosen: OcrSettings) -> dict:
    """The engine's boxes as fractions of the page: {"boxes": [[top, bottom, left, right,
    text, [[char left, char right], …] or None], …]}, with the lines the detector missed
    on the whole page and found in a second look at the bands where they may be
    (``missed_bands``)."""
    import numpy as np

    array = np.asarray(image.convert("RGB"))
    first = _boxes(engine(chosen)(array, return_word_box=True, use_cls=chosen.cls)[0],
                   array.shape, 0)
    return {"boxes": first + second_look(array, first, chosen)}


def second_look(array, first: list[list], chosen: OcrSettings) -> list[list]:
    """The lines found in the bands where the whole page's detection may have missed
    one (``missed_bands``): each band cut out with MISSED_PAD lines above and below and
    read again; a line is kept when its middle lies in the band, it holds two characters
    or more, and it is not one the first pass read."""
    bands = missed_bands(first)
    if not bands:
        return []
    run = engine(chosen)
    height = array.shape[0]
    line = statistics.median(b[1] - b[0] for b in first)
    found: list[list] = []
    for top, bottom in bands:
        start = max(0, int((top - MISSED_PAD * line) * height))
        end = min(height, int((bottom + MISSED_PAD * line) * height) + 1)
        band = _boxes(run(array[start:end], return_word_box=True, use_cls=chosen.cls)[0],
                      array.shape, start)
        found += [b for b in band if top <= (b[0] + b[1]) / 2 <= bottom
                  and len(b[4].strip()) >= 2
                  and not any(_same_line(b, o, line) for o in first + found)]
    return found


def _same_line(a: list, b: list, line: float) -> bool:
    """Two boxes that overlap across and by half a line down: one line read twice."""
    across = min(a[3], b[3]) - max(a[2], b[2])
    down = min(a[1], b[1]) - max(a[0], b[0])
    return across > 0 and down > line / 2


def _boxes(result, shape: tuple[int, ...], offset: int) -> list[list]:
    """The engine's result as page-fraction boxes; ``offset``: the row the image a band
    was cut from starts at."""
    height, width = shape[0], shape[1]
    boxes = []
    for entry in result or []:
        box, text = entry[0], entry[1]
        words = entry[3] if len(entry) > 3 else None
        chars = [[min(p[0] for p in b) / width, max(p[0] for p in b) / width]
                 for b in words] if words else None
        boxes.append([(min(p[1] for p in box) + offset) / height,
                      (max(p[1] for p in box) + offset) / height,
                      min(p[0] for p in box) / width, max(p[0] for p in box) / width,
                      text, chars])
    return boxes


def missed_bands(boxes: list[list], gap: float = MISSED_GAP, pitch_share: float = MISSED_PITCH,
                 span: float = MISSED_SPAN) -> list[tuple[float, float]]:
    """Where the detector may have missed a line, between two consecutive rows of boxes
    (boxes that overlap by half a line are one row), top to bottom:

    - by the rows' edges: the band between them when they are at least ``gap`` and at
      most ``span`` line heights (the median box height) apart (consecutive lines touch);
    - by the rows' middles: from half a pitch below the upper middle to half a pitch
      above the lower one, when the middles are at least ``pitch_share`` and at most
      ``span`` usual pitches apart (the median distance of consecutive rows' middles),
      and the band does not cross one found by the edges. A box drawn too tall hides
      the gap its missed neighbour leaves between the edges, not between the middles.

    A paragraph's or heading's extra space is a band too (looked at in vain), a page's
    empty lower half is not.

    >>> rows = [[0.130, 0.142], [0.141, 0.153], [0.152, 0.164], [0.175, 0.188],
    ...         [0.186, 0.198], [0.197, 0.209], [0.208, 0.226], [0.230, 0.242],
    ...         [0.241, 0.253], [0.252, 0.264], [0.5, 0.512]]
    >>> missed_bands([b + [0.1, 0.7, "字", None] for b in rows])  # by edges; by middles
    [(0.164, 0.175), (0.2225, 0.2305)]
    >>> missed_bands([[0.1, 0.112, 0.1, 0.3, "甲", None], [0.1, 0.112, 0.5, 0.7, "乙", None],
    ...               [0.111, 0.123, 0.1, 0.7, "丙", None]])  # one row of two boxes
    []
    """
    if len(boxes) < 2:
        return []
    line = statistics.median(b[1] - b[0] for b in boxes)
    rows: list[list[float]] = []
    for top, bottom, *_ in sorted(boxes, key=lambda b: (b[0], b[1])):
        if rows and top < rows[-1][1] - line / 2:
            rows[-1][1] = max(rows[-1][1], bottom)
        else:
            rows.append([top, bottom])
    pairs = list(zip(rows, rows[1:], strict=False))
    bands = [(round(above[1], 6), round(below[0], 6)) for above, below in pairs
             if gap * line <= below[0] - above[1] <= span * line]
    steps = [(b[0] + b[1] - a[0] - a[1]) / 2 for a, b in pairs]
    pitch = statistics.median(steps) if steps else line
    for (above, below), step in zip(pairs, steps, strict=True):
        if pitch_share * pitch <= step <= span * pitch:
            band = (round((above[0] + above[1] + pitch) / 2, 6),
                    round((below[0] + below[1] - pitch) / 2, 6))
            if not any(band[0] < b[1] and b[0] < band[1] for b in bands):
                bands.append(band)
    return sorted(bands)


def placed_lines(found: dict) -> tuple[PlacedLine, ...]:
    """The lines of a page from the engine's boxes (``_recognise``): wide gaps as ``　``,
    boxes on one baseline joined, top to bottom; a table's rows as one line each, cells
    joined by ``　`` and wrapped cells joined within the cell, marked ``table``
    (``ocr_tables.table_rows``).

    >>> placed_lines({"boxes": [[0.1, 0.12, 0.0, 0.2, "第五条共产", None]]})
    (PlacedLine(text='第五条共产', top=0.1, bottom=0.12, right=0.2),)
    """
    boxes = [(top, bottom, left, right, text, chars)
             for top, bottom, left, right, text, chars in found["boxes"]]
    rows = row_groups(boxes)
    pieces = [[p for box in members for p in box_pieces(*box)] for _, _, members in rows]
    tables = {row.line: row for row in ocr_tables.table_rows(pieces, char_width(boxes))}
    merged = {i for row in tables.values() for i in row.merged}
    lines = []
    for i, (top, bottom, members) in enumerate(rows):
        if i in merged:
            continue
        if i in tables:
            parts = [i, *tables[i].merged]
            text = fold_compatibility("　".join(tables[i].cells))
            lines.append(PlacedLine(text, top, max(rows[k][1] for k in parts),
                                    max(m[3] for k in parts for m in rows[k][2]), table=True))
            continue
        text = _joined([(left, right, spaced_text(t, chars))
                        for _, _, left, right, t, chars in members])
        lines.append(PlacedLine(marker_space(fold_compatibility(text)), top, bottom,
                                members[-1][3]))
    return tuple(lines)


def box_pieces(top: float, bottom: float, left: float, right: float, text: str,
               chars: list | None) -> list[ocr_tables.Piece]:
    """A box split at its wide gaps (``wide_gaps``) into pieces (top, bottom, left,
    right, text), each piece's edges from its characters' boxes.

    >>> box_pieces(0, 1, 0, 91, "甲乙丙", [[0, 20], [50, 70], [71, 91]])
    [(0, 1, 0, 20, '甲'), (0, 1, 50, 91, '乙丙')]
    >>> box_pieces(0, 1, 0, 91, "甲乙丙", None)
    [(0, 1, 0, 91, '甲乙丙')]
    """
    breaks = sorted(wide_gaps(text, chars))
    if not breaks or chars is None:
        return [(top, bottom, left, right, text)]
    bounds = [0, *breaks, len(text)]
    return [(top, bottom, chars[a][0], chars[b - 1][1], text[a:b])
            for a, b in zip(bounds, bounds[1:], strict=False)]


def char_width(boxes: list) -> float:
    """A character's width on the page: the median width of the ideographs' boxes (of
    each box's width over its characters where the engine gave no character boxes).

    >>> char_width([(0, 1, 0, 40, "甲乙", [[0, 20], [20, 40]]), (0, 1, 0, 30, "丙", None)])
    20.0
    """
    widths = [x1 - x0 for *_, text, chars in boxes if chars and len(chars) == len(text)
              for c, (x0, x1) in zip(text, chars, strict=True) if _ideograph(c)]
    if not widths:
        widths = [(right - left) / len(text) for _, _, left, right, text, _ in boxes if text]
    return statistics.median(widths) if widths else 0.01


_MARKER = re.compile(r"^(#{1,6}(?=[^#\s])|[-*](?=[\u3400-\u9fff]))")


def marker_space(text: str) -> str:
    """A line opening with markdown heading or list marks, as the gazette texts print them,
    gets back the narrow space after them that OCR drops.

    >>> marker_space("#2021年省“两会”"), marker_space("-山西省人民政府"), marker_space("**通知**")
    ('# 2021年省“两会”', '- 山西省人民政府', '**通知**')
    >>> marker_space("-3℃"), marker_space("### （一）")
    ('-3℃', '### （一）')
    """
    return _MARKER.sub(r"\1 ", text)


def group_rows(
    items: list[tuple[float, float, float, float, str]],
) -> list[tuple[float, float, float, str]]:
    """Boxes (top, bottom, left, right, text) on one baseline joined left to right, with
    ``　`` between two boxes; rows (top, bottom, right, text) top to bottom.

    >>> group_rows([(0.1, 0.12, 0.5, 0.9, "乙"), (0.1, 0.12, 0, 0.4, "甲"),
    ...             (0.2, 0.22, 0, 0.09, "丙")])
    [(0.1, 0.12, 0.9, '甲　乙'), (0.2, 0.22, 0.09, '丙')]
    """
    return [(top, bottom, members[-1][3], _joined([m[2:5] for m in members]))
            for top, bottom, members in row_groups(items)]


def row_groups(items: list) -> list[tuple[float, float, list]]:
    """Boxes (top, bottom, left, right, …) on one baseline together: rows (top, bottom,
    the boxes left to right), top to bottom (see ``group_rows``)."""
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
    return [(top, bottom, sorted(members, key=lambda x: x[2]))
            for top, bottom, members in rows]


def _joined(members: list[tuple[float, float, str]]) -> str:
    """Boxes (left, right, text), left to right, joined with ``　`` where apart."""
    text = members[0][2]
    for previous, item in zip(members, members[1:], strict=False):
        text += ("　" if item[0] - previous[1] > 0 else "") + item[2]
    return text
