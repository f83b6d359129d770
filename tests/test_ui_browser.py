"""The web UI in a real headless Chromium (Playwright), against a live server.

Needs Debian's ``chromium`` at /usr/bin/chromium (CI: ``apt-get install -y chromium
fonts-noto-cjk``); skipped with a message when it is missing.

Fixtures:

* ``pipeline`` (provided by ``tests/conftest.py``, session-scoped): a loaded
  ``rag.pipeline.Pipeline`` over the real index.
* ``served_app`` (here, module-scoped): ``ui.app.launch(pipeline, block=False)`` on a
  free localhost port in a background thread; yields the server URL and closes it.

Waits are on elements, never on network idle (a Gradio page keeps a connection
open). A screenshot of the answered page goes to tests/artifacts/ui_answer.png.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "no /usr/bin/chromium: install it with `apt-get install -y chromium fonts-noto-cjk`",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
ANSWER_TIMEOUT_MS = 180_000  # the first answer may load models
UI_TIMEOUT_MS = 30_000
MINORS_ACT = "山西省未成年人保护条例"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, served_app):
    """A fresh page on the app; records JavaScript dialogs (there must be none)."""
    context = browser.new_context(viewport={"width": 1366, "height": 1000}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(UI_TIMEOUT_MS)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(served_app, wait_until="domcontentloaded")
    page.locator("#question textarea").wait_for(state="visible")
    yield page
    context.close()


def ask(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()


def wait_for_reply(page, turn: int) -> None:
    """Wait until the chat holds ``turn`` finished assistant messages."""
    page.locator("#chat [data-testid='bot']").nth(turn - 1).wait_for(timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_function(
        "() => !document.querySelector('#chat').innerText.includes('正在检索相关条文')",
        timeout=ANSWER_TIMEOUT_MS,
    )


def test_status_line_says_which_retriever_answers(page):
    status = page.locator("#retrieval-status")
    status.wait_for(state="visible")
    assert "检索方式：混合检索（向量＋关键词）" in status.inner_text()


def test_answer_shows_citations_that_open_to_the_article(page):
    # The /ask API test covers 网吧能让未成年人进去吗？; this one is about the page.
    ask(page, "哪一条规定了学生欺凌的防控？")
    citations = page.locator("#citations details.cite")
    citations.first.wait_for(timeout=ANSWER_TIMEOUT_MS)

    reply = page.locator("#chat [data-testid='bot']").last.inner_text()
    assert re.search(r"\[\d+\]", reply), reply
    assert f"《{MINORS_ACT}》" in reply

    summaries = [s.strip() for s in citations.locator("summary").all_inner_texts()]
    ours = [i for i, s in enumerate(summaries) if f"《{MINORS_ACT}》第" in s]
    assert ours, summaries
    cite = citations.nth(ours[0])
    label = summaries[ours[0]]
    cite.locator("summary").click()
    text = cite.locator(".cite-text")
    text.wait_for(state="visible")
    assert len(text.inner_text().strip()) > 10
    assert "来源文件" in cite.locator(".cite-meta").inner_text()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui_answer.png"), full_page=True)

    # Open the same citation in the document browser.
    article = re.search(r"》(第.+?条)", label).group(1)
    page.locator("#citation-select input").click()
    page.get_by_role("option", name=label, exact=True).click()
    view = page.locator("#article-view .passage-view")
    view.wait_for(state="visible")
    page.locator("#article-view .pv-label", has_text=article).wait_for()
    assert f"《{MINORS_ACT}》" in view.inner_text()
    assert MINORS_ACT in page.locator("#doc-select input").input_value()
    assert page.locator("#article-select input").input_value().startswith(article)
    assert page.dialogs == []


def test_open_citation_button_switches_to_the_browser(page):
    ask(page, "《山西省节约能源条例》第二十条怎么规定的？")
    page.locator("#citations details.cite").first.wait_for(timeout=ANSWER_TIMEOUT_MS)
    first = page.locator("#citations details.cite summary").first.inner_text().strip()
    page.locator("#open-citation").click()
    view = page.locator("#article-view .passage-view")
    view.wait_for(state="visible")
    title = re.search(r"《(.+?)》", first).group(1)
    assert f"《{title}》" in view.inner_text()


def test_user_markup_is_shown_as_text(page):
    typed = "<script>alert(1)</script><b>粗体</b> **星号**"
    ask(page, typed)
    wait_for_reply(page, 1)
    user = page.locator("#chat [data-testid='user']").last
    assert user.inner_text().strip() == typed
    assert user.locator("script, b, strong").count() == 0
    chat = page.locator("#chat").inner_text()
    assert "Traceback" not in chat
    assert page.dialogs == []


def test_document_browser_reads_article_by_article(page):
    page.get_by_role("tab", name="文档浏览").click()
    page.locator("#doc-select input").click()
    page.locator("#doc-select input").fill(MINORS_ACT)
    page.get_by_role("option", name=re.compile("^" + MINORS_ACT)).first.click()
    source = page.locator("#article-view .pv-source", has_text=re.compile(r"第 1 / \d+ 项"))
    source.wait_for()
    assert MINORS_ACT in page.locator("#doc-info").inner_text()
    first_label = page.locator("#article-view .pv-label").inner_text().strip()

    page.locator("#next-article").click()
    page.locator("#article-view .pv-source", has_text=re.compile(r"第 2 / \d+ 项")).wait_for()
    assert page.locator("#article-view .pv-label").inner_text().strip() != first_label
    page.locator("#prev-article").click()
    source.wait_for()
    assert page.locator("#article-view .pv-label").inner_text().strip() == first_label

    # Jump to an article by its label.
    page.locator("#article-select input").click()
    page.locator("#article-select input").fill("第二十一条")
    page.get_by_role("option", name="第二十一条", exact=True).click()
    page.locator("#article-view .pv-label", has_text="第二十一条").wait_for()
    assert "欺凌" in page.locator("#article-view .pv-text").inner_text()


def test_reference_check_tab(page):
    page.get_by_role("tab", name="引用核对").click()
    page.locator("#check-text textarea").fill(
        "关于《山西省节约能源条例(修订草案)》的说明\n第四十三条规定……\n"
        "另据《山西省节约能源条例》第二十条、《山西省节约能缘条例》第九十条。")
    page.locator("#check-as-of input, #check-as-of textarea").first.fill("2024-06-01")
    page.locator("#check-run").click()
    rows = page.locator("#check-report tr.check-row")
    rows.nth(2).wait_for(timeout=ANSWER_TIMEOUT_MS)
    outcomes = [rows.nth(i).get_attribute("data-outcome") for i in range(rows.count())]
    assert outcomes == ["draft", "ok", "near_miss"]
    report = page.locator("#check-report").inner_text()
    assert "共四十二条" in report and "是否指《山西省节约能源条例》" in report
    page.locator("#check-text textarea").fill("   ")
    page.locator("#check-run").click()
    page.locator("#check-report .ui-notice").wait_for()
    assert "Traceback" not in page.locator("#check-report").inner_text()
    assert page.dialogs == []
