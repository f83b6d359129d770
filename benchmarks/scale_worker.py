"""Subprocess steps of the scale benchmark (``python -m benchmarks.scale_worker STEP``).

Each step runs in its own process so its resident size is its own and a 10^6 build
cannot take the parent down. Steps, each printing one JSON line:

The real corpus sits at rows 0 to 1,968 of every synthetic corpus (its own vectors,
tokens, passages and documents), so real questions still find real articles among n.

- ``vectors``: the real passage vectors, then synthetic ones (real vectors mixed in
  pairs, plus Gaussian noise, normalised); exact top-10 of the query vectors; the FAISS
  indexes flat, hnsw32 and ivfN,sq8 (all by ``rag.index.build_faiss``), written to disk.
- ``bm25``: the real passages' tokens (jieba words and bigrams), then synthetic token
  streams drawn from the corpus's token frequencies and passage lengths, indexed by bm25s, written to disk.
- ``faiss``: a fresh process loads one FAISS index and measures resident size, single-
  query latency and recall@10 against exact search, sweeping efSearch or nprobe.
- ``index``: a complete index folder as ``rag.index.write_index`` writes it (passages,
  passage rows, documents, quotations, the FAISS index ``choose_faiss_index`` picks, BM25).
- ``serve``: a fresh process runs ``Pipeline.load`` on that folder, as ``ragqa serve``
  does, and times title resolution, ``Retriever.search``, ``Pipeline.search`` and
  ``Pipeline.ask`` over the gold questions (query vectors precomputed), with its memory.
- ``milvus``: the same n passages written to a Milvus Lite collection by
  ``rag.index.milvus.write_collection``: the real corpus with its text (BM25 analysed
  in Milvus), the synthetic rows with their vectors and no BM25 text (Milvus Lite's
  analyzer is pure Python, ~30 ms a passage here: 10^5 texts would take an hour).
- ``milvus_serve``: a fresh process opens the collection (``MilvusSearch``, Lite runs
  inside it) and times dense and hybrid searches of the gold questions, recall@10 of
  the dense part against exact search, and its memory.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from benchmarks.common import emit, latency_ms, proc_status, timed

NOISE = 0.2  # norm of the Gaussian noise added to a unit vector (see synth_vectors)
K = 10
EF_SEARCH = (16, 32, 48, 64, 96, 128, 256, 512)  # 16: FAISS's default, which rag/ keeps
NPROBE = (4, 8, 16, 32, 64, 128)
CHUNK = 1 << 16
TOKENIZER = "mixed"  # rag/'s default: jieba words and character bigrams


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
    extra = json.loads((folder / "real.json").read_text(encoding="utf-8"))
    return SimpleNamespace(
        index=Path(extra["index"]),
        top1=extra["top1"],
        base=np.load(folder / "base.npy"),
        queries=np.load(folder / "queries.npy"),
        questions=json.loads((folder / "questions.json").read_text(encoding="utf-8")),
        lexicon=lexicon,
        text=(folder / "corpus.txt").read_text(encoding="utf-8"),
    )


# ------------------------------------------------------------------ vectors


def step_vectors(n: int, inputs: Path, out: Path) -> dict:
    import faiss

    from rag.index.vectors import TRAIN_PER_LIST, build_faiss, choose_faiss_index, ivf_lists

    out.mkdir(parents=True, exist_ok=True)
    data = _inputs(inputs)
    record: dict = {"n": n, "dim": int(data.base.shape[1]), "noise": NOISE,
                    "picked_by_choose_faiss_index": choose_faiss_index(n)}
    real = data.base[: min(n, len(data.base))]
    record["generate_s"], synthetic = timed(synth_vectors, data.base, n - len(real), n)
    vectors = np.concatenate([real, synthetic])
    del synthetic
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
    seconds, ivf = timed(build_faiss, vectors, f"ivf{lists},sq8")
    record["ivf_sq8"] = {"kind": f"ivf{lists},sq8", "nlist": lists,
                         "train_vectors": min(n, TRAIN_PER_LIST * lists),
                         "nprobe_default": ivf.nprobe, "build_s": round(seconds, 2)}
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
    """Token ids of n passages: the real passages' own tokens first, then lengths drawn
    from the real passages and tokens from the real corpus's unigram frequencies."""
    rng = np.random.default_rng(seed)
    counts = np.asarray(lexicon["counts"], dtype=np.float64)
    cdf = np.cumsum(counts / counts.sum())
    real = lexicon["real_token_ids"][:n]
    lengths = np.concatenate([np.array([len(t) for t in real], dtype=np.int64),
                              rng.choice(np.asarray(lexicon["token_lengths"]), n - len(real))])
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    ids = np.empty(int(offsets[-1]), dtype=np.int32)
    real_end = int(offsets[len(real)])
    ids[:real_end] = np.fromiter((t for tokens in real for t in tokens), np.int32, real_end)
    for start in range(real_end, len(ids), 1 << 24):
        end = min(len(ids), start + (1 << 24))
        draws = rng.random(end - start)
        ids[start:end] = np.minimum(np.searchsorted(cdf, draws), len(cdf) - 1)
    return ids, offsets


