"""The everyday-word glossary against the real corpus."""

from __future__ import annotations

from eval.metrics import norm
from rag.search.glossary import GLOSSARY, expand


def test_every_target_term_occurs_in_the_corpus(ingested):
    text = "\x00".join(norm(p.text) for p in ingested.passages)
    missing = sorted({term for terms in GLOSSARY.values() for term in terms.split()
                      if norm(term) not in text})
    assert missing == []


def test_expansion_reaches_the_article(pipeline):
    hits = pipeline.search("交警在事故后要通知谁垫付抢救费？", k=5)
    assert expand("交警") == "交警 公安机关交通管理部门"
    assert any(h.passage.doc_title == "山西省道路交通事故社会救助基金管理办法" for h in hits)
