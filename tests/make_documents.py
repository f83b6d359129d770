"""Test documents of every supported format, generated from the five corpus files.

    python -m tests.make_documents [--out DIR] [--scanned sample|all]

Writes, under ``tests/artifacts/documents/`` (git-ignored, regenerated when this script
or the corpus changes):

- ``pdf/<stem>.pdf``: A4 text PDFs in Noto Serif CJK, one printed page of the gazette per
  PDF page where the text file marks its pages (000, 001, 003), else the text flowed
  into pages; every page has the gazette's running header, a printed footer (``—１２—``,
  ``- 12 -``) and a PDF page label equal to the printed number.
- ``pdf/<stem>.layout.json``: where each source line was drawn (page index and label):
  the ground truth the tests compare citations against.
- ``docx/<stem>.docx``: one paragraph per printed line, a page break where a printed
  page starts, markdown headings as Word heading styles, bold lines as bold runs.
- ``html/<stem>.html``: a gazette web page (site navigation, breadcrumb, side menu,
  footer) with the text in its article body (002, 003, 004: files whose documents do
  not depend on page breaks).
- ``scan/<stem>.pdf``: image-only PDFs: pages rendered at 200 dpi with pypdfium2, turned
  by up to ±0.8°, with Gaussian noise and JPEG compression (quality 60), no text layer.
  ``sample`` (the default) scans pages 1-9 of 000 (the 公告 and the whole of
  山西省未成年人保护条例, 62 articles); ``all`` scans every page of every PDF (slow: a benchmark).

Everything is seeded (``SEED``); the same corpus gives the same files. Text is taken
from the corpus as printed; page furniture is drawn anew.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
OUT = ROOT / "tests" / "artifacts" / "documents"
FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
FONT_BOLD = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"
FONT_INDEX = 2  # Simplified Chinese in Debian's fonts-noto-cjk collection
SEED = 16
VERSION = 1  # bump when the output changes
SAMPLE_SCAN = {"000_9f2846b890213e93": (0, 9)}  # stem -> (first page index, end)

# A4 in points; one layout for every file
PAGE_W, PAGE_H = 595.28, 841.89
MARGIN_X = 80.0
TEXT_TOP = 78.0  # baseline of the first body line, from the top
FONT_SIZE = 8.0
LEADING = 9.6
LINES_PER_PAGE = 74
FLOW_WIDTH = 46 * FONT_SIZE  # points a line holds when text is flowed (002, 004)

HEADERS = {
    "000": "山西省人民代表大会常务委员会公报　２０２３年第５号",
    "001": "山西省人民代表大会常务委员会公报　２０２４年第１号",
    "002": "山西省人民政府公报　2022年第12期",
    "003": "1/2023　稷山县人民政府公报",
    "004": "",
}


@dataclass(frozen=True)
class DrawnLine:
    text: str
    number: int  # line number in the .txt
    page: int  # 0-based PDF page index


def _fullwidth(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def footer(prefix: str, label: int) -> str:
    """The printed page number the gazettes use.

    >>> footer("000", 12), footer("003", 12), footer("004", 3)
    ('—１２—', '- 12 -', '- 3 -')
    """
    return f"—{_fullwidth(label)}—" if prefix in ("000", "001", "002") else f"- {label} -"


def wrap(text: str, width: float, measure) -> list[str]:
    """Pieces of a line that fit ``width`` as ``measure`` measures them (greedy, by character).

    >>> wrap("一二三四五", 2, len)
    ['一二', '三四', '五']
    """
    pieces, current = [], ""
    for ch in text:
        if current and measure(current + ch) > width:
            pieces.append(current)
            current = ""
        current += ch
    return pieces + ([current] if current else [])


def _measure():
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="pt")
    pdf.add_font("serif", fname=FONT, collection_font_number=FONT_INDEX)
    pdf.set_font("serif", size=FONT_SIZE)
    return pdf.get_string_width


def lay_out(text: str) -> tuple[list[list[DrawnLine]], list[int]]:
    """Lines of a corpus file placed on pages; and each page's printed number.

    Where the file marks printed pages (one page per group of lines the cleaner puts on
    one page, numbered as printed), a PDF page holds one printed page. Elsewhere lines
    are wrapped at ``FLOW_WIDTH`` points and pages filled in order, numbered 1, 2, ….
    """
    from rag.ingest.clean import strip_page_furniture

    lines = strip_page_furniture(text)
    pages: list[list[DrawnLine]] = []
    labels: list[int] = []
    if lines and lines[0].page is not None:
        for line in lines:
            if line.opens_page or not pages:
                pages.append([])
                labels.append(line.page if line.page is not None else len(pages))
            pages[-1].append(DrawnLine(line.text, line.number, len(pages) - 1))
        assert max(len(p) for p in pages) <= LINES_PER_PAGE
        return pages, labels
    current: list[DrawnLine] = []
    measure = _measure()
    for line in lines:
        chunks = wrap(line.text, FLOW_WIDTH, measure)
        for chunk in chunks:
            if len(current) == LINES_PER_PAGE:
                pages.append(current)
                current = []
            current.append(DrawnLine(chunk, line.number, len(pages)))
    if current:
        pages.append(current)
    return pages, list(range(1, len(pages) + 1))


def write_pdf(stem: str, text: str, out: Path) -> dict:
    from fpdf import FPDF

    pages, labels = lay_out(text)
    prefix = stem[:3]
    pdf = FPDF(format="A4", unit="pt")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(_EPOCH)
    pdf.add_font("serif", fname=FONT, collection_font_number=FONT_INDEX)
    pdf.set_title(stem)
    for index, (page, label) in enumerate(zip(pages, labels, strict=True)):
        pdf.add_page()
        pdf.set_page_label(label_style="D", label_start=label)
        pdf.set_font("serif", size=7.5)
        header = HEADERS[prefix]
        if header:
            left = index % 2 == 0
            x = MARGIN_X if left else PAGE_W - MARGIN_X - pdf.get_string_width(header)
            pdf.text(x, 48, header)
            pdf.line(MARGIN_X, 53, PAGE_W - MARGIN_X, 53)
        pdf.set_font("serif", size=FONT_SIZE)
        for row, line in enumerate(page):
            pdf.text(MARGIN_X, TEXT_TOP + row * LEADING, line.text)
        mark = footer(prefix, label)
        pdf.set_font("serif", size=9)
        pdf.text((PAGE_W - pdf.get_string_width(mark)) / 2, PAGE_H - 40, mark)
    pdf.output(str(out / f"{stem}.pdf"))
    first: dict[str, int] = {}  # a wrapped line keeps the page of its first piece
    for p in pages:
        for x in p:
            first.setdefault(str(x.number), x.page)
    layout = {"labels": [str(x) for x in labels], "lines": first}
    (out / f"{stem}.layout.json").write_text(json.dumps(layout), encoding="utf-8")
    return layout


def _markdown(line: str) -> tuple[int, bool, str]:
    """(heading level, bold, text) of a markdown-marked line.

    >>> _markdown("## 一、省发展改革委"), _markdown("**关于…的通知**"), _markdown("正文")
    ((2, False, '一、省发展改革委'), (0, True, '关于…的通知'), (0, False, '正文'))
    """
    level = len(line) - len(line.lstrip("#"))
    if 0 < level <= 6 and line[level:level + 1] == " ":
        text = line[level + 1:].strip()
        bold = text.startswith("**") and text.endswith("**") and len(text) > 4
        return level, bold, text.strip("*").strip()
    if line.startswith("**") and line.endswith("**") and len(line) > 4:
        return 0, True, line[2:-2].strip()
    return 0, False, line


def write_docx(stem: str, text: str, out: Path) -> None:
    import docx
    from docx.enum.text import WD_BREAK
    from docx.oxml.ns import qn

    pages, _ = lay_out(text) if stem[:3] in ("000", "001", "003") else ([_all_lines(text)], [1])
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.name = "Noto Serif CJK SC"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")
    document.core_properties.created = _EPOCH
    for index, page in enumerate(pages):
        for row, line in enumerate(page):
            level, bold, content = _markdown(line.text)
            if level:
                paragraph = document.add_heading(content, level=min(level, 9))
            else:
                paragraph = document.add_paragraph()
                paragraph.add_run(content).bold = bold or None
            if row == 0 and index > 0:
                paragraph.insert_paragraph_before().add_run().add_break(WD_BREAK.PAGE)
    document.save(str(out / f"{stem}.docx"))


def _all_lines(text: str) -> list[DrawnLine]:
    from rag.ingest.clean import strip_page_furniture

    return [DrawnLine(x.text, x.number, 0) for x in strip_page_furniture(text)]


_NAV = ["首页", "政务公开", "政府信息公开", "政府公报", "政策文件", "互动交流", "办事服务"]
_SIDE = ["2023年第1期", "2022年第12期", "2022年第11期", "2022年第10期", "往期公报"]


def write_html(stem: str, text: str, out: Path, title: str) -> None:
    from html import escape

    body = []
    for line in _all_lines(text):
        level, bold, content = _markdown(line.text)
        content = escape(content)
        if level:
            body.append(f"<h{level}>{content}</h{level}>")
        elif bold:
            body.append(f"<p><strong>{content}</strong></p>")
        else:
            body.append(f"<p>{content}</p>")
    nav = "".join(f'<li><a href="/{i}.html">{x}</a></li>' for i, x in enumerate(_NAV))
    side = "".join(f'<li><a href="/gb/{i}.html">{x}</a></li>' for i, x in enumerate(_SIDE))
    page = f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}_政府公报</title>
<style>body{{font-family:serif}} .nav li{{display:inline}}</style>
<script>var _hmt = _hmt || []; window.onload = function() {{ console.log("统计"); }};</script>
</head><body>
<div class="top-bar">无障碍浏览 | 长者模式 | 繁體 | 登录</div>
<header class="site-header"><div class="logo">山西省人民政府</div>
<nav class="nav"><ul>{nav}</ul></nav></header>
<div class="breadcrumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 政府公报</div>
<div class="container">
<aside class="sidebar"><h3>公报目录</h3><ul>{side}</ul></aside>
<div class="article"><div class="article-info">来源：{escape(title)}　发布时间：2023-03-28　字号：大 中 小</div>
<div class="article-content" id="zoom">
{chr(10).join(body)}
</div>
<div class="share">分享到：微信 微博 打印本页 关闭窗口</div>
</div></div>
<footer class="site-footer"><p>主办：山西省人民政府办公厅　网站标识码：1400000000</p>
<p>晋ICP备05001999号　晋公网安备 14010502001234号</p><p>版权所有：山西省人民政府</p></footer>
</body></html>
"""
    (out / f"{stem}.html").write_text(page, encoding="utf-8")


