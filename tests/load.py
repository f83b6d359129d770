"""Load test of the ``/ask`` API: many concurrent clients against one ``ragqa serve``.

Run it as a script::

    .venv/bin/python tests/load.py --clients 32 --questions 25 [--port P] [--out FILE.json]

What it does, in order:

1. starts ``ragqa serve --index .ragqa/index`` as a subprocess on 127.0.0.1 (port:
   ``--port``, else ``RAGQA_PORT``, else a free one) and polls it with ``gradio_client``
   until it answers (bounded by ``--startup-timeout``);
2. asks every distinct question of the pool once, one at a time, from one client: the
   *serial* answers;
3. runs ``--clients`` threads, each with its own ``gradio_client.Client``, each asking
   ``--questions`` questions of the pool; client ``c`` asks ``pool[(c + j) % len(pool)]``
   at its step ``j``, so clients ask different questions at the same time;
4. checks each concurrent answer against the serial one for the same question (answer
   text, refused flag, cited passage ids), records latencies and errors;
5. stops the server (terminate, then kill), always.

The pool is drawn deterministically from ``eval/gold.jsonl``: evenly spread items of each
of the four types (citizen, clause, fact, unanswerable), interleaved.

Prints a JSON summary (and writes it with ``--out``); exits 1 when there were errors or
mismatches, 2 when the server could not be started.

``tests/test_load.py`` imports :func:`run_load` and runs it at a small size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "eval" / "gold.jsonl"
INDEX = ROOT / ".ragqa" / "index"
HOST = "127.0.0.1"
GOLD_TYPES = ("citizen", "clause", "fact", "unanswerable")

DEFAULT_POOL = 32  # distinct questions (8 of each type)
DEFAULT_K = 8
DEFAULT_RETRIEVER = "hybrid"
STARTUP_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 180.0
RUN_TIMEOUT_S = 3600.0  # the whole concurrent phase
STOP_TIMEOUT_S = 15.0
POLL_INTERVAL_S = 1.0
MAX_REPORTED = 10  # error / mismatch details kept in the report
LOG_TAIL_CHARS = 6000


class ServerError(RuntimeError):
    """The server did not start (or died); the message carries its log tail."""


# ------------------------------------------------------------------ questions


def load_pool(gold_path: str | Path = GOLD, size: int = DEFAULT_POOL) -> list[dict]:
    """``size`` distinct gold questions, all four types, interleaved (deterministic).

    Each type contributes ``ceil(size / 4)`` items spread evenly over its items in file
    order; the lists are interleaved citizen, clause, fact, unanswerable, … and cut to
    ``size``. Each entry is ``{"id", "type", "question"}``.
    """
    if size < 1:
        raise ValueError("the pool needs at least one question")
    by_type: dict[str, list[dict]] = {t: [] for t in GOLD_TYPES}
    seen: set[str] = set()
    with open(gold_path, encoding="utf-8-sig") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            question = row["question"].strip()
            if row.get("type") in by_type and question and question not in seen:
                seen.add(question)
                by_type[row["type"]].append(
                    {"id": row["id"], "type": row["type"], "question": question}
                )
    per_type = math.ceil(size / len(GOLD_TYPES))
    picked: dict[str, list[dict]] = {}
    for kind, items in by_type.items():
        if not items:
            raise ValueError(f"{gold_path} has no {kind!r} questions")
        n = min(per_type, len(items))
        picked[kind] = [items[(i * len(items)) // n] for i in range(n)]
    pool: list[dict] = []
    for i in range(per_type):
        for kind in GOLD_TYPES:
            if i < len(picked[kind]):
                pool.append(picked[kind][i])
    return pool[:size]


def schedule(clients: int, questions: int, pool_size: int) -> list[list[int]]:
    """Pool indexes per client: client ``c`` asks ``(c + j) % pool_size`` at step ``j``.

    >>> schedule(3, 2, 4)
    [[0, 1], [1, 2], [2, 3]]
    """
    return [[(c + j) % pool_size for j in range(questions)] for c in range(clients)]


# ------------------------------------------------------------------ server


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def choose_port(port: int | None = None) -> int:
    """``port``, else ``RAGQA_PORT``, else a free port."""
    if port:
        return int(port)
    env = os.environ.get("RAGQA_PORT", "").strip()
    return int(env) if env else free_port()


@dataclass
class Server:
    """A running ``ragqa serve`` subprocess."""

    process: subprocess.Popen
    url: str
    log_path: Path
    log_file: Any = field(repr=False)

    def log_tail(self, limit: int = LOG_TAIL_CHARS) -> str:
        try:
            self.log_file.flush()
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(server log unreadable: {exc})"
        return text[-limit:]


def start_server(index: str | Path = INDEX, port: int | None = None) -> Server:
    """Start ``ragqa serve`` on 127.0.0.1 (does not wait for it)."""
    port = choose_port(port)
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in stop_server
        "w+", prefix="ragqa-load-", suffix=".log", delete=False, encoding="utf-8"
    )
    env = dict(os.environ)
    env.update(
        RAGQA_HOST=HOST,
        RAGQA_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        PYTHONUNBUFFERED="1",
    )
    env.pop("RAGQA_AUTH", None)
    env.pop("RAGQA_AUTH_FILE", None)
    command = [
        sys.executable, "-m", "ragqa", "serve",
        "--host", HOST, "--port", str(port), "--index", str(index),
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    return Server(process, f"http://{HOST}:{port}/", Path(log_file.name), log_file)


def stop_server(server: Server, timeout: float = STOP_TIMEOUT_S) -> int | None:
    """Terminate the server, kill it if it lingers; returns its exit code."""
    process = server.process
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout)
        return process.returncode
    finally:
        server.log_file.close()
        server.log_path.unlink(missing_ok=True)


def make_client(url: str):
    from gradio_client import Client

    return Client(url, verbose=False, download_files=False, analytics_enabled=False)


def close_client(client) -> None:
    with contextlib.suppress(Exception):  # closing is best effort
        client.close()


def wait_for_server(server: Server, timeout: float = STARTUP_TIMEOUT_S) -> float:
    """Poll with gradio_client until ``/ask`` is served; returns the seconds it took."""
    start = time.monotonic()
    deadline = start + timeout
    last_error = "not polled yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerError(
                f"ragqa serve exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            client = make_client(server.url)
        except Exception as exc:  # noqa: BLE001 - not up yet
            last_error = f"{type(exc).__name__}: {exc}"
        else:
            try:
                endpoints = client.view_api(print_info=False, return_format="dict")
            finally:
                close_client(client)
            if "/ask" in endpoints.get("named_endpoints", {}):
                return time.monotonic() - start
            last_error = f"no /ask endpoint in {sorted(endpoints.get('named_endpoints', {}))}"
        time.sleep(POLL_INTERVAL_S)
    raise ServerError(
        f"ragqa serve did not answer at {server.url} within {timeout:.0f}s "
        f"(last: {last_error}):\n{server.log_tail()}"
    )


# ------------------------------------------------------------------ asking


@dataclass
class Result:
    """One request: which question, how long, and what came back (or went wrong)."""

    client: int
    step: int
    pool_index: int
    latency_s: float
    key: tuple | None = None  # (answer, refused, cited passage ids)
    error: str | None = None


def answer_key(payload: dict) -> tuple:
    """What must match between serial and concurrent answers."""
    return (
        payload.get("answer"),
        bool(payload.get("refused")),
        tuple(c.get("passage_id") for c in payload.get("citations") or ()),
    )


def ask(client, question: str, k: int, retriever: str, timeout: float) -> tuple[tuple, float]:
    """Ask ``/ask`` once; returns (answer key, latency s); raises on any failure."""
    start = time.perf_counter()
    job = client.submit(question, k, retriever, "", "", [], api_name="/ask")
    payload = job.result(timeout=timeout)
    latency = time.perf_counter() - start
    if not isinstance(payload, dict):
        raise RuntimeError(f"/ask returned {type(payload).__name__}, not a dict: {payload!r:.200}")
    if payload.get("error") is not None:
        raise RuntimeError(f"/ask returned an error payload: {payload['error']}")
    return answer_key(payload), latency


def safe_ask(client, question: str, k: int, retriever: str, timeout: float) -> Result:
    start = time.perf_counter()
    try:
        key, latency = ask(client, question, k, retriever, timeout)
        return Result(-1, -1, -1, latency, key=key)
    except Exception as exc:  # noqa: BLE001 - every failure is counted
        detail = "".join(traceback.format_exception_only(exc)).strip()
        if not isinstance(exc, RuntimeError) or "/ask returned" not in str(exc):
            detail += "\n" + traceback.format_exc(limit=8)
        return Result(-1, -1, -1, time.perf_counter() - start, error=detail)


def serial_answers(
    url: str, pool: Sequence[dict], k: int, retriever: str, timeout: float
) -> list[Result]:
    """Each pool question asked once, one at a time, from one client."""
    client = make_client(url)
    try:
        results = []
        for i, item in enumerate(pool):
            result = safe_ask(client, item["question"], k, retriever, timeout)
            result.client, result.step, result.pool_index = -1, i, i
            results.append(result)
        return results
    finally:
        close_client(client)


def concurrent_answers(
    url: str,
    pool: Sequence[dict],
    clients: int,
    questions: int,
    k: int,
    retriever: str,
    timeout: float,
    run_timeout: float,
) -> tuple[list[Result], float]:
    """``clients`` threads, each with its own Client, asking at once; (results, wall s)."""
    plan = schedule(clients, questions, len(pool))
    results: list[list[Result]] = [[] for _ in range(clients)]
    handles: list[Any] = []
    try:
        for _ in range(clients):
            handles.append(make_client(url))
        gate = threading.Event()
        deadline_box: list[float] = []

        def worker(c: int) -> None:
            gate.wait()
            deadline = deadline_box[0]
            for j, pi in enumerate(plan[c]):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    results[c].append(Result(c, j, pi, 0.0, error="run deadline passed"))
                    continue
                result = safe_ask(
                    handles[c], pool[pi]["question"], k, retriever, min(timeout, remaining)
                )
                result.client, result.step, result.pool_index = c, j, pi
                results[c].append(result)

        threads = [
            threading.Thread(target=worker, args=(c,), name=f"load-client-{c}", daemon=True)
            for c in range(clients)
        ]
        for thread in threads:
            thread.start()
        start = time.monotonic()
        deadline_box.append(start + run_timeout)
        gate.set()
        for thread in threads:
            thread.join(timeout=max(0.0, start + run_timeout + timeout + 5 - time.monotonic()))
        wall = time.monotonic() - start
        flat: list[Result] = []
        for c, thread in enumerate(threads):
            done = list(results[c])
            if thread.is_alive():
                done.append(Result(c, len(done), -1, 0.0, error="client thread still running"))
            flat.extend(done)
        return flat, wall
    finally:
        for handle in handles:
            close_client(handle)


# ------------------------------------------------------------------ report


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``None`` for no values).

    >>> percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 95), percentile([], 50)
    (2, 4, None)
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class LoadSampler:
    """Samples the 1-minute load average once a second in a daemon thread."""

    def __init__(self, interval: float = 1.0) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(interval)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def summarise(
    pool: Sequence[dict],
    serial: Sequence[Result],
    concurrent: Sequence[Result],
    clients: int,
    questions: int,
    wall_s: float,
) -> dict:
    """The report: counts, latency percentiles, throughput, first errors and mismatches."""
    expected = {r.pool_index: r.key for r in serial if r.error is None}
    errors = [r for r in concurrent if r.error is not None]
    mismatches = []
    for r in concurrent:
        if r.error is None and r.pool_index in expected and r.key != expected[r.pool_index]:
            mismatches.append(r)
    latencies = [r.latency_s for r in concurrent if r.error is None]
    serial_lat = [r.latency_s for r in serial if r.error is None]
    serial_errors = [r for r in serial if r.error is not None]

    def mismatch_detail(r: Result) -> dict:
        want, got = expected[r.pool_index], r.key
        return {
            "client": r.client,
            "step": r.step,
            "question": pool[r.pool_index]["question"],
            "gold_id": pool[r.pool_index]["id"],
            "serial": {"answer": want[0], "refused": want[1], "passage_ids": list(want[2])},
            "concurrent": {"answer": got[0], "refused": got[1], "passage_ids": list(got[2])},
        }

    def error_detail(r: Result) -> dict:
        item = pool[r.pool_index] if 0 <= r.pool_index < len(pool) else {}
        return {
            "client": r.client,
            "step": r.step,
            "question": item.get("question"),
            "gold_id": item.get("id"),
            "error": r.error,
        }

    return {
        "clients": clients,
        "questions_each": questions,
        "distinct_questions": len(pool),
        "question_types": {t: sum(1 for q in pool if q["type"] == t) for t in GOLD_TYPES},
        "total_requests": len(concurrent),
        "ok_requests": len(latencies),
        "errors": len(errors) + len(serial_errors),
        "concurrent_errors": len(errors),
        "serial_errors": len(serial_errors),
        "mismatches": len(mismatches),
        "latency_ms": {
            "p50": _ms(percentile(latencies, 50)),
            "p95": _ms(percentile(latencies, 95)),
            "max": _ms(max(latencies) if latencies else None),
            "mean": _ms(sum(latencies) / len(latencies) if latencies else None),
        },
        "serial_latency_ms": {
            "p50": _ms(percentile(serial_lat, 50)),
            "p95": _ms(percentile(serial_lat, 95)),
            "max": _ms(max(serial_lat) if serial_lat else None),
        },
        "throughput_rps": round(len(latencies) / wall_s, 3) if wall_s > 0 else None,
        "wall_s": round(wall_s, 2),
        "error_details": [error_detail(r) for r in (serial_errors + errors)[:MAX_REPORTED]],
        "mismatch_details": [mismatch_detail(r) for r in mismatches[:MAX_REPORTED]],
    }


def run_load(
    clients: int = 32,
    questions: int = 25,
    *,
    port: int | None = None,
    index: str | Path = INDEX,
    gold: str | Path = GOLD,
    pool_size: int = DEFAULT_POOL,
    k: int = DEFAULT_K,
    retriever: str = DEFAULT_RETRIEVER,
    startup_timeout: float = STARTUP_TIMEOUT_S,
    request_timeout: float = REQUEST_TIMEOUT_S,
    run_timeout: float = RUN_TIMEOUT_S,
) -> dict:
    """Start a server, ask serially then concurrently, stop it; returns the report."""
    if clients < 1 or questions < 1:
        raise ValueError("clients and questions must be at least 1")
    pool = load_pool(gold, pool_size)
    started = time.monotonic()
    load_start = os.getloadavg()
    server = start_server(index, port)
    log_tail = ""
    try:
        startup_s = wait_for_server(server, startup_timeout)
        serial_start = time.monotonic()
        serial = serial_answers(server.url, pool, k, retriever, request_timeout)
        serial_s = time.monotonic() - serial_start
        with LoadSampler() as sampler:
            concurrent_start = time.monotonic()
            concurrent, wall = concurrent_answers(
                server.url, pool, clients, questions, k, retriever, request_timeout, run_timeout
            )
            concurrent_total_s = time.monotonic() - concurrent_start
        alive = server.process.poll() is None
        report = summarise(pool, serial, concurrent, clients, questions, wall)
        if report["errors"] or report["mismatches"] or not alive:
            log_tail = server.log_tail()
    finally:
        exit_code = stop_server(server)
    load_end = os.getloadavg()
    report.update(
        url=server.url,
        k=k,
        retriever=retriever,
        server_startup_s=round(startup_s, 2),
        serial_s=round(serial_s, 2),
        clients_setup_s=round(concurrent_total_s - wall, 2),  # Client() x N, before timing
        total_s=round(time.monotonic() - started, 2),
        server_alive_after_load=alive,
        server_exit_code=exit_code,
        loadavg_start=[round(x, 2) for x in load_start],
        loadavg_end=[round(x, 2) for x in load_end],
        loadavg_max_1m=round(max(sampler.samples), 2) if sampler.samples else None,
        cpu_count=os.cpu_count(),
    )
    if log_tail:
        report["server_log_tail"] = log_tail
    return report


def failed(report: dict) -> bool:
    return bool(report["errors"] or report["mismatches"] or not report["server_alive_after_load"])


# ------------------------------------------------------------------ command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--questions", type=int, default=25, help="questions per client")
    parser.add_argument("--port", type=int, default=None,
                        help="server port (default RAGQA_PORT, else a free port)")
    parser.add_argument("--index", default=str(INDEX))
    parser.add_argument("--gold", default=str(GOLD))
    parser.add_argument("--pool", type=int, default=DEFAULT_POOL,
                        help="distinct questions drawn from the gold file")
    parser.add_argument("--k", type=int, default=DEFAULT_K)
    parser.add_argument("--retriever", default=DEFAULT_RETRIEVER,
                        choices=("hybrid", "dense", "bm25"))
    parser.add_argument("--startup-timeout", type=float, default=STARTUP_TIMEOUT_S)
    parser.add_argument("--request-timeout", type=float, default=REQUEST_TIMEOUT_S)
    parser.add_argument("--run-timeout", type=float, default=RUN_TIMEOUT_S,
                        help="bound on the concurrent phase, seconds")
    parser.add_argument("--out", default=None, help="also write the JSON report here")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        report = run_load(
            args.clients,
            args.questions,
            port=args.port,
            index=args.index,
            gold=args.gold,
            pool_size=args.pool,
            k=args.k,
            retriever=args.retriever,
            startup_timeout=args.startup_timeout,
            request_timeout=args.request_timeout,
            run_timeout=args.run_timeout,
        )
    except ServerError as exc:
        print(f"load test: {exc}", file=sys.stderr)
        return 2
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 1 if failed(report) else 0


if __name__ == "__main__":
    sys.exit(main())
