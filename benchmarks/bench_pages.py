"""The page viewer: rendering a cited page of a kept PDF (``rag.index.pages``), first time
and from memory, and ``GET /api/page`` end to end.

    python -m benchmarks.run --only pages

On a small index of pages 27-29 of the generated gazette 000, cut out into a 3-page
PDF (as tests/test_pages.py uses), at the viewer's resolution (110 dpi).
"""

from __future__ import annotations

import shutil
import statistics
import time

from benchmarks.common import CACHE, ROOT, TMP, Result, load_average, log

REPEAT = 5


def run(command: str, quick: bool) -> Result:
    import pypdfium2 as pdfium
    from starlette.testclient import TestClient

    from rag.index import pages
    from rag.index.build import build_index
    from rag.pipeline import Pipeline
    from tests.make_documents import OUT, make_documents
    from ui.api import ServeState, create_app

    result = Result("pages", command)
    make_documents()
    root = TMP / "pages"
    shutil.rmtree(root, ignore_errors=True)
    (root / "corpus").mkdir(parents=True)
    gazette = pdfium.PdfDocument(OUT / "pdf" / "000_9f2846b890213e93.pdf")
    excerpt = pdfium.PdfDocument.new()
    excerpt.import_pages(gazette, [26, 27, 28])
    excerpt.save(root / "corpus" / "excerpt.pdf")
    build_index(root / "corpus", root / "index", progress=False, cache_dir=CACHE)
    index = root / "index"

    first, cached, sizes = [], [], []
    for _ in range(1 if quick else REPEAT):
        for label in ("27", "28", "29"):
            pages._render.cache_clear()
            pages.printed_pages.cache_clear()
            t0 = time.perf_counter()
            image = pages.page_view(index, "excerpt.pdf", label)
            first.append(time.perf_counter() - t0)
            sizes.append(len(image.png))
            t0 = time.perf_counter()
            pages.page_view(index, "excerpt.pdf", label)
            cached.append(time.perf_counter() - t0)
    state = ServeState()
    state.pipeline = Pipeline.load(index)
    http = []
    with TestClient(create_app(state)) as client:
        for _ in range(REPEAT):
            pages._render.cache_clear()
            t0 = time.perf_counter()
            response = client.get("/api/page", params={"file": "excerpt.pdf", "page": "28"})
            http.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.text
    load = load_average()
    log(f"pages: first {statistics.median(first):.3f} s, cached "
        f"{statistics.median(cached) * 1000:.2f} ms")
    result.figure("a page rendered the first time (A4 at 110 dpi, PNG), median",
                  round(statistics.median(first), 3), "s", f"{len(first)} renders", load=load)
    result.figure("the same page again (from memory), median",
                  round(statistics.median(cached) * 1000, 2), "ms", load=load)
    result.figure("PNG size of a page, median", round(statistics.median(sizes) / 1024), "KiB",
                  f"{image.width} x {image.height} pixels", load=load)
    result.figure("GET /api/page, page not yet rendered, median",
                  round(statistics.median(http), 3), "s", "in-process HTTP client", load=load)
    result.details["source"] = str((root / "corpus" / "excerpt.pdf").relative_to(ROOT))
    shutil.rmtree(root, ignore_errors=True)
    return result
