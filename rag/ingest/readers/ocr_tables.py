"""Table rows on OCR'd pages, by the columns their pieces line up in.

OCR gives a page's lines as pieces: the text between two wide gaps, with its place
(``Piece``: top, bottom, left, right as fractions of the page, and its text). A table is
a run of at least ``MIN_ROWS`` lines of two or more pieces whose pieces line up in
columns (left edges of left-aligned text, right edges of right-aligned numbers, within
``ALIGN`` of a character width, a full-width bracket's blank half counted:
``em_box``), with at least ``MIN_COLUMNS`` columns holding text in two rows or more;
each such line is one row, its cells joined by ``　`` (``table_rows``).

A cell whose text wraps inside its cell leaves a continuation line under its row
holding only the wrapped tails. A line directly under a row (its pieces no further
below the text above them than ``CONTINUATION_GAP`` of their height), with fewer
pieces than the table has columns, none in the first column, each inside a column
where the row has text, is merged into the row: each piece appended to its column's
cell (``clean.glue``).

Prose stays prose: a line whose pieces cross a column's edge, or whose gaps do not
line up with the columns of the line before, ends (or never starts) a table; a
heading such as ``第十二条　学校应当`` has two pieces, and articles, a list of names
run on with 、, or a heading above a list line up in fewer than three columns, or in
fewer than three rows. Checked on 395 OCR'd pages of the scanned corpus (docs/formats.md):
none gives a table row.

Left out: tables of two columns (a label and its text look the same) or of fewer than
three rows (a header and one row), cells merged across columns (a piece crossing a
column edge ends the table), a wrapped cell in the first column (its tail starts a
row of its own, or ends the table), a cell wrapped onto a line that also starts the
next row, columns that appear only after a table's first row except at its right
end, two cells OCR read as one piece (one cell), rulings (OCR reads text only).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rag.ingest.clean import glue

Piece = tuple[float, float, float, float, str]  # top, bottom, left, right, text

ALIGN = 0.6  # of a character width: edges this close line up
MIN_ROWS = 3  # rows (besides continuation lines) that make a table
MIN_COLUMNS = 3  # fewer columns: a label and its text, not a table
CONTINUATION_GAP = 0.3  # of a piece's height: a wrapped tail is no further below its cell


@dataclass(frozen=True)
class TableRow:
    """A table row found on a page: ``line``, the index of its line; ``cells``, its
    cells left to right (an empty column in the middle as ""; empty ones at the end
    left off); ``merged``, the indexes of the continuation lines merged into it."""

    line: int
    cells: tuple[str, ...]
    merged: tuple[int, ...] = ()


def table_rows(lines: list[list[Piece]], unit: float) -> list[TableRow]:
    """The table rows among a page's lines (each a list of pieces, left to right);
    ``unit``: a character's width, in the pieces' x measure.

    >>> def line(top, *cells):  # (left, right, text) per cell, 10 units to a character
    ...     return [(top, top + 10, left, right, text) for left, right, text in cells]
    >>> page = [line(0, (0, 300, "第十二条学校应当在每学年开始时制定")),
    ...         line(20, (0, 20, "项目"), (100, 160, "金额"), (200, 220, "备注")),
    ...         line(40, (0, 40, "基本支出"), (110, 160, "12.50"), (200, 300, "含人员经费和")),
    ...         line(52, (200, 240, "日常经费")),
    ...         line(70, (0, 20, "合计"), (110, 160, "12.50")),
    ...         line(90, (0, 120, "以上预算经审议通过"))]
    >>> for row in table_rows(page, 10):
    ...     print(row.line, "　".join(row.cells), row.merged)
    1 项目　金额　备注 ()
    2 基本支出　12.50　含人员经费和日常经费 (3,)
    4 合计　12.50 ()
    >>> table_rows([line(0, (0, 40, "第十二条"), (50, 300, "学校应当")),
    ...             line(20, (0, 40, "第十三条"), (50, 300, "本条例自"))], 10)
    []
    """
    slack = ALIGN * unit
    lines = [[em_box(p, unit) for p in line] for line in lines]
    found: list[TableRow] = []
    i = 0
    while i < len(lines):
        table, end = _table_from(lines, i, slack, unit)
        if table:
            found += table
            i = end
        else:
            i += 1
    return found


def _table_from(lines: list[list[Piece]], start: int, slack: float,
                unit: float) -> tuple[list[TableRow], int]:
    """The table that starts at line ``start`` (its rows and the index of the line after
    it), or no rows."""
    first = sorted(lines[start], key=lambda p: p[2])
    if len(first) < 2:
        return [], start
    columns = [[p[2], p[3]] for p in first]
    members: list[_Member] = []
    members.append(_Member.of(start, first, columns, slack, unit))
    j = start + 1
    while j < len(lines):
        pieces = sorted(lines[j], key=lambda p: p[2])
        if continues(pieces, members[-1], columns, slack):
            members[-1].add(j, pieces, columns, slack, unit)
        elif is_row(pieces, columns, slack):
            members.append(_Member.of(j, pieces, columns, slack, unit))
        else:
            break
        j += 1
    held = [sum(c in m.cells for m in members) for c in range(len(columns))]
    if len(members) < MIN_ROWS or sum(n >= 2 for n in held) < MIN_COLUMNS:
        return [], start
    return [m.row() for m in members], j


class _Member:
    """A row being read: its cells' pieces by column (mutable while the table grows)."""

    def __init__(self, line: int) -> None:
        self.line = line
        self.merged: list[int] = []
        self.cells: dict[int, list[Piece]] = {}

    @classmethod
    def of(cls, line: int, pieces: list[Piece], columns: list[list[float]], slack: float,
           unit: float) -> _Member:
        member = cls(line)
        member._place(pieces, columns, slack, unit)
        return member

    def add(self, line: int, pieces: list[Piece], columns: list[list[float]], slack: float,
            unit: float) -> None:
        self.merged.append(line)
        self._place(pieces, columns, slack, unit)

    def _place(self, pieces: list[Piece], columns: list[list[float]], slack: float,
               unit: float) -> None:
        for piece in pieces:
            if piece[2] > columns[-1][1] + unit:  # past the last column: a new one
                columns.append([piece[2], piece[3]])
            c = column_of(piece, columns, slack)
            columns[c][0], columns[c][1] = min(columns[c][0], piece[2]), \
                max(columns[c][1], piece[3])
            self.cells.setdefault(c, []).append(piece)

    def bottom(self, c: int) -> float:
        return max(p[1] for p in self.cells[c])

    def row(self) -> TableRow:
        width = max(self.cells) + 1
        cells = [functools.reduce(glue, (p[4] for p in self.cells.get(c, [])), "")
                 for c in range(width)]
        return TableRow(self.line, tuple(cells), tuple(self.merged))


