"""The reference checker behind the JSON API (/api/check) and the 引用核对 tab's handler."""

from __future__ import annotations

import pytest

TEXT = ("关于《山西省节约能源条例(修订草案)》的说明\n(三)明确了相关法律责任。第四十三条规定……\n"
        "另据《山西省节约能源条例》第二十条、《中华人民共和国节约能源法》第十五条。")


@pytest.fixture(scope="module")
def client(pipeline):
    from starlette.testclient import TestClient

    from ui.api import ServeState, create_app

    state = ServeState()
    with TestClient(create_app(state, auth=[("staff", "pw")])) as http:
        assert http.post("/api/check", json={"text": TEXT}, auth=("staff", "pw")).status_code \
            == 503  # still loading
        state.pipeline = pipeline
        yield http


def test_api_check_resolves_and_flags(client):
    response = client.post("/api/check", json={"text": TEXT, "as_of": "2024-06-01"},
                           auth=("staff", "pw"))
    assert response.status_code == 200
    record = response.json()
    assert record["title"] == "关于《山西省节约能源条例(修订草案)》的说明"
    assert [(f["reference"], f["outcome"]) for f in record["findings"]] == [
        ("第四十三条", "draft"), ("第二十条", "ok"), ("第十五条", "not_indexed")]
    ok = record["findings"][1]
    assert ok["doc_title"] == "山西省节约能源条例" and ok["status"] == "in_force"
    assert ok["article_text"].startswith("第二十条")
    assert record["flagged"] == 2 and record["counts"] == {"draft": 1, "not_indexed": 1, "ok": 1}


@pytest.mark.parametrize("body,words", [
    ({"text": "   "}, "empty"),
    ({"text": "《山西省节约能源条例》第二十条", "as_of": "昨天"}, "YYYY-MM-DD"),
    ({"text": "第" * 1_000_001}, "1,000,000"),
])
def test_api_check_bad_input_is_400_with_the_fix(client, body, words):
    response = client.post("/api/check", json=body, auth=("staff", "pw"))
    assert response.status_code == 400
    assert words in response.json()["error"] and "Traceback" not in response.text


def test_api_check_needs_the_login_and_a_text_field(client):
    assert client.post("/api/check", json={"text": TEXT}).status_code == 401
    response = client.post("/api/check", json={"body": TEXT}, auth=("staff", "pw"))
    assert response.status_code == 422 and "text" in response.json()["error"]


def test_check_tab_handler(pipeline, tmp_path):
    from ui.handlers import Handlers

    handlers = Handlers(pipeline)
    html = handlers.check(TEXT, None, "", "2024-06-01")
    assert html.count('class="check-row"') == 3
    assert 'data-outcome="draft"' in html and "共四十二条" in html
    assert "《山西省节约能源条例》第二十条" in html and "固定资产投资项目" in html  # the article
    dropped = tmp_path / "draft.txt"
    dropped.write_bytes(TEXT.encode("gb18030"))
    assert handlers.check("", str(dropped), None, "2024-06-01") == html
    assert handlers.check("", TEXT.encode("utf-8"), None, "2024-06-01") == html
    for bad in (handlers.check("", None, None, None),
                handlers.check("", b"\x00\x01\x02PK\x03\x04" * 100, None, None),
                handlers.check("《山西省节约能源条例》第二十条", None, None, "2024-02-30")):
        assert 'class="ui-notice"' in bad and "Traceback" not in bad
    malformed = handlers.check("《山西省节约能源条例》第十百条", None, None, "2024-06-01")
    assert 'data-outcome="malformed"' in malformed and "十百" in malformed


def test_api_ask_takes_as_of_and_status(client):
    body = {"question": "《山西省节约能源条例》第二十条怎么规定的？", "as_of": "2023-12-31"}
    record = client.post("/api/ask", json=body, auth=("staff", "pw")).json()
    assert record["citations"][0]["status"] == "not_yet_in_force"
    assert record["citations"][0]["status_label"] == "尚未施行"
    bad = client.post("/api/ask", json={**body, "status": "valid"}, auth=("staff", "pw"))
    assert bad.status_code == 400 and "unknown status 'valid'" in bad.json()["error"]
