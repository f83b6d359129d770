"""What the everyday-word glossary buys: the same evaluation with and without it.

``python -m eval.ablation --gold eval/gold.jsonl --out eval/out/ablation`` runs the
hybrid configuration twice, once with ``rag.search.glossary.GLOSSARY`` as shipped and
once with it emptied, and prints the headline metrics of each side by side (the
``metrics.json`` of each run is written under ``--out``).

Left out: ablations of single entries.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

KEYS = ("retrieval.hit@1", "retrieval.hit@5", "citation.accuracy", "answer.keypoint_recall",
        "refusal.accuracy", "refusal.false_rate", "by_type.citizen.retrieval.hit@1",
        "by_type.citizen.citation.accuracy", "by_type.citizen.refusal.false_rate")


def main(argv: list[str] | None = None) -> int:
    from eval.harness import run_eval
    from rag.pipeline import Pipeline
    from rag.search import glossary

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gold", default="eval/gold.jsonl")
    parser.add_argument("--out", default="eval/out/ablation")
    parser.add_argument("--index", default=".ragqa/index")
    args = parser.parse_args(argv)
    pipeline = Pipeline.load(args.index, llm=None)  # the product's reranker (RAGQA_RERANKER)
    shipped = dict(glossary.GLOSSARY)
    results = {}
    for name in ("glossary", "no glossary"):
        glossary.GLOSSARY.clear()
        if name == "glossary":
            glossary.GLOSSARY.update(shipped)
        out = Path(args.out) / name.replace(" ", "_")
        results[name] = run_eval(args.gold, out, ["hybrid"], pipeline, progress=False)["hybrid"]
    glossary.GLOSSARY.clear()
    glossary.GLOSSARY.update(shipped)
    print("| metric | with glossary | without |")
    print("| --- | --- | --- |")
    for key in KEYS:
        print(f"| {key} | {results['glossary'][key]} | {results['no glossary'][key]} |")
    print(json.dumps({"gold": args.gold}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
