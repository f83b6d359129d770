"""The passage store and the parts of retrieval that must stay proportionate at 10^6:
passages read from disk by row, titles resolved through a bigram index, filtered search
on the inverted-file index that large corpora get."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import CACHE, CORPUS, doc_by_title

from rag.errors import IndexMismatchError
from rag.index.folder import read_quotations
from rag.index.store import NO_ARTICLE, PassageStore
from rag.pipeline import Pipeline
from rag.search.clause import TitleResolver
from rag.types import Document

MINORS = "山西省未成年人保护条例"
ENERGY = "山西省节约能源条例"


def test_rows_hold_each_passage_document_and_article(pipeline):
    store = pipeline.passages
    assert isinstance(store, PassageStore) and len(store) == pipeline.manifest.n_passages
    law = doc_by_title(pipeline.documents, MINORS)
    rows = store.rows_of(law.id)
    articles = store.article_of_row[rows]
    assert sorted(a for a in articles.tolist() if a != NO_ARTICLE) == list(range(1, 63))
    row = int(store.article_rows(29, law.id)[0])
    passage = store[row]
    assert (passage.doc_title, passage.article) == (MINORS, "第二十九条")
    assert "互联网上网服务" in passage.text
    assert store.row_of(passage.id) == row
    assert pipeline.passage(passage.id) == passage


def test_unknown_passage_id_is_a_key_error(pipeline):
    with pytest.raises(KeyError):
        pipeline.passage("000_0000000000000000#999:9999")


def test_id_rank_orders_rows_by_passage_id(pipeline):
    store = pipeline.passages
    ids = [store[int(r)].id for r in np.argsort(store.id_rank)[:50]]
    assert ids == sorted(ids)


def test_quotations_link_a_regulation_to_the_notice_that_promulgates_it(built_index, pipeline):
    law = doc_by_title(pipeline.documents, MINORS)
    quoting = read_quotations(built_index)[law.id]
    titles = [pipeline.document(d).title for d in quoting]
    assert any("公告" in t for t in titles), titles


def test_a_corrupt_line_read_lazily_names_the_line(built_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built_index, copy)
    data = bytearray((copy / "passages.jsonl").read_bytes())
    data[0:1] = b"#"  # same length: offsets still hold, the first record is garbage
    (copy / "passages.jsonl").write_bytes(bytes(data))
    loaded = Pipeline.load(copy, verify=False)  # the checksum would have caught it at load
    with pytest.raises(IndexMismatchError, match="passages.jsonl line 1 is corrupt"):
        loaded.passages[0]


def test_rows_that_do_not_match_passages_are_refused(built_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built_index, copy)
    with (copy / "passages.jsonl").open("ab") as handle:
        handle.write(b"{}\n")
    with pytest.raises(IndexMismatchError, match="does not match passage_rows.npy"):
        Pipeline.load(copy, verify=False)


def test_titles_resolve_among_many_similar_titles(pipeline):
    """20,000 look-alike regulations: real titles still resolve, and a generic mention
    (管理办法) names none of them instead of thousands."""
    noise = tuple(Document(f"syn#{i:05d}", f"合成文件第{i}号管理办法", "regulation", "s.txt",
                           1, 1) for i in range(20_000))
    resolver = TitleResolver(pipeline.documents + noise)
    energy = resolver.resolve("节约能源条例第二十条")
    assert [resolver.documents[i].title for i in range(len(resolver.documents))
            if resolver.documents[i].id in energy.doc_ids] == [ENERGY]
    assert energy.article_no == 20
    assert resolver.resolve("管理办法第五条怎么规定？").doc_ids == ()
    named = resolver.resolve("合成文件第123号管理办法第二条")
    assert named.doc_ids == ("syn#00123",)


def test_filtered_search_on_an_inverted_file_index(pipeline, tmp_path):
    """Large corpora get an IVF index; a question naming a document, and a document
    filter, restrict the search there too (FAISS takes IVF parameters with the filter)."""
    from rag.index.build import build_index

    report = build_index(CORPUS, tmp_path / "ivf", faiss_kind="ivf32,sq8", cache_dir=CACHE,
                         progress=False)
    assert report.faiss_index == "ivf32,sq8"
    ivf = Pipeline.load(tmp_path / "ivf")
    manifest = json.loads((tmp_path / "ivf" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["faiss_index"] == "ivf32,sq8"
    hits = ivf.search("《山西省节约能源条例》第二十条怎么规定的？", k=3)
    assert (hits[0].passage.doc_title, hits[0].passage.article) == (ENERGY, "第二十条")
    law = doc_by_title(pipeline.documents, MINORS)
    question = "学校应当建立学生欺凌防控工作制度"
    filtered = ivf.search(question, k=5, retriever="dense", doc_id=law.id)
    assert filtered and {h.passage.doc_id for h in filtered} == {law.id}
    exact = pipeline.search(question, k=5, retriever="dense", doc_id=law.id)
    assert filtered[0].passage.id == exact[0].passage.id