def step_bm25(n: int, inputs: Path, out: Path) -> dict:
    """Build the lexical index rag/ serves (bm25s scores, posting lists split at the cap),
    then score the questions with the cap and without it (exact BM25)."""
    from rag.index.lexical import LexicalIndex

    out.mkdir(parents=True, exist_ok=True)
    data = _inputs(inputs)
    tokens = data.lexicon["tokens"]
    record: dict = {"n": n, "vocabulary": len(tokens)}
    record["generate_s"], (ids, offsets) = timed(synth_tokens, data.lexicon, n, n + 7)
    record["tokens"] = int(len(ids))
    corpus = SimpleNamespace(ids=_LazyDocs(ids, offsets),
                             vocab={token: i for i, token in enumerate(tokens)})
    seconds, lexical = timed(LexicalIndex.from_token_lists, corpus, TOKENIZER)
    record["build_s"] = round(seconds, 2)
    record["nonzeros"] = int(lexical._starts[-1])
    record["postings_per_token"] = lexical.params.postings_per_token
    record["tokens_over_cap"] = int(np.count_nonzero(
        np.diff(lexical._starts) > lexical.params.postings_per_token))
    del ids, offsets, corpus
    record["build_peak_rss_mib"] = proc_status().get("VmHWM")
    record["save_s"], _ = timed(lexical.save, out / "lexical")
    del lexical
    served = LexicalIndex.load(out / "lexical")
    top = {}
    for name, exact in (("capped", False), ("exact", True)):
        for q in data.questions[:5]:
            served.scores(q, exact=exact)
        times, top[name] = [], []
        for q in data.questions:
            started = time.perf_counter()
            scores = served.scores(q, exact=exact)
            best = np.argpartition(-scores, min(100, n - 1))[:100] if scores.any() else []
            times.append(time.perf_counter() - started)
            ranked = sorted((-float(scores[r]), int(r)) for r in best if scores[r] > 0)
            top[name].append([r for _, r in ranked[:10]])
        record[f"score_top100_{name}"] = latency_ms(times)
    shared = [len(set(a) & set(b)) / max(1, len(b)) for a, b in zip(top["capped"], top["exact"],
                                                                   strict=True)]
    record["capped_recall_at_10"] = round(float(np.mean(shared)), 4)
    record["capped_same_top1"] = round(float(np.mean(
        [bool(a) and bool(b) and a[0] == b[0] for a, b in zip(top["capped"], top["exact"],
                                                               strict=True)])), 4)
    record["files_mib"] = {p.name: round(p.stat().st_size / 2**20, 1)
                           for p in sorted((out / "lexical").iterdir())}
    return record


# ------------------------------------------------------------------ serving holder


_TITLE_ENDINGS = {  # synthetic titles by document type (never a real title's words)
    "regulation": ("管理办法", "条例", "实施细则", "规定"), "notice": ("的通知",),
    "explanation": ("的说明",), "report": ("的报告",), "decision": ("的决定",),
    "plan": ("实施方案",), "list": ("名单",), "other": ("",),
}


def synth_passages(data: SimpleNamespace, n: int, seed: int):
    """The real passages and documents, then synthetic ones up to n passages, with
    real-length text cut from the corpus."""
    from rag.index.folder import read_documents, read_passages
    from rag.types import Document, Passage

    rng = np.random.default_rng(seed)
    lex = data.lexicon
    sizes = np.asarray(lex["doc_sizes"])
    kinds = lex["doc_types"]
    chars = np.asarray(lex["passage_chars"])
    text = data.text
    passages = list(read_passages(data.index))[:n]
    documents = list(read_documents(data.index))
    row = len(passages)
    doc_no = 0
    while row < n:
        size = int(min(rng.choice(sizes), n - row))
        doc_type = kinds[int(rng.integers(len(kinds)))]
        doc_id = f"syn{doc_no // 40:05d}_{doc_no * 2654435761 % 2**64:016x}#{doc_no % 40:03d}"
        endings = _TITLE_ENDINGS.get(doc_type, ("",))
        title = f"合成文件第{doc_no}号{endings[doc_no % len(endings)]}"
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


