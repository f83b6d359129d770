"""The JSON API of ``ragqa serve`` and its start-up page, without gradio.

``create_app(state, auth)`` returns a FastAPI app that answers as soon as the port
opens, while ``state`` still says the index is loading:

* ``GET /api/health``: ``{"status": "loading" | "ready", "ui": bool, "passages",
  "documents", "retriever": "hybrid" | "bm25" | null, "build": null | {"stage",
  "passages", "to_embed", "embedded", "seconds_left", "seconds", "error", "scope"}}``; HTTP 503
  while loading (so a load balancer sends no traffic yet), 200 once ``/api/ask``
  answers. ``retriever`` is "bm25" while a first build embeds the passages (answers
  then come from the keyword index and say so in their ``note``), and ``build`` is
  that build's progress (``rag.live.BuildStatus``). After ``ragqa add`` or an upload,
  ``retriever`` stays "hybrid" and ``build`` (``"scope": "added"``) says how many new
  passages are not embedded yet (``to_embed`` - ``embedded``; they are found by keyword,
  and an answer citing one says so in its ``note``). Never needs a login.
* ``POST /api/ask``: body ``{"question": str, "k"?: 1-20, "retriever"?: "hybrid" |
  "bm25" | "dense", "doc_id"?: str, "doc_type"?: str, "history"?: [str], "as_of"?:
  "YYYY-MM-DD", "status"?: "in_force,draft" | [str] | "all"}``; returns
  ``rag.types.Answer.to_json()``. 503 with Retry-After while loading, 503 with the
  message when Milvus does not answer a replica without an index folder; 400 for a
  question or option the library refuses; 422 for a body of the wrong shape; 401
  without HTTP Basic credentials when login pairs are configured. Every error body is
  ``{"error": message, "status": code}``, never a traceback.
* ``POST /api/check``: body ``{"text": str, "title"?: str, "as_of"?: "YYYY-MM-DD"}``;
  returns ``rag.check.CheckReport.to_json()`` (every clause reference of the text,
  resolved and flagged). Same loading, login and error rules as ``/api/ask``.
* ``GET /api/page?file=NAME&page=N[&dpi=D]``: the printed page ``N`` of the indexed
  PDF or image ``NAME`` (as citations name them: ``source_file`` and ``page``) as
  ``image/png``, rendered at ``dpi`` (36-200, default 110; ``rag.index.pages``). 400
  naming the file or page and the fix when the index has no such file or page; same
  loading and login rules as ``/api/ask``.
* ``GET /``: a self-refreshing Chinese "starting" page (503), until
  :func:`remove_placeholder` takes it away for the Gradio UI (see :mod:`ui.server`).

Left out: rate limiting (questions run at most ``QUEUE_CONCURRENCY`` at a time and
the rest wait), CORS (same-origin or server-to-server use), streaming answers, TLS
(put a reverse proxy in front), an interactive API page (it would load scripts from
the internet; the schema is at ``/api/openapi.json``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from rag.errors import BackendUnavailableError, PageRequestError, QueryError, RagError
from rag.live import BuildStatus, pending
from rag.search.query import RetrieverName
from rag.types import DOC_TYPE_FILTERS, DOC_TYPES
from ui.errors import redact, user_message
from ui.options import page_request, search_options
from ui.settings import (
    DEFAULT_K,
    DEFAULT_RETRIEVER,
    HISTORY_LIMIT,
    MAX_HISTORY_ITEMS,
    MAX_K,
    QUEUE_CONCURRENCY,
    TITLE,
)

if TYPE_CHECKING:
    from rag.pipeline import QA

logger = logging.getLogger("ui")

PLACEHOLDER_ROUTE = "startup-page"
RETRY_AFTER_S = 2
EXAMPLE_QUESTION = "网吧能让未成年人进去吗？"


class ServeState:
    """What is ready, shared by the loading thread (writes) and the handlers (read).

    Each field is replaced by one assignment, so readers see a whole value.
    """

    def __init__(self) -> None:
        self.pipeline: QA | None = None  # a loaded (Live)Pipeline once /api/ask can answer
        self.ui = False  # the Gradio page is mounted at "/" and its queue runs

    @property
    def ready(self) -> bool:
        return self.pipeline is not None


@dataclass(frozen=True)
class Health:
    status: Literal["loading", "ready"]
    ui: bool
    passages: int | None
    documents: int | None
    retriever: Literal["hybrid", "bm25"] | None = None  # what answers a hybrid question now
    build: BuildStatus | None = None  # a first build, or added passages not embedded yet

    @classmethod
    def of(cls, state: ServeState) -> Health:
        pipeline = state.pipeline
        if pipeline is None:
            return cls("loading", state.ui, None, None)
        current = getattr(pipeline, "current", pipeline)  # one pipeline for every figure
        return cls("ready", state.ui, len(current.passages), len(current.documents),
                   "bm25" if current.keyword_only else "hybrid", pending(pipeline))


class AskRequest(BaseModel):
    """The body of ``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str = Field(description=f"the question, e.g. {EXAMPLE_QUESTION}")
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K, description="passages to retrieve")
    retriever: RetrieverName = DEFAULT_RETRIEVER
    doc_id: str | None = Field(None, description="only this document (its id in the index)")
    doc_type: str | None = Field(None, description=f"only this type: {', '.join(DOC_TYPES)}, "
                                 "or a kind of law: " + ", ".join(DOC_TYPE_FILTERS[len(DOC_TYPES):]))
    history: list[str] = Field(default_factory=list, max_length=MAX_HISTORY_ITEMS,
                               description="earlier questions, oldest first, for follow-ups")
    as_of: str | None = Field(None, description="the day document statuses are computed "
                                                "for, YYYY-MM-DD; default today")
    status: str | list[str] | None = Field(
        None, description="only documents of these statuses on as_of: all, or in_force, "
                          "not_yet_in_force, expired, superseded, draft, unknown (a list or "
                          "a comma-separated string); default: all but superseded versions")