_OPENING = "（《【〔「『〈“‘"
_CLOSING = "）》】〕」』〉”’，。、；：！？"


def em_box(piece: Piece, unit: float) -> Piece:
    """A piece with the edges of its characters' em boxes where OCR's box hugs the ink
    of a full-width bracket or stop, which fills one half of its box: half a character
    more on the left of an opening bracket, on the right of a closing one.

    >>> em_box((0, 1, 100, 200, "《办法》"), 10), em_box((0, 1, 100, 200, "办法"), 10)
    ((0, 1, 95.0, 205.0, '《办法》'), (0, 1, 100, 200, '办法'))
    """
    top, bottom, left, right, text = piece
    if text[:1] in _OPENING:
        left -= unit / 2
    if text[-1:] in _CLOSING:
        right += unit / 2
    return (top, bottom, left, right, text)


def column_of(piece: Piece, columns: list[list[float]], slack: float) -> int:
    """The column (index into ``columns``, each [left, right]) a piece belongs to: the
    one whose left edge it starts at, else whose right edge it ends at, else the last
    one that starts left of it (text runs on rightwards from its column's edge).

    >>> columns = [[0, 40], [100, 160], [200, 300]]
    >>> [column_of((0, 1, x0, x1, ""), columns, 5) for x0, x1 in [(2, 30), (130, 158),
    ...                                                             (150, 190), (250, 290)]]
    [0, 1, 1, 2]
    """
    left, right = piece[2], piece[3]
    starts = [c for c, (x0, _) in enumerate(columns) if abs(left - x0) <= slack]
    if starts:
        return min(starts, key=lambda c: abs(left - columns[c][0]))
    ends = [c for c, (x0, x1) in enumerate(columns)
            if abs(right - x1) <= slack and left >= x0 - slack]
    if ends:
        return ends[0]
    before = [c for c, (x0, _) in enumerate(columns) if x0 <= left + slack]
    return before[-1] if before else 0