def step_index(n: int, inputs: Path, out: Path) -> dict:
    """The index folder rag/ would write for n passages (FAISS and BM25 built above)."""
    import faiss

    from rag.index.folder import read_manifest, write_index
    from rag.index.lexical import LexicalIndex
    from rag.index.vectors import choose_faiss_index

    data = _inputs(inputs)
    kind = choose_faiss_index(n)
    record: dict = {"n": n, "faiss_index": kind}
    record["passages_s"], (passages, documents) = timed(synth_passages, data, n, n + 11)
    record["documents"] = len(documents)
    vectors = faiss.read_index(str(out / ("flat.faiss" if kind == "flat" else "ivf_sq8.faiss")))
    lexical = LexicalIndex.load(out / "lexical")
    real = read_manifest(data.index)
    fields = dict(embedder=real.embedder, dim=real.dim, corpus_sha256="synthetic", files=(),
                  chunking={}, lexical_tokenizer=TOKENIZER, faiss_index=kind)
    record["write_s"], _ = timed(write_index, out / "index", fields, passages, documents,
                                 vectors, lexical)
    folder = out / "index"
    record["files_mib"] = {str(p.relative_to(folder)): round(p.stat().st_size / 2**20, 1)
                           for p in sorted(folder.rglob("*")) if p.is_file()}
    record["peak_rss_mib"] = proc_status().get("VmHWM")
    return record


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


def step_serve(n: int, nprobes: list[int], inputs: Path, out: Path,
               budget_s: float = 45.0) -> dict:
    """``Pipeline.load`` on the folder of ``step_index`` and questions asked of it."""
    import faiss

    from rag.embed import load_embedder
    from rag.index.folder import read_manifest, verify_checksums
    from rag.pipeline import Pipeline
    from rag.search.clause import ClauseRef
    from rag.search.glossary import expand
    from rag.search.query import SearchOptions

    data = _inputs(inputs)
    folder = out / "index"
    record: dict = {"n": n, "rss_mib": {"start": proc_status()}}
    real_embedder = load_embedder()
    real_embedder.embed_query("预热")  # its weights and scratch memory resident
    embedder = _PrecomputedQueries(real_embedder, data.questions, data.queries)
    embedder.learn([expand(q) for q in data.questions])  # Pipeline.search adds legal terms
    record["rss_mib"]["embedder"] = proc_status()
    record["verify_s"], _ = timed(verify_checksums, folder, read_manifest(folder))
    record["load_s"], pipeline = timed(Pipeline.load, folder, embedder=embedder, verify=False,
                                       llm=None, reranker=None)
    record["rss_mib"]["loaded"] = proc_status()
    vectors = pipeline.index.vectors
    record["faiss_index"] = pipeline.manifest.faiss_index
    record["documents"] = len(pipeline.documents)
    questions = data.questions
    record["resolve_titles"] = latency_ms(_bounded(pipeline.retriever.titles.resolve, questions,
                                                        budget_s))
    no_ref = ClauseRef(None, (), None)

    # each question parsed as the pipeline does, then its title resolution taken out
    parsed = {q: replace(pipeline.parse(q), ref=no_ref) for q in questions}
    ivf = faiss.try_extract_index_ivf(vectors)
    record["search_param"] = "nprobe" if ivf is not None else None
    runs = []
    default = ivf.nprobe if ivf is not None else None
    record["nprobe_default"] = default
    for value in [default, *[v for v in nprobes if ivf is not None and v != default]]:
        if value is not None:
            ivf.nprobe = value
        for retriever in ("hybrid", "dense", "bm25"):
            if value != default and retriever == "bm25":  # BM25 does not depend on nprobe
                continue
            options = SearchOptions(retriever, 10)
            pipeline.retriever.search(parsed[questions[0]], options)

            def search(q, o=options):
                return pipeline.retriever.search(parsed[q], o)

            times = _bounded(search, questions, budget_s)
            runs.append({"path": "Retriever.search (no title resolution)",
                         "retriever": retriever, "search_setting": value, **latency_ms(times)})
        times = _bounded(lambda q: pipeline.search(q, 10, "hybrid"), questions, budget_s)
        runs.append({"path": "Pipeline.search", "retriever": "hybrid", "search_setting": value,
                     **latency_ms(times)})
        times = _bounded(lambda q: pipeline.ask(q), questions, budget_s)
        runs.append({"path": "Pipeline.ask", "retriever": "hybrid", "search_setting": value,
                     **latency_ms(times)})
    if ivf is not None:
        ivf.nprobe = default
    record["search"] = runs
    # the real corpus among n passages: does a gold question keep its corpus-only top hit?
    tops = [[h.passage.id for h in pipeline.search(q, 5, "hybrid")]
            for q in questions[: len(data.top1)]]
    record["same_top1_as_corpus_alone"] = round(float(np.mean(
        [t[:1] == [want] for t, want in zip(tops, data.top1, strict=True)])), 4)
    record["corpus_top1_in_top5"] = round(float(np.mean(
        [want in t for t, want in zip(tops, data.top1, strict=True)])), 4)
    record["rss_mib"]["searched"] = proc_status()
    record["peak_rss_mib"] = proc_status().get("VmHWM")
    return record


