"""First run: a fresh clone, ``make run``, and the seconds until it answers.

Each run clones this repository's committed HEAD (``git clone``, so only what a newcomer
gets: no ``.ragqa`` folder, no index, no embedding cache) into benchmarks/results/tmp/
and launches the clone's ``ragqa serve`` with this virtual environment's Python
(PYTHONPATH = the clone). That is what ``make run`` runs once its install is done; the
install itself is not timed, the aims count from its end. Measured from the launch:

* first answer: ``POST /api/ask`` returned a cited answer (and which retriever gave it);
* hybrid: ``/api/health`` says the hybrid retriever answers (the index is complete);
* web UI answering: gradio_client's ``/ask`` through the page returned an answer.

Two clones: as shipped (``corpus/embeddings`` present), and the same clone without the
shipped embeddings, the path of a corpus nobody embedded yet: it answers by keyword
while the passages are embedded. That one stops after the first answer and records
the build's own estimate of the time left (embedding the whole corpus on 2 cores takes
minutes: benchmark ``build``). Also ``ragqa index`` in a fresh clone (seconds, passages
embedded).

``make test`` is not run here (it takes many minutes on this machine and other work
shares it); what the shipped embeddings save it is the embedding of the corpus, the
cold build of benchmark ``build``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks import server
from benchmarks.common import PYTHON, ROOT, TMP, Result, bench_env, free_port, load_average, log

QUESTION = "网吧能让未成年人进去吗？"
FIRST_ANSWER_AIM_S = 60.0
UI_AIM_S = 90.0
TIMEOUT_S = 300.0
PROGRESS_SEEN = 64  # passages embedded before the unshipped run reads the build's estimate


def fresh_clone(name: str, shipped: bool = True) -> Path:
    """A clone of HEAD in TMP/name (replacing an older one); without corpus/embeddings
    when ``shipped`` is false."""
    target = TMP / name
    shutil.rmtree(target, ignore_errors=True)
    TMP.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(target)],
                   check=True, timeout=120)
    if not shipped:
        shutil.rmtree(target / "corpus" / "embeddings")
    return target


def clone_env(clone: Path, port: int | None = None) -> dict:
    extra = {"PYTHONPATH": str(clone), "RAGQA_INDEX": str(clone / ".ragqa" / "index"),
             "RAGQA_CORPUS": str(clone / "corpus"), "GRADIO_ANALYTICS_ENABLED": "False",
             "PYTHONUNBUFFERED": "1"}
    if port is not None:
        extra.update({"RAGQA_PORT": str(port), "RAGQA_HOST": "127.0.0.1"})
    return bench_env(extra)


def health(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=10) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read() or b"{}")
    except OSError:
        return {}


def wait_health(process: subprocess.Popen, port: int, test, timeout_s: float) -> dict:
    started = time.perf_counter()
    while True:
        body = health(port)
        if test(body):
            return body
        if process.poll() is not None:
            raise RuntimeError(f"ragqa serve exited with code {process.returncode}")
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"/api/health never satisfied the test in {timeout_s:.0f}s: "
                               f"{body}")
        time.sleep(0.1)


def one_run(clone: Path, wait_hybrid: bool) -> dict:
    """Launch the clone's ``ragqa serve`` and time it; the server is stopped after."""
    port = free_port()
    load = load_average()
    log_path = TMP / f"{clone.name}-serve.log"
    started = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as out:
        process = subprocess.Popen([PYTHON, "-m", "ragqa", "serve"], cwd=clone,
                                   env=clone_env(clone, port), stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    record: dict = {"load": load}
    try:
        record["port_open_s"] = round(server.wait_port(process, port, TIMEOUT_S), 2)
        answer = server.wait_api_answer(process, port, QUESTION, TIMEOUT_S)
        record["first_answer_s"] = round(time.perf_counter() - started, 2)
        record["first_answer_retriever"] = sorted({p["source"] for p in answer["passages"]})
        record["first_answer_cited"] = [(c["doc_title"], c["article"])
                                        for c in answer["citations"]]
        record["first_answer_note"] = answer.get("note")
        record["health_at_first_answer"] = health(port)
        if not wait_hybrid:  # the build's own estimate once it has embedded a few batches
            later = wait_health(process, port, lambda b: (b.get("build") or {}).get(
                "embedded", 0) >= PROGRESS_SEEN, TIMEOUT_S)
            record["health_later"] = later
            record["health_later_s"] = round(time.perf_counter() - started, 2)
            return record
        wait_health(process, port, lambda b: b.get("retriever") == "hybrid", TIMEOUT_S)
        record["hybrid_s"] = round(time.perf_counter() - started, 2)
        server.wait_ui(process, port, TIMEOUT_S)
        ui_answer = server.ask(server.client(f"http://127.0.0.1:{port}/"), QUESTION)
        record["ui_answer_s"] = round(time.perf_counter() - started, 2)
        record["ui_answer_ok"] = ui_answer.get("error") is None and bool(ui_answer["citations"])
        hybrid = server.api_ask(port, QUESTION)[1]
        record["hybrid_cited"] = [(c["doc_title"], c["article"]) for c in hybrid["citations"]]
    finally:
        server.stop(process)
    return record


def index_in_clone(clone: Path) -> dict:
    """``ragqa index`` in a fresh clone: seconds and its summary line."""
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-m", "ragqa", "index"], cwd=clone, env=clone_env(clone),
                          capture_output=True, text=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise RuntimeError(f"ragqa index failed: {done.stderr[-2000:]}")
    summary = done.stdout.strip().splitlines()[-1].replace(str(clone), "<fresh clone>")
    return {"seconds": round(time.perf_counter() - started, 2), "summary": summary}


def run(command: str, quick: bool = False) -> Result:
    result = Result("firstrun", command)
    why_not = server.available()
    if why_not is not None:
        result.notes.append(f"not measured: the UI is not available ({why_not})")
        return result
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    result.details["head"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT,
                                            capture_output=True, text=True).stdout.strip()
    if dirty:
        result.notes.append("the working tree has uncommitted changes; the clones hold HEAD")

    runs = []
    for attempt in range(1 if quick else 2):
        clone = fresh_clone("firstrun-shipped")
        runs.append(one_run(clone, wait_hybrid=True))
        log(f"fresh clone, shipped embeddings, run {attempt + 1}: {runs[-1]}")
    result.details["shipped"] = runs
    last = runs[-1]
    for key, name in (("port_open_s", "port open"),
                      ("first_answer_s", "first cited answer over /api/ask"),
                      ("hybrid_s", "hybrid retriever answering"),
                      ("ui_answer_s", "web UI answering (gradio_client /ask)")):
        values = [r[key] for r in runs]
        result.figure(f"fresh clone, make run (ragqa serve): launch to {name}", max(values),
                      "s", f"worst of {len(values)}: {values}", load=last["load"])
    first = max(r["first_answer_s"] for r in runs)
    ui = max(r["ui_answer_s"] for r in runs)
    cited = all(r["first_answer_cited"] and r["ui_answer_ok"] for r in runs)
    result.aim("first cited answer within 60 s of the end of the install",
               f"<= {FIRST_ANSWER_AIM_S:.0f} s", f"{first} s", first <= FIRST_ANSWER_AIM_S and cited)
    result.aim("web UI answering within 90 s of the end of the install", f"<= {UI_AIM_S:.0f} s",
               f"{ui} s", ui <= UI_AIM_S and cited)

    clone = fresh_clone("firstrun-index")
    built = index_in_clone(clone)
    result.details["ragqa index"] = built
    result.figure("fresh clone: ragqa index (shipped embeddings, empty cache)",
                  built["seconds"], "s", built["summary"])

    clone = fresh_clone("firstrun-unshipped", shipped=False)
    bare = one_run(clone, wait_hybrid=False)
    log(f"fresh clone without shipped embeddings: {bare}")
    result.details["unshipped"] = bare
    build = bare["health_at_first_answer"].get("build") or {}
    result.figure("fresh clone without corpus/embeddings: launch to first cited answer "
                  f"({'/'.join(bare['first_answer_retriever'])})", bare["first_answer_s"], "s",
                  f"build then: {build}", load=bare["load"])
    later = bare["health_later"]["build"]
    total = round(bare["health_later_s"] + later["seconds_left"])
    result.figure("fresh clone without corpus/embeddings: launch to hybrid, as the build "
                  "estimates it", total, "s",
                  f"{bare['health_later_s']} s after launch the build said: {later}",
                  load=bare["load"])
    for name in ("firstrun-shipped", "firstrun-index", "firstrun-unshipped"):
        shutil.rmtree(TMP / name, ignore_errors=True)
    result.notes.append(
        "make test: not run here. It built the corpus index first (a cold build embeds "
        "every passage: benchmark build, about 9 minutes on this machine); with the shipped "
        "embeddings that step takes seconds (the 'ragqa index' figure above).")
    return result


def main() -> None:
    print(json.dumps(run("python -m benchmarks.run --only firstrun").to_json(),
                     ensure_ascii=False, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    main()
