"""Shared helpers: paths, timing statistics, memory readings, subprocesses, records."""

from __future__ import annotations

import json
import os
import platform
import shlex
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
INDEX = ROOT / ".ragqa" / "index"
CACHE = ROOT / ".ragqa" / "cache"  # the shared embedding cache: read and appended, never deleted
GOLD = ROOT / "eval" / "gold.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
TMP = RESULTS / "tmp"  # git-ignored scratch space
PYTHON = sys.executable
BENCH = "python -m benchmarks.run"


# ---------------------------------------------------------------- measuring


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without numpy.

    >>> percentile([1, 2, 3, 4], 50), percentile([1, 2, 3, 4], 95), percentile([7], 95)
    (2.5, 3.85, 7.0)
    """
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_ms(seconds: list[float]) -> dict:
    """p50, p95, max and mean in milliseconds, and the count.

    >>> latency_ms([0.010, 0.020, 0.030])
    {'n': 3, 'p50_ms': 20.0, 'p95_ms': 29.0, 'max_ms': 30.0, 'mean_ms': 20.0}
    """
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(sum(ms) / len(ms), 2),
    }


def median(values: list[float]) -> float:
    return percentile(values, 50)


def proc_status() -> dict[str, float]:
    """Memory lines of /proc/self/status in MiB (VmRSS, VmHWM, RssAnon, RssFile)."""
    found: dict[str, float] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    found[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:  # not Linux: peak RSS from getrusage only
        import resource

        found["VmHWM"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def machine() -> dict:
    """What the figures were measured on."""
    import numpy

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": numpy.__version__,
    }
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            total_kb = int(handle.readline().split()[1])
        info["memory_gib"] = round(total_kb / 1024 / 1024, 1)
    except OSError:
        pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    for name in ("faiss", "bm25s", "gradio", "gradio_client", "jieba"):
        try:
            module = __import__(name)
            info[name] = getattr(module, "__version__", "?")
        except Exception:  # noqa: BLE001 - an absent package is just not listed
            info[name] = None
    return info


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')} load {load_average()[0]}] {message}",
          file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the index


def wait_for_index(index_dir: Path = INDEX, timeout_s: float = 3600.0) -> dict:
    """Wait until ``manifest.json`` exists (a build may be running); return it."""
    manifest = Path(index_dir) / "manifest.json"
    started = time.monotonic()
    told = 0.0
    while not manifest.is_file():
        waited = time.monotonic() - started
        if waited > timeout_s:
            raise TimeoutError(f"no index at {index_dir} after {timeout_s:.0f}s; run: ragqa index")
        if waited - told >= 60 or told == 0.0:
            log(f"waiting for {manifest} (a build may be running; {waited:.0f}s so far)")
            told = waited or 1e-9
        time.sleep(5)
    return json.loads(manifest.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- subprocesses


# the benchmarks measure the offline answerer and the default second stage (the sentence
# reranker), whatever the shell sets
_OFF = ("RAGQA_LLM_BASE_URL", "RAGQA_LLM_MODEL", "RAGQA_RERANKER")


def bench_env(extra: dict | None = None) -> dict:
    """os.environ without the LLM answerer and reranker switches, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _OFF}
    return {**env, **(extra or {})}


def load_pipeline(index_dir: Path = INDEX, **kwargs):
    """``Pipeline.load`` with the offline answerer and the default sentence reranker."""
    import inspect

    from rag.pipeline import Pipeline

    accepted = inspect.signature(Pipeline.load).parameters
    if "llm" in accepted:
        kwargs.setdefault("llm", None)
    if "reranker" in accepted:
        kwargs.setdefault("reranker", "sentences")
    return Pipeline.load(index_dir, **kwargs)


def forget_query_vectors(pipeline) -> None:
    """Empty a query-vector cache, if the retriever keeps one, so a timing includes the
    embedding of the question (as for a question never asked before)."""
    for owner in (pipeline, getattr(pipeline, "retriever", None)):
        cache = getattr(owner, "_query_cache", None)
        if isinstance(cache, dict):
            cache.clear()


def run_json(module: str, args: list[str], timeout_s: float, env: dict | None = None,
             prefix: tuple[str, ...] = ()) -> dict:
    """Run ``python -m module args`` (after ``prefix``, e.g. ``memory_capped``'s) and return
    the JSON object on its last stdout line."""
    command = [*prefix, PYTHON, "-m", module, *args]
    log("subprocess: " + " ".join(shlex.quote(c) for c in command[1:]))
    completed = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s,
        env=bench_env(env),
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        tail = (completed.stderr or completed.stdout)[-2000:]
        raise RuntimeError(f"{module} {' '.join(args)} failed (exit {completed.returncode}): "
                           f"{tail}")
    return json.loads(lines[-1])


def emit(record: dict) -> None:
    """A worker's answer: one JSON line on stdout."""
    print(json.dumps(record, ensure_ascii=False), flush=True)


# ---------------------------------------------------------------- records


@dataclass
class Result:
    """What one benchmark measured: figures (each with its load), aims, details, notes."""

    name: str
    command: str
    load_before: list[float] = field(default_factory=load_average)
    started_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    figures: list[dict] = field(default_factory=list)
    aims: list[dict] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _t0: float = field(default_factory=time.perf_counter, repr=False)

    def figure(self, name: str, value, unit: str, note: str = "",
               load: list[float] | None = None, command: str | None = None) -> None:
        self.figures.append({
            "figure": name,
            "value": value,
            "unit": unit,
            "load": load or load_average(),
            "command": command or self.command,
            "note": note,
        })

    def aim(self, name: str, target: str, measured: str, met: bool | None,
            command: str | None = None, note: str = "") -> None:
        self.aims.append({
            "aim": name,
            "target": target,
            "measured": measured,
            "met": met,
            "command": command or self.command,
            "note": note,
        })

    def to_json(self) -> dict:
        return {
            "benchmark": self.name,
            "command": self.command,
            "started_at": self.started_at,
            "seconds": round(time.perf_counter() - self._t0, 1),
            "load_before": self.load_before,
            "load_after": load_average(),
            "figures": self.figures,
            "aims": self.aims,
            "details": self.details,
            "notes": self.notes,
        }


def write_json(path: Path, record) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - started, value
