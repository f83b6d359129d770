"""The cited page beside the article, in a real headless Chromium.

Serves the small index of ``paged_index`` (conftest: pages 27-29 of the generated
gazette 000 cut out into a 3-page PDF, and one text file): a question's citation opens
the article in the 文档浏览 tab with its printed page beside it, the page buttons step
through the file, and a text file's article shows no page. Skipped without Debian's
chromium.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import PAGED_PDF, PAGED_TEXT, free_port

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: install it with `apt-get install -y chromium "
                "fonts-noto-cjk`", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

ANSWER_TIMEOUT_MS = 180_000  # the first answer may load models
QUESTION = "克山病防治应当采取哪些措施？"  # 第十六条, printed on page 28


@pytest.fixture(scope="module")
def app_url(paged_index):
    from rag.pipeline import Pipeline
    from ui.app import launch

    demo = launch(Pipeline.load(paged_index), port=free_port(), block=False, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def caption(page, label: str):
    """The page caption that names printed page ``label`` of the PDF."""
    return page.locator("#page-view .page-caption", has_text=f"第 {label} 页 · {PAGED_PDF}")


def test_the_cited_page_shows_beside_the_article(app_url):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(locale="zh-CN", viewport={"width": 1366, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(app_url, wait_until="domcontentloaded")
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#ask").click()
        page.locator("#citations details.cite").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        first = page.locator("#citations details.cite summary").first.inner_text()
        assert "第十六条" in first
        page.locator("#open-citation").click()

        page.locator("#article-view .pv-label", has_text="第十六条").wait_for()
        caption(page, "28").wait_for()
        assert "（文件第 2 / 3 页）" in caption(page, "28").inner_text()
        image = page.locator("#page-view img.page-image")
        image.wait_for()
        page.wait_for_function(
            "() => document.querySelector('#page-view img.page-image').complete")
        size = image.evaluate("i => [i.naturalWidth, i.naturalHeight]")
        assert size == [910, 1287]  # A4 at 110 dpi
        shown = image.bounding_box()
        assert shown and 250 < shown["width"] < 700 and shown["height"] > shown["width"]

        page.locator("#next-page").click()  # an article may run onto the next page
        caption(page, "29").wait_for()
        page.locator("#prev-page").click()
        caption(page, "28").wait_for()
        page.locator("#prev-page").click()
        caption(page, "27").wait_for()
        assert "第十六条" in page.locator("#article-view .pv-label").inner_text()

        # A passage of a text file: no page, no empty box.
        page.locator("#doc-select input").click()
        title = re.escape(PAGED_TEXT)
        options = page.get_by_role("option")
        options.first.wait_for()
        labels = options.all_inner_texts()
        other = next(i for i, label in enumerate(labels) if "山西省人民代表大会常务委员会公告"
                     not in label)
        options.nth(other).click()
        page.locator("#article-view .pv-source", has_text=re.compile(title)).wait_for()
        page.locator("#page-column").wait_for(state="hidden")
        assert page.locator("#page-view img.page-image").count() == 0 or \
            not page.locator("#page-view img.page-image").is_visible()
        assert "Traceback" not in page.content()
        browser.close()
