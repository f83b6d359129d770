"""Escaping helpers: everything shown in the page goes through one of these.

Two sinks exist in the UI: HTML (``gr.HTML`` panels, which render raw HTML) and
Markdown (``gr.Chatbot`` messages, which render Markdown and then HTML). Text that
the user typed, text from the corpus and text from a language model are all treated
as untrusted, so they are escaped for the sink before being placed in it.
"""

from __future__ import annotations

import html
import re

# Characters with a meaning in Markdown (CommonMark / GFM) that a backslash disarms.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$])")

# Gradio's HTML component treats its template as a JS template string and as a
# Handlebars template; numeric entities keep "${...}" and "{{...}}" inert.
_TEMPLATE_CHARS = {"$": "&#36;", "{": "&#123;", "}": "&#125;", "`": "&#96;"}


def escape_html(text: object) -> str:
    """Escape ``text`` for the body or an attribute of raw HTML."""
    escaped = html.escape("" if text is None else str(text), quote=True)
    return "".join(_TEMPLATE_CHARS.get(ch, ch) for ch in escaped)


def escape_md(text: object) -> str:
    """Escape ``text`` so a Markdown renderer shows it literally (no markup, no HTML).

    Markdown punctuation gets a backslash, then ``& < > " '`` become HTML entities,
    which Markdown passes through and the browser displays as the characters.
    Newlines are kept (the chatbot renders them as line breaks).
    """
    if text is None:
        return ""
    backslashed = _MD_SPECIAL.sub(r"\\\1", str(text))
    return html.escape(backslashed, quote=True)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis when it was longer."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
