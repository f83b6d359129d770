"""Render answers, citations and passages for the page, and as JSON for the API.

Pure functions of library values (:mod:`rag.types`); all text is escaped here with
:mod:`ui.text`, so callers can place the results straight into a Chatbot message
(Markdown) or a ``gr.HTML`` panel.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from rag.types import LEGAL_KINDS, Answer, Citation, Document, Hit, Passage
from ui.text import escape_html, escape_md, shorten

if TYPE_CHECKING:
    from rag.index.pages import PageImage

DOC_TYPE_NAMES = {
    "regulation": "法规规章",
    "notice": "公告通知",
    "explanation": "立法说明",
    "report": "报告",
    "decision": "决定决议",
    "plan": "方案规划",
    "list": "名单议程",
    "other": "其他",
}

# A citation marker [n] after escape_md, i.e. \\[n\\].
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")

# Inline styles keep the panels readable even when the app is launched without CSS.
_TEXT_STYLE = "white-space:pre-wrap;line-height:1.8;"
_META_STYLE = "color:#666;font-size:0.9em;"


def doc_type_name(doc_type: str | None) -> str:
    """Chinese name of a document type (the raw value when unknown)."""
    return DOC_TYPE_NAMES.get(doc_type or "", doc_type or "其他")


def where_label(article: str | None, section: str | None) -> str:
    """第十二条, or the section path, or an empty string."""
    return article or section or ""


def citation_label(citation: Citation) -> str:
    """``[1] 《title》第十二条`` (plain text)."""
    return f"[{citation.n}] {citation.label}"


def source_line(page: int | None, source_file: str) -> str:
    """``第 3 页 · 来源 000_x.txt`` (plain text)."""
    parts = [f"第 {page} 页"] if page is not None else []
    parts.append(f"来源文件 {source_file}")
    return " · ".join(parts)


# ---------------------------------------------------------------- chat (Markdown)


OUTCOME_LABELS = {  # how the chat names each outcome of rag.types.Answer
    "answered": "结果：已据原文回答",
    "detail_absent": "结果：文件涉及此事，但未写明所问的细节",
    "refused": "结果：现有文件中没有依据",
}


def answer_markdown(answer: Answer, text: str | None = None) -> str:
    """The assistant message for ``answer``: text, note, then the citation list.

    ``text`` overrides the answer text (used while streaming a prefix of it).
    """
    body = _MARKER.sub(
        r"<strong>\\[\1\\]</strong>", escape_md(answer.text if text is None else text)
    )
    parts = [body]
    if text is not None:
        return body
    parts.append(f"*{OUTCOME_LABELS.get(answer.outcome, answer.outcome)}*")
    if answer.note:
        parts.append(f"*提示：{escape_md(answer.note)}*")
    if answer.citations:
        lines = ["**引用**"]
        for c in answer.citations:
            lines.append(
                f"- {escape_md(citation_label(c))}（{escape_md(source_line(c.page, c.source_file))}）"
            )
        parts.append("\n".join(lines))
    elif answer.refused and answer.related:
        lines = ["**可能相关的条文**"]
        for hit in answer.related:
            p = hit.passage
            lines.append(
                f"- {escape_md(p.citation_label)}（{escape_md(source_line(p.page, p.source_file))}）"
            )
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def user_markdown(question: str) -> str:
    """The user's message, shown literally."""
    return escape_md(question)


def error_markdown(message: str) -> str:
    """An assistant message carrying an error message."""
    return f"⚠️ {escape_md(message)}"


# ---------------------------------------------------------------- panels (HTML)


def _details(summary: str, meta: str, quote: str | None, text: str, n: int | None) -> str:
    data = f' data-n="{n}"' if n is not None else ""
    quote_html = (
        f'<blockquote class="cite-quote" style="margin:0.4em 0;border-left:3px solid #c8a;'
        f'padding-left:0.6em;">引用原文：{escape_html(quote)}</blockquote>'
        if quote
        else ""
    )
    return (
        f'<details class="cite"{data} style="margin:0.3em 0;">'
        f'<summary style="cursor:pointer;">{escape_html(summary)}</summary>'
        f'<div class="cite-meta" style="{_META_STYLE}">{escape_html(meta)}</div>'
        f"{quote_html}"
        f'<div class="cite-text" style="{_TEXT_STYLE}">{escape_html(text)}</div>'
        "</details>"
    )


