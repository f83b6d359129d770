"""Readers by format: a file's bytes to its pages of text (``Extracted``).

``read_file(path)`` picks the reader from the file name's extension and checks it
against the content's magic bytes (``sniff``), so a file whose extension lies is
named as such instead of being read as garbage. Formats:

========  =======================  ====================================
format    extensions               reader
========  =======================  ====================================
txt       .txt                     ``txt``  (today's corpus files)
pdf       .pdf                     ``pdf``  (text layer; OCR per page)
docx      .docx                    ``docx`` (python-docx)
html      .html .htm               ``html`` (article body only)
image     .png .jpg .jpeg .tif     ``image`` (OCR, optional extra)
          .tiff
========  =======================  ====================================

Every reader raises ``DocumentReadError`` with the file's name and the fix. After
reading, ``rag.ingest.readers.pages.to_lines`` drops page furniture and hands the
lines to the same cleaning, document and passage code as a .txt file.

Left out: .doc, .wps, .rtf, .odt, .xls(x), .epub, archives.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rag.errors import DocumentReadError
from rag.ingest.readers.base import Extracted

FORMATS: dict[str, tuple[str, ...]] = {
    "txt": (".txt",),
    "pdf": (".pdf",),
    "docx": (".docx",),
    "html": (".html", ".htm"),
    "image": (".png", ".jpg", ".jpeg", ".tif", ".tiff"),
}
EXTENSIONS: tuple[str, ...] = tuple(e for exts in FORMATS.values() for e in exts)
MAX_FILE_BYTES = 200 * 1024 * 1024  # any one file, every format; uploads too
READERS_VERSION = 8  # bump when a reader's output changes: cached reads are then redone

Progress = Callable[[int, int, str], None]  # (pages done, pages, how the last was read)


def format_of(name: str) -> str | None:
    """The format a file name claims, or None when it is not supported.

    >>> format_of("公报.PDF"), format_of("a.htm"), format_of("scan.tif"), format_of("x.doc")
    ('pdf', 'html', 'image', None)
    """
    suffix = Path(name).suffix.lower()
    return next((f for f, exts in FORMATS.items() if suffix in exts), None)


def sniff(data: bytes) -> str | None:
    """The format the content shows by its first bytes (None: no signature; text).

    >>> sniff(b"%PDF-1.7 ..."), sniff(b"\\x89PNG\\r\\n\\x1a\\n..."), sniff(b"\\xff\\xd8\\xff\\xe0")
    ('pdf', 'image', 'image')
    >>> sniff(b"<!DOCTYPE html><html>"), sniff("第一条".encode()), sniff(b"PK\\x03\\x04")
    ('html', None, 'zip')
    """
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*",
                        b"GIF8", b"BM")):
        return "image"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if b"word/" in data else "zip"  # a DOCX zips word/document.xml
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"  # .doc, .xls: legacy Office
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in lowered[:300]:
        return "html"
    return None


_NAMES = {"pdf": "a PDF", "image": "an image", "docx": "a Word (DOCX) file", "zip":
          "a ZIP archive", "ole": "a legacy Office file (.doc/.xls)", "html": "a web page",
          "txt": "plain text"}


def check_format(name: str, data: bytes) -> str:
    """The format to read a file as; DocumentReadError when unsupported or lying."""
    claimed = format_of(name)
    if claimed is None:
        suffix = Path(name).suffix or "(no extension)"
        raise DocumentReadError(
            f"{name}: unsupported file type {suffix}; supported are "
            f"{', '.join(EXTENSIONS)} (save a .doc as .docx, a spreadsheet as PDF)"
        )
    actual = sniff(data)
    text_like = claimed in ("txt", "html")
    if (actual not in (None, "html")) if text_like else actual != claimed:
        what = _NAMES.get(actual or "txt", actual)
        proper = FORMATS[actual][0] if actual in FORMATS else None
        fix = f"rename it to {Path(name).stem}{proper}" if proper else "convert it to PDF"
        raise DocumentReadError(
            f"{name}: the name says {claimed.upper()} but the content is {what}; {fix} "
            "(or, if truncated, download it again)"
        )
    return claimed


def read_bytes(name: str, data: bytes, use_ocr: bool = True,
               progress: Progress | None = None,
               ocr_cache: str | Path | None = None) -> Extracted:
    """Read one file's bytes with the reader its (checked) format needs. ``ocr_cache``:
    a folder where OCR keeps each page's lines (``ocr.ocr_image``)."""
    if not data:
        raise DocumentReadError(f"{name}: empty file; remove it or add its text")
    if len(data) > MAX_FILE_BYTES:
        raise DocumentReadError(
            f"{name}: {len(data):,} bytes is over the {MAX_FILE_BYTES:,}-byte limit; split "
            "the file"
        )
    fmt = check_format(name, data)
    if fmt == "txt":
        from rag.ingest.readers import txt

        return txt.read(name, data)
    if fmt == "pdf":
        from rag.ingest.readers import pdf

        return pdf.read(name, data, use_ocr=use_ocr, progress=progress, ocr_cache=ocr_cache)
    if fmt == "docx":
        from rag.ingest.readers import docx

        return docx.read(name, data, progress=progress)
    if fmt == "html":
        from rag.ingest.readers import html

        return html.read(name, data, progress=progress)
    from rag.ingest.readers import image

    return image.read(name, data, progress=progress, ocr_cache=ocr_cache)


def read_file(path: str | Path, use_ocr: bool = True,
              progress: Progress | None = None) -> Extracted:
    """Read a file from disk (size checked before its bytes are read)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentReadError(f"{path}: cannot be read ({exc.strerror}); check the path") \
            from exc
    if size > MAX_FILE_BYTES:
        raise DocumentReadError(
            f"{path.name}: {size:,} bytes is over the {MAX_FILE_BYTES:,}-byte limit; split "
            "the file"
        )
    return read_bytes(path.name, path.read_bytes(), use_ocr=use_ocr, progress=progress)
