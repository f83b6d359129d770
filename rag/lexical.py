"""Chinese BM25 over bm25s: jieba search-mode tokens (or character bigrams).

Text is normalized for search first (NFKC: full-width digits become ASCII, lower
case), then tokenized. Three tokenizers were measured on the gold set (README,
Evaluation): ``jieba`` search-mode words (未成年人 → 未成年, 成年人, 未成年人),
character ``bigram``s, and ``mixed`` (both). ``mixed`` measured best and is the
default: bigrams catch the words jieba splits differently, words weigh whole terms.

Left out: synonym expansion and a custom user dictionary.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.clean import search_text

TOKENIZERS = ("jieba", "bigram", "mixed")
_WORD = re.compile(r"[\w\u3400-\u9fff]+")
# function words that only add noise to BM25 (的, 了, 是 …) and question words
STOPWORDS = frozenset(
    "的 了 是 在 和 与 或 及 等 对 为 由 其 之 也 就 都 而 并 从 以 于 把 被 让 向 有 没有 "
    "吗 呢 吧 啊 什么 怎么 怎么办 如何 哪些 哪个 哪 多少 几 是否 能 能否 可以 会 要 "
    "我 我们 你 他 她 它 这 那 这个 那个 一个 请问 规定 条例".split()
)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str, method: str = "jieba") -> list[str]:
    """Search tokens of a text.

    >>> tokenize("网吧能让未成年人进去吗？")
    ['网吧', '未成', '成年', '未成年', '成年人', '未成年人', '进去']
    >>> tokenize("ＰＭ２.５超标", "bigram")
    ['pm', 'm2', '2.', '.5', '5超', '超标']
    """
    normalized = search_text(text)
    if method == "mixed":  # words and character bigrams together
        return tokenize(text, "jieba") + tokenize(text, "bigram")
    if method == "bigram":
        compact = re.sub(r"[^\w.\u3400-\u9fff]", "", normalized)
        return [compact[i : i + 2] for i in range(len(compact) - 1)] or ([compact] if compact else [])
    if method != "jieba":
        raise ValueError(f"unknown tokenizer {method!r}; use one of {TOKENIZERS}")
    tokens = []
    for token in _jieba().lcut_for_search(normalized):
        if _WORD.fullmatch(token) and token not in STOPWORDS:
            tokens.append(token)
    return tokens


class LexicalIndex:
    """BM25 over passage texts; rows are the passages' positions in the index."""

    def __init__(self, retriever, method: str):
        self._bm25 = retriever
        self.method = method
        self._vocab = retriever.vocab_dict

    @classmethod
    def build(cls, texts: list[str], method: str = "jieba") -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25()
        retriever.index([tokenize(t, method) or ["∅"] for t in texts], show_progress=False)
        return cls(retriever, method)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, method: str, mmap: bool = False) -> LexicalIndex:
        import bm25s

        retriever = bm25s.BM25.load(str(folder), mmap=mmap, show_progress=False, verbosity=0)
        return cls(retriever, method)

    def document_frequencies(self) -> dict[str, int]:
        """How many passages hold each token, read off the index (no second pass)."""
        indptr = np.asarray(self._bm25.scores["indptr"])
        return {token: int(indptr[i + 1] - indptr[i]) for token, i in self._vocab.items()
                if token and i + 1 < len(indptr)}

    def scores(self, query: str, mask: np.ndarray | None = None) -> np.ndarray:
        """BM25 score of every passage for a query (0 where the mask is False)."""
        tokens = [t for t in tokenize(query, self.method) if t and t in self._vocab]
        n = self._bm25.scores["num_docs"]
        if not tokens:
            return np.zeros(n, dtype=np.float32)
        scores = np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)
        return scores if mask is None else np.where(mask, scores, 0.0).astype(np.float32)
