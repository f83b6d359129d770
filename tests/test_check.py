"""The clause reference checker on the real corpus and index: rag.check and ragqa check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT, doc_by_title

from rag.check import Checker, decode_input
from rag.errors import CheckInputError, QueryError
from rag.numerals import int_to_chinese

AS_OF = "2024-06-01"  # every regulation of the corpus is in force on this day


@pytest.fixture(scope="module")
def checker(built_index):
    return Checker.load(built_index)


def _outcomes(report):
    return [(f.reference, f.outcome, f.doc_title) for f in report.findings]


def test_draft_articles_of_the_energy_explanation_are_never_mapped_to_the_final_text(
        checker, ingested):
    explanation = doc_by_title(ingested.documents, "关于《山西省节约能源条例(修订草案)》的说明")
    report = checker.check(explanation.text, title=explanation.title, as_of=AS_OF)
    late = [f for f in report.findings if f.reference in ("第四十三条", "第四十四条")]
    assert [f.reference for f in late] == ["第四十三条", "第四十四条"]
    for f in late:
        assert f.outcome == "draft" and f.doc_id is None and f.article_text is None
        assert "共四十二条" in f.reason and f"没有{f.reference}" in f.reason
    assert report.findings and all(f.outcome == "draft" for f in report.findings)


def test_no_reference_in_a_draft_explanation_or_report_lands_on_a_final_article(
        checker, ingested):
    """Every draft-article reference the corpus's 说明 and 审议报告 make is flagged as
    a draft's; a national law they cite is 'cannot check', never a wrong article."""
    seen = 0
    for document in ingested.documents:
        if document.text_kind not in ("draft_explanation", "review_report"):
            continue
        for f in checker.check(document.text, title=document.title, as_of=AS_OF).findings:
            seen += 1
            assert f.outcome in ("draft", "not_indexed"), (document.title, f)
            assert f.doc_id is None
    assert seen >= 70


def test_every_own_article_reference_inside_the_regulations_resolves(checker, ingested):
    resolved = 0
    for document in ingested.documents:
        if document.doc_type != "regulation":
            continue
        for f in checker.check(document.text, title=document.title, as_of=AS_OF).findings:
            if "《" in f.written:
                continue  # a title it quotes: another document
            assert f.outcome == "ok", (document.title, f)
            assert f.doc_id == document.id and f.article == f.reference
            assert f.article_text.startswith(f.reference)
            resolved += 1
    assert resolved >= 9


def test_a_text_with_every_kind_of_reference(checker):
    text = ("依照《未成年人保护条例》第十条、第七十条，《山西省节约能缘条例》第二十条，"
            "《中华人民共和国节约能源法》第十五条，《议事规则》第三条，"
            "《大同市湿地保护条例》第五条，《山西省节约能源条例》第20条第三款，"
            "《山西省地方病防治条例》第十条至第十二条，《山西省节约能源条例》第十百条。")
    report = checker.check(text, as_of=AS_OF)
    assert _outcomes(report) == [
        ("第十条", "ok", "山西省未成年人保护条例"),
        ("第七十条", "no_such_article", "山西省未成年人保护条例"),
        ("第二十条", "near_miss", "山西省节约能源条例"),
        ("第十五条", "not_indexed", None),
        ("第三条", "ambiguous", None),
        ("第五条", "not_indexed", None),
        ("第二十条第三款", "no_such_article", "山西省节约能源条例"),
        ("第十条", "ok", "山西省地方病防治条例"),
        ("第十一条", "ok", "山西省地方病防治条例"),
        ("第十二条", "ok", "山西省地方病防治条例"),
        ("", "malformed", None),
    ]
    by_written = {f.written: f for f in report.findings}
    assert "共六十二条" in report.findings[1].reason
    assert report.findings[2].suggestion == "山西省节约能源条例"
    assert "无法核对" in report.findings[3].reason and "不表示引用有误" in report.findings[3].reason
    assert "关于批准《大同市湿地保护条例》的决定" in by_written["《大同市湿地保护条例》第五条"].reason
    assert report.findings[0].article_text.startswith("第十条")


