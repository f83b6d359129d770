"""Resident memory of a process that loads the pipeline and answers, and the index on disk.

The measuring process is a fresh subprocess (``python -m benchmarks.bench_memory
--worker``), so its numbers hold nothing but the pipeline: resident size after the
imports, after loading the embedder, after ``Pipeline.load`` and after answering the
gold questions, and the peak (VmHWM). It also times the parts of a cold load.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.common import (
    GOLD,
    INDEX,
    Result,
    emit,
    load_pipeline,
    proc_status,
    run_json,
    timed,
    wait_for_index,
)


def run(command: str, quick: bool = False) -> Result:
    result = Result("memory", command)
    wait_for_index(INDEX)
    count = 50 if quick else 276
    worker = run_json("benchmarks.bench_memory",
                      ["--worker", "--index", str(INDEX), "--questions", str(count)], 900)
    result.details["worker"] = worker
    for stage in ("imports", "embedder", "pipeline", "answered"):
        rss = worker["rss"][stage]
        result.figure(f"resident size after {stage.replace('answered', 'answering')}",
                      rss["VmRSS"], "MiB", f"anon {rss.get('RssAnon')} MiB, file "
                      f"{rss.get('RssFile')} MiB" + (f"; {worker['answered']} questions asked"
                                                     if stage == "answered" else ""))
    result.figure("peak resident size (VmHWM) of the serving process",
                  worker["rss"]["answered"]["VmHWM"], "MiB",
                  "a subprocess that loads the pipeline and answers the gold questions")
    for part, seconds in worker["load_s"].items():
        result.figure(f"cold load: {part}", round(seconds, 3), "s", "in the same subprocess")

    sizes = index_sizes(INDEX)
    result.details["index_files"] = sizes
    for name, size in sizes.items():
        result.figure(f"index on disk: {name}", round(size / 1024, 1), "KiB")
    result.figure("index on disk: total", round(sum(sizes.values()) / 1024 / 1024, 2), "MiB")
    return result


def index_sizes(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def worker(index: Path, count: int) -> dict:
    import time

    rss = {}
    load_s = {}
    started = time.perf_counter()
    import faiss  # noqa: F401
    import numpy  # noqa: F401

    from eval.gold import load_gold
    from rag.answer.offline import SupportModel
    from rag.embed import load_embedder
    from rag.index.folder import (
        LEXICAL_DIR,
        open_passages,
        read_documents,
        read_manifest,
        read_quotations,
        verify_checksums,
    )
    from rag.index.lexical import LexicalIndex
    from rag.search.retrieve import Retriever

    load_s["imports"] = time.perf_counter() - started
    rss["imports"] = proc_status()
    load_s["embedder"], embedder = timed(load_embedder)
    rss["embedder"] = proc_status()
    load_s["Pipeline.load (all of it)"], pipeline = timed(load_pipeline, index,
                                                          embedder=embedder)
    rss["pipeline"] = proc_status()
    questions = [g.question for g in load_gold(GOLD)][:count]
    for question in questions:
        pipeline.ask(question)
    rss["answered"] = proc_status()

    # the parts of Pipeline.load, timed again (files now in the page cache)
    manifest = read_manifest(index)
    load_s["  verify checksums"], _ = timed(verify_checksums, index, manifest)
    load_s["  read documents.jsonl"], documents = timed(read_documents, index)
    load_s["  open the passage store (passage_rows.npy, map passages.jsonl)"], passages = \
        timed(open_passages, index, documents)
    load_s["  read vectors.faiss"], vectors = timed(faiss.read_index,
                                                    str(index / "vectors.faiss"))
    load_s["  map the lexical postings"], lexical = timed(LexicalIndex.load,
                                                          index / LEXICAL_DIR)
    load_s["  Retriever (title index)"], _ = timed(Retriever, passages, documents, vectors,
                                                   lexical, embedder, read_quotations(index))
    load_s["  refusal statistics from the BM25 index"], _ = timed(
        SupportModel.from_lexical, lexical, passages)
    return {"rss": rss, "load_s": load_s, "answered": len(questions),
            "passages": len(passages)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--index", default=str(INDEX))
    parser.add_argument("--questions", type=int, default=50)
    args = parser.parse_args()
    if args.worker:
        emit(worker(Path(args.index), args.questions))


if __name__ == "__main__":
    main()
