"""HTML: a web page's article body, without the site around it.

The page is parsed with the standard library. Dropped whole: scripts, styles, forms,
``nav``/``header``/``footer``/``aside`` and any element whose class or id names site
furniture (navigation, menus, breadcrumbs, sidebars, share bars, copyright). When
the page marks its body (``article``, ``main``, or a class/id such as ``content``,
``article``, ``zoom``), only that is read. Headings come out as markdown headings,
a paragraph in bold throughout as ``**…**``, a table row as one line with its cells
separated by ``　``.

Left out: text drawn by JavaScript, frames, images (no OCR inside HTML), CSS-hidden text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from rag.errors import DocumentReadError
from rag.ingest.readers.base import TEXT, Extracted, PageText, PlacedLine, fold_compatibility

_SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside",
              "form", "iframe", "select", "button", "svg", "head"}
_SKIP_NAMES = re.compile(
    r"(^|[-_\s])(nav|navbar|menu|breadcrumb|crumbs?|sidebar|side|share|footer|header|"
    r"top-?bar|toolbar|copyright|banner|login|search|related|pager)([-_\s]|$)", re.I)
_BODY_NAMES = re.compile(r"(^|[-_\s])(article-?content|content|article|zoom|main|text|"
                         r"detail|body)([-_\s]|$)", re.I)
_BLOCKS = {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "br", "section",
           "article", "main", "blockquote", "pre", "table", "ul", "ol", "dd", "dt", "td",
           "th", "caption"}
_VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "source", "wbr"}


class _Node:
    __slots__ = ("tag", "attrs", "children", "parent")

    def __init__(self, tag: str, attrs: dict[str, str], parent: _Node | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[_Node | str] = []


class _Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = _Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(_Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def _names(node: _Node) -> str:
    return f"{node.attrs.get('class', '')} {node.attrs.get('id', '')}"


def _skipped(node: _Node) -> bool:
    return node.tag in _SKIP_TAGS or bool(_SKIP_NAMES.search(_names(node)))


def _text_length(node: _Node) -> int:
    if _skipped(node):
        return 0
    return sum(len(c.strip()) if isinstance(c, str) else _text_length(c)
               for c in node.children)


def _candidates(node: _Node, out: list[_Node]) -> None:
    for child in node.children:
        if isinstance(child, str) or _skipped(child):
            continue
        if child.tag in ("article", "main") or _BODY_NAMES.search(_names(child)):
            out.append(child)
        _candidates(child, out)


def _find_body(root: _Node) -> _Node | None:
    """The page's body: the innermost marked element that holds nearly all the text any
    marked element holds (a wrapper's date line and share bar fall outside it)."""
    candidates: list[_Node] = []
    _candidates(root, candidates)
    if not candidates:
        return None
    sizes = [_text_length(c) for c in candidates]
    most = max(sizes)
    if most == 0:
        return None
    # candidates are in document order, ancestors first: the last big one is innermost
    return [c for c, n in zip(candidates, sizes, strict=True) if n >= 0.9 * most][-1]


def _lines(node: _Node, out: list[str], buffer: list[str], rows: set[int] | None = None) -> None:
    """``out`` gets the lines of ``node``; ``rows`` the indexes of those that are table rows."""
    rows = set() if rows is None else rows
    for child in node.children:
        if isinstance(child, str):
            buffer.append(child)
            continue
        if _skipped(child):
            continue
        if child.tag == "tr":
            _flush(out, buffer)
            cells = []
            for cell in child.children:
                if isinstance(cell, _Node) and cell.tag in ("td", "th"):
                    cells.append(_inner_text(cell))
            if any(cells):
                rows.add(len(out))
                out.append("　".join(cells))
            continue
        block = child.tag in _BLOCKS
        if block:
            _flush(out, buffer)
        if re.fullmatch(r"h[1-6]", child.tag):
            if inner := _inner_text(child):
                out.append("#" * int(child.tag[1]) + " " + inner)
            continue
        if child.tag == "p" and _all_bold(child):
            if inner := _inner_text(child):
                out.append(f"**{inner}**")
            continue
        _lines(child, out, buffer, rows)
        if block:
            _flush(out, buffer)


def _inner_text(node: _Node) -> str:
    """An element's text on one line (its blocks joined by a space)."""
    inner: list[str] = []
    buffer: list[str] = []
    _lines(node, inner, buffer)
    _flush(inner, buffer)
    return " ".join(inner)


def _all_bold(node: _Node) -> bool:
    texts = [c for c in node.children if isinstance(c, str) and c.strip()]
    bolds = [c for c in node.children if isinstance(c, _Node) and c.tag in ("strong", "b")]
    return not texts and bool(bolds) and len(bolds) == len(
        [c for c in node.children if isinstance(c, _Node)])


def _flush(out: list[str], buffer: list[str]) -> None:
    text = re.sub(r"[ \t\r\n]+", " ", "".join(buffer)).strip()
    buffer.clear()
    if text:
        out.append(text)


def html_lines(markup: str, rows: set[int] | None = None) -> list[str]:
    """The body text of a web page, one line per block; ``rows`` gets the indexes of
    the lines that are table rows.

    >>> html_lines('<nav><a>首页</a></nav><div class="content"><h1>标题</h1>'
    ...            '<p>第一条　正文</p><table><tr><td>甲</td><td>乙</td></tr></table></div>'
    ...            '<div class="footer">版权所有</div>')
    ['# 标题', '第一条　正文', '甲　乙']
    """
    tree = _Tree()
    tree.feed(markup)
    tree.close()
    body = _find_body(tree.root) or tree.root
    out: list[str] = []
    buffer: list[str] = []
    _lines(body, out, buffer, rows)
    _flush(out, buffer)
    return [fold_compatibility(x) for x in out]


def read(name: str, data: bytes, progress=None) -> Extracted:
    from rag.ingest.readers.txt import decode_html

    try:
        markup = decode_html(data)
    except ValueError as exc:
        raise DocumentReadError(f"{name}: {exc}; save the page as UTF-8 HTML") from exc
    rows: set[int] = set()
    lines = html_lines(markup, rows)
    page = PageText(0, None, tuple(PlacedLine(t, table=i in rows) for i, t in enumerate(lines)),
                    TEXT)
    if progress:
        progress(1, 1, TEXT)
    return Extracted(name, "html", (page,), paged=False)
