"""Figure questions: the passage that holds the asked-for figure first.

A question that asks for a number (多少, 几岁, 多久, 比例, 哪天; ``rag.search.ask``) is
answered by the passage that holds a number of the asked kind (an amount in 元 for
多少钱, a date for 哪天 …). Over long reports (政府工作报告, budget and plan reports)
retrieval often ranks a paragraph on the topic without the figure first.
``promote_figures`` moves, within the top ``depth`` hits, those that hold the asked
kind of number ahead of those that do not, keeping the order inside each group, and
renumbers the ranks. Other questions, and clause lookups, are left as they are.

Left out: matching the figure's subject (which of several numbers is the one asked).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from rag.search.ask import Ask, holds_detail
from rag.types import Hit

# how far down a passage holding the figure may move up from; five-fold cross-validation
# over the number questions of eval/gold.jsonl and eval/dev.jsonl (hit@1, depths 0, 5
# and 10, with the lexical weight of the fusion) chose 5 in four folds of five
FIGURE_DEPTH = 5


def promote_figures(ask: Ask, hits: Sequence[Hit], depth: int = FIGURE_DEPTH) -> list[Hit]:
    """The hits with those holding the asked kind of number first among the top ``depth``.

    >>> from rag.types import Passage
    >>> def hit(i, text):
    ...     p = Passage(f"d#1:{i}", "d#1", "报告", "report", "f.txt", 1, None, "一、", None,
    ...                 None, text)
    ...     return Hit(p, 1.0 / i, i, "hybrid")
    >>> hits = [hit(1, "全面推进城乡建设。"), hit(2, "完成投资120亿元。"), hit(3, "其他。")]
    >>> [h.passage.id for h in promote_figures(Ask("number", "money"), hits)]
    ['d#1:2', 'd#1:1', 'd#1:3']
    >>> [h.rank for h in promote_figures(Ask("number", "money"), hits)]
    [1, 2, 3]
    >>> [h.passage.id for h in promote_figures(Ask("how"), hits)]
    ['d#1:1', 'd#1:2', 'd#1:3']
    """
    if ask.kind != "number" or any(h.source == "clause" for h in hits):
        return list(hits)
    top = list(hits[:depth])
    holding = [h for h in top if holds_detail(ask, h.passage.text)]
    if not holding or holding[0] is top[0]:
        return list(hits)
    ordered = holding + [h for h in top if h not in holding] + list(hits[depth:])
    return [replace(h, rank=i) for i, h in enumerate(ordered, start=1)]
