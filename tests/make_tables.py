"""PDFs with tables shaped like government tables, for the PDF reader's table tests.

    python -m tests.make_tables [--out DIR]

Writes ``tables.pdf`` and ``tables.json`` (the rows drawn, cell by cell, per page: the
ground truth) under ``tests/artifacts/tables/``. Drawn with the font ``make_documents``
uses (Noto Serif CJK), each cell's text placed as a word processor places it (wrapped
inside its cell, numbers right-aligned), borders drawn as ruling lines:

- page 1: a notice's prose, then a budget table (项目/金额（万元）/备注, amounts
  right-aligned, 备注 cells wrapped over two and three lines), then prose again;
- page 2: a name list (序号/姓名/单位/职务, a 单位 cell wrapped), then the start of a
  附件 table (序号/事项名称/实施依据/责任单位) that goes on over the page break;
- page 3: the rest of the 附件 table (its header row printed again, as Word does), then
  a closing line;
- page 4: a budget summary without any ruling lines (科目编码/预算数/执行数/说明,
  amounts right-aligned, no wrapped cells): columns only by alignment.

Everything is fixed text; the same script gives the same file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tests.make_documents import FONT, FONT_INDEX, PAGE_H, PAGE_W, wrap

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "artifacts" / "tables"
SIZE = 10.5
LEADING = 14.0
PAD = 4.0
LEFT = 72.0

PROSE_1 = [
    "关于公开２０２４年部门预算的公告",
    "根据《中华人民共和国预算法》和省财政厅的有关规定，现将本部门２０２４年",
    "部门预算有关情况公开如下。",
]
PROSE_1_AFTER = ["以上预算经本部门党组会议研究通过，请社会各界予以监督。"]
BUDGET = [
    ["项目", "金额（万元）", "备注"],
    ["基本支出", "1,286.40", "含人员经费和日常公用经费"],
    ["项目支出", "523.75", "主要用于信息化建设运维、执法装备购置和业务培训等工作"],
    ["政府采购", "96.00", "已列入项目支出"],
    ["合计", "1,906.15", ""],
]
NAMES = [
    ["序号", "姓名", "单位", "职务"],
    ["1", "王建国", "省发展和改革委员会", "副主任"],
    ["2", "李秀英", "省财政厅预算编制中心（省财政投资评审中心）", "主任"],
    ["3", "张伟", "太原市人民政府", "副市长"],
    ["4", "赵丽娟", "省生态环境厅", "处长"],
]
ANNEX_HEAD = ["序号", "事项名称", "实施依据", "责任单位"]
ANNEX = [
    ["1", "建设项目环境影响评价文件审批", "《中华人民共和国环境影响评价法》第二十二条", "省生态环境厅"],
    ["2", "取水许可", "《取水许可和水资源费征收管理条例》第三条", "省水利厅"],
    ["3", "食品生产许可", "《中华人民共和国食品安全法》第三十五条", "省市场监管局"],
    ["4", "建筑工程施工许可", "《建筑工程施工许可管理办法》第二条", "市县住房城乡建设部门"],
    ["5", "药品零售企业许可", "《中华人民共和国药品管理法》第五十二条", "市级药品监管部门"],
    ["6", "公共场所卫生许可", "《公共场所卫生管理条例》第八条", "县级卫生健康部门"],
]
BORDERLESS = [  # no ruling lines: columns only by alignment, amounts right-aligned
    ["科目编码", "2024年预算数", "2023年执行数", "说明"],
    ["201", "1,286.40", "1,190.02", "一般公共服务支出"],
    ["20101", "96.00", "88.50", "人大事务"],
    ["2010101", "47.35", "45.10", "行政运行"],
    ["208", "523.75", "611.30", "社会保障和就业支出"],
]
BORDERLESS_WIDTHS = (90.0, 90.0, 90.0, 160.0)
BUDGET_WIDTHS = (120.0, 90.0, 230.0)
NAME_WIDTHS = (40.0, 70.0, 220.0, 80.0)
ANNEX_WIDTHS = (40.0, 130.0, 180.0, 100.0)
RIGHT_ALIGNED = {"budget": {1}, "names": set(), "annex": set()}


class _Pdf:
    def __init__(self) -> None:
        import datetime as dt

        from fpdf import FPDF

        self.pdf = FPDF(format="A4", unit="pt")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
        self.pdf.add_font("serif", fname=FONT, collection_font_number=FONT_INDEX)
        self.pdf.set_line_width(0.6)
        self.y = 0.0
        self.pages: list[list[list[str]]] = []  # per page, the table rows drawn

    def page(self) -> None:
        self.pdf.add_page()
        self.pdf.set_font("serif", size=SIZE)
        self.y = 90.0
        self.pages.append([])

    def prose(self, lines: list[str]) -> None:
        for line in lines:
            self.pdf.text(LEFT, self.y, line)
            self.y += LEADING * 1.4

    def table(self, rows: list[list[str]], widths: tuple[float, ...], right: set[int],
              ruled: bool = True) -> None:
        """Rows with borders (``ruled``) or without; each cell wrapped inside its width; a
        row as tall as its tallest cell."""
        measure = self.pdf.get_string_width
        top = self.y
        xs = [LEFT]
        for w in widths:
            xs.append(xs[-1] + w)
        for row in rows:
            pieces = [wrap(c, w - 2 * PAD, measure) or [""] for c, w in zip(row, widths, strict=True)]
            height = max(len(p) for p in pieces) * LEADING + 2 * PAD
            for col, lines in enumerate(pieces):
                for k, text in enumerate(lines):
                    if not text:
                        continue
                    x = (xs[col + 1] - PAD - measure(text) if col in right else xs[col] + PAD)
                    self.pdf.text(x, self.y + PAD + (k + 1) * LEADING - 3.5, text)
            if ruled:
                self.pdf.line(xs[0], self.y, xs[-1], self.y)
            self.y += height
            self.pages[-1].append(list(row))
        if ruled:
            self.pdf.line(xs[0], self.y, xs[-1], self.y)
            for x in xs:
                self.pdf.line(x, top, x, self.y)
        self.y += LEADING * 1.5


def make_tables(out: Path = OUT) -> Path:
    """Write ``tables.pdf`` and ``tables.json`` under ``out``; return the PDF's path."""
    out.mkdir(parents=True, exist_ok=True)
    doc = _Pdf()
    doc.page()
    doc.prose(PROSE_1)
    doc.table(BUDGET, BUDGET_WIDTHS, RIGHT_ALIGNED["budget"])
    doc.prose(PROSE_1_AFTER)
    doc.page()
    doc.prose(["附件１", "省级评审专家名单"])
    doc.table(NAMES, NAME_WIDTHS, RIGHT_ALIGNED["names"])
    doc.prose(["附件２", "省级行政许可事项实施清单"])
    doc.table([ANNEX_HEAD, *ANNEX[:3]], ANNEX_WIDTHS, RIGHT_ALIGNED["annex"])
    doc.page()
    doc.table([ANNEX_HEAD, *ANNEX[3:]], ANNEX_WIDTHS, RIGHT_ALIGNED["annex"])
    doc.prose(["本清单自公布之日起施行。"])
    doc.page()
    doc.prose(["附件３", "２０２４年部门收支预算总表（单位：万元）"])
    doc.table(BORDERLESS, BORDERLESS_WIDTHS, {1, 2}, ruled=False)
    doc.prose(["注：本表不含政府性基金预算。"])
    assert doc.y < PAGE_H - 60 and LEFT + sum(ANNEX_WIDTHS) < PAGE_W
    target = out / "tables.pdf"
    doc.pdf.output(str(target))
    (out / "tables.json").write_text(json.dumps({"pages": doc.pages}, ensure_ascii=False),
                                     encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    print(make_tables(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
