"""The Gradio web app: a cited-answer chat and a document browser.

The document browser shows an article with, for a PDF or an image file, the page it
starts on beside it (``Handlers.page_for``, rendered by ``rag.index.pages``), with
buttons to step through that file's pages. After a file is added or removed in the
文档管理 tab, the browser's and the chat filter's document lists are read again.

``build_app(pipeline)`` lays out the page and wires :class:`ui.handlers.Handlers`;
``launch(pipeline, ...)`` serves it on its own server (tests and scripts call it);
``mount(app, demo, ...)`` puts a built page at "/" of a running FastAPI app with the
same settings (``ragqa serve`` does this, see :mod:`ui.server`). The ``/ask`` API
endpoint (``gradio_client.Client(url).predict("网吧能让未成年人进去吗？",
api_name="/ask")``) returns JSON: ``answer``, ``refused``, ``citations`` (list of
dicts), ``related``, ``note`` and ``error``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.ingest.readers import MAX_FILE_BYTES
from ui.documents import DocumentManager, build_tab
from ui.handlers import BROWSER_TAB, Handlers
from ui.render import citations_html
from ui.settings import (
    DEFAULT_K,
    MAX_K,
    MAX_QUESTION_CHARS,
    QUEUE_CONCURRENCY,
    QUEUE_MAX_SIZE,
    TITLE,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rag.pipeline import QA

logger = logging.getLogger("ui")

INTRO = f"""# {TITLE}
依据山西省政府公报、人大常委会公报中的法规条例、立法说明、审议报告、通知公告和工作方案回答问题，\
每个回答都标注所引用的条文（页码与来源文件），可展开阅读条文全文，或在“文档浏览”中逐条阅读原文。\
回答仅供参考，以公报原文为准。"""

EXAMPLES: dict[str, list[str]] = {
    "市民常问": [
        "网吧能让未成年人进去吗？",
        "孩子在学校被欺负了怎么办？",
    ],
    "工作人员：查条文": [
        "《山西省节约能源条例》第二十条怎么规定的？",
        "哪一条规定了学生欺凌的防控？",
    ],
    "评估人员：查数据": [
        "2022年全省国有资产总额是多少？",
        "截至2022年底全省国有企业资产总额是多少？",
    ],
}

STATUS_CHOICES = [
    ("默认（不含已被新版本替代的文本）", ""),
    ("仅现行有效", "in_force"),
    ("现行有效和尚未施行", "in_force,not_yet_in_force"),
    ("仅草案说明和审议报告", "draft"),
    ("仅已失效或已被替代", "expired,superseded"),
    ("全部", "all"),
]
CHECK_TAB = "check-tab"
CHECK_INTRO = ("粘贴一段文本或拖入文件，逐条核对其中的条文引用（《……》第N条、本条例第N条、"
               "草案第N条，含款、项和“至”连接的范围）：是否指向索引中的文件、条文是否存在、"
               "所引文件是否仍然有效。索引中没有的文件（如国家法律）只能标明“无法核对”，"
               "不表示引用有误。")
STATUS_EVERY_S = 2.0  # how often the page re-reads the retrieval status while it can change

RETRIEVER_CHOICES = [
    ("混合检索（hybrid，推荐）", "hybrid"),
    ("向量检索（dense）", "dense"),
    ("关键词检索（bm25）", "bm25"),
]

# Local fonts only: the page must not fetch anything from the internet.
THEME = gr.themes.Default(
    font=["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"],
    font_mono=["Noto Sans Mono CJK SC", "monospace"],
)

CSS = """
#citations .cite summary { font-weight: 500; }
#citations .cite[open] { background: var(--background-fill-secondary); padding: 0.3em; }
#article-view .passage-view { padding: 0.5em 0.2em; }
#page-view .page-image { display: block; }
"""


def build_app(pipeline: QA, needs_login: bool = False) -> gr.Blocks:
    """The page for ``pipeline`` (a loaded ``rag.pipeline.Pipeline``), with its queue set.

    ``needs_login``: a login is configured, so managing documents requires one.
    """
    handlers = Handlers(pipeline)
    catalogue = handlers.catalogue
    doc_choices = catalogue.document_choices()
    first_doc, first_articles, first_passage, first_info, first_view = handlers.initial_view()

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(INTRO, elem_id="intro")
        retrieval_status = gr.Markdown(handlers.retrieval_status(), elem_id="retrieval-status")
        status_timer = gr.Timer(STATUS_EVERY_S, active=handlers.vectors_pending())
        messages = gr.State([])
        questions = gr.State([])

        with gr.Tabs(elem_id="tabs") as tabs:
            with gr.Tab("智能问答", id="chat-tab", elem_id="chat-tab"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        elem_id="chat",
                        label="问答",
                        height=480,
                        sanitize_html=True,
                        render_markdown=True,
                        allow_tags=False,
                        latex_delimiters=[],
                        feedback_options=None,
                        buttons=[],  # copying would copy the escaped Markdown source
                        placeholder="在下方输入问题，或点击示例问题。",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            elem_id="question",
                            show_label=False,
                            placeholder="请输入问题，例如：网吧能让未成年人进去吗？",
                            max_length=MAX_QUESTION_CHARS,
                            lines=1,
                            scale=6,
                        )
                        ask = gr.Button("提问", variant="primary", elem_id="ask", scale=1)
                        clear = gr.Button("清空对话", elem_id="clear", scale=1)
                    with gr.Row():
                        doc_filter = gr.Dropdown(
                            choices=[("全部文件", "")] + doc_choices,
                            value="",
                            label="只在某个文件中查找",
                            elem_id="doc-filter",
                        )
                        type_filter = gr.Dropdown(
                            choices=[("全部类型", "")] + catalogue.type_choices(),
                            value="",
                            label="只在某类文件中查找",
                            elem_id="type-filter",
                        )
                    with gr.Accordion("高级设置", open=False, elem_id="advanced"):
                        retriever = gr.Radio(
                            choices=RETRIEVER_CHOICES,
                            value="hybrid",
                            label="检索方式",
                            elem_id="retriever",
                        )
                        with gr.Row():
                            status_filter = gr.Dropdown(
                                choices=STATUS_CHOICES, value="", label="文件状态",
                                elem_id="status-filter")
                            as_of = gr.Textbox(label="截至日期（YYYY-MM-DD，默认今天）",
                                               elem_id="as-of")
                        top_k = gr.Slider(
                            minimum=1,
                            maximum=MAX_K,
                            value=DEFAULT_K,
                            step=1,
                            label="检索条文数",
                            elem_id="top-k",
                        )
                    for i, (label, questions_list) in enumerate(EXAMPLES.items()):
                        gr.Examples(
                            examples=[[q] for q in questions_list],
                            inputs=[question],
                            label=label,
                            elem_id=f"examples-{i}",
                            cache_examples=False,
                        )
                with gr.Column(scale=2):
                    citations = gr.HTML(
                        citations_html(None, catalogue.passage), elem_id="citations"
                    )
                    citation_select = gr.Dropdown(
                        choices=[],
                        value=None,
                        label="在“文档浏览”中打开引用的条文",
                        elem_id="citation-select",
                        interactive=True,
                    )
                    open_citation = gr.Button("打开引用", elem_id="open-citation")

            with gr.Tab("文档浏览", id=BROWSER_TAB, elem_id=BROWSER_TAB):
                with gr.Row():
                    doc_select = gr.Dropdown(
                        choices=doc_choices,
                        value=first_doc,
                        label="选择文件",
                        elem_id="doc-select",
                        scale=3,
                    )
                    article_select = gr.Dropdown(
                        choices=first_articles,
                        value=first_passage,
                        label="跳转到条文",
                        elem_id="article-select",
                        scale=2,
                    )
                doc_info = gr.HTML(first_info, elem_id="doc-info")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        article_view = gr.HTML(first_view, elem_id="article-view")
                        with gr.Row():
                            previous = gr.Button("上一条", elem_id="prev-article")
                            following = gr.Button("下一条", elem_id="next-article")
                    # the page of a PDF or image the article starts on; hidden for text files
                    with gr.Column(scale=2, visible=False, elem_id="page-column") as page_column:
                        with gr.Row():
                            previous_page = gr.Button("上一页", elem_id="prev-page", size="sm")
                            next_page = gr.Button("下一页", elem_id="next-page", size="sm")
                        page_view = gr.HTML(elem_id="page-view")
                page_state = gr.State(None)

            with gr.Tab("引用核对", id=CHECK_TAB, elem_id=CHECK_TAB):
                gr.Markdown(CHECK_INTRO)
                with gr.Row():
                    check_text = gr.Textbox(label="粘贴文本", lines=10, max_lines=30,
                                            elem_id="check-text", scale=3,
                                            placeholder="例如：依照《山西省节约能源条例》第二十条……")
                    check_file = gr.File(label="或拖入文本文件（.txt，UTF-8 或 GB18030）",
                                         type="binary", elem_id="check-file", scale=1)
                with gr.Row():
                    check_title = gr.Textbox(label="本文标题（可选，用于“本条例第N条”）",
                                             elem_id="check-title", scale=2)
                    check_day = gr.Textbox(label="核对日（可选，YYYY-MM-DD，默认今天）",
                                           elem_id="check-as-of", scale=1)
                    check_run = gr.Button("核对引用", variant="primary", elem_id="check-run",
                                          scale=1)
                check_out = gr.HTML(elem_id="check-report")

            index_changes = build_tab(DocumentManager(pipeline, needs_login=needs_login))

        private: dict[str, Any] = {"api_visibility": "private", "show_progress": "minimal"}
        quiet: dict[str, Any] = {"api_visibility": "private", "show_progress": "hidden"}
        status_timer.tick(handlers.status_tick, outputs=[retrieval_status, status_timer],
                          **quiet)
        demo.load(handlers.status_tick, outputs=[retrieval_status, status_timer], **quiet)
        chat_io = {
            "inputs": [question, messages, questions, doc_filter, type_filter, retriever, top_k,
                       as_of, status_filter],
            "outputs": [chatbot, citations, citation_select, question, messages, questions],
            "concurrency_id": "ask",
            **private,
        }
        ask.click(handlers.chat, **chat_io)
        question.submit(handlers.chat, **chat_io)
        clear_outputs = [chatbot, citations, citation_select, messages, questions]
        clear.click(handlers.clear, outputs=clear_outputs, **private)
        chatbot.clear(handlers.clear, outputs=clear_outputs, **private)  # its trash icon

        view_outputs = [doc_info, article_select, article_view]
        page_outputs = [page_column, page_view, page_state]
        shown = [  # every event that changes the article shown; its page follows
            doc_select.input(handlers.open_document, [doc_select], view_outputs, **private),
            article_select.input(handlers.jump, [doc_select, article_select], view_outputs,
                                 **private),
            previous.click(handlers.previous, [doc_select, article_select], view_outputs,
                           **private),
            following.click(handlers.next, [doc_select, article_select], view_outputs,
                            **private),
        ]
        open_outputs = [tabs, doc_select, doc_info, article_select, article_view]
        shown += [
            open_citation.click(handlers.open_citation, [citation_select], open_outputs,
                                **private),
            citation_select.input(handlers.open_citation, [citation_select], open_outputs,
                                  **private),
        ]
        lists_outputs = [doc_filter, doc_select, doc_info, article_select, article_view]
        shown += [change.then(handlers.document_lists, [doc_filter, doc_select], lists_outputs,
                              **quiet) for change in index_changes]
        shown.append(demo.load(handlers.document_lists, [doc_filter, doc_select],
                               lists_outputs, **quiet))
        for event in shown:
            event.then(handlers.page_for, [article_select], page_outputs, **quiet)
        previous_page.click(handlers.previous_page, [page_state], page_outputs, **private)
        next_page.click(handlers.next_page, [page_state], page_outputs, **private)

        check_run.click(handlers.check, [check_text, check_file, check_title, check_day],
                        [check_out], concurrency_id="ask", **private)

        gr.api(handlers.api_ask, api_name="ask", concurrency_id="ask")

    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return demo


def _page_options(auth: Sequence[tuple[str, str]] | None) -> dict[str, Any]:
    """The settings ``launch`` and ``mount`` both give gradio (login, errors, look)."""
    return {
        "auth": [tuple(pair) for pair in auth] if auth else None,
        "auth_message": "请输入用户名和密码。" if auth else None,
        "show_error": False,
        "footer_links": ["api"],
        "run_history": False,
        "enable_monitoring": False,
        "mcp_server": False,
        "ssr_mode": False,
        "pwa": False,
        "theme": THEME,
        "css": CSS,
        "max_file_size": MAX_FILE_BYTES,  # uploads in the document tab
    }


def launch(
    pipeline: QA,
    host: str = "127.0.0.1",
    port: int = 7860,
    auth: Sequence[tuple[str, str]] | None = None,
    *,
    block: bool = True,
    quiet: bool = False,
) -> gr.Blocks:
    """Serve the app on ``host:port`` (localhost unless told otherwise).

    ``auth`` is an optional list of (user, password) pairs. With ``block=False``
    the server runs in a background thread and the caller must ``close()`` the
    returned Blocks.
    """
    demo = build_app(pipeline, needs_login=bool(auth))
    logger.info("serving the web UI on http://%s:%s", host, port)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        quiet=quiet,
        **_page_options(auth),
    )
    return demo


def mount(
    app: FastAPI,
    demo: gr.Blocks,
    host: str,
    port: int,
    auth: Sequence[tuple[str, str]] | None = None,
) -> FastAPI:
    """Mount ``demo`` (from ``build_app``) at "/" of ``app``; returns gradio's sub-app.

    Only the mounting: a caller whose server is already running must run gradio's
    start-up itself (``ui.server`` does, after mounting), since ``app``'s lifespan
    has already been entered.
    """
    gr.mount_gradio_app(app, demo, "/", server_name=host, server_port=port,
                        **_page_options(auth))
    route = app.router.routes[-1]
    gradio_app = getattr(route, "app", None)
    if getattr(route, "path", None) != "" or gradio_app is None:
        raise RuntimeError(f"gradio did not mount at '/' as expected (last route: {route!r})")
    return gradio_app