# ------------------------------------------------------------------ milvus lite


def step_milvus(n: int, inputs: Path, out: Path) -> dict:
    """Write the n passages to a Milvus Lite collection; insert rates by kind of row."""
    import shutil

    import faiss

    from rag.index import milvus as mv
    from rag.index.build import embedding_text
    from rag.index.folder import read_manifest

    data = _inputs(inputs)
    real_manifest = read_manifest(data.index)
    passages, _ = synth_passages(data, n, n + 11)
    flat = faiss.read_index(str(out / "flat.faiss"))
    vectors = flat.reconstruct_n(0, flat.ntotal)
    del flat
    n_real = min(n, len(data.base))
    texts = [embedding_text(p) for p in passages[:n_real]] + [""] * (n - n_real)
    uri = str(out / "milvus.db")
    shutil.rmtree(uri, ignore_errors=True)
    info = mv.CollectionInfo(real_manifest.embedder, real_manifest.dim, "synthetic")
    mv.connect(uri)  # Milvus Lite started before the clock
    record: dict = {"n": n, "real_rows": n_real, "synthetic_rows": n - n_real}
    seconds, _ = timed(mv.write_collection, uri, passages, vectors, texts, info)
    record["insert_s"] = round(seconds, 2)  # insert, flush, load, alias
    record["rows_per_s"] = round(n / seconds, 1)
    (out / "milvus_ids.json").write_text(json.dumps([p.id for p in passages]),
                                         encoding="utf-8")
    record["files_mib"] = round(sum(f.stat().st_size for f in Path(uri).rglob("*")
                                    if f.is_file()) / 2**20, 1)
    record["peak_rss_mib"] = proc_status().get("VmHWM")
    return record


def step_milvus_serve(n: int, inputs: Path, out: Path, budget_s: float = 40.0) -> dict:
    """Dense and hybrid search of the gold questions on the collection ``step_milvus`` wrote."""
    from rag.index import milvus as mv
    from rag.index.folder import read_manifest
    from rag.search.backends.milvus import MilvusSearch

    data = _inputs(inputs)
    manifest = read_manifest(data.index)
    ids = json.loads((out / "milvus_ids.json").read_text(encoding="utf-8"))
    truth = np.load(out / "truth.npy")
    record: dict = {"n": n, "rss_mib": {"start": proc_status()}}
    record["open_s"], search = timed(MilvusSearch, str(out / "milvus.db"), manifest.embedder,
                                     manifest.dim, timeout=max(120.0, n / 2000))
    record["index_type"] = "FLAT" if n < mv.FLAT_BELOW else "HNSW"
    record["rss_mib"]["loaded"] = proc_status()
    vectors = dict(zip(data.questions, data.queries, strict=True))
    record["first_search_s"], _ = timed(search.dense, data.queries[0], "", K)  # index built
    dense_times, found = [], []
    for q in data.questions:
        seconds, pairs = timed(search.dense, vectors[q], "", K)
        dense_times.append(seconds)
        found.append({i for i, _ in pairs})
    record["dense"] = latency_ms(dense_times)
    record["dense_recall_at_10"] = round(float(np.mean(
        [len(f & {ids[r] for r in row}) / K for f, row in zip(found, truth, strict=True)])), 4)
    record["hybrid"] = latency_ms(_bounded(
        lambda q: search.hybrid(vectors[q], q, "", 100, K), data.questions, budget_s))
    record["rss_mib"]["searched"] = proc_status()
    record["peak_rss_mib"] = proc_status().get("VmHWM")
    return record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=("vectors", "faiss", "bm25", "index", "serve", "milvus",
                                         "milvus_serve"))
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--inputs", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--kind", default="flat")
    parser.add_argument("--nprobe", default="",
                        help="serve step: nprobe values to try besides the index's own")
    args = parser.parse_args()
    if args.step == "vectors":
        emit(step_vectors(args.n, args.inputs, args.out))
    elif args.step == "faiss":
        emit(step_faiss(args.n, args.kind, args.inputs, args.out))
    elif args.step == "bm25":
        emit(step_bm25(args.n, args.inputs, args.out))
    elif args.step == "index":
        emit(step_index(args.n, args.inputs, args.out))
    elif args.step == "milvus":
        emit(step_milvus(args.n, args.inputs, args.out))
    elif args.step == "milvus_serve":
        emit(step_milvus_serve(args.n, args.inputs, args.out))
    else:
        nprobes = [int(v) for v in args.nprobe.split(",") if v]
        emit(step_serve(args.n, nprobes, args.inputs, args.out,
                        budget_s=30.0 if args.n >= 500_000 else 45.0))


if __name__ == "__main__":
    main()
