"""Article structure read from the text, on generated laws nobody tuned the code on.

``tests/legal_texts.py`` writes a folder of texts shaped like real ones (a civil code
of 1,260 articles with 编/分编/章/节, a criminal law with 之一 and （删除）, a judicial
interpretation, other provinces' regulations and rules, 决定, 意见) and knows their
ground truth: every article's label and heading path, each document's kind, the lines
that must never name a section. Ingestion and clause lookup must reproduce it.
"""

from __future__ import annotations

import json

import pytest
from conftest import CACHE
from legal_texts import generate, write

from rag.ingest import ingest
from rag.ingest.structure import article_checks, compact, structure_level
from rag.search.clause import TitleResolver

TEXTS = generate()


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("laws")
    write(out)
    return out


@pytest.fixture(scope="module")
def laws(folder):
    return ingest(folder / "corpus")


def _document(ingested, law):
    [document] = [d for d in ingested.documents if d.source_file == law.file_name]
    return document


def _passages(ingested, law):
    document = _document(ingested, law)
    return [p for p in ingested.passages if p.doc_id == document.id]


def test_every_form_is_covered():
    forms = {f for law in TEXTS for f in law.forms}
    assert {"编", "分编", "章", "节", "之一", "删除", "条文主旨【】", "附则", "附件", "附表",
            "序言", "目录", "列举", "长条文", "千条以上", "司法解释", "决定", "意见"} <= forms
    assert max(law.article_headings for law in TEXTS) > 1000


def test_one_document_a_file_with_its_title_and_kind(laws):
    assert len(laws.documents) == len(TEXTS)
    for law in TEXTS:
        document = _document(laws, law)
        assert (document.title, document.doc_type, document.kind) == (
            law.title, law.doc_type, law.kind)


@pytest.mark.parametrize("law", TEXTS, ids=[law.file_name for law in TEXTS])
def test_articles_and_their_paths(laws, law):
    passages = _passages(laws, law)
    labels, paths = [], {}
    for p in passages:
        if p.article and (not labels or labels[-1] != p.article):
            labels.append(p.article)
            paths[p.article] = p.chapter
    assert labels == [a.label for a in law.articles]
    assert paths == {a.label: " > ".join(a.path) or None for a in law.articles}
    numbers = {a.label: a.number for a in law.articles}
    assert all(p.article_no == numbers[p.article] for p in passages if p.article)


def test_article_passages_equal_headings_in_the_source(laws):
    checks = {c.title: c for c in article_checks(laws.documents, laws.passages)}
    for law in TEXTS:
        if law.article_headings:
            check = checks[law.title]
            assert check.ok and check.articles == law.article_headings, check.line()
        else:
            assert law.title not in checks


def test_inserted_and_deleted_articles():
    law = next(t for t in TEXTS if t.file_name.startswith("02_"))
    ingested = ingest_one(law)
    by_label = {p.article: p for p in ingested.passages if p.article}
    inserted = [a for a in law.articles if "之" in a.label]
    assert len(inserted) >= 3
    for a in inserted:
        assert by_label[a.label].article_no == a.number
    deleted = [a for a in law.articles if a.deleted]
    assert deleted and all(by_label[a.label].text.endswith("（删除）") for a in deleted)


def ingest_one(law):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / law.file_name).write_text(law.text, encoding="utf-8")
        return ingest(folder)


def test_headings_never_name_a_section(laws):
    """List items, list-introducing sentences and captions are text, never headings."""
    for law in TEXTS:
        sections = {compact(p.section) for p in _passages(laws, law) if p.section}
        for line in law.headings_not_sections:
            core = compact(line).rstrip("：；。")
            assert not any(core in s for s in sections), (law.file_name, line)


def test_contents_dropped_preface_and_attachments_kept(laws):
    for law in TEXTS:
        passages = _passages(laws, law)
        # the 目录 is gone: no passage holds a heading line (headings are paths, not text)
        lines = [line for p in passages for line in p.text.split("\n")]
        assert not any(structure_level(line) is not None for line in lines), law.file_name
        assert not any(line.replace("　", "") == "目录" for line in lines)
    autonomy = _passages(laws, next(t for t in TEXTS if "序言" in t.forms))
    preface = [p for p in autonomy if p.section == "序言"]
    assert preface and preface[0].text.startswith("自治州位于") and not preface[0].article
    city = _passages(laws, next(t for t in TEXTS if "附件" in t.forms))
    attached = [p for p in city if p.section and p.section.startswith(("附件", "附表"))]
    assert {p.section.split()[0] for p in attached} >= {"附件1", "附件2", "附表"}
    assert all(p.article is None for p in attached)
    last = [p for p in city if p.article][-1]
    assert "可回收物" not in last.text and last.text.endswith("统一印制。")


