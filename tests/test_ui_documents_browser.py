"""The document tab in a real headless Chromium: log in, a lying file refused, an upload
listed, its documents offered at once by the browser tab and the chat's filter, and
gone from them at once when it is removed.

Runs its own server (login required) over a small index in a temporary folder, so the
shared test index is never changed. Skipped without Debian's chromium.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import CACHE, CORPUS, free_port

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip("no /usr/bin/chromium: install it with `apt-get install -y chromium "
                "fonts-noto-cjk`", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

BASE = "004_345c30e83f90ffdd.txt"
LOGIN = ("staff", "s3cret-pass")
TIMEOUT_MS = 240_000
ADDED_TITLE = "稷山县重大行政决策程序实施办法"  # a document of the uploaded 003 file


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from rag.embed import load_embedder
    from rag.index.build import build_index
    from rag.live import LivePipeline
    from ui.app import launch

    root = tmp_path_factory.mktemp("documents-ui")
    (root / "corpus").mkdir()
    shutil.copyfile(CORPUS / BASE, root / "corpus" / BASE)
    (root / ".ragqa").mkdir()
    (root / ".ragqa" / "cache").symlink_to(CACHE.resolve())
    index = root / ".ragqa" / "index"
    embedder = load_embedder()
    build_index(root / "corpus", index, embedder=embedder, progress=False)
    demo = launch(LivePipeline(index, check_seconds=0, embedder=embedder), port=free_port(),
                  auth=[LOGIN], block=False, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_login_upload_and_list_in_the_browser(app_url, made, tmp_path):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(locale="zh-CN")
        page.set_default_timeout(60_000)
        page.goto(app_url, wait_until="domcontentloaded")
        page.locator("input[type=text], input:not([type])").first.fill(LOGIN[0])
        page.locator("input[type=password]").fill(LOGIN[1])
        page.keyboard.press("Enter")
        page.get_by_role("tab", name="文档管理").click()
        listing = page.locator("#document-listing")
        assert BASE in listing.inner_text()

        lying = tmp_path / "notice.pdf"
        lying.write_bytes((made / "docx" / "003_2f4097cb1dcd751f.docx").read_bytes())
        page.locator("#upload-files input[type=file]").set_input_files(str(lying))
        page.locator("#upload-add").click()
        status = page.locator("#upload-status")
        status.get_by_text("索引未改变").wait_for(timeout=TIMEOUT_MS)
        assert "notice.pdf" in status.inner_text() and "rename it to notice.docx" in \
            status.inner_text()
        assert "Traceback" not in page.content()

        docx = made / "docx" / "003_2f4097cb1dcd751f.docx"
        page.goto(app_url, wait_until="domcontentloaded")  # logged in already: a fresh form
        page.get_by_role("tab", name="文档管理").click()
        page.locator("#upload-files input[type=file]").set_input_files(str(docx))
        page.locator("#upload-add").click()
        status.get_by_text("已加入").wait_for(timeout=TIMEOUT_MS)
        assert docx.name in listing.inner_text()

        # Without a reload, the browser tab and the chat's filter offer its documents.
        added = re.compile("^" + ADDED_TITLE)
        page.get_by_role("tab", name="文档浏览").click()
        page.locator("#doc-select input").click()
        page.locator("#doc-select input").fill(ADDED_TITLE)
        page.get_by_role("option", name=added).first.click()
        page.locator("#doc-info", has_text=docx.name).wait_for()
        page.get_by_role("tab", name="智能问答").click()
        page.locator("#doc-filter input").click()
        page.locator("#doc-filter input").fill(ADDED_TITLE)
        page.get_by_role("option", name=added).first.wait_for()
        page.keyboard.press("Escape")

        # Removed again: the browser, which showed one of its documents, opens another.
        page.get_by_role("tab", name="文档管理").click()
        page.locator("#remove-file input").click()
        page.get_by_role("option", name=docx.name, exact=True).click()
        page.locator("#remove-button").click()
        status.get_by_text("已移除").wait_for(timeout=TIMEOUT_MS)
        assert docx.name not in listing.inner_text()
        page.get_by_role("tab", name="文档浏览").click()
        page.locator("#doc-info", has_text=BASE).wait_for()
        page.locator("#doc-select input").click()
        page.get_by_role("option").first.wait_for()
        assert not any(t.startswith(ADDED_TITLE)
                       for t in page.get_by_role("option").all_inner_texts())
        browser.close()