def citations_html(answer: Answer | None, passage_of: Callable[[str], Passage | None]) -> str:
    """The citation panel under the chat: one collapsible entry per citation.

    ``passage_of`` looks up the full passage of a citation (``None`` when unknown);
    the entry then shows the quote only.
    """
    if answer is None:
        return '<div class="cite-list cite-empty" style="color:#888;">提问后，这里会列出答案引用的条文，点击可展开全文。</div>'
    items: list[str] = []
    if answer.citations:
        heading = "引用条文（点击展开全文，或在下方选择后到“文档浏览”中打开）"
        for c in answer.citations:
            passage = passage_of(c.passage_id)
            meta = _meta_line(
                c.doc_title,
                passage.chapter if passage else None,
                where_label(c.article, c.section),
                c.page,
                c.source_file,
            )
            if c.status is not None:
                meta += f" · {status_text(c.status)}"
            text = passage.text if passage else c.quote
            items.append(_details(citation_label(c), meta, c.quote, text, c.n))
    elif answer.related:
        heading = "未找到可直接回答的依据。可能相关的条文："
        items.extend(_hit_details(answer.related))
    else:
        return '<div class="cite-list cite-empty" style="color:#888;">本次回答没有引用条文。</div>'
    return (
        f'<div class="cite-list"><div class="cite-heading" style="font-weight:600;">'
        f"{escape_html(heading)}</div>{''.join(items)}</div>"
    )


def _hit_details(hits: Iterable[Hit]) -> list[str]:
    out = []
    for hit in hits:
        p = hit.passage
        meta = _meta_line(
            p.doc_title, p.chapter, where_label(p.article, p.section), p.page, p.source_file
        )
        out.append(_details(p.citation_label, meta, None, p.text, None))
    return out


def _meta_line(title: str, chapter: str | None, where: str, page: int | None, source: str) -> str:
    parts = [f"《{title}》"]
    if chapter:
        parts.append(chapter)
    if where:
        parts.append(where)
    parts.append(source_line(page, source))
    return " · ".join(parts)


def message_html(message: str) -> str:
    """A plain notice in a panel (e.g. an error in the document browser)."""
    return f'<div class="ui-notice" style="color:#a33;">{escape_html(message)}</div>'


def document_html(doc: Document, n_passages: int, status=None) -> str:
    """The header of the document browser: title, catalogue data and status fields."""
    kind = LEGAL_KINDS.get(doc.kind)
    rows = [("类型", f"{doc_type_name(doc.doc_type)}（{kind}）" if kind else doc_type_name(doc.doc_type))]
    if status is not None:
        rows.append(("状态", f"{status_text(status)}，截至 {status.as_of}"))
    for label, value in (("通过或印发", doc.adopted), ("施行", doc.effective),
                         ("有效期至", doc.ends), ("期限", doc.term)):
        if value:
            rows.append((label, value))
    if doc.issuer:
        rows.append(("发文机关", doc.issuer))
    if doc.doc_number:
        rows.append(("文号", doc.doc_number))
    if doc.date:
        rows.append(("日期", doc.date))
    if doc.page_start is not None:
        pages = (
            f"{doc.page_start}"
            if doc.page_end in (None, doc.page_start)
            else (f"{doc.page_start}–{doc.page_end}")
        )
        rows.append(("页码", pages))
    rows.append(("来源文件", doc.source_file))
    rows.append(("条目数", str(n_passages)))
    meta = " · ".join(f"{escape_html(k)}：{escape_html(v)}" for k, v in rows)
    return (
        f'<div class="doc-info"><h3 style="margin:0.2em 0;">《{escape_html(doc.title)}》</h3>'
        f'<div style="{_META_STYLE}">{meta}</div></div>'
    )


def body_text(passage: Passage) -> str:
    """The passage text without its leading article label (shown as a heading)."""
    text = passage.text
    if passage.article and text.startswith(passage.article):
        text = text[len(passage.article) :].lstrip("\u3000 ")
    return text


def passage_html(passage: Passage, position: int, total: int) -> str:
    """One article (or section) of a document, with where it comes from."""
    head = where_label(passage.article, passage.section) or f"第 {position} 段"
    chapter = (
        f'<div class="pv-chapter" style="{_META_STYLE}">{escape_html(passage.chapter)}</div>'
        if passage.chapter
        else ""
    )
    return (
        f'<div class="passage-view" data-passage-id="{escape_html(passage.id)}">'
        f'<div class="pv-doc" style="{_META_STYLE}">《{escape_html(passage.doc_title)}》</div>'
        f"{chapter}"
        f'<h3 class="pv-label" style="margin:0.3em 0;">{escape_html(head)}</h3>'
        f'<div class="pv-text" style="{_TEXT_STYLE}">{escape_html(body_text(passage))}</div>'
        f'<div class="pv-source" style="{_META_STYLE}margin-top:0.6em;">'
        f"{escape_html(source_line(passage.page, passage.source_file))}"
        f" · 第 {position} / {total} 项</div></div>"
    )