def test_long_articles_split_by_clause_keep_the_article(laws):
    law = next(t for t in TEXTS if t.file_name.startswith("03_"))
    passages = _passages(laws, law)
    split = {}
    for p in passages:
        if p.article:
            split.setdefault(p.article, []).append(p)
    long_ones = {label: ps for label, ps in split.items() if len(ps) > 1}
    assert long_ones
    for ps in long_ones.values():
        assert all(p.section and p.section.startswith("第") and "款" in p.section for p in ps)
        assert ps[0].text.startswith(ps[0].article)
        assert max(len(p.text) for p in ps) <= 1500


@pytest.mark.parametrize("question,file_name,article_no,sub", [
    ("劳动合同法第十条是怎么规定的？", "03_", 10, 0),
    ("劳动合同法实施条例第十条", "04_", 10, 0),
    ("民法典第一千零七十九条", "01_", 1079, 0),
    ("《中华人民共和国民法典》第五百条", "01_", 500, 0),
    ("刑法第七十九条之一", "02_", 79, 1),
    ("关于审理劳动争议案件适用法律问题的解释（一）第三条", "05_", 3, 0),
    ("浙江省物业管理条例第五条", "06_", 5, 0),
    ("物业管理条例第五条", "06_", 5, 0),
    ("广东省电动自行车安全管理规定第七条", "07_", 7, 0),
    ("关于加强预算审查监督的决定第三条", "10_", 3, 0),
])
def test_clause_lookup_by_short_title(laws, question, file_name, article_no, sub):
    ref = TitleResolver(laws.documents).resolve(question)
    named = [d.source_file for d in laws.documents if d.id in ref.doc_ids]
    assert [f[:3] for f in named] == [file_name]
    assert (ref.article_no, ref.article_sub) == (article_no, sub)


def test_gazette_kinds(ingested):
    kinds = {}
    for d in ingested.documents:
        if d.doc_type == "regulation":
            kinds.setdefault(d.kind, set()).add(d.title)
    assert len(kinds["local_regulation"]) == 6 and "山西省节约能源条例" in kinds["local_regulation"]
    assert len(kinds["normative_document"]) == 10  # rules a notice issues
    assert kinds["other"] == {"山西省第十四届人民代表大会第二次会议表决议案办法",
                              "稷山县 2021-2022年采暖季清洁取暖“煤改电”“煤改气”运行补贴办法"}
    checks = article_checks(ingested.documents, ingested.passages)
    assert len(checks) == 16 and all(c.ok for c in checks)
    assert sum(c.articles for c in checks) == 626


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def law_pipeline(folder, tmp_path_factory):
    from rag.index.build import build_index
    from rag.pipeline import Pipeline

    index = tmp_path_factory.mktemp("laws_index")
    report = build_index(folder / "corpus", index, cache_dir=CACHE, progress=False)
    assert all(c.ok for c in report.articles)
    return Pipeline.load(index, corpus_dir=folder / "corpus")


def test_clause_question_gets_the_article_with_its_path(law_pipeline):
    answer = law_pipeline.ask("民法典第一千零七十九条是怎么规定的？")
    first = answer.hits[0].passage
    assert answer.hits[0].source == "clause" and first.article == "第一千零七十九条"
    truth = next(a for a in TEXTS[0].articles if a.label == "第一千零七十九条")
    assert first.chapter == " > ".join(truth.path) and first.chapter.startswith("第五编")
    assert answer.citations[0].chapter == first.chapter
    inserted = law_pipeline.search("刑法第七十九条之一", k=3)
    assert inserted[0].passage.article == "第七十九条之一"
    plain = law_pipeline.search("刑法第七十九条", k=3)
    assert plain[0].passage.article == "第七十九条"


def test_kind_filter(law_pipeline):
    hits = law_pipeline.search("劳动者请求赔偿损失", k=5, doc_type="司法解释")
    assert hits and {h.passage.doc_title for h in hits} == {TEXTS[4].title}


