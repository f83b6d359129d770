"""The document-management tab: upload files, see what is indexed, remove a file.

``DocumentManager(pipeline)`` works on the pipeline's index folder through
``rag.index.collection``: an upload is read first (pages read, pages OCR'd, shown as
progress), then the index is rebuilt from the kept originals plus the new files
(only new passages embedded) and swapped in whole; the running server's live
pipeline picks it up. When the new passages need embedding, the upload returns once
they are searchable by keyword (``rag.live.add_in_background``) and the embedding goes
on in the background, its progress shown at the foot of the tab until the complete
index is in. A file that fails says why and changes nothing. Uploads are
limited to ``MAX_FILE_BYTES`` each (``rag.ingest.readers``); with a login configured
(``RAGQA_AUTH``), only a logged-in user may add or remove.

The list of files shows the index as it is when the page loads and after every
change; the page (``ui.app``) also updates its other document lists after a change
(``build_tab`` returns the change events).

Left out: per-user ownership of files, undo, another user's change showing before the
next page load.
"""


import html
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.ingest.readers import EXTENSIONS, MAX_FILE_BYTES

_lock = threading.Lock()  # one change at a time from this process (the folder lock
# serialises processes)


class DocumentManager:
    def __init__(self, pipeline: Any, needs_login: bool = False) -> None:
        self.pipeline = pipeline
        self.needs_login = needs_login

    @property
    def index_dir(self) -> Path:
        return Path(self.pipeline.index_dir)

    # ------------------------------------------------------------ listing

    def rows(self) -> list[dict[str, Any]]:
        """One row per indexed file: name, format, documents, types, pages, passages, added."""
        from rag.index.collection import source_files
        from rag.index.folder import read_documents

        documents = read_documents(self.index_dir)
        passages: dict[str, int] = {}
        with (self.index_dir / "passages.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                name = json.loads(line)["source_file"]
                passages[name] = passages.get(name, 0) + 1
        try:
            kept = {f.name: f for f in source_files(self.index_dir)}
        except RagError:
            kept = {}
        out = []
        for name in sorted({d.source_file for d in documents}):
            mine = [d for d in documents if d.source_file == name]
            pages = [p for d in mine for p in (d.page_start, d.page_end) if p is not None]
            types = sorted({d.doc_type for d in mine})
            added = kept[name].added if name in kept else None
            out.append({
                "file": name,
                "format": Path(name).suffix.lstrip(".").lower(),
                "documents": len(mine),
                "titles": [d.title for d in mine][:3],
                "types": types,
                "pages": f"{min(pages)}–{max(pages)}" if pages else "",
                "passages": passages.get(name, 0),
                "added": time.strftime("%Y-%m-%d %H:%M", time.localtime(added)) if added else "",
            })
        return out

    def listing_html(self) -> str:
        try:
            rows = self.rows()
        except (RagError, OSError) as exc:
            return f"<p>索引不可用：{html.escape(str(exc))}</p>"
        head = ("<table class='doc-table'><thead><tr><th>文件</th><th>格式</th><th>文档数</th>"
                "<th>类型</th><th>页码</th><th>段落数</th><th>加入时间</th><th>文档（前三个）</th>"
                "</tr></thead><tbody>")
        body = "".join(
            f"<tr><td>{html.escape(r['file'])}</td><td>{r['format']}</td><td>{r['documents']}"
            f"</td><td>{', '.join(r['types'])}</td><td>{r['pages']}</td><td>{r['passages']}</td>"
            f"<td>{r['added']}</td><td>{html.escape('；'.join(r['titles']))}</td></tr>"
            for r in rows)
        return head + body + "</tbody></table>"

    def file_choices(self) -> list[str]:
        try:
            return [r["file"] for r in self.rows()]
        except (RagError, OSError):
            return []

    # ------------------------------------------------------------ changes

    def _login_problem(self, username: str | None) -> str | None:
        if self.needs_login and not username:
            return "请先登录再管理文档。"
        return None

    def upload(self, paths: list[str], username: str | None = None,
               progress: Callable[[float, str], None] | None = None) -> str:
        """Add uploaded files; a message for the user (never a traceback)."""
        from rag.index.collection import add_files

        if problem := self._login_problem(username):
            return problem
        if not paths:
            return "请选择要上传的文件。"
        uploads: dict[str, bytes] = {}
        for path in paths:
            name = Path(path).name
            size = Path(path).stat().st_size
            if size > MAX_FILE_BYTES:
                return (f"{name}：{size:,} 字节，超过上传上限 {MAX_FILE_BYTES:,} 字节；"
                        "请拆分文件后再上传。索引未改变。")
            uploads[name] = Path(path).read_bytes()

        def pages(done: int, total: int, method: str) -> None:
            if progress:
                how = "OCR 识别" if method == "ocr" else "读取"
                progress(done / max(total, 1) * 0.5, f"{how}第 {done}/{total} 页")

        if busy := self.embedding_running():
            return f"上一次加入的文件仍在生成语义向量（{busy}），完成后再加入。索引未改变。"
        with _lock:
            try:
                if progress:
                    progress(0.0, "读取文件…")
                if _follows_swaps(self.pipeline):
                    from rag.live import add_in_background

                    change = add_in_background(self.pipeline, uploads=uploads, progress=pages)
                else:
                    change = add_files([], self.index_dir, embedder=self.pipeline.embedder,
                                       progress=pages, uploads=uploads)
            except RagError as exc:
                return f"未加入：{exc}。索引未改变。"
        if progress:
            progress(1.0, "完成")
        notes = "；".join(change.notes)
        if change.unembedded:
            return (f"已加入 {', '.join(change.added)}（{notes}），现可按关键词检索；"
                    f"正在为其 {change.unembedded} 段生成语义向量，完成后自动改用混合检索。")
        return f"已加入 {', '.join(change.added)}（{notes}）。{change.summary}"

    def embedding_status(self) -> str:
        """How far the embedding of added passages is, or that it failed ("" when no
        added passage waits for a vector)."""
        from rag.live import pending

        status = pending(self.pipeline)
        if status is None or status.scope != "added" or status.stage == "done":
            return ""
        return status.describe()

    def embedding_running(self) -> str:
        """This server's background embedding after an upload, while it runs ("" else);
        a partial index another process left is finished by the next change instead."""
        build = getattr(self.pipeline, "build", None)
        if build is None or build.scope != "added" or not build.running:
            return ""
        return build.describe()

    def remove(self, name: str | None, username: str | None = None) -> str:
        from rag.index.collection import remove_file

        if problem := self._login_problem(username):
            return problem
        if not name:
            return "请选择要移除的文件。"
        if busy := self.embedding_running():
            return f"上一次加入的文件仍在生成语义向量（{busy}），完成后再移除。索引未改变。"
        with _lock:
            try:
                change = remove_file(name, self.index_dir, embedder=self.pipeline.embedder)
            except RagError as exc:
                return f"未移除：{exc}。索引未改变。"
        return f"已移除 {', '.join(change.removed)}。{change.summary}"


def build_tab(manager: DocumentManager) -> tuple[Any, ...]:
    """The tab's components and events, inside an open ``gr.Blocks``/``gr.Tabs``; returns
    the events that change the index (upload, remove), for the page to follow with
    updates of its own."""
    import gradio as gr

    with gr.Tab("文档管理", id="documents-tab", elem_id="documents-tab"):
        gr.Markdown(
            f"上传公报文件（{' '.join(EXTENSIONS)}，每个不超过 {MAX_FILE_BYTES // 2**20} MB）："
            "扫描件逐页 OCR，完成后新索引立即生效。失败的文件会说明原因，索引保持不变。")
        files = gr.File(file_count="multiple", file_types=list(EXTENSIONS), type="filepath",
                        label="选择文件", elem_id="upload-files")
        add = gr.Button("加入索引", variant="primary", elem_id="upload-add")
        status = gr.Markdown(elem_id="upload-status")
        listing = gr.HTML(manager.listing_html(), elem_id="document-listing")
        with gr.Row():
            chosen = gr.Dropdown(choices=manager.file_choices(), value=None,
                                 label="移除文件", elem_id="remove-file", scale=3)
            remove = gr.Button("移除", variant="stop", elem_id="remove-button", scale=1)

        def on_upload(paths, request: gr.Request, progress=gr.Progress()):  # noqa: B008
            message = manager.upload(list(paths or []), _user(request),
                                     lambda f, text: progress(f, desc=text))
            return message, manager.listing_html(), gr.update(choices=manager.file_choices())

        def on_remove(name, request: gr.Request):
            message = manager.remove(name, _user(request))
            return (message, manager.listing_html(),
                    gr.update(choices=manager.file_choices(), value=None))

        def on_load():
            return manager.listing_html(), gr.update(choices=manager.file_choices())

        private: dict[str, Any] = {"api_visibility": "private", "concurrency_id": "documents",
                                   "concurrency_limit": 1}
        add_event = add.click(on_upload, [files], [status, listing, chosen], **private)
        remove_event = remove.click(on_remove, [chosen], [status, listing, chosen], **private)
        gr.on(None, on_load, None, [listing, chosen], api_visibility="private",
              show_progress="hidden")  # None: on every page load
        _embedding_progress(manager, add_event)
    return add_event, remove_event


def _follows_swaps(pipeline: Any) -> bool:
    """Whether the pipeline is a ``rag.live.LivePipeline`` (it can show a background add)."""
    from rag.live import LivePipeline

    return isinstance(pipeline, LivePipeline)


def _embedding_progress(manager: DocumentManager, uploaded: Any) -> None:
    """A line at the foot of the tab with the embedding's progress after an upload (or
    its failure), refreshed every two seconds while it runs."""
    import gradio as gr

    def text() -> str:
        now = manager.embedding_status()
        return f"语义向量：{now}" if now else ""

    line = gr.Markdown(text(), elem_id="embedding-status")
    timer = gr.Timer(2.0, active=bool(manager.embedding_running()))

    def tick() -> tuple[str, Any]:
        return text(), gr.Timer(active=bool(manager.embedding_running()))

    uploaded.then(tick, None, [line, timer], api_visibility="private")
    timer.tick(tick, None, [line, timer], api_visibility="private")


def _user(request: Any) -> str | None:
    return getattr(request, "username", None) if request is not None else None