def test_expired_text_is_flagged_as_of_the_day(checker):
    text = "根据《物业管理委员会组建运行办法(试行)》第十条的规定"
    assert checker.check(text, as_of="2024-10-21").findings[0].outcome == "ok"
    late = checker.check(text, as_of="2024-10-22").findings[0]
    assert late.outcome == "expired" and "2024-10-21" in late.reason
    assert late.status == "expired" and late.article == "第十条"


def test_own_articles_of_a_text_that_is_not_indexed(checker):
    draft = "某某市养犬管理条例（草案）\n第一条　为了……\n第二条　违反本条例第一条的，依照第三条处理。"
    report = checker.check(draft, as_of=AS_OF)
    assert [(f.reference, f.outcome) for f in report.findings] == [
        ("第一条", "own_text"), ("第三条", "no_such_article")]


def test_bad_input_gets_a_clear_message(checker):
    for empty in ("", "   \n\u3000"):
        with pytest.raises(CheckInputError, match="empty"):
            checker.check(empty)
    with pytest.raises(CheckInputError, match="binary"):
        decode_input(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "scan.png")
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        checker.check("《山西省节约能源条例》第二十条", as_of="2024-13-01")
    megabyte = ("依照《山西省节约能源条例》第二十条的规定办理。" * 15000)[:349_000]
    assert len(megabyte.encode()) > 1_000_000
    report = checker.check(megabyte, as_of=AS_OF)
    assert len(report.findings) > 10_000 and report.counts == {"ok": len(report.findings)}
    with pytest.raises(CheckInputError, match="1,000,000"):
        checker.check("第" * 1_000_001)


def test_labelled_dev_set_scores(checker):
    """The dev set (seed 17): the test set's figures are in the README, not asserted."""
    from eval.refset import score

    items = [json.loads(x) for x in (ROOT / "eval" / "refs_dev.jsonl").read_text(
        encoding="utf-8").splitlines()]
    result = score(items, checker)
    assert result["items"] == len(items) >= 400
    assert result["flagged"]["precision"] >= 0.99 and result["flagged"]["recall"] >= 0.99
    assert result["resolved_right"]["correct"] == result["resolved_right"]["items"]


def _ragqa(*args, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "ragqa", *args], input=stdin, cwd=ROOT,
                          env=env, capture_output=True, timeout=300)


def test_cli_check_table_json_and_bad_input(built_index, tmp_path):
    text = ("关于《山西省节约能源条例(修订草案)》的说明\n(三)明确了相关法律责任。第四十三条规定……\n"
            "另据《山西省节约能源条例》第二十条。")
    done = _ragqa("check", "-", "--index", str(built_index), "--as-of", AS_OF,
                  stdin=text.encode())
    out = done.stdout.decode()
    assert done.returncode == 1, done.stderr.decode()
    assert "草案条文" in out and "共四十二条" in out and "《山西省节约能源条例》第二十条" in out
    done = _ragqa("check", "-", "--index", str(built_index), "--json", "--as-of", AS_OF,
                  stdin=text.encode("gb18030"))
    record = json.loads(done.stdout)
    assert [f["outcome"] for f in record["findings"]] == ["draft", "ok"]
    assert record["findings"][1]["article_text"].startswith("第二十条")
    binary = tmp_path / "scan.pdf"
    binary.write_bytes(bytes(range(256)) * 4)
    for args in (("check", str(binary)), ("check", str(tmp_path / "missing.txt")),
                 ("check", "-")):
        done = _ragqa(*args, "--index", str(built_index), stdin=b"")
        assert done.returncode == 2
        assert b"Traceback" not in done.stderr and done.stderr.startswith(b"ragqa check:")


def test_all_article_numbers_read_both_ways(checker):
    for n in (1, 9, 10, 11, 20, 42):
        chinese = checker.check(f"《山西省节约能源条例》第{int_to_chinese(n)}条", as_of=AS_OF)
        arabic = checker.check(f"《山西省节约能源条例》第{n}条", as_of=AS_OF)
        assert chinese.findings[0].passage_id == arabic.findings[0].passage_id
        assert chinese.findings[0].outcome == "ok"
