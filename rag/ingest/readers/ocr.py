"""Offline OCR of page images with RapidOCR (PP-OCRv4 models shipped inside the
``rapidocr-onnxruntime`` wheel: nothing is downloaded at run time).

``ocr_image`` returns the page's lines top to bottom, each with its place on the page.
A wide gap between two characters on one line (the ideographic space after
``第五条``, which OCR drops) comes back as ``　``, so articles still start as printed.

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

It is an optional extra (``pip install 'ragqa[ocr]'``); ``available()`` says whether it
is installed. Left out: vertical text, tables as cells, handwriting, pages turned by
90° (the angle classifier turns single lines upside down, not pages).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import statistics
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.ingest.readers.base import PlacedLine, fold_compatibility

INSTALL_HINT = "install the OCR extra: pip install 'ragqa[ocr]'"
CACHE_FOLDER = "ocr"  # under the cache root, beside the embedding cache
CACHE_VERSION = 1  # bump when ocr_image's output for the same settings changes


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
    rec_batch: int = 6
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


def ocr_image(image, cache: str | Path | None = None,
              chosen: OcrSettings | None = None) -> tuple[PlacedLine, ...]:
    """The text lines of a page image (PIL image), top to bottom; with ``cache``, kept
    there by the image's sha256 and the settings that change the result."""
    chosen = chosen or settings()
    target = None
    if cache is not None:
        digest = hashlib.sha256(
            f"{CACHE_VERSION}:{chosen.result_key()}:{image.mode}:{image.size}".encode())
        digest.update(image.tobytes())
        target = Path(cache) / f"{digest.hexdigest()}.json"
        if target.is_file():
            try:
                rows = json.loads(target.read_text(encoding="utf-8"))
                return tuple(PlacedLine(*row) for row in rows)
            except (ValueError, TypeError):
                pass  # a damaged entry: read the page again
    lines = _recognise(image, chosen)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        partial.write_text(json.dumps([[x.text, x.top, x.bottom, x.right] for x in lines],
                                      ensure_ascii=False), encoding="utf-8")
        os.replace(partial, target)
    return lines


def _recognise(image, chosen: OcrSettings) -> tuple[PlacedLine, ...]:
    import numpy as np

    array = np.asarray(image.convert("RGB"))
    height, width = array.shape[0], array.shape[1]
    result, _ = engine(chosen)(array, return_word_box=True, use_cls=chosen.cls)
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