def crosses(piece: Piece, c: int, columns: list[list[float]], slack: float) -> bool:
    """True when a piece of column ``c`` runs into the next column (prose across a table).

    >>> crosses((0, 1, 0, 150, ""), 0, [[0, 40], [100, 160]], 5)
    True
    """
    return c + 1 < len(columns) and piece[3] > columns[c + 1][0] + slack


def lines_up(piece: Piece, columns: list[list[float]], slack: float) -> bool:
    """True when a piece starts at a column's left edge or ends at its right edge."""
    return any(abs(piece[2] - x0) <= slack or abs(piece[3] - x1) <= slack
               for x0, x1 in columns)


def is_row(pieces: list[Piece], columns: list[list[float]], slack: float) -> bool:
    """True when a line is a row of the table with these columns: two or more pieces,
    none running into the next column, in two or more columns; of its pieces besides
    the first column's, two (or the only one) and at least half lined up with a
    column's edge. (Prose whose OCR shows wide gaps after its commas lines up by chance
    at one place, seldom at two; a list of names run on with 、 has many pieces, few in
    line.)

    >>> columns = [[0, 40], [100, 160], [200, 300]]
    >>> is_row([(0, 1, 0, 20, "合计"), (0, 1, 120, 160, "12.50")], columns, 5)
    True
    >>> is_row([(0, 1, 0, 170, "以上预算经审议通过，"), (0, 1, 180, 260, "请监督")],
    ...        columns, 5)
    False
    """
    if len(pieces) < 2:
        return False
    places = [column_of(p, columns, slack) for p in pieces]
    if any(crosses(p, c, columns, slack) for p, c in zip(pieces, places, strict=True)):
        return False
    rest = [p for p, c in zip(pieces, places, strict=True) if c > 0]
    return len(set(places)) >= 2 and \
        sum(lines_up(p, columns, slack) for p in rest) >= max(min(2, len(rest)),
                                                              (len(rest) + 1) // 2)


def continues(pieces: list[Piece], above: _Member, columns: list[list[float]],
              slack: float) -> bool:
    """True when a line holds only wrapped tails of the row ``above``: fewer pieces than
    columns, none in the first column (a line with text there starts a row: in a list
    printed line by line, rows stand as close as a cell's wrapped lines), each inside a
    column where the row has text (overlapping its span, not running into the next), no
    further below that cell's text than ``CONTINUATION_GAP`` of its own height."""
    if not pieces or len(pieces) >= len(columns):
        return False
    for piece in pieces:
        c = column_of(piece, columns, slack)
        x0, x1 = columns[c]
        if c == 0 or c not in above.cells or crosses(piece, c, columns, slack) \
                or piece[2] > x1 + slack or piece[3] < x0 - slack:
            return False
        if piece[0] - above.bottom(c) > CONTINUATION_GAP * (piece[1] - piece[0]):
            return False
    return True
