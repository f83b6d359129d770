"""The pages of the files an index holds, as images: what a source viewer shows.

``page_view(index_dir, "gazette.pdf", page=12)`` renders the page a passage cites
(``Passage.page``: the printed page) of a kept original (``rag.index.collection``) as
PNG; ``index=`` picks a page by its place in the file instead (to step to the next
or previous page). PDFs are rendered with PDFium; image files (PNG, JPEG, TIFF, one
page a frame) are scaled to the same size an A4 page has at that resolution.

Which file page is printed page 12 is decided as the reader decided it when the
file was indexed (``rag.ingest.readers.pages``): the file's kept read
(``<sha256>.read<N>.json``) gives the printed number of every page that had text,
in order; where it accounts for every page it is used, else the PDF's numeric page
labels, else the page's place in the file.

Rendering is bounded: ``MIN_DPI``..``MAX_DPI``, and the last ``CACHED_PAGES``
pages rendered are kept in memory by (sha256, page, dpi), so stepping back and forth
or asking again costs nothing.

Left out: pages of DOCX and web pages (they have no fixed pages; passages of them
show no image), highlighting the quoted words on the page, a page with no text in a
file whose kept read does not account for it (its neighbours then fall back to
their PDF labels or places).
"""

from __future__ import annotations

import functools
import io
import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CorpusError, PageRequestError
from rag.ingest.readers import READERS_VERSION, format_of

PAGE_DPI = 110  # the viewer's default: an A4 page 910 x 1286 pixels
MIN_DPI, MAX_DPI = 36, 200
CACHED_PAGES = 32  # rendered pages kept in memory (about 150 KB each at PAGE_DPI)
PAGED_FORMATS = ("pdf", "image")
A4_INCHES = (8.27, 11.69)


@dataclass(frozen=True)
class PageImage:
    """One rendered page of a kept original."""

    source_file: str
    label: str  # the page as printed (what passages cite)
    index: int  # 0-based place in the file
    pages: int  # pages in the file
    png: bytes
    width: int  # pixels
    height: int


def has_pages(source_file: str) -> bool:
    """Whether passages of this file can show their page as an image.

    >>> has_pages("公报.PDF"), has_pages("scan.tif"), has_pages("a.txt"), has_pages("b.docx")
    (True, True, False, False)
    """
    return format_of(source_file) in PAGED_FORMATS


def page_view(index_dir: str | Path, source_file: str, page: int | str | None = None,
              dpi: int = PAGE_DPI, index: int | None = None) -> PageImage:
    """The printed page ``page`` (or the page at ``index``) of an indexed file, rendered.

    PageRequestError when the file is not indexed, has no pages, has no such page, or
    ``dpi`` is out of range (each message names the value and the fix); CorpusError when
    the kept original is missing or cannot be rendered.
    """
    from rag.index.collection import source_files, sources_dir

    if not MIN_DPI <= dpi <= MAX_DPI:
        raise PageRequestError(f"dpi {dpi} is out of range; use {MIN_DPI} to {MAX_DPI}")
    kept = {f.name: f for f in source_files(index_dir)}
    if source_file not in kept:
        paged = ", ".join(sorted(n for n in kept if has_pages(n))) or "none"
        raise PageRequestError(f"{source_file!r} is not a file in the index; files with "
                               f"pages: {paged}")
    if not has_pages(source_file):
        raise PageRequestError(f"{source_file} has no pages to show (a "
                               f"{format_of(source_file)} file); pages can be shown only for "
                               "PDFs and images")
    original = kept[source_file]
    read = sources_dir(index_dir) / f"{original.sha256}.read{READERS_VERSION}.json"
    labels = printed_pages(str(original.path), original.sha256, str(read))
    if index is None:
        if page is None:
            raise PageRequestError("give a page (as printed) or an index")
        wanted = str(page).strip()
        if wanted not in labels:
            raise PageRequestError(f"{source_file} has no page {wanted}; its pages are "
                                   f"{_span(labels)}")
        index = labels.index(wanted)
    elif not 0 <= index < len(labels):
        raise PageRequestError(f"{source_file} has no page at index {index}; it has "
                               f"{len(labels)} pages (index 0 to {len(labels) - 1})")
    png, width, height = _render(str(original.path), original.sha256, index, dpi)
    return PageImage(source_file, labels[index], index, len(labels), png, width, height)


def _span(labels: tuple[str, ...]) -> str:
    """How a file's printed pages read in a message.

    >>> _span(("1", "2", "3")), _span(("i", "ii", "1")), _span(("5",))
    ('1 to 3', 'i, ii, 1', '5')
    """
    numbers = [int(x) for x in labels if x.isdigit()]
    if len(numbers) == len(labels) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]} to {numbers[-1]}"
    shown = ", ".join(labels[:12])
    return shown + (", …" if len(labels) > 12 else "")


@functools.lru_cache(maxsize=64)
def printed_pages(path: str, sha256: str, read_cache: str) -> tuple[str, ...]:
    """Each page's printed label, in file order (see the module docstring); keyed by
    content (``sha256``), so a replaced file is looked at anew."""
    count, pdf_labels = _page_count(path)
    opened: list[int | None] = []
    try:
        record = json.loads(Path(read_cache).read_text(encoding="utf-8"))
        opened = [row[1] for row in record["lines"] if row[3]]
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        pass  # no kept read: labels or places
    if len(opened) == count and all(p is not None for p in opened):
        return tuple(str(p) for p in opened)
    return tuple(label if label and label.isdigit() else str(i + 1)
                 for i, label in enumerate(pdf_labels))


def _page_count(path: str) -> tuple[int, list[str | None]]:
    """Pages of a kept original and the PDF's page labels (None for images)."""
    if format_of(path) == "pdf":
        import pypdfium2 as pdfium

        try:
            document = pdfium.PdfDocument(path)
        except (pdfium.PdfiumError, OSError) as exc:
            raise CorpusError(f"the kept original {Path(path).name} cannot be opened "
                              f"({exc}); add the file again") from exc
        try:
            labels: list[str | None] = []
            for i in range(len(document)):
                try:
                    labels.append(document.get_page_label(i) or None)
                except Exception:  # noqa: BLE001 - a malformed /PageLabels tree: no label
                    labels.append(None)
            return len(document), labels
        finally:
            document.close()
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            frames = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, OSError) as exc:
        raise CorpusError(f"the kept original {Path(path).name} cannot be opened ({exc}); "
                          "add the file again") from exc
    return frames, [None] * frames


@functools.lru_cache(maxsize=CACHED_PAGES)
def _render(path: str, sha256: str, index: int, dpi: int) -> tuple[bytes, int, int]:
    """PNG bytes, width, height of one page (cached by content, page and dpi)."""
    try:
        if format_of(path) == "pdf":
            import pypdfium2 as pdfium

            document = pdfium.PdfDocument(path)
            try:
                image = document[index].render(scale=dpi / 72).to_pil()
            finally:
                document.close()
        else:
            from PIL import Image

            with Image.open(path) as source:
                source.seek(index)
                image = source.convert("RGB")
            bound = (round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi))
            image.thumbnail(bound)  # down only, aspect kept
        buffer = io.BytesIO()
        image.save(buffer, "PNG", optimize=False)
    except CorpusError:
        raise
    except Exception as exc:  # noqa: BLE001 - pdfium and PIL raise many kinds on damage
        raise CorpusError(f"page {index + 1} of the kept original {Path(path).name} cannot be "
                          f"rendered ({type(exc).__name__}: {exc}); add the file again") from exc
    return buffer.getvalue(), image.width, image.height
