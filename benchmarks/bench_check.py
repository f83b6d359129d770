"""The reference checker: how long a check takes, per reference and for a 1 MB paste.

Measured in this process over the built index (no model is loaded: the checker reads
documents and passages only):

* per reference: ``Checker.check`` on each item of the labelled test set
  (``eval/refs_test.jsonl``: one short text, one to three references), p50 and p95;
* a 1 MB paste: 349,000 characters of 依照《山西省节约能源条例》第二十条的规定办理。
  (over 1 MB of UTF-8, some 15,000 references), checked whole;
* loading: ``Checker.load`` on the index folder.
"""

from __future__ import annotations

import json

from benchmarks.common import INDEX, ROOT, Result, latency_ms, timed, wait_for_index

MEGABYTE_TEXT = ("依照《山西省节约能源条例》第二十条的规定办理。" * 15000)[:349_000]


def run(command: str, quick: bool) -> Result:
    from rag.check import Checker

    wait_for_index()
    result = Result("check", command)
    load_s, checker = timed(Checker.load, INDEX)
    result.figure("Checker.load on the index", round(load_s * 1000, 1), "ms")
    items = [json.loads(x) for x in (ROOT / "eval" / "refs_test.jsonl").read_text(
        encoding="utf-8").splitlines()]
    if quick:
        items = items[:100]
    seconds = []
    for item in items:
        elapsed, _ = timed(checker.check, item["text"], item["title"], item["as_of"])
        seconds.append(elapsed)
    per_item = latency_ms(seconds)
    result.figure("check one labelled item, p50", per_item["p50_ms"], "ms")
    result.figure("check one labelled item, p95", per_item["p95_ms"], "ms")
    elapsed, report = timed(checker.check, MEGABYTE_TEXT, None, "2024-06-01")
    result.figure("check a 1 MB paste (349,000 characters)", round(elapsed, 2), "s",
                  note=f"{len(report.findings):,} references")
    result.details = {"items": len(items), "per_item_ms": per_item,
                      "megabyte_references": len(report.findings),
                      "megabyte_bytes": len(MEGABYTE_TEXT.encode())}
    return result
