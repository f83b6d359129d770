"""Embedding on a local Ray with two workers gives the single-process vectors, bit for bit.

A sample of real passages is embedded into an empty, temporary cache (so nothing is
read back from the shared one), once by Ray actors and once in this process.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ray")

from rag.index.build import embedding_text  # noqa: E402
from rag.index.embed_cache import EmbeddingCache  # noqa: E402
from rag.index.ray_embed import RayEmbedding, RayOptions  # noqa: E402

SAMPLE = 24  # passages: three batches of four per worker


@pytest.fixture(scope="module")
def texts(ingested):
    """Short passages from every source file, by id (the shortest embed fastest)."""
    short = sorted((p for p in ingested.passages if len(p.text) < 160), key=lambda p: p.id)
    step = max(1, len(short) // SAMPLE)
    return [embedding_text(p) for p in short[::step][:SAMPLE]]


def test_two_ray_workers_give_the_single_process_vectors(texts, tmp_path):
    from rag.embed import load_embedder

    embedder = load_embedder()
    cache = EmbeddingCache(tmp_path / "cache", embedder.name, embedder.dim)
    assert len(cache) == 0
    with RayEmbedding(embedder.name, RayOptions(workers=2, batch_size=4)) as remote:
        assert remote.workers == 2
        on_ray, stats = cache.embed(texts, remote)
        assert (stats.misses, stats.hits) == (len(texts), 0)  # all embedded on Ray
        again, stats = cache.embed(texts, remote)
        assert (stats.misses, stats.hits) == (0, len(texts))  # the cache is honoured
    local = embedder.embed_passages(texts)
    assert on_ray.dtype == local.dtype == np.float32
    assert np.array_equal(on_ray, local)  # bit for bit
    assert np.array_equal(again, local)
