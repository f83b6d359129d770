"""The one check of a question's search options, for the page and the JSON API alike.

The rules are the library's (``rag.search.query.SearchOptions``: retriever names,
document types, days and statuses) plus the page's own cap on ``k`` (``MAX_K``) and a
document id that must exist in the loaded index; the messages are in Chinese, each
naming the value and the fix. ``page_request`` checks the values of a page image
request the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rag.errors import PageRequestError, QueryError
from rag.search.query import SearchOptions
from rag.types import DOC_TYPE_FILTERS
from ui.settings import DEFAULT_K, DEFAULT_RETRIEVER, MAX_K, RETRIEVERS


def search_options(has_document: Callable[[str], bool], k: Any = None, retriever: Any = None,
                   doc_id: Any = None, doc_type: Any = None, as_of: Any = None,
                   status: Any = None) -> dict[str, Any]:
    """Checked keyword arguments for ``pipeline.ask`` / ``pipeline.search``; QueryError
    names the bad value and the fix."""
    try:
        k_value = int(k) if k not in (None, "") else DEFAULT_K
    except (TypeError, ValueError):
        raise QueryError(f"检索条文数必须是 1 到 {MAX_K} 的整数，收到 {k!r}") from None
    if not 1 <= k_value <= MAX_K:
        raise QueryError(f"检索条文数必须是 1 到 {MAX_K} 的整数，收到 {k_value}")
    retriever = retriever or DEFAULT_RETRIEVER
    if retriever not in RETRIEVERS:
        raise QueryError(f"检索方式必须是 {'、'.join(RETRIEVERS)} 之一，收到 {retriever!r}")
    doc_id = doc_id or None
    if doc_id is not None and not has_document(doc_id):
        raise QueryError(f"索引中没有文件 {doc_id!r}；文件编号可用 "
                         "`ragqa index --list-documents` 查看，或去掉 doc_id")
    doc_type = doc_type or None
    if doc_type is not None and doc_type not in DOC_TYPE_FILTERS:  # a type, or a kind (法律)
        raise QueryError(f"文件类型 {doc_type!r} 不存在，应为 {', '.join(DOC_TYPE_FILTERS)} 之一，"
                         "或去掉 doc_type")
    day = str(as_of).strip() if as_of not in (None, "") else None
    options = SearchOptions(retriever, k_value, doc_id, doc_type, day or None, status or ())
    return {"k": options.k, "retriever": options.retriever, "doc_id": options.doc_id,
            "doc_type": options.doc_type, "as_of": options.as_of, "status": options.statuses}


def page_request(file: Any, page: Any, dpi: Any = None) -> tuple[str, str, int]:
    """A checked (file name, printed page, dpi) for a page image (``GET /api/page``);
    PageRequestError names the bad value and the fix. Whether the index has that file
    and page is ``rag.index.pages``' to say."""
    from rag.index.pages import MAX_DPI, MIN_DPI, PAGE_DPI

    name = str(file or "").strip()
    if not name:
        raise PageRequestError("缺少文件名：请给出 file=文件名（引用中的来源文件，如 "
                               "file=gazette.pdf）")
    label = str(page if page is not None else "").strip()
    if not label:
        raise PageRequestError("缺少页码：请给出 page=页码（引用中的页码，如 page=12）")
    try:
        resolution = int(dpi) if dpi not in (None, "") else PAGE_DPI
    except (TypeError, ValueError):
        raise PageRequestError(f"dpi 必须是 {MIN_DPI} 到 {MAX_DPI} 的整数，收到 {dpi!r}") from None
    if not MIN_DPI <= resolution <= MAX_DPI:
        raise PageRequestError(f"dpi 必须是 {MIN_DPI} 到 {MAX_DPI} 的整数，收到 {resolution}")
    return name, label, resolution
