"""Images (PNG, JPEG, TIFF; every frame of a multi-page TIFF) read by OCR.

Left out: images inside DOCX or HTML files, GIF, WebP, HEIC.
"""

from __future__ import annotations

import io

from rag.errors import DocumentReadError
from rag.ingest.readers import ocr
from rag.ingest.readers.base import NONE, OCR, Extracted, PageText


def read(name: str, data: bytes, progress=None, ocr_cache=None) -> Extracted:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if not ocr.available():
        raise DocumentReadError(f"{name}: reading images needs OCR; {ocr.INSTALL_HINT}")
    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise DocumentReadError(
            f"{name}: the image is damaged or truncated ({exc}); save it again and re-add it"
        ) from exc
    pages = []
    for index, frame in enumerate(frames):
        lines = ocr.ocr_image(frame, cache=ocr_cache)
        method, reason = (OCR, "image") if lines else (NONE, "no text found in the image")
        pages.append(PageText(index, None, lines, method, reason))
        if progress:
            progress(index + 1, len(frames), method)
    return Extracted(name, "image", tuple(pages))
