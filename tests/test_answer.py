"""The offline answerer on real questions: what it cites, what it quotes, when it refuses."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def cited(answer):
    return [(c.doc_title, c.article) for c in answer.citations]


def test_citizen_question_cites_the_article_and_quotes_it(pipeline):
    answer = pipeline.ask("网吧能让未成年人进去吗？")
    assert not answer.refused
    assert ("山西省未成年人保护条例", "第二十九条") in cited(answer)
    assert answer.outcome == "answered"
    lead, basis = answer.text.split("\n")[:2]
    assert "禁入" in lead  # the direct answer comes from the cited words
    assert basis.startswith("根据《山西省未成年人保护条例》第二十九条")
    assert "[1]" in answer.text


def test_every_quote_is_verbatim_from_its_passage(pipeline):
    for question in ("网吧能让未成年人进去吗？", "学校发现学生欺凌应该怎么处理？",
                     "节能审查意见是谁出具的？"):
        answer = pipeline.ask(question)
        assert not answer.refused and answer.citations, question
        for c in answer.citations:
            text = pipeline.passage(c.passage_id).text
            for piece in c.quote.split("……"):
                assert piece in text, (question, c.n, piece)
            assert f"[{c.n}]" in answer.text


def test_clause_reference_gets_the_whole_article(pipeline):
    answer = pipeline.ask("《山西省节约能源条例》第二十条怎么规定的？")
    assert cited(answer) == [("山西省节约能源条例", "第二十条")]
    whole = "\n".join(p.text for p in pipeline.passages
                      if p.doc_title == "山西省节约能源条例" and p.article_no == 20)
    assert whole in answer.text and answer.citations[0].quote == whole


def test_ambiguous_article_asks_which_document(pipeline):
    answer = pipeline.ask("议事规则第十条是什么？")
    assert answer.text.startswith("多部文件都有第十条，请问您指的是哪一部？")
    assert {c.doc_title for c in answer.citations} == {
        "山西省人民代表大会常务委员会议事规则", "山西省人民代表大会议事规则"}


def test_unanswerable_question_is_refused_without_citations(pipeline):
    answer = pipeline.ask("山西省对比特币挖矿有什么规定？")
    assert answer.refused and not answer.citations and answer.outcome == "refused"
    assert answer.text.startswith("现有文件中未找到")


def test_follow_up_stays_in_its_document(pipeline):
    first = "山西省农产品质量安全条例对农药使用有什么要求？"
    answer = pipeline.ask("那违反了怎么处罚？", history=[first])
    assert not answer.refused
    assert {c.doc_title for c in answer.citations} == {"山西省农产品质量安全条例"}
    assert any(h.passage.chapter and "法律责任" in h.passage.chapter for h in answer.hits[:3])


def test_ask_json_from_the_command_line(built_index):
    out = subprocess.run(
        [sys.executable, "-m", "ragqa", "ask", "网吧能让未成年人进去吗？", "--json",
         "--index", str(built_index)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )
    record = json.loads(out.stdout)
    assert set(record) >= {"question", "answer", "refused", "outcome", "citations", "passages"}
    assert record["outcome"] == "answered"
    citation = record["citations"][0]
    assert set(citation) == {"n", "passage_id", "doc_title", "article", "section",
                             "source_file", "page", "quote", "status", "status_label",
                             "status_note", "as_of", "superseded_by", "replaces",
                             "chapter"}
    assert citation["status"] == "in_force"
    assert record["passages"][0]["rank"] == 1


def test_cli_turns_errors_into_messages(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "ragqa", "search", "网吧", "--index", str(tmp_path / "none")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 2
    assert "no index at" in out.stderr and "ragqa index" in out.stderr
    assert "Traceback" not in out.stderr
