"""Event handlers of the web UI, independent of the page layout.

Every public method here is safe to wire to a Gradio event: it never raises. A
failure becomes a short Chinese message (see :mod:`ui.errors`) shown in the page,
and the exception is logged on the server.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from rag.errors import QueryError
from rag.index.pages import PAGE_DPI, has_pages, page_view
from rag.types import Answer
from ui import render
from ui.browser import Catalogue, Located, UnknownItemError
from ui.errors import user_message
from ui.options import search_options
from ui.settings import DEFAULT_K, DEFAULT_RETRIEVER, HISTORY_LIMIT

if TYPE_CHECKING:
    from rag.pipeline import QA

STREAM_STEPS = 24  # how many growing prefixes of the answer the chat shows
STREAM_DELAY_S = 0.02
BROWSER_TAB = "browser-tab"

UNKNOWN_ITEM = "所选文件或条文不在索引中，请从列表中重新选择。"
NO_PAGE = "无法显示原文页面："
ALL_FILES = ("全部文件", "")  # the chat's document filter: no filter
SEARCHING = "正在检索相关条文…"


class Handlers:
    """The handlers of one app, bound to one pipeline."""

    def __init__(self, pipeline: QA) -> None:
        self.pipeline = pipeline
        self.catalogue = Catalogue(pipeline)

    # ------------------------------------------------------------ what answers

    def keyword_only(self) -> bool:
        """Whether answers come from the keyword index only (a first build is embedding)."""
        current = getattr(self.pipeline, "current", self.pipeline)
        return bool(getattr(current, "keyword_only", False))

    def vectors_pending(self) -> bool:
        """Whether some passages still wait for vectors (a first build, or an add)."""
        from rag.live import pending

        status = pending(self.pipeline)
        return self.keyword_only() or (status is not None and status.running)

    def retrieval_status(self) -> str:
        """One Markdown line: which retriever answers, and how far vectors still to come
        are (a first build, or passages just added and found by keyword until embedded)."""
        from rag.live import pending

        status = pending(self.pipeline)
        if not self.keyword_only():
            if status is not None and status.scope == "added" and status.stage != "done":
                return f"检索方式：{status.describe()}"
            return "检索方式：混合检索（向量＋关键词）"
        return f"检索方式：{status.describe() if status is not None else '关键词检索'}"

    def status_tick(self) -> tuple[str, Any]:
        """The status line, and the timer kept running only while it can still change."""
        return self.retrieval_status(), gr.Timer(active=self.vectors_pending())

    # ------------------------------------------------------------ asking

    def ask_options(self, k: Any, retriever: Any, doc_id: Any, doc_type: Any,
                    as_of: Any = None, status: Any = None) -> dict[str, Any]:
        """Checked keyword arguments for ``pipeline.ask``; raises QueryError."""
        return search_options(lambda d: d in self.catalogue.documents, k, retriever, doc_id,
                              doc_type, as_of, status)

    def run_ask(self, question: str, history: Sequence[str], **options: Any) -> Answer:
        """Ask the pipeline (raises whatever it raises)."""
        question = (question or "").strip()
        if not question:
            raise QueryError("问题为空")
        history = tuple(h for h in history if h)[-HISTORY_LIMIT:]
        return self.pipeline.ask(question, history=history, **options)

    def api_ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        retriever: str = DEFAULT_RETRIEVER,
        doc_id: str = "",
        doc_type: str = "",
        history: list[str] | None = None,
        as_of: str = "",
        status: str = "",
    ) -> dict:
        """Answer one question with cited passages (JSON: answer, refused, citations…)."""
        try:
            options = self.ask_options(k, retriever, doc_id, doc_type, as_of, status)
            answer = self.run_ask(question, history or (), **options)
            return render.answer_payload(answer)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            return render.error_payload(question, user_message(exc, "api ask"))

    def chat(
        self,
        question: str,
        messages: list[dict] | None,
        questions: list[str] | None,
        doc_id: str,
        doc_type: str,
        retriever: str,
        k: float,
        as_of: str = "",
        status: str = "",
    ) -> Iterator[tuple]:
        """Stream one chat turn.

        Yields (chatbot, citations panel, citation dropdown, question box,
        messages state, questions state).
        """
        messages = list(messages or [])
        questions = list(questions or [])
        question = (question or "").strip()
        if not question:
            gr.Warning("请先输入问题。")
            yield (gr.update(), gr.update(), gr.update(), gr.update(), messages, questions)
            return
        messages.append({"role": "user", "content": render.user_markdown(question)})
        pending = {"role": "assistant", "content": SEARCHING}
        yield (messages + [pending], gr.update(), gr.update(), "", messages, questions)

        try:
            options = self.ask_options(k, retriever, doc_id, doc_type, as_of, status)
            answer = self.run_ask(question, questions, **options)
            final = render.answer_markdown(answer)
            panel = render.citations_html(answer, self.catalogue.passage)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            messages.append(
                {"role": "assistant", "content": render.error_markdown(user_message(exc, "ask"))}
            )
            yield (
                messages,
                render.citations_html(None, self.catalogue.passage),
                gr.update(choices=[], value=None),
                question,  # give the question back so it can be corrected
                messages,
                questions,
            )
            return

        text = answer.text or ""
        step = max(1, -(-len(text) // STREAM_STEPS))
        for end in range(step, len(text), step):
            partial = {"role": "assistant", "content": render.answer_markdown(answer, text[:end])}
            yield (messages + [partial], gr.update(), gr.update(), "", messages, questions)
            time.sleep(STREAM_DELAY_S)

        messages.append({"role": "assistant", "content": final})
        questions.append(question)
        choices = [(render.citation_label(c), c.passage_id) for c in answer.citations]
        if not choices:  # a refusal: offer the possibly related passages instead
            related = {h.passage.id: h.passage.citation_label for h in answer.related}
            choices = [(label, pid) for pid, label in related.items()]
        dropdown = gr.update(choices=choices, value=choices[0][1] if choices else None)
        yield (messages, panel, dropdown, "", messages, questions)

    def clear(self) -> tuple:
        """Forget the conversation: (chatbot, citations, dropdown, messages, questions)."""
        return (
            [],
            render.citations_html(None, self.catalogue.passage),
            gr.update(choices=[], value=None),
            [],
            [],
        )

    # ------------------------------------------------------------ reference check

    def check(self, text: str | None, upload: Any, title: str | None, as_of: str | None) -> str:
        """Check the references of a pasted text, or of a dropped file when no text is
        pasted: the result table (HTML), or a message; never raises."""
        from rag.check import decode_input

        try:
            if not (text or "").strip() and upload is not None:
                data = upload if isinstance(upload, bytes) else Path(upload).read_bytes()
                name = "上传的文件" if isinstance(upload, bytes) else Path(upload).name
                text = decode_input(data, str(name))
            report = self.pipeline.check(text or "", title=(title or "").strip() or None,
                                         as_of=(as_of or "").strip() or None)
            return render.check_html(report)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message
            return render.message_html(user_message(exc, "check"))

    # ------------------------------------------------------------ document browser

    def initial_view(self) -> tuple[str | None, list, str | None, str, str]:
        """(doc id, passage choices, passage id, doc info, view) for the first document."""
        documents = list(self.catalogue.documents.values())
        if not documents:
            return None, [], None, "", render.message_html("索引中没有文件。")
        # Open on the first regulation (articles to read) rather than a one-line notice.
        first = next((d for d in documents if d.doc_type == "regulation"), documents[0])
        try:
            here = self.catalogue.locate(None, first.id)
        except Exception as exc:  # noqa: BLE001
            return first.id, [], None, "", render.message_html(user_message(exc, "browse"))
        return (
            here.document.id,
            self.catalogue.passage_choices(here.document.id),
            here.passage.id,
            *self._panels(here),
        )

    def open_document(self, doc_id: str) -> tuple:
        """A document was picked: (doc info, article dropdown, view) at its first passage."""
        return self._show(lambda: self.catalogue.locate(None, doc_id))

    def jump(self, doc_id: str, passage_id: str) -> tuple:
        """An article was picked in the dropdown."""
        return self._show(lambda: self.catalogue.locate(passage_id, doc_id))

    def previous(self, doc_id: str, passage_id: str) -> tuple:
        return self._show(lambda: self.catalogue.step(doc_id, passage_id, -1))

    def next(self, doc_id: str, passage_id: str) -> tuple:
        return self._show(lambda: self.catalogue.step(doc_id, passage_id, 1))

    def open_citation(self, passage_id: str) -> tuple:
        """Open a cited passage in the browser tab.

        Returns (tabs, doc dropdown, doc info, article dropdown, view).
        """
        if not passage_id:
            gr.Warning("请先在列表中选择一条引用。")
            return (gr.update(),) * 5
        info, articles, view = self._show(lambda: self.catalogue.locate(passage_id))
        passage = self.catalogue.passage(passage_id)
        doc_update = gr.update(value=passage.doc_id) if passage else gr.update()
        return gr.Tabs(selected=BROWSER_TAB), doc_update, info, articles, view

    def _show(self, where) -> tuple:
        try:
            here: Located = where()
            choices = self.catalogue.passage_choices(here.document.id)
        except UnknownItemError:
            return gr.update(), gr.update(), render.message_html(UNKNOWN_ITEM)
        except Exception as exc:  # noqa: BLE001
            return gr.update(), gr.update(), render.message_html(user_message(exc, "browse"))
        info, view = self._panels(here)
        return info, gr.update(choices=choices, value=here.passage.id), view

    def _status(self, doc_id: str):
        try:
            return self.pipeline.statuses().get(doc_id)
        except Exception:  # noqa: BLE001 - a browser without statuses still browses
            return None

    def _panels(self, here: Located) -> tuple[str, str]:
        return (
            render.document_html(here.document, here.total, self._status(here.document.id)),
            render.passage_html(here.passage, here.position, here.total),
        )

    # ------------------------------------------------------------ the page beside the article

    def page_for(self, passage_id: str | None) -> tuple:
        """The page of the original file a passage starts on, beside the article.

        Returns (page column, page panel, page state): the column hidden for a passage
        of a file without pages (text, DOCX, web page); the state is what the page
        buttons step from ({"file", "index", "pages"}, or None).
        """
        passage = self.catalogue.passage(passage_id) if passage_id else None
        if passage is None or not has_pages(passage.source_file):
            return gr.update(visible=False), "", None
        if passage.page is None:
            return (gr.update(visible=True),
                    render.message_html(f"{NO_PAGE}该条文没有记录页码（{passage.source_file}）。"),
                    None)
        return self._page(passage.source_file, lambda folder: page_view(
            folder, passage.source_file, passage.page, PAGE_DPI))

    def step_page(self, state: dict | None, delta: int) -> tuple:
        """The next (``delta`` 1) or previous (-1) page of the file shown, within it."""
        if not state:
            return gr.update(), gr.update(), state
        index = min(max(int(state["index"]) + delta, 0), int(state["pages"]) - 1)
        if index == state["index"]:
            return gr.update(), gr.update(), state
        return self._page(state["file"], lambda folder: page_view(
            folder, state["file"], dpi=PAGE_DPI, index=index))

    def previous_page(self, state: dict | None) -> tuple:
        return self.step_page(state, -1)

    def next_page(self, state: dict | None) -> tuple:
        return self.step_page(state, 1)

    def _page(self, source_file: str, make) -> tuple:
        try:
            image = make(Path(self.pipeline.index_dir))  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - a missing or damaged original: a message
            return (gr.update(visible=True),
                    render.message_html(f"{NO_PAGE}{user_message(exc, 'page')}"), None)
        state = {"file": image.source_file, "index": image.index, "pages": image.pages}
        return gr.update(visible=True), render.page_html(image), state

    # ------------------------------------------------------------ lists of documents

    def document_lists(self, doc_filter: str | None, doc_id: str | None) -> tuple:
        """The chat's document filter and the browser's document list, read again after a
        file was added or removed: (filter, document dropdown, doc info, article dropdown,
        view); the browser opens the first document when the one shown is gone."""
        refresh = getattr(self.pipeline, "refresh", None)
        if callable(refresh):
            refresh()  # the rebuilt index now, not at the next check
        choices = self.catalogue.document_choices()
        known = {value for _, value in choices}
        filter_update = gr.update(choices=[ALL_FILES, *choices],
                                  value=doc_filter if doc_filter in known else "")
        if doc_id in known or not choices:
            return (filter_update, gr.update(choices=choices), gr.update(), gr.update(),
                    gr.update())
        first, articles, passage_id, info, view = self.initial_view()
        return (filter_update, gr.update(choices=choices, value=first), info,
                gr.update(choices=articles, value=passage_id), view)
