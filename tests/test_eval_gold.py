"""Reading gold files (eval.gold) and checking them against passages (eval.check).

Every broken file is written to a temporary folder; every check runs on a few
handmade passages, so no index is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.check import PROBLEM_KINDS, check_gold, read_raw_texts
from eval.gold import MAX_REPORTED, AlsoOk, GoldFormatError, GoldItem, load_gold, parse_gold_text
from rag.errors import CorpusError
from rag.types import Passage

GOOD = {
    "id": "q1", "question": "本条例什么时候开始施行？", "type": "fact",
    "source_file": "f.txt", "doc_title": "山西省未成年人保护条例", "article": "第八十条",
    "section": None, "evidence": "本条例自2024年1月1日起施行", "answer": "2024年1月1日起。",
    "key_points": ["2024年1月1日"],
}


def line(**changes) -> str:
    record = {**GOOD, **changes}
    for name, value in changes.items():
        if value is ...:  # ... removes the field
            del record[name]
    return json.dumps(record, ensure_ascii=False)


def write(tmp_path: Path, text: str, name: str = "gold.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(GoldFormatError) as caught:
        load_gold(write(tmp_path, text))
    return str(caught.value)


# --- load_gold -----------------------------------------------------------------------


def test_load_gold_reads_a_good_file(tmp_path):
    also = {"doc_title": "另一条例", "article": None, "section": "一、总体要求",
            "evidence": "另一处也写明了施行日期的原文"}
    text = "\ufeff" + line() + "\n\n" + line(id="q2", also_ok=[also], extra="ignored") + "\n"
    items = load_gold(write(tmp_path, text))
    assert [(i.id, i.line) for i in items] == [("q1", 1), ("q2", 3)]
    assert items[0] == GoldItem(**{**GOOD, "key_points": ("2024年1月1日",)}, line=1)
    assert items[1].also_ok == (AlsoOk("另一条例", None, "一、总体要求", also["evidence"]),)


def test_load_gold_nullable_fields_may_be_left_out(tmp_path):
    items = load_gold(write(tmp_path, line(section=..., also_ok=...) + "\n"))
    assert items[0].section is None and items[0].also_ok == ()


def test_missing_file(tmp_path):
    with pytest.raises(GoldFormatError, match="gold file not found: .*nope.jsonl"):
        load_gold(tmp_path / "nope.jsonl")
    with pytest.raises(GoldFormatError, match="not a file"):
        load_gold(tmp_path)


def test_empty_file(tmp_path):
    assert "the gold file is empty" in problems_of(tmp_path, "")
    assert "the gold file is empty" in problems_of(tmp_path, "\n  \n")


def test_not_utf8(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_bytes(line().encode("gbk"))
    with pytest.raises(GoldFormatError, match="not UTF-8"):
        load_gold(path)


def test_bad_json_names_its_line(tmp_path):
    message = problems_of(tmp_path, line() + "\n" + line(id="q2") + "\n{\"id\": \"q3\",\n")
    assert "line 3: not valid JSON" in message
    assert "line 1" not in message and "line 2" not in message


def test_json_array_is_another_format(tmp_path):
    message = problems_of(tmp_path, json.dumps([GOOD], ensure_ascii=False))
    assert "a JSON array, not JSON Lines" in message


def test_pretty_printed_object_is_another_format(tmp_path):
    message = problems_of(tmp_path, json.dumps(GOOD, ensure_ascii=False, indent=2))
    assert "spread over several lines" in message


def test_csv_is_another_format(tmp_path):
    message = problems_of(tmp_path, "id,question,type\nq1,本条例何时施行,fact\n")
    assert "looks like CSV" in message


def test_a_line_that_is_not_an_object(tmp_path):
    assert "line 2: a JSON array, not an object" in problems_of(tmp_path, line() + "\n[1, 2]\n")


def test_missing_fields(tmp_path):
    message = problems_of(tmp_path, line() + "\n" + line(id="q2", evidence=..., answer=...))
    assert "line 2: missing fields: evidence, answer" in message


def test_wrong_types(tmp_path):
    text = "\n".join([
        line(id="q1", question=42),
        line(id="q2", key_points="2024年1月1日"),
        line(id="q3", article=12),
        line(id="q4", key_points=["a", 1]),
        line(id="q5", also_ok={"evidence": "x"}),
        line(id="q6", also_ok=[{"doc_title": "无证据"}]),
    ])
    message = problems_of(tmp_path, text)
    assert "line 1: field 'question' must be a string, got a JSON number: 42" in message
    assert "line 2: field 'key_points' must be a list of strings" in message
    assert "line 3: field 'article' must be a string or null, got a JSON number" in message
    assert "line 4: field 'key_points' must be a list of strings" in message
    assert "line 5: field 'also_ok' must be a list of objects" in message
    assert "line 6: also_ok[1] needs a non-empty string 'evidence'" in message


def test_invalid_type_value(tmp_path):
    message = problems_of(tmp_path, line(type="citizens"))
    assert "line 1: invalid type 'citizens'; use one of citizen, clause, fact, unanswerable" \
        in message


def test_empty_evidence_only_for_unanswerable(tmp_path):
    assert "line 1: field 'evidence' is empty" in problems_of(tmp_path, line(evidence=""))
    ok = line(type="unanswerable", evidence="", source_file=None, key_points=["火星"])
    assert load_gold(write(tmp_path, ok))[0].type == "unanswerable"


def test_duplicate_id(tmp_path):
    message = problems_of(tmp_path, "\n".join([line(), line(id="q2"), line()]))
    assert "line 3: duplicate id 'q1' (first on line 1)" in message


def test_all_problems_reported_together_first_twenty(tmp_path):
    text = "\n".join(line(id=f"q{i}", type="nope") for i in range(30))
    message = problems_of(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'gold.jsonl'}: 30 problems")
    assert "line 1: invalid type" in message and f"line {MAX_REPORTED}: invalid" in message
    assert f"line {MAX_REPORTED + 1}:" not in message
    assert "and 10 more" in message


def test_parse_gold_text_keeps_the_good_items():
    items, problems = parse_gold_text(line() + "\nbroken\n" + line(id="q3"))
    assert [i.id for i in items] == ["q1", "q3"]
    assert [p.line for p in problems] == [2]


# --- check_gold ----------------------------------------------------------------------

TITLE = "山西省未成年人保护条例"


def passage(ordinal: int, article: str | None, text: str, doc: str = "f#001",
            title: str = TITLE, source: str = "f.txt") -> Passage:
    number = int(article[1:-1]) if article and article[1:-1].isdigit() else None
    return Passage(f"{doc}:{ordinal:04d}", doc, title, "regulation", source, 1, None, None,
                   article, number, text)


PASSAGES = [
    passage(1, "第七十九条", "第七十九条　违反本条例规定的，由有关部门依法处理。"),
    passage(2, "第八十条", "第八十条　本条例自２０２４年１月１日起施行。"),
    passage(3, "第三条", "第三条　保护未成年人应当坚持最有利于未成年人的原则。处理涉及未成年人"),
    passage(4, "第三条", "事项，应当符合下列要求：给予未成年人特殊、优先保护。"),
    passage(1, None, "一、总体要求　到2025年，全省建成养老服务体系，覆盖城乡。",
            doc="g#001", title="养老服务实施方案", source="g.txt"),
    passage(9, "第九条", "第九条" + "很长的条文" * 400 + "这一句只在超长的条文里出现过"),
]


def item(**changes) -> GoldItem:
    fields = {**GOOD, "key_points": tuple(changes.pop("key_points", GOOD["key_points"])),
              **changes}
    return GoldItem(**fields, line=7)


def kinds(*items: GoldItem) -> list[str]:
    return [problem.kind for problem in check_gold(list(items), PASSAGES)]


def test_a_good_item_has_no_problem():
    assert check_gold([item()], PASSAGES) == []


def test_evidence_straddling_two_passages_is_found():
    evidence = "处理涉及未成年人事项，应当符合下列要求"
    assert kinds(item(evidence=evidence, article="第三条", key_points=["下列要求"])) == []


def test_problem_carries_line_id_and_kind():
    problems = check_gold([item(evidence="本条例自2025年1月1日起施行", key_points=["2025年"])],
                          PASSAGES)
    problem = problems[0]
    assert (problem.line, problem.id, problem.kind) == (7, "q1", "evidence_not_found")
    assert "longest part found is" in problem.message and problem.kind in PROBLEM_KINDS


def test_evidence_in_another_file():
    evidence = "到2025年，全省建成养老服务体系"
    problems = check_gold([item(evidence=evidence, key_points=["2025年"], doc_title=None,
                                article=None)], PASSAGES)
    assert [p.kind for p in problems] == ["evidence_not_found"]
    assert "but in 'g.txt'" in problems[0].message


def test_evidence_length():
    assert kinds(item(evidence="本条例自2024年1月1日", key_points=["2024年1月1日"],
                      article=None)) == ["evidence_length"]  # 14 characters
    long = "保护未成年人应当坚持最有利于未成年人的原则。" * 4  # 88 characters
    assert "evidence_length" in kinds(item(evidence=long, article="第三条",
                                           key_points=["最有利于"]))


def test_key_point_not_in_evidence():
    problems = check_gold([item(key_points=["2024年1月1日", "一月一日"])], PASSAGES)
    assert [p.kind for p in problems] == ["key_points"]
    assert "'一月一日' is not in the evidence" in problems[0].message
    assert kinds(item(key_points=[])) == ["key_points"]


def test_wrong_article():
    problems = check_gold([item(article="第七十九条")], PASSAGES)
    assert [p.kind for p in problems] == ["article"]
    assert "the evidence is in: 第八十条" in problems[0].message
    assert kinds(item(article="第80条")) == []  # the same article written in digits
    assert kinds(item(article="第九十九条")) == ["article"]  # no such article at all


def test_unknown_source_file_and_doc_title():
    assert kinds(item(source_file="x.txt")) == ["source_file", "evidence_not_found"]
    assert kinds(item(source_file=None)) == ["source_file", "evidence_not_found"]
    problems = check_gold([item(doc_title="山西省未成年人保护办法")], PASSAGES)
    assert [p.kind for p in problems] == ["doc_title"]
    assert f"closest titles: 《{TITLE}》" in problems[0].message
    # the doc title is compared after norm: 《》 and spaces make no difference
    assert kinds(item(doc_title="山西省 未成年人保护条例")) == []


def test_evidence_in_another_document_of_the_file():
    extra = passage(1, None, "附件　本条例自2024年1月1日起施行的配套说明。", doc="f#002",
                    title="配套说明")
    problems = check_gold([item(doc_title="配套说明", article=None)], [*PASSAGES[:2], extra])
    assert problems == []
    problems = check_gold([item(doc_title="配套说明", evidence="违反本条例规定的，由有关部门依法处理",
                                key_points=["依法处理"], article=None)], [*PASSAGES[:2], extra])
    assert [p.kind for p in problems] == ["doc_title"]


def test_unreachable_evidence_in_an_over_long_passage():
    problems = check_gold([item(evidence="很长的条文这一句只在超长的条文里出现过", article="第九条",
                                key_points=["超长"])], PASSAGES)
    assert [p.kind for p in problems] == ["unreachable"]
    assert "over the 1,500-character cap" in problems[0].message


def test_unanswerable_terms_must_be_absent():
    base = dict(type="unanswerable", source_file=None, doc_title=None, article=None,
                evidence="", answer="语料中没有依据。")
    assert kinds(item(**base, key_points=["火星基地"])) == []
    problems = check_gold([item(**base, key_points=["火星基地", "养老服务"])], PASSAGES)
    assert [p.kind for p in problems] == ["unanswerable_term"]
    assert "'养老服务' occurs in the corpus (g.txt, passage g#001:0001)" in problems[0].message
    assert kinds(item(**base, key_points=[])) == ["key_points"]
    assert kinds(item(**{**base, "source_file": "f.txt"}, key_points=["火星"])) == ["source_file"]


def test_also_ok_evidence():
    good = AlsoOk("养老服务实施方案", None, "一、总体要求",
                  "到2025年，全省建成养老服务体系，覆盖城乡")
    assert kinds(item(also_ok=(good,))) == []
    missing = AlsoOk(None, None, None, "到2030年，全省建成养老服务体系，覆盖城乡")
    wrong_title = AlsoOk("不存在的方案", None, None, good.evidence)
    wrong_article = AlsoOk(TITLE, "第三条", None, "违反本条例规定的，由有关部门依法处理")
    short = AlsoOk(None, None, None, "覆盖城乡")
    problems = check_gold([item(also_ok=(missing, wrong_title, wrong_article, short))],
                          PASSAGES)
    messages = [p.message for p in problems]
    assert all(p.kind == "also_ok" for p in problems)
    assert any(m.startswith("also_ok[1]: the evidence is not found verbatim") for m in messages)
    assert any(m.startswith("also_ok[2]: no document titled 《不存在的方案》") for m in messages)
    assert any(m.startswith("also_ok[3]: the passages labelled '第三条'") for m in messages)
    assert any(m.startswith("also_ok[4] evidence is 4 characters") for m in messages)


def test_problems_come_in_item_order():
    first = item(id="a", article="第七十九条")
    second = GoldItem(**{**first.__dict__, "id": "b", "line": 9, "key_points": ()})
    assert [(p.line, p.id) for p in check_gold([first, second], PASSAGES)] == \
        [(7, "a"), (9, "b"), (9, "b")]


def test_raw_texts_tell_ingestion_losses_from_gold_mistakes(tmp_path):
    (tmp_path / "f.txt").write_text("山西省未成年人保护条例\n(2023年9月22日修订通过)\n\n"
                                    "第八十条　本条例自2024年1月1日起施行。", encoding="utf-8")
    raw = read_raw_texts(tmp_path)
    lost = item(evidence="山西省未成年人保护条例(2023年9月22日修订通过", article=None,
                key_points=["2023年9月22日"])
    problems = check_gold([lost], PASSAGES, raw)
    assert [p.kind for p in problems] == ["evidence_not_found"]
    assert "in no indexed passage: ingestion drops it" in problems[0].message
    with pytest.raises(CorpusError, match="corpus folder not found"):
        read_raw_texts(tmp_path / "missing")
