"""A labelled set of clause references built from the corpus, and the checker's score on it.

``build(corpus, seed)`` writes references whose right answer is known by construction:

- ``ok``: a real article of an indexed regulation (full title, title without 山西省,
  unquoted, Arabic numerals, 第M款 that exists, lists and ranges inside the document,
  本条例第N条 inside the regulation's own title);
- ``no_such_article``: a number past the document's last article (by 1 to 30), or a
  款 past the article's last;
- ``near_miss``: a regulation's title with one character replaced, dropped or two
  swapped (the title we hold is the expected suggestion);
- ``not_indexed``: titles the corpus quotes that it does not hold (national laws, city
  regulations it only approves);
- ``draft``: 草案第N条 and 修订草案第N条 inside a 说明 or a review report;
- ``malformed``: 第十百条, 第0条, 第1O条;
- ``expired``: a real article of a text whose own term (有效期/试行期) had ended on
  the item's as-of day (the term is read from the corpus text by this builder's own
  pattern, not by the checker's).

Each item: ``{"id", "text", "title", "as_of", "expected", "doc_id", "article",
"suggestion"}``. ``score(items, checker)`` counts, per outcome, how often the checker
flags what is expected (precision and recall of each flag, and of "flagged at all"), and
for the ok items whether they resolve to the right document and article.

    python -m eval.refset build --seed 2024 --out eval/refs_test.jsonl
    python -m eval.refset score eval/refs_test.jsonl --index .ragqa/index

Left out: superseded versions (the corpus holds one version of each regulation; the
tests add a second one); references the corpus itself writes (their right answer would
come from the checker's own reading).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import re
import sys
from pathlib import Path

from rag.numerals import int_to_chinese

FLAGS = ("no_such_article", "not_indexed", "near_miss", "draft", "malformed", "expired")
AS_OF = "2024-06-01"  # every regulation of the corpus is in force on this day
_SIMILAR = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严"


def _short(title: str) -> str:
    return title[3:] if title.startswith("山西省") and len(title) > 7 else title


def _arabic(n: int) -> str:
    return str(n)


def _misspell(title: str, rng: random.Random) -> str:
    """One character of the title's core replaced, dropped, or two swapped."""
    core_start = 3 if title.startswith("山西省") else 0
    end = len(title) - 2  # keep the kind word (条例, 办法 …) so it stays a title
    for _ in range(50):
        i = rng.randrange(core_start, max(core_start + 1, end))
        way = rng.choice(("replace", "drop", "swap"))
        if way == "replace":
            new = title[:i] + rng.choice(_SIMILAR) + title[i + 1:]
        elif way == "drop":
            new = title[:i] + title[i + 1:]
        else:
            if i + 1 >= end:
                continue
            new = title[:i] + title[i + 1] + title[i] + title[i + 2:]
        if new != title and re.fullmatch(r"[\u4e00-\u9fff“”、（）()]+", new):
            return new
    return title[:core_start] + title[core_start + 1:]


_TERM = re.compile(r"本[\u4e00-\u9fff]{1,4}自\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*起"
                   r"(?:施行|实施)\s*[,，]\s*(?:有效期|试行期)\s*(两|\d+)\s*年")


def _term_end(text: str) -> str | None:
    """The last day of a dated term as the text prints it (this builder's own reading)."""
    m = _TERM.search(text)
    if not m:
        return None
    years = 2 if m[4] == "两" else int(m[4])
    start = dt.date(int(m[1]), int(m[2]), int(m[3]))
    return (start.replace(year=start.year + years) - dt.timedelta(days=1)).isoformat()


