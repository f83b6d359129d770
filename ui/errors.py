"""Turn exceptions raised under a UI handler into short Chinese messages, and log them.

A handler never lets an exception reach Gradio (which could show a traceback); it
calls :func:`user_message` and shows the result instead. Expected library errors
(:class:`rag.errors.RagError`) are logged as warnings without a traceback; anything
else is logged with its traceback, on the server only.
"""

from __future__ import annotations

import logging
import re

from rag import errors

logger = logging.getLogger("ui")

# Library messages are user-facing, but an endpoint URL or a header could slip in.
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|token|api[_-]?key|password|secret)(\s*[=:]\s*|\s+)\S+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}"),
    re.compile(r"(?<=://)[^/\s:@]+:[^/\s@]+@"),
)

_DETAIL_LIMIT = 300

# (error class, message). The first class that matches wins, so subclasses first.
_MESSAGES: tuple[tuple[type[BaseException], str], ...] = (
    (
        errors.IndexMissingError,
        "还没有找到检索索引。请先在服务器上运行 `ragqa index` 构建索引，再重新启动 `ragqa serve`。",
    ),
    (
        errors.IndexMismatchError,
        "检索索引与当前语料或模型配置不一致（或已损坏）。请运行 `ragqa index` 重建索引。",
    ),
    (
        errors.EmbedderError,
        "无法加载向量模型（模型未找到或无法使用）。请检查模型配置，或在“高级设置”中改用 bm25 检索。",
    ),
    (
        errors.LLMError,
        "语言模型服务暂时不可用（连接失败、超时或返回异常）。请稍后重试，或检查模型服务地址。",
    ),
    (errors.QueryError, "这个问题无法处理，请换一种问法。"),
    (errors.PageRequestError, "索引中没有所要的页面。"),
    (errors.CheckInputError, "这段文本无法核对。"),
    (errors.CorpusError, "语料文件无法读取，请检查语料目录后重建索引。"),
    (errors.RagError, "检索问答出错。"),
)

# Library messages worth showing after the Chinese summary (they name the bad value).
_SHOW_DETAIL = (
    errors.QueryError,
    errors.CheckInputError,
    errors.IndexMissingError,
    errors.IndexMismatchError,
    errors.EmbedderError,
    errors.CorpusError,
)

INTERNAL_ERROR = "系统内部错误，请稍后重试。详细信息已记录在服务日志中。"


def redact(text: str) -> str:
    """``text`` with anything that looks like a credential masked."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(0)[:4] + "***", text)
    return text


def user_message(exc: BaseException, action: str = "处理请求") -> str:
    """A short Chinese message for ``exc`` (plain text), after logging it.

    ``action`` names what failed, for the log line only.
    """
    if isinstance(exc, errors.RagError):
        logger.warning("%s failed: %s: %s", action, type(exc).__name__, redact(str(exc)))
        message = next(text for cls, text in _MESSAGES if isinstance(exc, cls))
        detail = redact(str(exc)).strip()
        if detail and isinstance(exc, _SHOW_DETAIL):
            if len(detail) > _DETAIL_LIMIT:
                detail = detail[: _DETAIL_LIMIT - 1] + "…"
            message = f"{message}（详情：{detail}）"
        return message
    logger.error("%s failed with an unexpected error", action, exc_info=exc)
    return INTERNAL_ERROR
