"""Evaluation statistics: what ``ragqa eval`` costs beyond answering the questions.

Runs ``eval.harness.run_eval`` on the shipped gold set (278 questions) with hybrid,
bm25 and dense (offline answerer, no reranker), 10,000 resamples, and reads back from
its run.json: the seconds spent in the ``ask`` calls, everything beyond them (scoring
relevance against the whole collection, the library's ranking figures, the bootstrap
interval of every figure overall and by type, the paired tests of hybrid against bm25
and dense, TREC files, plots, report), and the statistics alone. The aim: beyond
answering, under a minute. The statistics are also timed alone on the saved results,
three times (median), wall and CPU time, so that the figure does not depend on one
noisy run or on what else the machine runs.

Left out: the baseline configuration (it embeds the corpus in fixed-size chunks first).
"""

from __future__ import annotations

import json
import time

from benchmarks.common import GOLD, INDEX, TMP, Result, load_pipeline, log, median, wait_for_index

CONFIGS = ("hybrid", "bm25", "dense")
AIM_S = 60.0


def run(command: str, quick: bool = False) -> Result:
    from eval.harness import add_statistics, run_eval
    from eval.metrics import ConfigRun, aggregate
    from eval.runs import load_saved

    result = Result("evalstats", command)
    wait_for_index(INDEX)
    pipeline = load_pipeline(INDEX)
    out = TMP / "evalstats"
    limit = 100 if quick else None
    started = time.perf_counter()
    run_eval(GOLD, out, list(CONFIGS), pipeline, progress=False, limit=limit)
    wall = time.perf_counter() - started
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    n = record["n_items"]
    result.details["run"] = {key: record[key] for key in (
        "n_items", "answering_s", "beyond_answering_s", "statistics_s", "resamples")}
    result.figure(f"ragqa eval, {n} questions x {len(CONFIGS)} configurations: whole run",
                  round(wall, 1), "s")
    result.figure("of which answering (ask calls)", record["answering_s"], "s")
    result.figure("beyond answering (scoring, ranking library, intervals, tests, files, "
                  "plots, report)", record["beyond_answering_s"], "s")
    result.figure("of which statistics (library ranking, intervals overall and by type, "
                  "paired tests)", record["statistics_s"], "s")
    runs = []
    for name in CONFIGS:
        path = out / ("per_question.jsonl" if name == CONFIGS[0] else f"per_question_{name}.jsonl")
        saved = load_saved(path)
        runs.append(ConfigRun(name, saved.results, aggregate(saved.results)))
    qrels = {name: load_saved(out / ("per_question.jsonl" if name == CONFIGS[0]
                                     else f"per_question_{name}.jsonl")).qrels
             for name in CONFIGS}
    times, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        add_statistics(runs, qrels, record["k"], record["resamples"], record["seed"])
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    log(f"statistics alone: wall {times}, cpu {cpu}")
    result.figure("statistics alone on the saved results (median of 3)",
                  round(median(times), 2), "s", f"runs: {[round(t, 2) for t in times]}")
    result.figure("the same, CPU time of the process (all threads; independent of other "
                  "load)", round(median(cpu), 2), "s", f"runs: {[round(t, 2) for t in cpu]}")
    beyond = record["beyond_answering_s"]
    result.aim(f"evaluation of a few hundred questions: beyond answering, with intervals and "
               f"tests, under {AIM_S:.0f} s", f"< {AIM_S:.0f} s", f"{beyond} s ({n} questions)",
               beyond < AIM_S)
    return result
