"""How a partial index ranks passages that have no vector yet (``ragqa add`` before the
embedding ends): hit@5 of the gold questions whose relevant document is "just added".

    python -m eval.partial_fusion [--index DIR] [--gold eval/gold.jsonl] [--share 0.2]

A seeded share of the index's documents is taken as just added: their passages are
marked as having no vector (``LoadedIndex.unembedded``), as the keyword-first swap of an
add leaves them. Over the answerable gold items whose document is one of them, and
over the others, hit@5 (the gold article among the top five hits) is printed for: the
complete index;
the partial index with ``rrf_partial`` (what ships: a passage without a vector ranks by
meaning where it ranks by keyword); the partial index with plain RRF (such a passage
has only its lexical term); and BM25 alone. The fusion rule was chosen before this was
run, not fitted to it.

Left out: the other metrics of the harness (``ragqa eval``), several seeds.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace

import numpy as np


def _hit(pipeline, item, retriever: str) -> bool:
    hits = pipeline.search(item.question, k=5, retriever=retriever)
    return any(h.passage.doc_title == item.doc_title and h.passage.article == item.article
               for h in hits)


def main(argv: list[str] | None = None) -> int:
    from eval.gold import load_gold
    from rag.embed import load_embedder
    from rag.index.folder import DEFAULT_INDEX_DIR
    from rag.pipeline import Pipeline

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=str(DEFAULT_INDEX_DIR))
    parser.add_argument("--gold", default="eval/gold.jsonl")
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    embedder = load_embedder()
    full = Pipeline.load(args.index, embedder=embedder, llm=None, reranker=None)
    documents = sorted(d.id for d in full.documents)
    added = set(random.Random(args.seed).sample(documents, round(len(documents) * args.share)))
    titles = {d.title for d in full.documents if d.id in added}
    mask = np.isin(full.passages.doc_of_row,
                   [i for i, d in enumerate(full.documents) if d.id in added])
    partial_index = replace(full.index, unembedded=mask)
    partial = Pipeline(partial_index, embedder, None, None)
    plain = Pipeline(partial_index, embedder, None, None)
    plain.retriever.backend._unembedded = frozenset()  # plain RRF: no stand-in rank
    answerable = [i for i in load_gold(args.gold) if i.type != "unanswerable" and i.article]
    items = [i for i in answerable if i.doc_title in titles]
    others = [i for i in answerable if i.doc_title not in titles]
    print(f"{len(added)} of {len(documents)} documents taken as just added "
          f"({int(mask.sum())} of {len(mask)} passages without a vector); answerable gold "
          f"items ({args.gold}): {len(items)} about them, {len(others)} about the others")
    for name, pipeline, retriever in (("complete index, hybrid", full, "hybrid"),
                                      ("partial, hybrid with rrf_partial", partial, "hybrid"),
                                      ("partial, hybrid with plain RRF", plain, "hybrid"),
                                      ("bm25", full, "bm25")):
        line = [f"{name:34s}"]
        for group in (items, others):
            hits = sum(_hit(pipeline, item, retriever) for item in group)
            line.append(f"hit@5 {hits / max(len(group), 1):.3f} ({hits}/{len(group)})")
        print("  ".join(line))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
