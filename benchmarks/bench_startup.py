"""Start-up: seconds from launching ``ragqa serve`` (existing index) to the first answer.

Each run launches ``ragqa serve`` with RAGQA_PORT set to a free port, polls the port,
then connects gradio_client and asks one question. Reported: port open (the server
listens), and first answer (connect + one ``/ask`` call done), medians over the runs.
"""

from __future__ import annotations

import argparse
import time

from benchmarks import server
from benchmarks.common import (
    INDEX,
    Result,
    emit,
    free_port,
    load_average,
    log,
    median,
    run_json,
    timed,
    wait_for_index,
)

READY_AIM_S = 5.0
QUESTION = "网吧能让未成年人进去吗？"


def run(command: str, quick: bool = False) -> Result:
    result = Result("startup", command)
    wait_for_index(INDEX)
    why_not = server.available()
    if why_not is not None:
        result.notes.append(f"not measured: the UI is not available ({why_not})")
        result.aim("serving ready within 5 s of start", f"<= {READY_AIM_S:.0f} s",
                   "not measured", None)
        return result
    runs = []
    for attempt in range(2 if quick else 3):
        port = free_port()
        load = load_average()
        started = time.perf_counter()
        process = server.start(port, log_name="serve-startup.log")
        try:
            to_port = server.wait_port(process, port, timeout_s=180)
            api = server.client(f"http://127.0.0.1:{port}/")
            connected = time.perf_counter() - started
            answer = server.ask(api, QUESTION)
            first = time.perf_counter() - started
        finally:
            server.stop(process)
        runs.append({"port_open_s": round(to_port, 2), "client_connected_s": round(connected, 2),
                     "first_answer_s": round(first, 2), "load": load,
                     "answer_ok": answer.get("error") is None})
        log(f"startup run {attempt + 1}: {runs[-1]}")
        time.sleep(1)
    result.details["runs"] = runs
    port_s = median([r["port_open_s"] for r in runs])
    first_s = median([r["first_answer_s"] for r in runs])
    result.figure("ragqa serve: launch to port open", port_s, "s",
                  f"median of {len(runs)}: {[r['port_open_s'] for r in runs]}")
    result.figure("ragqa serve: launch to first answer", first_s, "s",
                  f"median of {len(runs)}: {[r['first_answer_s'] for r in runs]}")
    parts = run_json("benchmarks.bench_startup", ["--worker"], 300)
    result.details["parts"] = parts
    for part, seconds in parts["seconds"].items():
        result.figure(f"start-up part: {part}", round(seconds, 2), "s",
                      "one fresh process, in the order ragqa serve does them",
                      load=parts["load"])
    result.aim("serving ready within 5 s of start (first answer)", f"<= {READY_AIM_S:.0f} s",
               f"{first_s} s", first_s <= READY_AIM_S)
    return result


def worker() -> dict:
    """The parts of a start, timed in one fresh process in the order ``ragqa serve`` runs."""
    load = load_average()
    seconds = {}
    started = time.perf_counter()
    import rag.pipeline  # noqa: F401

    seconds["import rag"] = time.perf_counter() - started
    seconds["import gradio + ui.app"], _ = timed(__import__, "ui.app")
    from benchmarks.common import load_pipeline
    from ui.app import build_app

    seconds["Pipeline.load"], pipeline = timed(load_pipeline, INDEX)
    seconds["ui.app.build_app"], _ = timed(build_app, pipeline)
    seconds["first Pipeline.ask"], _ = timed(pipeline.ask, QUESTION)
    return {"load": load, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    if parser.parse_args().worker:
        emit(worker())


if __name__ == "__main__":
    main()
