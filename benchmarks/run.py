"""Run the benchmarks and write benchmarks/results/ (results.json, results.md, NAME.json).

    python -m benchmarks.run                          # everything, scale 10^4, 10^5, 10^6
    python -m benchmarks.run --quick                  # shorter runs, scale 10^4 and 10^5
    python -m benchmarks.run --only latency startup   # some of them
    python -m benchmarks.run --only firstrun          # fresh clone: make run to answers
    python -m benchmarks.run --only maketest          # fresh clone: make test, each step timed
    python -m benchmarks.run --only scale --scale 1000000
    python -m benchmarks.run --report                 # only rewrite results.md/json

Each benchmark writes its own JSON file; results.json and results.md are rebuilt from
all of them after each one, so a partial run updates only what it measured. A
benchmark that fails is recorded as failed and the others go on.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
import time
import traceback

from benchmarks import report
from benchmarks.common import RESULTS, TMP, Result, log, write_json

# benchmark name -> (module, function); each function takes (command, quick) and gives a
# Result, except "scale" and "milvus", which take the corpus sizes (milvus: 10^5 unless
# --scale is given)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "build": ("benchmarks.bench_build", "run"),
    "latency": ("benchmarks.bench_query", "run_latency"),
    "throughput": ("benchmarks.bench_query", "run_throughput"),
    "memory": ("benchmarks.bench_memory", "run"),
    "startup": ("benchmarks.bench_startup", "run"),
    "firstrun": ("benchmarks.bench_firstrun", "run"),
    "maketest": ("benchmarks.bench_maketest", "run"),  # fresh clone: make test, step by step
    "scale": ("benchmarks.bench_scale", "run"),
    "evalstats": ("benchmarks.bench_evalstats", "run"),
    "check": ("benchmarks.bench_check", "run"),
    "legal": ("benchmarks.bench_legal", "run"),
    "readers": ("benchmarks.bench_readers", "run"),
    "scan_to_answer": ("benchmarks.bench_readers", "run_scan_to_answer"),
    "ocr_speed": ("benchmarks.bench_readers", "run_ocr_speed"),
    "ray": ("benchmarks.bench_ray", "run"),
    "ray_scale": ("benchmarks.bench_ray", "run_orchestration"),  # 10^5 passages, Ray's cost
    "milvus": ("benchmarks.bench_scale", "run_milvus"),  # Milvus Lite beside FAISS flat
    "pages": ("benchmarks.bench_pages", "run"),  # the page viewer: render, cache, /api/page
    "replica": ("benchmarks.bench_replica", "run"),  # the index read from Milvus, no folder
}
NAMES = tuple(BENCHMARKS)
FULL_SCALE = (10_000, 100_000, 1_000_000)
QUICK_SCALE = (10_000, 100_000)


def parse_scale(text: str) -> list[int]:
    """Sizes from "10000,100000" or "1e4,1e5".

    >>> parse_scale("10000, 1e5")
    [10000, 100000]
    """
    return [int(float(part)) for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME",
                        help=f"benchmarks to run: {', '.join(NAMES)} (default: all)")
    parser.add_argument("--scale", type=parse_scale, default=None,
                        help="synthetic corpus sizes, comma-separated (default 10000,100000,"
                             "1000000; with --quick 10000,100000)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions and questions, scale 10^4 and 10^5 only")
    parser.add_argument("--report", action="store_true",
                        help="measure nothing: rebuild results.json and results.md from the "
                             "per-benchmark JSON files")
    return parser


def command(names: list[str], quick: bool, scale: list[int] | None = None) -> str:
    parts = ["python", "-m", "benchmarks.run", "--only", *names]
    if scale:
        parts += ["--scale", ",".join(str(n) for n in scale)]
    if quick:
        parts.append("--quick")
    return " ".join(shlex.quote(p) for p in parts)


def run_one(name: str, quick: bool, scales: list[int], scale_given: bool = False) -> dict:
    module, function = BENCHMARKS[name]
    run = getattr(importlib.import_module(module), function)
    if name == "scale":

        def command_for(n):
            return command(["scale"], False, [n] if n else scales)

        return run(command_for, scales, quick).to_json()
    if name == "milvus":
        sizes = scales if scale_given else [100_000]

        def milvus_command(n):
            return command(["milvus"], False, [n] if n else sizes)

        return run(milvus_command, sizes).to_json()
    return run(command([name], quick), quick).to_json()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.report:
        return _report_only()
    names = args.only or list(NAMES)
    scales = args.scale or list(QUICK_SCALE if args.quick else FULL_SCALE)
    RESULTS.mkdir(parents=True, exist_ok=True)
    TMP.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    failed = []
    for name in names:
        log(f"--- {name}")
        try:
            record = run_one(name, args.quick, scales, args.scale is not None)
        except Exception as exc:  # noqa: BLE001 - record the failure, run the others
            traceback.print_exc()
            failed.append(name)
            record = _failed(name, command([name], args.quick), exc)
        write_json(RESULTS / f"{name}.json", record)
        json_path, md_path = report.write_all()
        log(f"{name} done in {record['seconds']} s; wrote {md_path}")
    log(f"all done in {time.perf_counter() - started:.0f} s"
        + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


def _failed(name: str, command_line: str, exc: Exception) -> dict:
    """The record of a failed run: the earlier results, if any, kept with the error beside
    them (sizes measured in earlier runs are merged into one file and must not be lost)."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    path = RESULTS / f"{name}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        record["details"]["last_error"] = error
        return record
    except (OSError, ValueError, KeyError, TypeError):
        record = Result(name, command_line).to_json()
        record["details"]["error"] = error
        return record


def _report_only() -> int:
    import json

    from benchmarks.bench_scale import milvus_figures, refigure

    store = RESULTS / "scale.json"
    if store.exists():
        write_json(store, refigure(json.loads(store.read_text(encoding="utf-8"))))
    store = RESULTS / "milvus.json"
    if store.exists():  # figures derived again from the stored details
        record = json.loads(store.read_text(encoding="utf-8"))
        result = Result("milvus", record["command"])
        result.details = record["details"]
        milvus_figures(result)
        fresh = result.to_json()
        write_json(store, {**record, "figures": fresh["figures"], "notes": fresh["notes"]})
    json_path, md_path = report.write_all()
    log(f"wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