def build(corpus: str | Path, seed: int) -> list[dict]:
    from rag.ingest import ingest

    rng = random.Random(seed)
    ingested = ingest(corpus)
    articles: dict[str, dict[int, str]] = {}
    for p in ingested.passages:
        if p.article_no:
            articles.setdefault(p.doc_id, {}).setdefault(p.article_no, p.text)
    regs = [d for d in ingested.documents if d.doc_type == "regulation" and articles.get(d.id)]
    drafts = [d for d in ingested.documents
              if re.match(r"^关于《.+草案\)》(的说明|.*报告)$", d.title)]
    quoted = sorted({t for d in ingested.documents
                     for t in re.findall(r"《([^《》]{4,40}(?:法|条例))》", d.text)})
    held = {re.sub(r"^山西省", "", d.title) for d in regs}
    foreign = [t for t in quoted if re.sub(r"^山西省", "", t) not in held
               and not any(re.sub(r"^山西省", "", t) in h for h in held)]
    ends = {d.id: _term_end(d.text) for d in regs}
    items: list[dict] = []

    def add(text, expected, title=None, doc=None, article=None, suggestion=None, as_of=AS_OF):
        items.append({"id": f"r{len(items):04d}", "text": text, "title": title,
                      "as_of": as_of, "expected": expected,
                      "doc_id": doc.id if doc else None, "article": article,
                      "suggestion": suggestion})

    for _ in range(160):  # correct references, many shapes
        d = rng.choice(regs)
        numbers = sorted(articles[d.id])
        n = rng.choice(numbers)
        label = f"第{int_to_chinese(n)}条"
        shape = rng.randrange(7)
        if shape == 0:
            add(f"根据《{d.title}》{label}的规定，", "ok", doc=d, article=n)
        elif shape == 1:
            add(f"依照《{_short(d.title)}》{label}规定办理。", "ok", doc=d, article=n)
        elif shape == 2:
            add(f"按照{d.title}{label}执行。", "ok", doc=d, article=n)
        elif shape == 3:
            add(f"见《{d.title}》第{_arabic(n)}条。", "ok", doc=d, article=n)
        elif shape == 4:
            add(f"{d.title}\n第一条　为了……\n第二条　违反本{_kind(d.title)}{label}规定的，依法处理。",
                "ok", title=d.title, doc=d, article=n)
        elif shape == 5 and n + 1 in articles[d.id]:
            add(f"《{d.title}》{label}至第{int_to_chinese(n + 1)}条", "ok", doc=d, article=n)
        else:
            add(f"参照《{d.title}》{label}第一款的规定", "ok", doc=d, article=n)
    for _ in range(70):  # past the end
        d = rng.choice(regs)
        last = max(articles[d.id])
        n = last + rng.randint(1, 30)
        shape = rng.randrange(3)
        if shape == 0:
            add(f"根据《{d.title}》第{int_to_chinese(n)}条的规定，", "no_such_article", doc=d,
                article=n)
        elif shape == 1:
            add(f"违反《{_short(d.title)}》第{_arabic(n)}条", "no_such_article", doc=d, article=n)
        else:
            add(f"{d.title}\n第一条　为了……\n第二条　违反本{_kind(d.title)}第{int_to_chinese(n)}条规定的",
                "no_such_article", title=d.title, doc=d, article=n)
    for _ in range(20):  # a paragraph past the article's last
        d = rng.choice(regs)
        n = rng.choice(sorted(articles[d.id]))
        paragraphs = len([x for x in articles[d.id][n].split("\n")
                          if x.strip() and not re.match(r"^[-\s]*[（(][一二三四五六七八九十]+[）)]", x)])
        m = paragraphs + rng.randint(1, 3)
        add(f"依据《{d.title}》第{int_to_chinese(n)}条第{int_to_chinese(m)}款", "no_such_article",
            doc=d, article=n)
    for _ in range(70):  # misspelled titles
        d = rng.choice(regs)
        n = rng.choice(sorted(articles[d.id]))
        wrong = _misspell(d.title, rng)
        add(f"根据《{wrong}》第{int_to_chinese(n)}条的规定，", "near_miss", doc=d, article=n,
            suggestion=d.title)
    for _ in range(60):  # titles the corpus quotes but does not hold
        title = rng.choice(foreign)
        n = rng.randint(1, 80)
        add(f"依照《{title}》第{int_to_chinese(n)}条的规定", "not_indexed")
    for _ in range(40):  # draft articles
        d = rng.choice(drafts)
        n = rng.randint(1, 70)
        word = rng.choice(("草案", "修订草案", "草案修改稿", "草案初审稿"))
        add(f"{d.title}\n二、主要内容\n{word}第{int_to_chinese(n)}条规定了有关内容。", "draft",
            title=d.title, article=n)
    for bad in ("十百", "0", "1O", "二二", "百十", "00", "一十百", "三千千"):
        d = rng.choice(regs)
        add(f"根据《{d.title}》第{bad}条的规定，", "malformed", doc=d)
    expiring = [d for d in regs if ends[d.id]]
    for _ in range(20):  # articles of a text whose term had ended
        d = rng.choice(expiring)
        n = rng.choice(sorted(articles[d.id]))
        day = (dt.date.fromisoformat(ends[d.id]) + dt.timedelta(days=rng.randint(1, 400)))
        add(f"根据《{d.title}》第{int_to_chinese(n)}条的规定，", "expired", doc=d, article=n,
            as_of=day.isoformat())
    return items


