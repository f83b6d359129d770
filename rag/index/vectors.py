"""The FAISS index over passage vectors: which kind for a corpus size, how to build,
search parameters that keep the index's own settings, and loading.

Exact inner product below 200,000 passages; an inverted file with 8-bit codes above.
The kind and its parameters are recorded in the manifest and in the index file.

Left out: GPU indexes, product quantization, incremental adds.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np


def choose_faiss_index(n: int, requested: str = "auto") -> str:
    """Exact search up to 200,000 passages (p95 14 ms at 10^5 on one core); past that an
    inverted file with 8-bit codes, nlist the power of two nearest sqrt(n) (at 10^6:
    ivf1024,sq8, recall@10 0.956 against exact at nprobe 32, p95 4 ms, 375 MiB instead of
    1.5 GiB; benchmarks/results).

    >>> choose_faiss_index(100_000), choose_faiss_index(1_000_000), choose_faiss_index(10, "hnsw32")
    ('flat', 'ivf1024,sq8', 'hnsw32')
    """
    if requested != "auto":
        return requested
    if n < 200_000:
        return "flat"
    return f"ivf{ivf_lists(n)},sq8"


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: the power of two nearest sqrt(n).

    >>> ivf_lists(10_000), ivf_lists(100_000), ivf_lists(1_000_000)
    (128, 256, 1024)
    """
    return 1 << round(math.log2(math.sqrt(n)))


NPROBE = 32  # IVF lists visited per query
EF_SEARCH = 128  # HNSW candidates per query
TRAIN_PER_LIST = 64  # IVF k-means sees at most 64 vectors a list (FAISS asks for >= 39)


def build_faiss(vectors: np.ndarray, kind: str):
    """A FAISS inner-product index of the given kind over L2-normalised vectors."""
    import faiss

    dim = vectors.shape[1]
    index: Any
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind.startswith("hnsw"):
        index = faiss.IndexHNSWFlat(dim, int(kind[4:] or 32), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = EF_SEARCH  # saved with the index
    elif kind.startswith("ivf"):
        lists, _, coder = kind[3:].partition(",")
        quantizer = faiss.IndexFlatIP(dim)
        coding = faiss.ScalarQuantizer.QT_8bit if coder == "sq8" else None
        if coding is None:
            index = faiss.IndexIVFFlat(quantizer, dim, int(lists), faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, int(lists), coding, faiss.METRIC_INNER_PRODUCT
            )
        index.train(training_sample(vectors, int(lists)))
        index.nprobe = NPROBE  # saved with the index
    else:
        raise ValueError(f"unknown FAISS index kind {kind!r}; use flat, hnswM or ivfN[,sq8]")
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def search_parameters(index, selector):
    """FAISS search parameters that restrict a search to ``selector``, keeping the index's
    own nprobe / efSearch (the generic parameters would reset them to FAISS's defaults,
    and an IVF index refuses them).
    """
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)
    if hasattr(index, "hnsw"):
        return faiss.SearchParametersHNSW(sel=selector, efSearch=index.hnsw.efSearch)
    return faiss.SearchParameters(sel=selector)


def training_sample(vectors: np.ndarray, lists: int) -> np.ndarray:
    """The vectors IVF k-means trains on: all of them, or a fixed-seed sample of
    ``TRAIN_PER_LIST`` per list (the same vectors give the same index).

    >>> training_sample(np.eye(300, dtype=np.float32), 2).shape
    (128, 300)
    """
    size = min(len(vectors), TRAIN_PER_LIST * lists)
    if size == len(vectors):
        return np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.sort(np.random.default_rng(0).choice(len(vectors), size, replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)


def prepare_loaded(index) -> None:
    """An IVF index needs its id map to give back a passage's vector (reconstruct)."""
    import faiss

    with contextlib.suppress(RuntimeError):  # flat and HNSW reconstruct as they are
        faiss.extract_index_ivf(index).make_direct_map()
