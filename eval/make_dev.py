"""Draw the documents the second fitting set (``eval/dev.jsonl``) was written from.

Procedure C, question-first from a person's situation. It differs from both other sets:
``eval/gold.jsonl`` was written topic-first by one person, and the held-out set was
written from passages drawn at random. Here nobody looks at article texts first:

1. A seeded draw (``SEED``) picks document TITLES from the ingested corpus, stratified
   by document type (``STRATA``), and prints for each its title, type and the
   chapter/section headings of its passages, never their texts; it also prints a fixed
   list of personas (``PERSONAS``).
2. For each drawn document, 3 to 5 questions are written as a person in one of those
   personas would type them into a government Q&A box, from the title and headings
   only: everyday words, colloquialisms and typos allowed, yes/no, numbers with units,
   who/which department, how, what happens if; figures a journalist would check for
   reports, plans and budgets; fewer clause questions from staff. They are kept as
   first written in ``eval/dev_worksheet.txt`` (one line a question: document number,
   persona, question).
3. Only then is each document's text searched (grep over the corpus, ``ragqa search``
   only to locate evidence; no question was chosen or reworded by what retrieval
   returned) and each question labelled: answered by the text (``citizen``,
   ``clause``, ``fact`` with a verbatim evidence span, a reference answer and key
   points in the evidence's words), or on the topic without the asked detail
   (``unanswerable``, ``outcome`` ``detail_absent``). Every written question is kept,
   hard ones included.
4. About twenty questions on topics the corpus never covers, from the same personas
   (``unanswerable``, ``outcome`` ``refused``; key points checked absent by grep). One
   of them (v168, 高龄津贴) turned out to be covered by the work reports without the
   asked amount, and is labelled ``detail_absent`` instead.
5. An addendum of staff questions asked by article number: ``clause_probes`` draws one
   article label per drawn document that has numbered articles (its own seeded
   generator, so the document draw is unchanged); the question was written from the
   probe line alone, then the article looked up (items v176 onwards).

Labelled items carry ``outcome`` (``answered``, ``detail_absent``, ``refused``), the
``persona`` the question was written as and, for ``detail_absent``, the ``topic``
document. Key points of ``detail_absent`` items are the asked detail as the question
words it, checked to occur nowhere in the corpus.

Run ``python -m eval.make_dev`` to print the draw (same seed, same corpus, same list).
``eval/dev.jsonl`` was then written by hand from the worksheet and the located
evidence and checked with ``ragqa eval --check-gold eval/dev.jsonl``.

sha256 of eval/dev.jsonl as frozen:
bfccee3b57d50ab5dfc929a0498402c63179e30a5cd100fc607b2a96f03b08e7.

Left out: writing the questions and locating evidence (a person does that), and any use
of retrieval results to pick or phrase questions.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass

from rag.types import Document, Passage

SEED = 7
DEV_SHA256 = "bfccee3b57d50ab5dfc929a0498402c63179e30a5cd100fc607b2a96f03b08e7"
# stratum -> (document types in it, how many documents to draw)
STRATA: dict[str, tuple[tuple[str, ...], int]] = {
    "regulations": (("regulation",), 12),
    "reports/plans/budgets": (("report", "plan"), 14),
    "notices/decisions": (("notice", "decision"), 10),
    "explanations": (("explanation",), 4),
}
PERSONAS = (
    "家长 (a parent)",
    "小店老板 (a shop owner)",
    "村干部 (a village official)",
    "退休老人 (a retiree)",
    "大学生 (a student)",
    "司机 (a driver)",
    "业主/房东 (a property owner)",
    "机关工作人员核对条文 (a civil servant checking a clause)",
    "记者核对数字 (a journalist checking a figure)",
    "农民/种植户 (a farmer)",
    "企业办事员 (a company clerk)",
    "游客 (a visitor)",
)


@dataclass(frozen=True)
class DrawnDoc:
    """One drawn document: its stratum, the document and its headings in reading order."""

    stratum: str
    document: Document
    headings: tuple[str, ...]


HEADING_CHARS = 24  # a heading joined to its paragraph is cut here, so no body text shows


def headings(passages: Sequence[Passage]) -> tuple[str, ...]:
    """The distinct chapter and section headings of one document's passages, in order,
    each level cut to HEADING_CHARS characters (some headings run into their text).

    >>> p = Passage("d#1:1", "d#1", "某条例", "regulation", "f.txt", 1, "第一章 总则", None,
    ...             "第一条", 1, "第一条　目的")
    >>> q = Passage("d#1:2", "d#1", "某条例", "regulation", "f.txt", 1, "第一章 总则", None,
    ...             "第二条", 2, "第二条　范围")
    >>> headings([p, q])
    ('第一章 总则',)
    """
    seen: list[str] = []
    for passage in passages:
        for label in (passage.chapter, passage.section):
            if not label:
                continue
            short = " > ".join(part.strip()[:HEADING_CHARS] for part in label.split(">"))
            if short not in seen:
                seen.append(short)
    return tuple(seen)


def draw(documents: Sequence[Document], passages: Sequence[Passage],
         seed: int = SEED) -> list[DrawnDoc]:
    """Documents of each stratum drawn without replacement, with their headings.

    Deterministic: documents sorted by id, one ``random.Random(seed)``, strata in
    STRATA order; documents with no passages are not drawn.
    """
    by_doc: dict[str, list[Passage]] = {}
    for passage in sorted(passages, key=lambda p: p.id):
        by_doc.setdefault(passage.doc_id, []).append(passage)
    rng = random.Random(seed)
    pool = sorted((d for d in documents if d.id in by_doc), key=lambda d: d.id)
    out: list[DrawnDoc] = []
    for stratum, (types, count) in STRATA.items():
        candidates = [d for d in pool if d.doc_type in types]
        for document in rng.sample(candidates, min(count, len(candidates))):
            out.append(DrawnDoc(stratum, document, headings(by_doc[document.id])))
    return out


def clause_probes(drawn: Sequence[DrawnDoc], passages: Sequence[Passage],
                  seed: int = SEED) -> list[tuple[str, str]]:
    """One article label per drawn document with numbered articles, drawn at random, for
    the staff questions that ask by number (``《…》第N条讲的什么``): (title, article).

    Deterministic: its own ``random.Random(seed + 1)`` (the document draw is unchanged),
    drawn documents in draw order, each document's labels in passage order.

    >>> p = Passage("d#1:1", "d#1", "某条例", "regulation", "f.txt", 1, None, None,
    ...             "第一条", 1, "第一条　目的")
    >>> d = Document("d#1", "某条例", "regulation", "f.txt", None, None)
    >>> clause_probes([DrawnDoc("regulations", d, ())], [p])
    [('某条例', '第一条')]
    """
    rng = random.Random(seed + 1)
    labels: dict[str, list[str]] = {}
    for passage in sorted(passages, key=lambda p: p.id):
        if passage.article:
            seen = labels.setdefault(passage.doc_id, [])
            if passage.article not in seen:
                seen.append(passage.article)
    return [(item.document.title, rng.choice(labels[item.document.id]))
            for item in drawn if labels.get(item.document.id)]


def main(argv: list[str] | None = None) -> int:
    from rag.ingest import ingest

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="corpus")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    ingested = ingest(args.corpus)
    print("# personas")
    for persona in PERSONAS:
        print(f"- {persona}")
    print()
    drawn = draw(ingested.documents, ingested.passages, args.seed)
    for n, item in enumerate(drawn, 1):
        d = item.document
        print(f"## D{n:02d} [{item.stratum}] {d.doc_type} {d.source_file} 《{d.title}》")
        for label in item.headings:
            print(f"   - {label}")
        print()
    print("# clause probes (an article number per document, for questions asked by number)")
    for title, article in clause_probes(drawn, ingested.passages, args.seed):
        print(f"- 《{title}》{article}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
