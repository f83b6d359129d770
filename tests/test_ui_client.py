"""The web UI's ``/ask`` API, called through ``gradio_client`` against a live server.

Fixtures:

* ``pipeline`` (provided by ``tests/conftest.py``, session-scoped): a loaded
  ``rag.pipeline.Pipeline`` over the real index.
* ``served_app`` (here, module-scoped): ``ui.app.launch(pipeline, block=False)`` on a
  free localhost port in a background thread; yields the server URL and closes it.
"""

from __future__ import annotations

import json
import re

import pytest

gradio_client = pytest.importorskip("gradio_client")

from conftest import free_port  # noqa: E402

from ui.app import launch  # noqa: E402

MINORS_ACT = "山西省未成年人保护条例"
ARTICLE = re.compile(r"^第[一二三四五六七八九十百零〇两0-9]+条")
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "', "line ")
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def client(served_app):
    return gradio_client.Client(served_app, verbose=False)


def ask(client, question: str, **options) -> dict:
    result = client.predict(question, api_name="/ask", **options)
    assert isinstance(result, dict), result
    json.dumps(result, ensure_ascii=False)  # JSON-serialisable
    assert set(result) >= {"answer", "refused", "citations", "error"}
    return result


def assert_no_traceback(result: dict) -> None:
    text = json.dumps(result, ensure_ascii=False)
    for marker in TRACEBACK_MARKERS[:2]:
        assert marker not in text, text


def test_server_binds_localhost(served_app):
    assert served_app.startswith("http://127.0.0.1:")


def test_only_the_ask_endpoint_is_public(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_internet_cafe_question_cites_the_minors_act(client):
    result = ask(client, "网吧能让未成年人进去吗？")
    assert result["error"] is None
    assert result["refused"] is False
    assert re.search(r"\[\d+\]", result["answer"]), result["answer"]
    cited = [
        c
        for c in result["citations"]
        if c["doc_title"] == MINORS_ACT and ARTICLE.match(c["article"] or "")
    ]
    assert cited, [c["label"] for c in result["citations"]]
    first = cited[0]
    assert first["label"] == f"[{first['n']}] 《{MINORS_ACT}》{first['article']}"
    assert first["source_file"] and first["quote"]


def test_script_question_gets_an_answer_or_a_clear_message(client):
    result = ask(client, "<script>alert(1)</script>")
    assert_no_traceback(result)
    assert result["answer"].strip()
    if result["error"] is not None:
        assert HAN.search(result["error"]), result["error"]
        assert result["refused"] is True


def test_same_question_and_settings_give_the_same_answer(client):
    options = {"k": 5, "retriever": "bm25"}
    first = ask(client, "孩子在学校被欺负了怎么办？", **options)
    second = ask(client, "孩子在学校被欺负了怎么办？", **options)
    assert first == second


def test_bad_settings_give_a_chinese_message(client):
    result = ask(client, "网吧能让未成年人进去吗？", retriever="magic")
    assert result["refused"] is True and result["citations"] == []
    assert "hybrid" in result["error"] and HAN.search(result["error"])
    result = ask(client, "网吧能让未成年人进去吗？", doc_id="../../etc/passwd")
    assert result["error"] and HAN.search(result["error"])
    assert_no_traceback(result)


def test_empty_question_gets_a_message(client):
    result = ask(client, "   ")
    assert result["error"] and HAN.search(result["error"])


def test_auth_is_enforced(pipeline):
    demo = launch(pipeline, port=free_port(), auth=[("reader", "s3cret")], block=False, quiet=True)
    try:
        with pytest.raises(Exception):  # noqa: B017 - any refusal will do
            gradio_client.Client(demo.local_url, verbose=False)
        authed = gradio_client.Client(demo.local_url, auth=("reader", "s3cret"), verbose=False)
        assert ask(authed, "网吧能让未成年人进去吗？")["answer"]
    finally:
        demo.close()


# ---------------------------------------------------------------- helpers (no server)


def test_escaping_keeps_markup_inert():
    from ui.text import escape_html, escape_md

    assert escape_html("<script>${x}{{y}}</script>") == (
        "&lt;script&gt;&#36;&#123;x&#125;&#123;&#123;y&#125;&#125;&lt;/script&gt;"
    )
    assert escape_md("<b>**x**</b> [a](javascript:1)") == (
        r"&lt;b&gt;\*\*x\*\*&lt;/b&gt; \[a\]\(javascript\:1\)"
    )


def test_errors_become_short_chinese_messages(caplog):
    from rag.errors import IndexMissingError, LLMError
    from ui.errors import INTERNAL_ERROR, user_message

    assert "ragqa index" in user_message(IndexMissingError("no index at .ragqa/index"))
    llm = user_message(LLMError("POST http://u:pw@llm/v1 failed, api_key=sk-1234567890abc"))
    assert "语言模型" in llm and "sk-1234567890abc" not in llm and "pw@" not in llm
    assert user_message(RuntimeError("internal detail")) == INTERNAL_ERROR
    assert "sk-1234567890abc" not in caplog.text
