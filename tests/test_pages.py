"""The cited page of a kept PDF as an image: ``rag.index.pages``, ``GET /api/page`` and
the browser tab's page panel when the original is damaged (the page in a real browser:
tests/test_ui_pages_browser.py).

The index (``paged_index`` in conftest) holds pages 27-29 of the generated gazette 000
cut out into a 3-page PDF: no page labels, only the printed footers say 27-29, so
printed page 28 is the file's second page.
"""

from __future__ import annotations

import io
import shutil

import pytest
from conftest import PAGED_PDF, PAGED_TEXT

LOGIN = ("staff", "s3cret-pass")


@pytest.fixture(scope="module")
def loaded(paged_index):
    from rag.pipeline import Pipeline

    return Pipeline.load(paged_index)


def page_text(path, index: int) -> str:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        return document[index].get_textpage().get_text_bounded()
    finally:
        document.close()


def test_a_cited_page_is_the_page_its_article_is_printed_on(paged_index, loaded):
    from rag.index.collection import source_files
    from rag.index.pages import page_view

    answer = loaded.ask("克山病防治应当采取哪些措施？")
    cited = answer.citations[0]
    assert (cited.source_file, cited.article, cited.page) == (PAGED_PDF, "第十六条", 28)
    image = page_view(paged_index, PAGED_PDF, cited.page)
    assert (image.label, image.index, image.pages) == ("28", 1, 3)
    kept = {f.name: f.path for f in source_files(paged_index)}[PAGED_PDF]
    assert "第十六条　克山病防治" in page_text(kept, image.index).replace("\r\n", "")
    assert "—２８—" in page_text(kept, image.index)
    assert page_view(paged_index, PAGED_PDF, index=2).label == "29"


def test_api_page_is_a_png_of_the_printed_page_and_400_for_a_bad_one(loaded):
    from PIL import Image
    from starlette.testclient import TestClient

    from ui.api import ServeState, create_app

    state = ServeState()
    state.pipeline = loaded
    with TestClient(create_app(state, auth=[LOGIN])) as client:
        wanted = {"file": PAGED_PDF, "page": "28"}
        assert client.get("/api/page", params=wanted).status_code == 401
        response = client.get("/api/page", params=wanted, auth=LOGIN)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert image.format == "PNG" and image.size == (910, 1287)  # A4 at 110 dpi

        response = client.get("/api/page", params={"file": PAGED_PDF, "page": "9999"},
                              auth=LOGIN)
        assert response.status_code == 400
        assert response.json()["error"] == \
            f"{PAGED_PDF} has no page 9999; its pages are 27 to 29"
        response = client.get("/api/page", params={"file": "nope.pdf", "page": "1"},
                              auth=LOGIN)
        assert response.status_code == 400 and "'nope.pdf' is not a file in the index" in \
            response.json()["error"] and PAGED_PDF in response.json()["error"]
        response = client.get("/api/page", params={"file": PAGED_TEXT, "page": "1"},
                              auth=LOGIN)
        assert response.status_code == 400 and "only for PDFs and images" in \
            response.json()["error"]
        response = client.get("/api/page", params={**wanted, "dpi": "900"}, auth=LOGIN)
        assert response.status_code == 400 and "900" in response.json()["error"]


def test_a_damaged_original_gives_a_message_not_a_traceback(paged_index, loaded, tmp_path):
    from starlette.testclient import TestClient

    from rag.index.collection import source_files
    from rag.pipeline import Pipeline
    from ui.api import ServeState, create_app
    from ui.handlers import Handlers

    copy = tmp_path / "copy"
    shutil.copytree(paged_index.parent, copy, symlinks=True,
                    ignore=shutil.ignore_patterns("cache"))
    index = copy / paged_index.name
    kept = {f.name: f.path for f in source_files(index)}[PAGED_PDF]
    kept.write_bytes(kept.read_bytes()[:2000])  # truncated
    pipeline = Pipeline.load(index, embedder=loaded.embedder)

    state = ServeState()
    state.pipeline = pipeline
    with TestClient(create_app(state)) as client:
        response = client.get("/api/page", params={"file": PAGED_PDF, "page": "28"})
    assert response.status_code == 500
    assert "cannot be opened" in response.json()["error"] and "add the file again" in \
        response.json()["error"]

    passage = next(p for d in pipeline.documents if d.source_file == PAGED_PDF
                   for p in pipeline.passages_of(d.id) if p.page == 28)
    column, panel, state_after = Handlers(pipeline).page_for(passage.id)
    assert column["visible"] is True and state_after is None
    assert "无法显示原文页面" in panel and "add the file again" in panel
    assert "Traceback" not in panel


def test_a_text_passage_shows_no_page(loaded):
    from ui.handlers import Handlers

    document = next(d for d in loaded.documents if d.source_file == PAGED_TEXT)
    passage = loaded.passages_of(document.id)[0]
    column, panel, state = Handlers(loaded).page_for(passage.id)
    assert column["visible"] is False and panel == "" and state is None