class CheckRequest(BaseModel):
    """The body of ``POST /api/check``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(description="the text whose clause references are checked, e.g. "
                                  "依照《山西省节约能源条例》第二十条")
    title: str | None = Field(None, description="the title of the document the text is "
                                                "(what 本条例第N条 means); default: its first "
                                                "line when that reads as a title")
    as_of: str | None = Field(None, description="the day statuses are computed for, "
                                                "YYYY-MM-DD; default today")


class ApiError(Exception):
    """An error response: its status, a message for the caller, extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status,
                        headers=headers)


def loading_error() -> ApiError:
    return ApiError(503, f"正在加载检索索引，请约 {RETRY_AFTER_S} 秒后重试"
                         f"（the index is still loading; retry after {RETRY_AFTER_S} s）。",
                    {"Retry-After": str(RETRY_AFTER_S)})


def authorized(header: str | None, pairs: Sequence[tuple[str, str]]) -> bool:
    """Whether an ``Authorization: Basic …`` header names one of ``pairs``.

    Every pair is compared in constant time, so timing says nothing about which failed.
    """
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "basic" or not token:
        return False
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, colon, password = decoded.partition(":")
    if not colon:
        return False
    found = False
    for known_user, known_password in pairs:
        same_user = hmac.compare_digest(known_user.encode(), user.encode())
        same_password = hmac.compare_digest(known_password.encode(), password.encode())
        found |= same_user and same_password
    return found


def ask_options(body: AskRequest, pipeline: QA) -> dict[str, Any]:
    """Keyword arguments for ``pipeline.ask``; raises QueryError for a bad option."""

    def has_document(doc_id: str) -> bool:
        try:
            pipeline.document(doc_id)
        except KeyError:
            return False
        return True

    options = search_options(has_document, body.k, body.retriever, body.doc_id, body.doc_type,
                             body.as_of, body.status)
    history = tuple(h for h in body.history if h and h.strip())[-HISTORY_LIMIT:]
    return {**options, "history": history}


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for error in exc.errors():
        where = [str(part) for part in error.get("loc", ()) if part != "body"]
        got = error.get("input")
        if isinstance(got, str) and len(got) > 80:
            got = got[:79] + "…"
        elif not isinstance(got, str | int | float | bool | None):
            got = type(got).__name__
        fields.append({"field": ".".join(where) or "(body)",
                       "message": str(error.get("msg", "invalid")), "got": got})
    return fields


