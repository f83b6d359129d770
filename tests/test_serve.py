"""``ragqa serve`` as a real process: the JSON API first, then the Gradio UI at "/".

Fixtures:

* ``built_index`` (``tests/conftest.py``, session-scoped): the real index, built if
  missing or stale.
* ``startup`` (here, module-scoped): one ``ragqa serve`` subprocess on a free port with
  login pairs set (RAGQA_AUTH), watched from the moment its port opens until the UI is
  up. What it saw while loading is kept for the tests; the process is stopped after
  the module.
* ``pipeline`` (conftest): for the in-process checks of ``ui.api`` without login pairs.

The one server has login pairs configured, so every call here also checks that the
JSON API and the UI accept the credentials; the open (no-login) API is checked in
process with FastAPI's TestClient.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
gradio_client = pytest.importorskip("gradio_client")

from conftest import ROOT, free_port  # noqa: E402

USER, PASSWORD = "tester", "s3cret-pw-7"
AUTH = (USER, PASSWORD)
QUESTION = "网吧能让未成年人进去吗？"
CITED = ("山西省未成年人保护条例", "第二十九条")
START_TIMEOUT_S = 120.0


def ragqa_command() -> list[str]:
    script = Path(sys.executable).with_name("ragqa")
    return [str(script), "serve"] if script.exists() else [sys.executable, "-m", "ragqa", "serve"]


def serve_env(port: int, index: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAGQA_AUTH", "RAGQA_AUTH_FILE")}
    env.update({"RAGQA_PORT": str(port), "RAGQA_INDEX": str(index), "RAGQA_HOST": "127.0.0.1",
                "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **extra})
    return env


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@dataclass(frozen=True)
class Startup:
    url: str
    log: Path
    health: tuple[tuple[str, bool], ...]  # (status, ui) as polled, duplicates dropped
    first_health_code: int
    ask_while_loading: httpx.Response | None  # None if the index loaded before it was sent
    page_while_loading: httpx.Response | None


@pytest.fixture(scope="module")
def startup(built_index, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(ragqa_command(), cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   env=serve_env(port, built_index, RAGQA_AUTH=f"{USER}:{PASSWORD}"))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not port_open(port):
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the port did not open"
            time.sleep(0.02)
        with httpx.Client(base_url=url, timeout=30) as http:
            first = http.get("/api/health")
            ask = page = None
            if first.json()["status"] == "loading":
                ask = http.post("/api/ask", json={"question": QUESTION}, auth=AUTH)
                page = http.get("/")
            seen = [(first.json()["status"], first.json()["ui"])]
            while seen[-1] != ("ready", True):
                assert process.poll() is None, log.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, f"not ready: {seen}"
                time.sleep(0.05)
                body = http.get("/api/health").json()
                if (body["status"], body["ui"]) != seen[-1]:
                    seen.append((body["status"], body["ui"]))
        yield Startup(url, log, tuple(seen), first.status_code, ask, page)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def http(startup):
    with httpx.Client(base_url=startup.url, timeout=60) as client:
        yield client


def cited(answer: dict) -> list[tuple[str, str | None]]:
    return [(c["doc_title"], c["article"]) for c in answer["citations"]]


# ---------------------------------------------------------------- start-up


def test_health_goes_from_loading_to_ready(startup):
    assert startup.first_health_code == 503
    assert startup.health[0] == ("loading", False)
    assert startup.health[-1] == ("ready", True)
    statuses = [status for status, _ in startup.health]
    assert statuses == sorted(statuses, key=["loading", "ready"].index)  # never back


def test_ask_while_loading_is_503_with_retry_after(startup):
    response = startup.ask_while_loading
    assert response is not None, "the index loaded before the first question was sent"
    if response.status_code == 200:  # the index finished loading in between
        return
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) >= 1
    assert "正在加载" in response.json()["error"]


def test_start_page_refreshes_itself_while_loading(startup):
    page = startup.page_while_loading
    assert page is not None
    assert page.status_code == 503 and "text/html" in page.headers["content-type"]
    assert "正在启动，请稍候" in page.text
    assert '<meta http-equiv="refresh"' in page.text


# ---------------------------------------------------------------- the JSON API


def test_api_answers_with_the_minors_act_article(http):
    response = http.post("/api/ask", json={"question": QUESTION}, auth=AUTH)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["refused"] is False
    assert CITED in cited(answer), cited(answer)
    assert set(answer) >= {"question", "answer", "citations", "passages", "note"}


def test_api_options_are_passed_on(http):
    body = {"question": QUESTION, "k": 3, "retriever": "bm25", "history": ["孩子上网的问题"]}
    response = http.post("/api/ask", json=body, auth=AUTH)
    assert response.status_code == 200, response.text
    assert len(response.json()["passages"]) <= 3


def test_empty_question_is_400_with_a_message(http):
    response = http.post("/api/ask", json={"question": "   "}, auth=AUTH)
    assert response.status_code == 400
    error = response.json()["error"]
    assert "empty" in error and QUESTION in error  # says what is wrong and how to fix it
    assert "Traceback" not in response.text


def test_unknown_document_is_400_naming_it(http):
    response = http.post("/api/ask", json={"question": QUESTION, "doc_id": "../../etc/passwd"},
                         auth=AUTH)
    assert response.status_code == 400
    assert "../../etc/passwd" in response.json()["error"]


@pytest.mark.parametrize("body, field", [
    ({"question": QUESTION, "k": 99}, "k"),
    ({"question": QUESTION, "retriever": "magic"}, "retriever"),
    ({"q": QUESTION}, "question"),
    ([QUESTION], "(body)"),
])
def test_wrong_shape_is_422_naming_the_field(http, body, field):
    response = http.post("/api/ask", json=body, auth=AUTH)
    assert response.status_code == 422
    payload = response.json()
    assert field in [f["field"] for f in payload["fields"]], payload
    assert QUESTION in payload["error"]  # shows a correct body
    assert "Traceback" not in response.text


def test_api_requires_login(http):
    response = http.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    wrong = http.post("/api/ask", json={"question": QUESTION}, auth=(USER, "wrong"))
    assert wrong.status_code == 401
    assert PASSWORD not in response.text + wrong.text
    assert http.get("/api/health").status_code == 200  # health needs no login


def test_ask_by_get_is_405(http):
    response = http.get("/api/ask", auth=AUTH)
    assert response.status_code == 405 and response.headers["allow"] == "POST"


# ---------------------------------------------------------------- the Gradio UI at "/"


def test_ui_at_root_answers_through_gradio_client(startup, http):
    page = http.get("/")
    assert page.status_code == 200 and "正在启动" not in page.text
    with pytest.raises(Exception):  # noqa: B017 - the UI keeps its login
        gradio_client.Client(startup.url + "/", verbose=False)
    client = gradio_client.Client(startup.url + "/", auth=AUTH, verbose=False)
    result = client.predict(QUESTION, api_name="/ask")
    assert result["error"] is None
    assert CITED in [(c["doc_title"], c["article"]) for c in result["citations"]]


def test_log_names_the_phases_and_no_secret(startup, http):
    http.get("/api/health")
    log = startup.log.read_text(encoding="utf-8")
    assert "listening on" in log and "api/ask answers" in log and "web UI ready" in log
    assert PASSWORD not in log and f"{USER}:" not in log
    assert "Traceback" not in log


# ---------------------------------------------------------------- failures


def test_damaged_index_exits_2_with_the_message(built_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(built_index, index)
    with (index / "passages.jsonl").open("a", encoding="utf-8") as f:
        f.write("damaged\n")
    done = subprocess.run(ragqa_command(), cwd=ROOT, env=serve_env(free_port(), index),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "passages.jsonl" in done.stderr and "ragqa index --rebuild" in done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- in process, no login


def test_api_without_login_pairs_is_open_and_waits_for_the_index(pipeline):
    from starlette.testclient import TestClient

    from ui.api import ServeState, create_app

    state = ServeState()
    with TestClient(create_app(state)) as client:
        assert client.get("/api/health").json() == {
            "status": "loading", "ui": False, "passages": None, "documents": None,
            "retriever": None, "build": None}
        assert client.post("/api/ask", json={"question": QUESTION}).status_code == 503
        state.pipeline = pipeline
        health = client.get("/api/health")
        assert health.status_code == 200 and health.json()["status"] == "ready"
        assert health.json()["retriever"] == "hybrid" and health.json()["build"] is None
        response = client.post("/api/ask", json={"question": QUESTION})
        assert response.status_code == 200
        assert CITED in cited(response.json())


def test_basic_auth_header_parsing():
    import base64

    from ui.api import authorized

    def basic(text: str) -> str:
        return "Basic " + base64.b64encode(text.encode()).decode()

    pairs = [("a", "b:c"), ("用户", "密码")]
    assert authorized(basic("a:b:c"), pairs)
    assert authorized(basic("用户:密码"), pairs)
    assert not authorized(basic("a:b"), pairs)
    assert not authorized(basic("a"), pairs)
    assert not authorized("Basic !!!", pairs)
    assert not authorized("Bearer " + basic("a:b:c")[6:], pairs)
    assert not authorized(None, pairs)