def write_scan(pdf_path: Path, out: Path, pages: tuple[int, int] | None, seed: int) -> Path:
    """An image-only PDF of some pages of a text PDF: rotation, noise, JPEG."""
    import io

    import numpy as np
    import pypdfium2 as pdfium
    from PIL import Image

    rng = random.Random(seed)
    noise = np.random.default_rng(seed)
    document = pdfium.PdfDocument(str(pdf_path))
    first, end = pages or (0, len(document))
    images = []
    for index in range(first, min(end, len(document))):
        bitmap = document[index].render(scale=200 / 72, grayscale=True)
        image = bitmap.to_pil().convert("L")
        image = image.rotate(rng.uniform(-0.8, 0.8), resample=Image.BICUBIC, fillcolor=255,
                             expand=False)
        array = np.asarray(image, dtype=np.float32)
        array = array + noise.normal(0, 12, array.shape) + rng.uniform(-10, 0)
        image = Image.fromarray(np.clip(array, 0, 255).astype(np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=60)
        images.append(Image.open(io.BytesIO(buffer.getvalue())))
    document.close()
    target = out / pdf_path.name
    images[0].save(target, "PDF", resolution=200.0, save_all=True, append_images=images[1:])
    return target


_EPOCH = None  # set in main: a fixed creation date keeps the files reproducible


def _stamp(scanned: str) -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(CORPUS.glob("*.txt")):
        digest.update(path.read_bytes())
    digest.update(f"{VERSION}:{scanned}".encode())
    return digest.hexdigest()


def make_documents(out: Path = OUT, scanned: str = "sample") -> Path:
    """Generate every test document under ``out`` unless it is already current."""
    global _EPOCH
    import datetime as dt

    _EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    stamp_file = out / "STAMP"
    stamp = _stamp(scanned)
    if stamp_file.is_file() and stamp_file.read_text() == stamp:
        return out
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".lock", "w") as lock:  # parallel test workers: one writes, the rest wait
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp_file.is_file() and stamp_file.read_text() == stamp:
            return out
        _write_documents(out, scanned)
        stamp_file.write_text(stamp)
    return out


def _write_documents(out: Path, scanned: str) -> None:
    from rag.ingest.corpus import read_corpus

    corpus = read_corpus(CORPUS)
    for sub in ("pdf", "docx", "html", "scan"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for index, f in enumerate(corpus.files):
        stem = f.name.rsplit(".", 1)[0]
        write_pdf(stem, f.text, out / "pdf")
        write_docx(stem, f.text, out / "docx")
        if stem[:3] in ("002", "003", "004"):
            write_html(stem, f.text, out / "html", f.publication or stem)
        if scanned == "all":
            write_scan(out / "pdf" / f"{stem}.pdf", out / "scan", None, SEED + index)
        elif stem in SAMPLE_SCAN:
            write_scan(out / "pdf" / f"{stem}.pdf", out / "scan", SAMPLE_SCAN[stem], SEED + index)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--scanned", choices=("sample", "all"), default="sample")
    args = parser.parse_args(argv)
    print(make_documents(args.out, args.scanned))
    return 0


if __name__ == "__main__":
    sys.exit(main())
