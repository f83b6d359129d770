"""Start and stop a ``ragqa serve`` process; reach its JSON API (``/api/ask``) with urllib
and the web UI's ``/ask`` API with gradio_client.

``ragqa serve`` starts in two phases: the port opens and ``/api/ask`` answers once the
index is loaded (503 before), and the Gradio UI at "/" follows seconds later.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from benchmarks.common import INDEX, PYTHON, ROOT, TMP, bench_env, port_open

API_NAME = "/ask"  # ui.app: gr.api(handlers.api_ask, api_name="ask")
JSON_API = "/api/ask"  # ui.api: POST {"question": ...} -> Answer.to_json()


def serve_command() -> list[str]:
    """``ragqa serve`` as installed in this environment (the console script), else ``-m``."""
    script = Path(PYTHON).with_name("ragqa")
    return [str(script), "serve"] if script.exists() else [PYTHON, "-m", "ragqa", "serve"]


def start(port: int, index: Path = INDEX, log_name: str = "serve.log") -> subprocess.Popen:
    """Launch ``ragqa serve`` on 127.0.0.1:port (RAGQA_PORT, RAGQA_INDEX) in its own group."""
    TMP.mkdir(parents=True, exist_ok=True)
    env = bench_env({
        "RAGQA_PORT": str(port),
        "RAGQA_INDEX": str(index),
        "RAGQA_HOST": "127.0.0.1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    })
    log = (TMP / log_name).open("w", encoding="utf-8")
    return subprocess.Popen(serve_command(), cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    """Stop the server this module started (its own process group only)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def wait_port(process: subprocess.Popen, port: int, timeout_s: float) -> float:
    """Seconds until the port accepts connections; raises if the server died or timed out."""
    started = time.perf_counter()
    while not port_open(port):
        if process.poll() is not None:
            raise RuntimeError(f"ragqa serve exited with code {process.returncode}; "
                               f"see {TMP / 'serve.log'}")
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"ragqa serve did not open port {port} in {timeout_s:.0f}s")
        time.sleep(0.02)
    return time.perf_counter() - started


def api_ask(port: int, question: str, timeout_s: float = 180.0) -> tuple[int, dict]:
    """POST ``question`` to ``/api/ask``: (HTTP status, JSON body)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{JSON_API}",
        data=json.dumps({"question": question}, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def wait_api_answer(process: subprocess.Popen, port: int, question: str,
                    timeout_s: float) -> dict:
    """The first answer from ``/api/ask``, asking again while it says 503 (loading)."""
    started = time.perf_counter()
    while True:
        status, body = api_ask(port, question)
        if status == 200:
            return body
        if status != 503:
            raise RuntimeError(f"{JSON_API} answered {status}: {body}")
        if process.poll() is not None:
            raise RuntimeError(f"ragqa serve exited with code {process.returncode}")
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"{JSON_API} did not answer in {timeout_s:.0f}s")
        time.sleep(0.02)


def wait_ui(process: subprocess.Popen, port: int, timeout_s: float) -> None:
    """Poll ``/api/health`` (cheap for both sides) until it says the web UI is mounted."""
    started = time.perf_counter()
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health",
                                        timeout=10) as response:
                if json.loads(response.read()).get("ui"):
                    return
        except urllib.error.HTTPError as error:  # 503 while the index loads
            error.read()
        if process.poll() is not None:
            raise RuntimeError(f"ragqa serve exited with code {process.returncode}")
        if time.perf_counter() - started > timeout_s:
            raise TimeoutError(f"the web UI was not ready in {timeout_s:.0f}s")
        time.sleep(0.05)


def client(url: str, timeout_s: float = 120.0):
    """A gradio_client Client for ``url``, retrying while the app finishes starting."""
    from gradio_client import Client

    started = time.perf_counter()
    while True:
        try:
            return Client(url, verbose=False)
        except Exception:
            if time.perf_counter() - started > timeout_s:
                raise
            time.sleep(0.05)


def ask(api, question: str) -> dict:
    answer = api.predict(question, api_name=API_NAME)
    if not isinstance(answer, dict):
        raise RuntimeError(f"/ask returned {type(answer).__name__}, expected a dict")
    return answer


def available() -> str | None:
    """None when the UI and gradio_client import; else why not."""
    if shutil.which(serve_command()[0]) is None and not Path(serve_command()[0]).exists():
        return "ragqa is not installed"
    try:
        import gradio_client  # noqa: F401

        import ui.app  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means: no UI
        return f"{type(exc).__name__}: {exc}"
    return None
