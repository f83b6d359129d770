"""Status fields read from the texts, and the status computed from them as of a day.

The expected values were read off the corpus files by hand; each test also checks that
the value is printed in the document (or in the notice or 公告 that issues it), so a
field is never a guess.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from conftest import CORPUS, doc_by_title
from revised_corpus import CHANGED_ARTICLE, NEW_EFFECTIVE, REVISED_FILE, write_revised_corpus

from rag.errors import QueryError
from rag.ingest import ingest
from rag.search.status import parse_as_of, statuses

CONGRESS = "山西省人民代表大会常务委员会"
GOV_OFFICE = "山西省人民政府办公厅"
HOUSING = "山西省住房和城乡建设厅"
# title -> (doc_number, issuer, adopted, effective, ends, term), as the texts print them
REGULATIONS = {
    "山西省未成年人保护条例": (f"{CONGRESS}公告第十三号", CONGRESS, "2023-09-22",
                      "2024-01-01", None, None),
    "山西省人民代表大会常务委员会议事规则": (f"{CONGRESS}公告第十四号", CONGRESS,
                               "2023-09-22", "2023-09-22", None, None),
    "山西省地方病防治条例": (f"{CONGRESS}公告第十五号", CONGRESS, "2023-09-22", "2023-12-01",
                    None, None),
    "山西省节约能源条例": (f"{CONGRESS}公告第十六号", CONGRESS, "2023-09-22", "2024-01-01",
                   None, None),
    "山西省农产品质量安全条例": (f"{CONGRESS}公告第十七号", CONGRESS, "2023-09-22",
                      "2024-01-01", None, None),
    "山西省人民代表大会议事规则": ("山西省第十四届人民代表大会第二次会议公告第三号",
                      "山西省第十四届人民代表大会第二次会议主席团", "2024-01-27",
                      "2024-01-27", None, None),
    "山西省防范和处置非法集资工作实施细则": ("晋政发〔2022〕26号", "山西省人民政府", "2022-12-08",
                             "2022-12-30", "2027-12-29", "有效期5年"),
    "山西省道路交通事故社会救助基金管理办法": ("晋政办发〔2022〕91号", GOV_OFFICE, "2022-11-14",
                              "2022-12-01", None, None),
    "山西省尾矿库安全监督管理办法": ("晋政办发〔2022〕98号", GOV_OFFICE, "2022-12-08",
                       "2023-01-01", "2027-12-31", "有效期5年"),
    "山西省煤矿生产安全事故整顿恢复机制实施办法": ("晋政办发〔2022〕99号", GOV_OFFICE,
                                "2022-12-08", "2022-12-08", "2027-12-07", "有效期5年"),
    "“双随机、一公开”抽查工作细则": ("晋建市规字[2022]160 号", HOUSING, "2022-08-20",
                        "2022-09-20", "2027-09-19", "有效期5年"),
    "房地产企业信用评价管理办法": ("晋建房规字[2022]156号", HOUSING, "2022-08-18", "2022-09-17",
                      "2027-09-16", "有效期5年"),
    "住宅物业服务质量星级评价管理办法(试行)": ("晋建房规字〔2022〕159号", HOUSING, "2022-08-18",
                              "2022-09-18", "2024-09-17", "试行期两年"),
    "城市管理执法协管人员管理暂行规定": ("晋建管规字〔2022〕180号", HOUSING, "2022-09-05",
                         "2022-10-08", "2024-10-07", "有效期两年"),
    "物业管理委员会组建运行办法(试行)": ("晋建房规字[2022]191 号", HOUSING, "2022-09-22",
                          "2022-10-22", "2024-10-21", "有效期两年"),
    "稷山县重大行政决策程序实施办法": ("稷政发〔2023〕2 号", "稷山县人民政府", "2023-03-08",
                        "2023-03-08", None, None),
}


def _printed(day: str) -> str:
    """An ISO day as the files print it, for a search in NFKC text without spaces."""
    y, m, d = (int(x) for x in day.split("-"))
    return f"{y}年{m}月{d}日"


def _plain(text: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


@pytest.mark.parametrize("title", sorted(REGULATIONS))
def test_regulation_status_fields(ingested, title):
    document = doc_by_title(ingested.documents, title)
    number, issuer, adopted, effective, ends, term = REGULATIONS[title]
    got = (document.doc_number, document.issuer, document.adopted, document.effective,
           document.ends, document.term)
    assert got == (number, issuer, adopted, effective, ends, term)
    assert document.text_kind == "final"
    # every value stands in the regulation or in the notice or 公告 just above it
    at = ingested.documents.index(document)
    printed = _plain(ingested.documents[at - 1].text + document.text
                     + ingested.documents[at - 1].title)
    assert _plain(issuer) in printed
    assert _printed(adopted) in printed
    if effective != adopted:  # 自公布/印发之日起 takes the issuing date
        assert _printed(effective) in printed or "之日起三十日后" in printed
    if term:
        assert _plain(term) in printed


def test_the_notices_of_002_carry_every_number_of_its_table_of_contents(ingested):
    raw = (CORPUS / "002_97e5f3168bf50f07.txt").read_text(encoding="utf-8")
    contents = raw[raw.index("目 录"): raw.index("【人事任免】")]
    listed = {re.sub(r"[\s〔〕\[\]]", "", m) for m in
              re.findall(r"[（(](\S{1,8}[〔\[]\d{4}[〕\]]\d+号)[）)]", contents)}
    assert len(listed) == 18  # 3 government, 10 office and 5 department documents
    notices = [d for d in ingested.documents if d.source_file.startswith("002_")
               and d.doc_number and "关于" in d.title]  # not the rules and plans they issue
    numbers = {re.sub(r"[\s〔〕\[\]]", "", _plain(d.doc_number)) for d in notices}
    assert listed <= numbers
    for d in notices:
        assert d.issuer and _plain(d.title).startswith(_plain(d.issuer).split("转报")[0])
        assert d.adopted and _printed(d.adopted) in _plain(d.text)  # the signature date


def test_notice_date_is_its_signature_not_a_date_it_quotes(ingested):
    notice = doc_by_title(ingested.documents,
                          "山西省人民政府办公厅关于印发山西省道路交通事故社会救助基金管理办法的通知")
    assert "2018年11月19日印发" in _plain(notice.text)  # the repealed text it names
    assert notice.adopted == "2022-11-14"


def test_drafts_and_reports_are_marked_with_what_they_are_about(ingested):
    explanation = doc_by_title(ingested.documents, "关于《山西省节约能源条例(修订草案)》的说明")
    report = doc_by_title(ingested.documents, "关于《山西省节约能源条例(修订草案)》审议结果的报告")
    assert (explanation.text_kind, explanation.subject) == ("draft_explanation", "山西省节约能源条例")
    assert (report.text_kind, report.subject) == ("review_report", "山西省节约能源条例")
    assert explanation.effective is None and report.effective is None  # it quotes old dates
    kinds = {d.text_kind for d in ingested.documents}
    assert kinds <= {"final", "draft_explanation", "review_report", "amending_decision"}
    assert sum(d.text_kind == "draft_explanation" for d in ingested.documents) == 7


def test_texts_that_say_nothing_get_no_dates(ingested):
    plan = doc_by_title(ingested.documents, "山西省“十四五”节能减排实施方案")
    assert (plan.effective, plan.ends, plan.term) == (None, None, None)


def test_status_as_of_a_day(ingested):
    by_title = {d.title: d.id for d in ingested.documents}
    before = statuses(ingested.documents, "2023-12-31")
    after = statuses(ingested.documents, "2024-10-22")
    energy = by_title["山西省节约能源条例"]
    assert (before[energy].code, after[energy].code) == ("not_yet_in_force", "in_force")
    trial = by_title["物业管理委员会组建运行办法(试行)"]
    assert statuses(ingested.documents, "2024-10-21")[trial].code == "in_force"
    assert after[trial].code == "expired" and "2024-10-21" in after[trial].note
    explanation = by_title["关于《山西省节约能源条例(修订草案)》的说明"]
    assert after[explanation].code == "draft"
    work_report = by_title["山西省人民代表大会常务委员会工作报告"]
    assert after[work_report].code == "unknown"


def test_a_later_version_supersedes_the_earlier_once_in_force(tmp_path):
    folder = write_revised_corpus(CORPUS, tmp_path / "corpus")
    documents = ingest(folder).documents
    versions = [d for d in documents if d.title == "山西省尾矿库安全监督管理办法"]
    old, new = sorted(versions, key=lambda d: d.effective)
    assert (old.effective, new.effective) == ("2023-01-01", NEW_EFFECTIVE)
    assert new.doc_number == "晋政办发〔2025〕12号"
    while_old = statuses(documents, "2025-03-31")
    assert (while_old[old.id].code, while_old[new.id].code) == ("in_force", "not_yet_in_force")
    later = statuses(documents, parse_as_of("2025-04-01"))
    assert (later[old.id].code, later[new.id].code) == ("superseded", "in_force")
    assert later[old.id].superseded_by == new.id and NEW_EFFECTIVE in later[old.id].note


# ---------------------------------------------------------------- questions and citations


def test_citations_carry_the_status_and_the_filters_apply(pipeline):
    answer = pipeline.ask("《山西省节约能源条例》第二十条怎么规定的？", as_of="2024-06-01")
    cited = answer.citations[0]
    assert (cited.doc_title, cited.article) == ("山西省节约能源条例", "第二十条")
    assert cited.status.code == "in_force" and cited.status.describe() == "现行有效（自2024-01-01起施行）"
    record = answer.to_json()["citations"][0]
    assert record["status"] == "in_force" and record["as_of"] == "2024-06-01"
    early = pipeline.search("节约能源条例第二十条", k=1, as_of="2023-12-31")[0]
    assert early.status.code == "not_yet_in_force" and early.to_json()["status_label"] == "尚未施行"
    drafts = pipeline.search("节能验收的法律责任", k=5, status="draft")
    assert drafts and all(h.status.code == "draft" for h in drafts)
    assert all(h.passage.doc_type in ("explanation", "report") for h in drafts)
    with pytest.raises(QueryError, match="unknown status"):
        pipeline.search("节能", status="valid")


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory):
    """An index over the corpus plus a later version of 山西省尾矿库安全监督管理办法."""
    from conftest import CACHE

    from rag.index.build import build_index
    from rag.pipeline import Pipeline

    root = tmp_path_factory.mktemp("revised")
    folder = write_revised_corpus(CORPUS, root / "corpus")
    build_index(folder, root / "index", cache_dir=CACHE, progress=False)
    return Pipeline.load(root / "index", corpus_dir=folder)


def test_questions_get_the_version_in_force(two_versions):
    question = "《山西省尾矿库安全监督管理办法》第四十条怎么规定的？"
    now = two_versions.ask(question, as_of="2025-06-01").citations[0]
    assert now.source_file == REVISED_FILE and now.status.code == "in_force"
    assert CHANGED_ARTICLE.split(" ", 1)[1] in now.quote
    before = two_versions.ask(question, as_of="2024-06-01").citations[0]
    assert before.source_file == "002_97e5f3168bf50f07.txt" and before.status.code == "in_force"
    both = two_versions.search(question, k=4, as_of="2025-06-01", status="all")
    old = [h for h in both if h.passage.source_file != REVISED_FILE and h.source == "clause"]
    assert old and old[0].status.code == "superseded"
    assert "已被2025-04-01起施行的《山西省尾矿库安全监督管理办法》替代" in old[0].status.describe()
    free = two_versions.search("尾矿库头顶库的安全风险评估", k=10, as_of="2025-06-01")
    assert all(h.status.code != "superseded" for h in free)


def test_checker_resolves_a_title_to_the_version_in_force_that_day(two_versions):
    text = "依照《山西省尾矿库安全监督管理办法》第四十条"
    now = two_versions.check(text, as_of="2025-06-01").findings[0]
    assert now.outcome == "ok" and now.status == "in_force"
    assert now.article_text.startswith(CHANGED_ARTICLE)
    before = two_versions.check(text, as_of="2024-06-01").findings[0]
    assert before.outcome == "ok" and not before.article_text.startswith(CHANGED_ARTICLE)
    assert before.doc_id.startswith("002_")
