"""Draw the passages the held-out gold set (``eval/holdout.jsonl``) was written from.

The first gold set (``eval/gold.jsonl``) was written by choosing topics a person would
ask about. The held-out set is made the other way round: a seeded draw picks passages
at random from the ingested corpus, and one plain-language question is then written by
hand for each drawn passage, without reusing its words where a citizen would not:

- ``citizen``: regulation articles (at least 60 characters of text), drawn at random;
- ``clause``: a few more regulation articles, asked by number or by content;
- ``fact``: paragraphs of reports, plans, notices and decisions that hold a figure
  (a digit or a Chinese numeral followed by a unit), drawn at random;
- ``detail``: more regulation articles, for unanswerable questions that stay on the
  article's topic but ask a detail its text does not give (an amount, a rate, an age,
  a consequence never stated); their gold ``outcome`` is ``detail_absent``.

Questions on topics the corpus does not cover at all (gold ``outcome`` ``refused``) are
written without a draw. Every item is checked by ``ragqa eval --check-gold``.

Run ``python -m eval.make_holdout`` to print the draw (same seed, same corpus, same
list). The questions written for it are in ``eval/holdout_worksheet.txt`` (one line a
drawn passage: number, question, evidence, reference answer, key points; then the
topic-absent questions); ``python -m eval.make_holdout --build`` joins the two into
``eval/holdout.jsonl`` (document, article or section and file taken from the draw).

Left out: writing the questions (a person does that) and any use of retrieval results.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.types import Passage

SEED = 20261202
COUNTS = {"citizen": 50, "clause": 10, "fact": 40, "detail": 30}
_FIGURE = re.compile(r"[0-9０-９]|[一二三四五六七八九十百千万]+(?:个|项|家|人|亿|万|元|%|年|天|日)")


@dataclass(frozen=True)
class Drawn:
    """One drawn passage: what the question for it is to be of, and the passage."""

    purpose: str  # a key of COUNTS
    passage: Passage


def eligible(purpose: str, passage: Passage) -> bool:
    """Whether a passage may be drawn for a purpose.

    >>> p = Passage("d#1:1", "d#1", "某条例", "regulation", "f.txt", 1, None, None, "第二条", 2,
    ...             "第二条　" + "应当" * 40)
    >>> eligible("citizen", p), eligible("fact", p)
    (True, False)
    """
    if purpose in ("citizen", "clause", "detail"):
        return passage.article is not None and len(passage.text) >= 60
    return (passage.doc_type in ("report", "plan", "notice", "decision")
            and passage.article is None and 60 <= len(passage.text) <= 1400
            and bool(_FIGURE.search(passage.text)))


def draw(passages: Sequence[Passage], seed: int = SEED) -> list[Drawn]:
    """The passages of each purpose, drawn without replacement across purposes.

    Deterministic: passages sorted by id, one ``random.Random(seed)``, purposes in
    COUNTS order.
    """
    rng = random.Random(seed)
    pool = sorted(passages, key=lambda p: p.id)
    taken: set[str] = set()
    out: list[Drawn] = []
    for purpose, count in COUNTS.items():
        candidates = [p for p in pool if p.id not in taken and eligible(purpose, p)]
        for passage in rng.sample(candidates, min(count, len(candidates))):
            taken.add(passage.id)
            out.append(Drawn(purpose, passage))
    return out


TYPE_OF = {"citizen": "citizen", "clause": "clause", "fact": "fact", "detail": "unanswerable"}


def build_items(drawn: Sequence[Drawn], worksheet: str) -> list[dict]:
    """Gold records (GOLD_FORMAT.md, plus ``outcome`` and, for detail-absent items, the
    ``topic`` place) from the draw and the worksheet's lines.

    >>> p = Passage("d#1:1", "d#1", "某条例", "regulation", "f.txt", 1, None, None, "第二条", 2,
    ...             "第二条　本条例自2024年1月1日起施行。")
    >>> sheet = ["001|什么时候开始实行？|本条例自2024年1月1日起施行|2024年1月1日起。|2024年1月1日",
    ...          "R|比特币能挖吗？|比特币"]
    >>> rows = build_items([Drawn("citizen", p)], "\\n".join(sheet))
    >>> [(r["id"], r["type"], r["article"], r["outcome"]) for r in rows]
    [('h001', 'citizen', '第二条', 'answered'), ('h002', 'unanswerable', None, 'refused')]
    """
    rows: list[dict] = []
    refused = 0
    for line in worksheet.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("|")
        if fields[0] == "R":
            refused += 1
            question, terms = fields[1], fields[2]
            rows.append(_record(f"h{len(drawn) + refused:03d}", question, "unanswerable", None,
                                "", "现有文件中没有这方面的内容。", terms, "refused"))
            continue
        item = drawn[int(fields[0]) - 1]
        kind = TYPE_OF[item.purpose]
        if kind == "unanswerable":
            question, said, terms = fields[1], fields[2], fields[3]
            record = _record(f"h{fields[0]}", question, kind, None, "", said, terms,
                             "detail_absent")
            record["topic"] = {"doc_title": item.passage.doc_title,
                               "article": item.passage.article,
                               "section": item.passage.section}
        else:
            question, evidence, answer, points = fields[1:5]
            record = _record(f"h{fields[0]}", question, kind, item.passage, evidence, answer,
                             points, "answered")
        rows.append(record)
    return rows


def _record(item_id: str, question: str, kind: str, passage: Passage | None, evidence: str,
            answer: str, points: str, outcome: str) -> dict:
    return {
        "id": item_id, "question": question, "type": kind,
        "source_file": passage.source_file if passage else None,
        "doc_title": passage.doc_title if passage else None,
        "article": passage.article if passage else None,
        "section": passage.section if passage and not passage.article else None,
        "evidence": evidence, "answer": answer,
        "key_points": [p for p in points.split(";") if p], "outcome": outcome,
    }


def main(argv: list[str] | None = None) -> int:
    from rag.ingest import ingest

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--build", action="store_true",
                        help="write --out from the draw and --worksheet instead of printing")
    parser.add_argument("--worksheet", default="eval/holdout_worksheet.txt")
    parser.add_argument("--out", default="eval/holdout.jsonl")
    args = parser.parse_args(argv)
    drawn = draw(ingest(args.corpus).passages, args.seed)
    if args.build:
        import json
        from pathlib import Path

        rows = build_items(drawn, Path(args.worksheet).read_text(encoding="utf-8"))
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                          for r in rows), encoding="utf-8")
        print(f"wrote {len(rows)} items to {args.out}")
        return 0
    for n, item in enumerate(drawn, 1):
        p = item.passage
        where = p.article or p.section or ""
        print(f"## {n:03d} {item.purpose} {p.id} {p.source_file} 《{p.doc_title}》{where}")
        print(p.text)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
