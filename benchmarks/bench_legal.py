"""Ingestion of a code of more than a thousand articles: seconds and memory.

The generated civil code of ``tests/legal_texts.py`` (编, 分编, 章, 节; 1,260 articles by
default) is written alone into a scratch corpus folder, and ``rag.ingest.ingest`` (read,
clean, split into documents and passages: no model) runs on it in a fresh subprocess,
three times. The figures: the median wall time, the peak resident size of the process
over what it held after its imports, and whether every 第N条 heading became an article.
The same is done for a code four times as long, to show how time and memory grow.

Left out: embedding (``build`` measures it), the other generated texts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.common import ROOT, TMP, Result, emit, log, median, proc_status, run_json

SIZES = (1260, 5040)
RUNS = 3


def run(command: str, quick: bool = False) -> Result:
    result = Result("legal", command)
    for articles in SIZES[:1] if quick else SIZES:
        folder = TMP / "legal" / f"code_{articles}"
        worker = run_json("benchmarks.bench_legal",
                          ["--worker", "--folder", str(folder), "--articles", str(articles),
                           "--runs", str(1 if quick else RUNS)], timeout_s=600)
        log(f"legal {articles} articles: {worker}")
        result.details[f"code_{articles}"] = worker
        label = f"{articles:,}-article code ({worker['chars']:,} characters)"
        result.figure(f"ingest a {label}: median wall time", round(worker["median_s"], 2), "s",
                      f"{worker['runs']} runs in one subprocess; {worker['passages']} passages")
        result.figure(f"ingest a {label}: peak memory over the process after imports",
                      round(worker["peak_mib"] - worker["imports_mib"], 1), "MiB",
                      f"VmHWM {worker['peak_mib']} MiB, after imports {worker['imports_mib']} MiB")
        result.aim(f"every 第N条 heading of the {articles:,}-article code is one article",
                   f"{worker['headings']} articles", f"{worker['articles']} articles",
                   worker["articles"] == worker["headings"] == articles)
    first = result.details[f"code_{SIZES[0]}"]
    result.aim("ingestion of a 1,000-article code in seconds", "under 10 s",
               f"{first['median_s']:.2f} s", first["median_s"] < 10)
    return result


def worker(folder: Path, articles: int, runs: int) -> dict:
    import time

    sys.path.insert(0, str(ROOT / "tests"))
    from legal_texts import generate

    from rag.ingest import ingest
    from rag.ingest.structure import article_checks

    code = generate(code_articles=articles)[0]
    (folder / "corpus").mkdir(parents=True, exist_ok=True)
    path = folder / "corpus" / code.file_name
    path.write_text(code.text, encoding="utf-8")
    imports = proc_status()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        ingested = ingest(folder / "corpus")
        seconds.append(time.perf_counter() - started)
    peak = proc_status()
    [check] = article_checks(ingested.documents, ingested.passages)
    return {"articles": check.articles, "headings": check.headings, "chars": len(code.text),
            "passages": len(ingested.passages), "runs": runs, "seconds": seconds,
            "median_s": median(seconds), "imports_mib": imports.get("VmRSS"),
            "peak_mib": peak.get("VmHWM")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--articles", type=int, default=SIZES[0])
    parser.add_argument("--runs", type=int, default=RUNS)
    args = parser.parse_args()
    if args.worker:
        emit(worker(args.folder, args.articles, args.runs))


if __name__ == "__main__":
    main()