def create_app(state: ServeState, auth: Sequence[tuple[str, str]] | None = None) -> FastAPI:
    """The API app over ``state``; ``auth``: (user, password) pairs for ``/api/ask``."""
    app = FastAPI(title=TITLE, docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    limiter = anyio.CapacityLimiter(QUEUE_CONCURRENCY)
    pairs = tuple((str(user), str(password)) for user, password in auth or ())

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_body(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_errors(exc)
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        message = (f"请求格式不对（{summary}）。请发送 JSON 对象，例如 "
                   f'{{"question": "{EXAMPLE_QUESTION}", "k": {DEFAULT_K}, '
                   f'"retriever": "hybrid"}}；k 为 1 到 {MAX_K} 的整数。')
        return error_response(422, message, fields=fields)

    def require_login(request: Request) -> None:
        if pairs and not authorized(request.headers.get("authorization"), pairs):
            raise ApiError(401, "需要登录：请用 HTTP Basic 认证提供用户名和密码"
                                "（login required: send HTTP Basic credentials）。",
                           {"WWW-Authenticate": 'Basic realm="ragqa", charset="UTF-8"'})

    @app.get("/api/health")
    def health() -> JSONResponse:  # in a worker thread: a LivePipeline may reload on access
        value = Health.of(state)
        if value.status == "loading":
            return JSONResponse(asdict(value), status_code=503,
                                headers={"Retry-After": str(RETRY_AFTER_S)})
        return JSONResponse(asdict(value))

    async def served(work: Callable[[QA], Any], bad_input: type[Exception], where: str,
                     respond: Callable[[Any], Response] = lambda r: JSONResponse(r.to_json())
                     ) -> Response:
        """``work`` on the loaded pipeline in a worker thread (at most QUEUE_CONCURRENCY at
        once): its result as ``respond`` makes it (default: its JSON), 400 with the
        library's message for bad input, 500 with a message (details in the log only) for
        anything else."""
        pipeline = state.pipeline
        if pipeline is None:
            raise loading_error()
        try:
            result = await anyio.to_thread.run_sync(lambda: work(pipeline), limiter=limiter)
        except bad_input as exc:  # the library's message names the value and the fix
            return error_response(400, redact(str(exc)))
        except BackendUnavailableError as exc:  # Milvus down: another replica may answer
            return error_response(503, user_message(exc, where))
        except Exception as exc:  # noqa: BLE001 - a message here; the details in the log only
            return error_response(500, user_message(exc, where))
        return respond(result)

    @app.post("/api/ask", dependencies=[Depends(require_login)])
    async def ask(body: AskRequest) -> Response:
        return await served(lambda p: p.ask(body.question, **ask_options(body, p)),
                            QueryError, "api ask")

    @app.post("/api/check", dependencies=[Depends(require_login)])
    async def check(body: CheckRequest) -> Response:
        return await served(lambda p: p.check(body.text, title=body.title or None,
                                              as_of=body.as_of or None),
                            RagError, "api check")

    @app.get("/api/page", dependencies=[Depends(require_login)], response_class=Response,
             responses={200: {"content": {"image/png": {}}, "description": "the page"}})
    async def page(file: str | None = None, page: str | None = None,
                   dpi: str | None = None) -> Response:
        from rag.index.pages import page_view

        def render(p: QA) -> Any:
            name, label, resolution = page_request(file, page, dpi)
            return page_view(Path(getattr(p, "index_dir")), name, label, resolution)  # noqa: B009

        return await served(render, PageRequestError, "api page",
                            lambda image: Response(image.png, media_type="image/png",
                                                   headers={"Cache-Control": "no-cache"}))

    @app.api_route("/api/ask", methods=["GET", "PUT", "PATCH", "DELETE"],
                   include_in_schema=False)
    async def ask_wrong_method(request: Request) -> JSONResponse:
        return error_response(405, f"/api/ask 只接受 POST（收到 {request.method}）：请 POST 一个"
                                   f'JSON 对象，例如 {{"question": "{EXAMPLE_QUESTION}"}}。',
                              {"Allow": "POST"})

    @app.get("/", response_class=HTMLResponse, name=PLACEHOLDER_ROUTE, include_in_schema=False)
    async def starting() -> HTMLResponse:
        stage = ("检索索引已就绪（/api/ask 可用），正在加载网页界面…" if state.ready
                 else "正在加载检索索引…")
        return HTMLResponse(STARTING_PAGE.format(title=TITLE, stage=stage), status_code=503,
                            headers={"Retry-After": "1", "Cache-Control": "no-store"})

    return app


def remove_placeholder(app: FastAPI) -> None:
    """Take the start-up page off "/" (call on the event loop, just before mounting)."""
    app.router.routes[:] = [r for r in app.router.routes
                            if getattr(r, "name", None) != PLACEHOLDER_ROUTE]


def describe_auth(pairs: Sequence[tuple[str, str]] | None) -> str:
    """How the server is protected, for the log: never a user name or a password."""
    if not pairs:
        return "no login"
    return f"login required ({len(pairs)} account{'s' if len(pairs) != 1 else ''})"


STARTING_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="1">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}：正在启动</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       max-width: 36em; margin: 18vh auto; padding: 0 1em; text-align: center; color: #333; }}
p {{ color: #666; }}
</style></head>
<body><h1>正在启动，请稍候…</h1><p>{stage}</p><p>本页每秒自动刷新，就绪后将显示问答界面。</p></body>
</html>
"""