def _kind(title: str) -> str:
    m = re.search(r"(条例|实施办法|办法|细则|规则|规定)(?:[(（]试行[)）])?$", title)
    return m.group(1) if m else "条例"


def score(items: list[dict], checker) -> dict:
    """Precision and recall of each flag, of "flagged at all", and how many ok items
    resolve to the right document and article."""
    rows = []
    for item in items:
        report = checker.check(item["text"], title=item["title"], as_of=item["as_of"])
        findings = [f for f in report.findings if f.line == item["text"].count("\n") + 1]
        first = findings[0] if findings else None
        rows.append((item, first))
    result: dict = {"items": len(items), "by_outcome": {}}
    outcomes = sorted({i["expected"] for i in items} | {f.outcome for _, f in rows if f})
    for outcome in outcomes:
        predicted = sum(1 for _, f in rows if f and f.outcome == outcome)
        actual = sum(1 for i, _ in rows if i["expected"] == outcome)
        right = sum(1 for i, f in rows if f and f.outcome == outcome and i["expected"] == outcome)
        result["by_outcome"][outcome] = {
            "expected": actual, "predicted": predicted, "correct": right,
            "precision": round(right / predicted, 3) if predicted else None,
            "recall": round(right / actual, 3) if actual else None}
    flagged_true = sum(1 for i, _ in rows if i["expected"] != "ok")
    flagged_pred = sum(1 for _, f in rows if f is None or f.flagged)
    both = sum(1 for i, f in rows if i["expected"] != "ok" and (f is None or f.flagged))
    result["flagged"] = {"expected": flagged_true, "predicted": flagged_pred, "correct": both,
                         "precision": round(both / flagged_pred, 3) if flagged_pred else None,
                         "recall": round(both / flagged_true, 3) if flagged_true else None}
    resolved = [(i, f) for i, f in rows if i["expected"] in ("ok", "expired")]
    right = sum(1 for i, f in resolved if f and f.doc_id == i["doc_id"]
                and f.reference.startswith(f"第{int_to_chinese(i['article'])}条"))
    suggestions = [(i, f) for i, f in rows if i["expected"] == "near_miss"]
    result["resolved_right"] = {"items": len(resolved), "correct": right}
    result["suggested_right"] = {"items": len(suggestions), "correct": sum(
        1 for i, f in suggestions if f and f.suggestion == i["suggestion"])}
    result["misses"] = [{"id": i["id"], "text": i["text"][-60:], "expected": i["expected"],
                         "got": f.outcome if f else None, "reason": f.reason if f else None}
                        for i, f in rows if (f.outcome if f else None) != i["expected"]][:40]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.refset", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--corpus", default="corpus")
    b.add_argument("--seed", type=int, required=True)
    b.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("file")
    s.add_argument("--index", default=".ragqa/index")
    s.add_argument("--misses", action="store_true", help="print the items scored wrong")
    args = parser.parse_args(argv)
    if args.command == "build":
        items = build(args.corpus, args.seed)
        data = "".join(json.dumps(i, ensure_ascii=False, sort_keys=True) + "\n" for i in items)
        Path(args.out).write_text(data, encoding="utf-8")
        digest = hashlib.sha256(data.encode()).hexdigest()
        print(f"wrote {len(items)} references to {args.out} (sha256 {digest})", file=sys.stderr)
        return 0
    from rag.check import Checker

    items = [json.loads(x) for x in Path(args.file).read_text(encoding="utf-8").splitlines()]
    result = score(items, Checker.load(args.index))
    if not args.misses:
        result.pop("misses")
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
