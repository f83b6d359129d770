"""The lexical index on the real corpus: bm25s's scores exactly; posting lists split at
the cap; a cap of 1 % of the corpus keeps a real question's article; a damaged folder
is refused."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from rag.errors import IndexMismatchError
from rag.index.folder import LEXICAL_DIR, read_passages
from rag.index.lexical import LexicalIndex
from rag.pipeline import Pipeline
from rag.text import tokenize

QUESTIONS = ("网吧能让未成年人进去吗？", "哪一条规定了学生欺凌的防控？",
             "《山西省节约能源条例》第二十条怎么规定的？", "公共场所控制吸烟的规定有哪些？")


@pytest.fixture(scope="module")
def passages(built_index):
    return read_passages(built_index)


@pytest.fixture(scope="module")
def token_lists(passages):
    from rag.index.build import embedding_text

    return [tokenize(embedding_text(p), "mixed") or ["∅"] for p in passages]


@pytest.fixture(scope="module")
def small_cap(token_lists):
    # 20 is 1 % of the 1,969 passages (the default, 50,000, is 5 % of a million)
    return LexicalIndex.from_token_lists(token_lists, "mixed", postings_per_token=20)


def test_scores_equal_bm25s_on_the_corpus(built_index, token_lists):
    import bm25s

    served = LexicalIndex.load(built_index / LEXICAL_DIR)
    reference = bm25s.BM25()
    reference.index(token_lists, show_progress=False)
    assert served.params.n_rows == len(token_lists)
    assert np.diff(served._starts).max() < served.params.postings_per_token  # no cap here
    for question in QUESTIONS:
        tokens = [t for t in tokenize(question, "mixed") if t in reference.vocab_dict]
        expected = np.asarray(reference.get_scores(tokens), dtype=np.float32)
        assert np.array_equal(served.scores(question), expected), question


def test_each_list_holds_its_best_postings_first(small_cap):
    starts, rows, scores = small_cap._starts, small_cap._rows, small_cap._scores
    split = 0
    for token in range(len(starts) - 1):
        begin, end = int(starts[token]), int(starts[token + 1])
        head = min(end, begin + 20)
        assert np.all(np.diff(rows[begin:head]) > 0) and np.all(np.diff(rows[head:end]) > 0)
        if end > head:
            split += 1
            assert scores[begin:head].min() >= scores[head:end].max()
    assert split > 1000  # 1,969 passages: many tokens are in more than 20


def test_a_cap_of_one_percent_keeps_the_article(passages, small_cap):
    for question, article in (("网吧能让未成年人进去吗？", "第十一条"),
                              ("哪一条规定了学生欺凌的防控？", "第二十一条")):
        exact, capped = small_cap.scores(question, exact=True), small_cap.scores(question)
        assert np.all(capped <= exact)
        assert np.count_nonzero(capped) < np.count_nonzero(exact)
        best = passages[int(np.argmax(capped))]
        assert (best.doc_title, best.article) == ("山西省未成年人保护条例", article)
        assert int(np.argmax(capped)) == int(np.argmax(exact))


def test_a_damaged_lexical_index_is_refused(built_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(built_index, copy)
    (copy / LEXICAL_DIR / "rows.npy").unlink()
    with pytest.raises(IndexMismatchError, match="damaged .*rows.npy missing.*rebuild"):
        Pipeline.load(copy)
    shutil.rmtree(copy)
    shutil.copytree(built_index, copy)
    with (copy / LEXICAL_DIR / "vocab.json").open("a", encoding="utf-8") as handle:
        handle.write("[]")
    with pytest.raises(IndexMismatchError, match="lexical/vocab.json .* checksum"):
        Pipeline.load(copy)
