"""A stateless replica: loading the whole index from Milvus, with no index folder.

A Milvus Lite file is written once from the corpus (a real build with
``--backend milvus`` in a subprocess, vectors from the shipped embeddings), then a subprocess per
source loads a pipeline: from Milvus (``Pipeline.load`` with no folder:
``rag.index.replica``) and, for comparison, from the index folder. Each reports
its load seconds by part, its resident size after the load and after answering
one question (``/proc/self/status``), and the answer's first citation.

Left out: a Milvus server over the network (Milvus Lite runs beside the process
here; a server adds one round trip a page of ``PAGE_ROWS`` rows).
"""

from __future__ import annotations

import argparse
import subprocess
import time

from benchmarks.common import (
    CORPUS,
    PYTHON,
    ROOT,
    TMP,
    Result,
    bench_env,
    emit,
    log,
    proc_status,
    run_json,
)

QUESTION = "网吧能让未成年人进去吗？"


def run(command: str, quick: bool = False) -> Result:
    result = Result("replica", command)
    folder, uri = TMP / "replica" / "index", str(TMP / "replica" / "milvus.db")
    log(f"building {folder} and the Milvus Lite collection {uri}")
    # in a subprocess: a Milvus Lite file serves one process at a time
    subprocess.run([PYTHON, "-m", "ragqa", "index", "--corpus", str(CORPUS), "--index",
                    str(folder), "--backend", "milvus", "--milvus-uri", uri], cwd=ROOT,
                   env=bench_env(), check=True,
                   capture_output=True, timeout=1800)
    for source in ("milvus", "folder"):
        worker = run_json("benchmarks.bench_replica",
                          ["--worker", source, "--index", str(folder), "--uri", uri], 900)
        result.details[source] = worker
        for part, seconds in worker["load_s"].items():
            result.figure(f"{source}: load {part}", round(seconds, 2), "s",
                          f"{worker['passages']} passages")
        for stage in ("loaded", "answered"):
            result.figure(f"{source}: resident size {stage}", worker["rss"][stage]["VmRSS"],
                          "MiB", f"before the load {worker['rss']['start']['VmRSS']} MiB")
    held = result.details["milvus"]["held_bytes"]
    n = result.details["milvus"]["passages"]
    for part, size in held.items():
        result.figure(f"milvus: held by the replica's own {part}, per passage",
                      round(size / n / 1024, 2), "KiB", f"{size / 2**20:.1f} MiB for {n}")
    result.notes.append("Milvus Lite runs inside the process that opens a .db file, so the "
                        "resident sizes of the milvus worker include Milvus Lite itself (its "
                        "collection, vectors and BM25 in Python); against a Milvus server a "
                        "replica holds only what 'held by the replica's own' counts.")
    return result


def held_bytes(index) -> dict[str, int]:
    """Bytes of the replica's own structures: passages (objects and their fields) and the
    BM25 statistics (token table and posting arrays)."""
    import sys
    from dataclasses import fields

    passages = sum(sys.getsizeof(p) + sum(sys.getsizeof(getattr(p, f.name))
                                          for f in fields(p)) for p in index.passages)
    lexical = index.lexical
    tokens = sys.getsizeof(lexical._id) + sum(sys.getsizeof(t) for t in lexical._id)
    arrays = sum(a.nbytes for a in (lexical._starts, lexical._rows, lexical._scores))
    return {"passages": passages, "BM25 statistics": tokens + arrays}


def worker(source: str, folder: str, uri: str) -> dict:
    from rag.embed import load_embedder
    from rag.pipeline import Pipeline

    embedder = load_embedder()
    embedder.embed_query("热身")  # the model loaded before the clock starts
    rss = {"start": proc_status()}
    started = time.perf_counter()
    if source == "milvus":
        from rag.index.replica import open_milvus_index

        index = open_milvus_index(uri, embedder.name, embedder.dim)
        read = time.perf_counter() - started
        pipeline = Pipeline(index, embedder, None, None, "milvus", uri)
        load_s = {"read from Milvus (rows, documents, BM25 statistics)": read,
                  "pipeline": time.perf_counter() - started - read}
    else:
        pipeline = Pipeline.load(folder, embedder=embedder, llm=None, reranker=None)
        load_s = {"index folder": time.perf_counter() - started}
    load_s["total"] = time.perf_counter() - started
    rss["loaded"] = proc_status()
    answer = pipeline.ask(QUESTION)
    rss["answered"] = proc_status()
    if source == "milvus":  # the part of the read that is BM25 statistics, timed again
        from rag.index.build import DEFAULT_TOKENIZER, embedding_text
        from rag.index.lexical import LexicalIndex

        again = time.perf_counter()
        LexicalIndex.build([embedding_text(p) for p in index.passages], DEFAULT_TOKENIZER)
        load_s["of the read: BM25 statistics (built again after it)"] = (
            time.perf_counter() - again)
    return {"source": source, "passages": len(pipeline.passages), "load_s": load_s,
            "rss": rss, "cited": [c.label for c in answer.citations][:1],
            "held_bytes": held_bytes(pipeline.index) if source == "milvus" else {}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=("milvus", "folder"), required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--uri", required=True)
    args = parser.parse_args()
    emit(worker(args.worker, args.index, args.uri))