def test_eval_harness_on_a_second_corpus(law_pipeline, folder, tmp_path):
    from eval.harness import run_eval

    out = tmp_path / "out"
    metrics = run_eval(folder / "gold.jsonl", out, ["hybrid"], law_pipeline,
                       folder / "corpus", progress=False)["hybrid"]
    assert json.loads((out / "metrics.json").read_text(encoding="utf-8")) == metrics
    assert metrics["by_type.clause.retrieval.hit@1"] == 1.0
    assert metrics["by_type.clause.citation.accuracy"] == 1.0
    assert metrics["retrieval.hit@5"] >= 0.8
    # the answer-or-not decision was fitted on the gazettes only; on these texts it leaves
    # 7 of the 29 plain questions unanswered (as the two checks did before it), and a
    # measure of this corpus's vocabulary it once weighed left 21 (README, "Answer or not")
    assert metrics["by_type.citizen.refusal.false_rate"] <= 0.35
    assert metrics["refusal.accuracy"] >= 0.75  # 4 of 4 measured



# ---------------------------------------------------------------- labels OCR glued to their text

_OCR_WIDTH = 20


def _ocr_regulation() -> tuple[str, list[str], dict[str, str]]:
    """A small regulation as a scan's OCR gives it: lines hard-wrapped at one width, some
    第N章 and 第N条 labels with the space after them lost, and references to 第十二条 and
    第二章 at the start of lines (after a full-width line that ends a sentence).
    第九条 follows an article whose full stop OCR lost too.
    Returns the text, the article labels and each article's chapter."""
    from rag.numerals import int_to_chinese

    def wrapped(paragraph: str) -> list[str]:
        return [paragraph[i:i + _OCR_WIDTH] for i in range(0, len(paragraph), _OCR_WIDTH)]

    def filled(head: str, tail: str) -> str:
        """``head`` padded with words to a whole number of full lines, ending in 。"""
        pad = "县人民政府有关部门依照职责做好相关工作"
        text = head
        while (len(text) + 1) % _OCR_WIDTH:
            text += pad[len(text) % len(pad)]
        return text + "。" + tail

    chapters = [("第一章", "总则", 5, True), ("第二章", "决策草案的形成", 9, True),
                ("第三章", "附则", 2, False)]
    lines = ["某县重大行政决策程序实施办法", "（2023年3月1日某县人民政府令第1号公布）"]
    labels, paths, number = [], {}, 0
    for chapter, name, count, glued_heading in chapters:
        lines.append(f"{chapter}{name}" if glued_heading else f"{chapter}　{name}")
        for _ in range(count):
            number += 1
            label = f"第{int_to_chinese(number)}条"
            glued = number % 3 != 1  # 第二条, 第三条, 第五条 … lose their space
            head = f"{label}{'' if glued else '　'}本办法所称事项由县人民政府负责"
            if number == 11:  # the next article referred to at a line start
                body = filled(head, "第十二条规定的情形，由县人民政府决定。")
            elif number == 7:  # a chapter referred to at a line start
                body = filled(head, "第二章规定的程序，县人民政府另行规定。")
            elif number == 4:  # ends a sentence at the full width, the next label glued
                body = filled(head, "")
            elif number == 8:  # OCR lost the full stop too, the next label glued
                body = head + "，并向社会公布"
            else:
                body = head + "，并向社会公布。"
            lines += wrapped(body)
            labels.append(label)
            paths[label] = f"{chapter} {name}"
    return "\n".join(lines) + "\n", labels, paths


def test_labels_ocr_glued_to_their_text(tmp_path):
    text, labels, paths = _ocr_regulation()
    for line in ("公布\n第九条本办法", "\n第五条本办法", "\n第十二条规定的情形", "\n第二章决策"):
        assert line in text
    (tmp_path / "ocr.txt").write_text(text, encoding="utf-8")
    ingested = ingest(tmp_path)
    [document] = ingested.documents
    passages = [p for p in ingested.passages if p.article]
    assert [p.article for p in passages] == labels
    assert {p.article: p.chapter for p in passages} == paths
    assert [p.article_no for p in passages] == list(range(1, len(labels) + 1))
    # the text stays as printed: the glued label, the reference inside its article
    assert passages[4].text.startswith("第五条本办法所称")
    assert "。第十二条规定的情形，由县人民政府决定。" in passages[10].text
    assert "。第二章规定的程序" in passages[6].text
    [check] = article_checks(ingested.documents, ingested.passages)
    assert check.ok and check.articles == len(labels), check.line()
