"""Start-up: seconds from launching ``ragqa serve`` (existing index) to serving answers.

``ragqa serve`` starts in two phases (ui.server): the JSON API listens at once and
answers once the index is loaded; gradio is imported and the web UI mounted at "/"
after that. Each run launches ``ragqa serve`` with RAGQA_PORT set to a free port and
measures, from the launch:

* port open: the server listens (``/api/health`` says "loading");
* first answer: ``POST /api/ask`` returned an answer (asked again while it says 503);
* UI ready: gradio_client connects to "/" and one ``/ask`` call through the UI is done
  (it connects once ``/api/health`` says ``"ui": true``, so that its retries do not
  take CPU from the server's start on a 2-core machine).

Reported: the median of each over the runs. The aim "serving ready within 5 s of start"
is judged on the first ``/api/ask`` answer; the UI-ready figure is its own line.
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
FIGURES = (
    ("port_open_s", "ragqa serve: launch to port open"),
    ("first_answer_s", "ragqa serve: launch to first answer (POST /api/ask)"),
    ("ui_ready_s", "ragqa serve: launch to web UI ready (gradio_client /ask answered)"),
)


def one_start() -> dict:
    """Launch ``ragqa serve`` once and time its phases; the server is stopped after."""
    port = free_port()
    load = load_average()
    started = time.perf_counter()
    process = server.start(port, log_name="serve-startup.log")
    try:
        to_port = server.wait_port(process, port, timeout_s=180)
        answer = server.wait_api_answer(process, port, QUESTION, timeout_s=180)
        first = time.perf_counter() - started
        server.wait_ui(process, port, timeout_s=180)
        ui_answer = server.ask(server.client(f"http://127.0.0.1:{port}/"), QUESTION)
        ui_ready = time.perf_counter() - started
    finally:
        server.stop(process)
    return {"port_open_s": round(to_port, 2), "first_answer_s": round(first, 2),
            "ui_ready_s": round(ui_ready, 2), "load": load,
            "answer_ok": not answer.get("refused") and bool(answer.get("citations")),
            "ui_answer_ok": ui_answer.get("error") is None}


def run(command: str, quick: bool = False) -> Result:
    result = Result("startup", command)
    wait_for_index(INDEX)
    why_not = server.available()
    if why_not is not None:
        result.notes.append(f"not measured: the UI is not available ({why_not})")
        result.aim("serving ready within 5 s of start (first answer)",
                   f"<= {READY_AIM_S:.0f} s", "not measured", None)
        return result
    runs = []
    for attempt in range(2 if quick else 3):
        runs.append(one_start())
        log(f"startup run {attempt + 1}: {runs[-1]}")
        time.sleep(1)
    result.details["runs"] = runs
    medians = {}
    for key, name in FIGURES:
        values = [r[key] for r in runs]
        medians[key] = median(values)
        result.figure(name, medians[key], "s", f"median of {len(runs)}: {values}")
    parts = run_json("benchmarks.bench_startup", ["--worker"], 300)
    result.details["parts"] = parts
    for part, seconds in parts["seconds"].items():
        result.figure(f"start-up part: {part}", round(seconds, 2), "s",
                      "one fresh process, in the order ragqa serve does them",
                      load=parts["load"])
    first_s, ui_s = medians["first_answer_s"], medians["ui_ready_s"]
    ok = all(r["answer_ok"] and r["ui_answer_ok"] for r in runs)
    if not ok:
        result.notes.append("an answer in the runs was refused, uncited or an error: "
                            f"{[(r['answer_ok'], r['ui_answer_ok']) for r in runs]}")
    result.aim("serving ready within 5 s of start (first answer)", f"<= {READY_AIM_S:.0f} s",
               f"{first_s} s", first_s <= READY_AIM_S and ok,
               note="first answer over POST /api/ask; the web UI follows "
                    f"(ready after {ui_s} s, its own figure)")
    result.notes.append(
        f"ragqa serve answers over its JSON API (/api/ask) after {first_s} s (median); the "
        f"Gradio web UI at / is ready after {ui_s} s, since gradio is imported only once the "
        "index is loaded (import gradio alone takes about 4 s on this machine).")
    return result


def worker() -> dict:
    """The parts of a start, timed in one fresh process in the order ``ragqa serve`` runs."""
    load = load_average()
    seconds = {}
    seconds["import ui.server (fastapi, uvicorn)"], _ = timed(__import__, "ui.server")
    seconds["import rag"], _ = timed(__import__, "rag.live")
    from benchmarks.common import load_pipeline

    seconds["Pipeline.load"], pipeline = timed(load_pipeline, INDEX)
    seconds["warm-up search"], _ = timed(pipeline.search, "未成年人保护")
    seconds["first Pipeline.ask"], _ = timed(pipeline.ask, QUESTION)
    seconds["import gradio + ui.app"], _ = timed(__import__, "ui.app")
    from ui.app import build_app

    seconds["ui.app.build_app"], _ = timed(build_app, pipeline)
    return {"load": load, "seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", action="store_true")
    if parser.parse_args().worker:
        emit(worker())


if __name__ == "__main__":
    main()