def page_caption(image: PageImage) -> str:
    """``第 29 页 · gazette.pdf（文件第 3 / 3 页）`` (plain text)."""
    return (f"第 {image.label} 页 · {image.source_file}"
            f"（文件第 {image.index + 1} / {image.pages} 页）")


def page_html(image: PageImage) -> str:
    """A page of an original file beside the article: the image (inline PNG) and its
    caption."""
    caption = escape_html(page_caption(image))
    data = base64.b64encode(image.png).decode("ascii")
    return (
        f'<figure class="page-figure" data-page="{escape_html(image.label)}" '
        f'data-file="{escape_html(image.source_file)}" style="margin:0;">'
        f'<figcaption class="page-caption" style="{_META_STYLE}margin-bottom:0.3em;">'
        f"{caption}</figcaption>"
        f'<img class="page-image" src="data:image/png;base64,{data}" alt="{caption}" '
        f'width="{image.width}" height="{image.height}" '
        'style="width:100%;height:auto;border:1px solid #ccc;"></figure>'
    )


# ---------------------------------------------------------------- API (JSON)


def answer_payload(answer: Answer) -> dict:
    """The JSON answer of the ``/ask`` endpoint."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "refused": bool(answer.refused),
        "outcome": answer.outcome,
        "citations": [{**c.to_json(), "label": citation_label(c)} for c in answer.citations],
        "related": [
            {
                "passage_id": h.passage.id,
                "label": h.passage.citation_label,
                "doc_title": h.passage.doc_title,
                "article": h.passage.article,
                "section": h.passage.section,
                "source_file": h.passage.source_file,
                "page": h.passage.page,
            }
            for h in answer.related
        ],
        "note": answer.note,
        "error": None,
    }


def error_payload(question: str, message: str) -> dict:
    """The JSON answer of the ``/ask`` endpoint when asking failed."""
    return {
        "question": question,
        "answer": message,
        "refused": True,
        "outcome": "refused",
        "citations": [],
        "related": [],
        "note": None,
        "error": message,
    }


def shorten_label(text: str, limit: int = 40) -> str:
    """A dropdown label no longer than ``limit`` characters."""
    return shorten(text, limit)


# ---------------------------------------------------------------- reference check (HTML)

_FLAG_STYLE = "color:#a33;font-weight:600;"
_OK_STYLE = "color:#286;"


def status_text(status) -> str:
    """A document's status for a citation or the browser: 现行有效（自2024-01-01起施行）."""
    return status.describe() if status is not None else ""


def check_html(report) -> str:
    """The reference check as a table: line, as written, resolved to, status, result,
    reason; each resolved article's words open under its row."""
    flagged = sum(f.flagged for f in report.findings)
    head = (f"核对日 {report.as_of} · 文本：{report.context.title or '（无标题）'} · "
            f"{len(report.findings)} 处引用，{flagged} 处需要注意")
    if not report.findings:
        return (f'<div class="check-report"><div style="{_META_STYLE}">{escape_html(head)}</div>'
                '<p>没有找到条文引用（形如《……》第N条、本条例第N条）。</p></div>')
    rows = []
    for f in report.findings:
        style = _FLAG_STYLE if f.flagged else _OK_STYLE
        text = (f'<details><summary style="cursor:pointer;">条文</summary>'
                f'<div style="{_TEXT_STYLE}">{escape_html(f.article_text)}</div></details>'
                if f.article_text else "")
        rows.append(
            f'<tr class="check-row" data-outcome="{escape_html(f.outcome)}">'
            f"<td>{f.line}</td><td>{escape_html(f.written)}</td>"
            f"<td>{escape_html(f.resolved or '—')}{text}</td>"
            f"<td>{escape_html(f.status_label or '—')}</td>"
            f'<td style="{style}">{escape_html(f.outcome_label)}</td>'
            f"<td>{escape_html(f.reason)}</td></tr>")
    return (f'<div class="check-report"><div style="{_META_STYLE}">{escape_html(head)}</div>'
            '<table class="check-table" style="width:100%;border-collapse:collapse;">'
            "<thead><tr><th>行</th><th>引用原文</th><th>解析为</th><th>状态</th><th>结果</th>"
            f"<th>说明</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
