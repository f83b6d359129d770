"""Ingestion on the real corpus files: documents, titles, articles, pages, determinism."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS, doc_by_title

from rag.errors import CorpusError
from rag.ingest import ingest
from rag.ingest.clean import strip_page_furniture
from rag.ingest.corpus import read_corpus
from rag.numerals import int_to_chinese

# the 16 article-structured documents of the corpus and their article counts
REGULATIONS = {
    "山西省未成年人保护条例": 62,
    "山西省人民代表大会常务委员会议事规则": 54,
    "山西省地方病防治条例": 26,
    "山西省节约能源条例": 42,
    "山西省农产品质量安全条例": 46,
    "山西省人民代表大会议事规则": 68,
    "山西省防范和处置非法集资工作实施细则": 52,
    "山西省道路交通事故社会救助基金管理办法": 54,
    "山西省尾矿库安全监督管理办法": 41,
    "山西省煤矿生产安全事故整顿恢复机制实施办法": 10,
    "“双随机、一公开”抽查工作细则": 28,
    "房地产企业信用评价管理办法": 24,
    "住宅物业服务质量星级评价管理办法(试行)": 19,
    "城市管理执法协管人员管理暂行规定": 31,
    "物业管理委员会组建运行办法(试行)": 22,
    "稷山县重大行政决策程序实施办法": 47,
}


@pytest.mark.parametrize("title,count", sorted(REGULATIONS.items()))
def test_regulation_comes_out_whole(ingested, title, count):
    document = doc_by_title(ingested.documents, title)
    assert document.doc_type == "regulation"
    passages = [p for p in ingested.passages if p.doc_id == document.id]
    labels = []
    for p in passages:  # pieces of one long article share its label
        if p.article and (not labels or labels[-1] != p.article):
            labels.append(p.article)
    assert labels == [f"第{int_to_chinese(n)}条" for n in range(1, count + 1)]
    numbers = [p.article_no for p in passages if p.article_no is not None]
    assert numbers == sorted(numbers) and set(numbers) == set(range(1, count + 1))


def test_only_the_sixteen_have_articles(ingested):
    with_articles = {p.doc_title for p in ingested.passages if p.article}
    assert with_articles == set(REGULATIONS)


def test_explanations_quote_draft_articles_but_have_none(ingested):
    explanation = doc_by_title(ingested.documents, "关于《山西省未成年人保护条例(修订草案)》的说明")
    assert explanation.doc_type == "explanation"
    passages = [p for p in ingested.passages if p.doc_id == explanation.id]
    assert passages and all(p.article is None for p in passages)
    report = doc_by_title(ingested.documents,
                          "关于《山西省农产品质量安全条例(修订草案)》审议结果的报告")
    assert "草案修改稿第二十八条" in report.text  # quoted in the text …
    assert all(p.article is None for p in ingested.passages if p.doc_id == report.id)  # … only


def test_titles_spanning_lines_are_joined(ingested):
    titles = {d.title for d in ingested.documents}
    # 关于«山西省未成年人保护条例 / (修订草案)»的说明 — two lines in 000
    assert "关于《山西省未成年人保护条例(修订草案)》的说明" in titles
    # 山西省人民政府 关于印发山西省“十四五”节能减排 实施方案的通知 — PDF spaces in 002
    assert "山西省人民政府关于印发山西省“十四五”节能减排实施方案的通知" in titles
    # 稷山县人民政府 / 关于印发…实施办法的 / 通 知 — three lines in 003
    assert "稷山县人民政府关于印发稷山县重大行政决策程序实施办法的通知" in titles


def test_a_notice_and_the_rules_it_issues_are_two_documents(ingested):
    notice = doc_by_title(ingested.documents,
                          "山西省人民政府办公厅关于印发山西省道路交通事故社会救助基金管理办法的通知")
    rules = doc_by_title(ingested.documents, "山西省道路交通事故社会救助基金管理办法")
    assert notice.doc_type == "notice" and notice.doc_number == "晋政办发〔2022〕91号"
    assert notice.issuer == "山西省人民政府办公厅"
    assert rules.doc_type == "regulation" and rules.id != notice.id


def test_document_metadata(ingested):
    notice = doc_by_title(ingested.documents,
                          "山西省人民政府关于印发山西省“十四五”节能减排实施方案的通知")
    assert (notice.doc_number, notice.issuer, notice.date) == (
        "晋政发〔2022〕25号", "山西省人民政府", "2022-11-21")
    law = doc_by_title(ingested.documents, "山西省未成年人保护条例")
    assert law.source_file.startswith("000_") and law.page_start == 1


def test_footer_removed_and_its_page_kept(ingested):
    # 000 prints —１— in the middle of 第四条: "…有关部门,应" / —１— / " 当按照各自职责…"
    law = doc_by_title(ingested.documents, "山西省未成年人保护条例")
    article = next(p for p in ingested.passages if p.doc_id == law.id and p.article_no == 4)
    assert "有关部门，应当按照各自职责做好未成年人保护工作。" in article.text
    assert "—" not in article.text and "１—" not in article.text
    assert article.page == 1  # the article starts on page 1
    later = next(p for p in ingested.passages if p.doc_id == law.id and p.article_no == 5)
    assert later.page == 2  # …and 第五条 is on page 2, after the footer


def test_footer_page_numbers_are_read_digit_reversed():
    lines = strip_page_furniture((CORPUS / "000_9f2846b890213e93.txt").read_text())
    # —０１— closes page 10: the 说明 of the minors' regulation opens page 10
    title_line = next(x for x in lines if x.text.startswith("关于«山西省未成年人保护条例"))
    assert title_line.page == 10


def test_broken_sentences_are_joined_and_punctuation_is_chinese(ingested):
    law = doc_by_title(ingested.documents, "山西省未成年人保护条例")
    first = next(p for p in ingested.passages if p.doc_id == law.id and p.article_no == 1)
    assert first.text.startswith("第一条　为了保护未成年人身心健康，保障未成年人合法权益，")
    assert "\n" not in first.text  # one paragraph, though printed on eight lines
    assert "《中华人民共和国未成年人保护法》" in first.text and first.text.endswith("。")


def test_no_passage_is_too_long_or_holds_page_furniture(ingested):
    for p in ingested.passages:
        assert len(p.text) <= 1500, p.id
        assert "公报２０２" not in p.text and "稷山县人民政府公报" not in p.text, p.id
        assert not any(line.strip().startswith("—") and line.strip().endswith("—")
                       for line in p.text.splitlines()), p.id


def test_chapters_are_carried(ingested):
    law = doc_by_title(ingested.documents, "山西省未成年人保护条例")
    article = next(p for p in ingested.passages if p.doc_id == law.id and p.article_no == 7)
    assert article.chapter == "第二章 家庭保护"
    county = doc_by_title(ingested.documents, "稷山县重大行政决策程序实施办法")
    sections = {p.chapter for p in ingested.passages if p.doc_id == county.id}
    assert any(" > 第一节 " in (c or "") for c in sections)


def test_headings_give_section_paths(ingested):
    plan = doc_by_title(ingested.documents, "稷山县自然灾害救助应急预案")
    paths = [p.section for p in ingested.passages if p.doc_id == plan.id]
    assert any(path and "4.1" in path for path in paths)
    suggestions = doc_by_title(
        ingested.documents, "2021 年省“两会”人大代表、政协委员对政府工作意见建议的责任分解")
    paths = {p.section for p in ingested.passages if p.doc_id == suggestions.id}
    # a sub-heading never becomes a department of its own
    assert "二、省教育厅 > (二)政协委员意见建议" in paths


def test_ingestion_is_deterministic():
    def dump():
        return [json.dumps(p.to_json(), ensure_ascii=False) for p in ingest(CORPUS).passages]

    first, second = dump(), dump()
    assert first == second
    ids = [json.loads(x)["id"] for x in first]
    assert len(ids) == len(set(ids))


def test_bad_corpus_files_are_skipped_with_a_reason(tmp_path):
    good = (CORPUS / "004_345c30e83f90ffdd.txt").read_text(encoding="utf-8")
    (tmp_path / "a_utf8.txt").write_text(good, encoding="utf-8")
    (tmp_path / "b_bom.txt").write_bytes(good[:3000].encode("utf-8-sig"))
    (tmp_path / "c_gb18030.txt").write_bytes(good[3000:6000].encode("gb18030"))
    (tmp_path / "d_utf16.txt").write_bytes(good[6000:9000].encode("utf-16"))
    (tmp_path / "e_empty.txt").write_bytes(b"")
    (tmp_path / "f_binary.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "g_duplicate.txt").write_text(good, encoding="utf-8")
    corpus = read_corpus(tmp_path)
    read = {f.name: f.encoding for f in corpus.files}
    assert read == {"a_utf8.txt": "utf-8", "b_bom.txt": "utf-8-sig",
                    "c_gb18030.txt": "gb18030", "d_utf16.txt": "utf-16"}
    assert "意见建议" in next(f for f in corpus.files if f.name == "c_gb18030.txt").text
    reasons = {s.name: s.reason for s in corpus.skipped}
    assert set(reasons) == {"e_empty.txt", "f_binary.txt", "g_duplicate.txt"}
    assert "a_utf8.txt" in reasons["g_duplicate.txt"]
    assert ingest(tmp_path).passages  # the good files are indexed as usual


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="corpus folder not found.*--corpus"):
        read_corpus(tmp_path / "nope")
