"""Chinese BM25 with capped posting lists: jieba search-mode tokens and/or bigrams.

Text is normalized for search first (NFKC: full-width digits become ASCII, lower
case), then tokenized. Three tokenizers were measured on the gold set (README,
Evaluation): ``jieba`` search-mode words (未成年人 → 未成年, 成年人, 未成年人),
character ``bigram``s, and ``mixed`` (both). ``mixed`` measured best and is the
default: bigrams catch the words jieba splits differently, words weigh whole terms.

bm25s computes the scores at build time (Lucene's BM25, k1 1.5, b 0.75). They are
then stored as plain numpy files, one posting list a token, each list split in two:
the token's best ``postings_per_token`` postings (highest scores) first, the rest
after, each part in passage-row order::

    lexical/params.json  tokenizer, BM25 parameters, passages, postings cap
    lexical/vocab.json   the tokens, sorted; a token's id is its position
    lexical/starts.npy   where each token's postings begin (int64, one more than tokens)
    lexical/rows.npy     passage row of each posting (int32)
    lexical/scores.npy   BM25 score of each posting (float32)

A question reads the first part only. Below the cap (every token of this corpus)
that is the whole list: scores are exact and equal bm25s's. At a million passages
the cap bounds both the work per question and the pages of the memory-mapped files a
question touches, whatever the corpus size; a passage outside a common token's best
(say 管理) loses only that token's small share of its score. ``scores(exact=True)``
reads every posting.

Left out: synonym expansion, a custom user dictionary, compressed postings.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from rag.text import tokenize

BM25_K1 = 1.5  # term-frequency saturation (Lucene's default)
BM25_B = 0.75  # length normalisation
POSTINGS_PER_TOKEN = 50_000  # the cap a build records (5 % of 10^6); module docstring
_FILES = ("params.json", "vocab.json", "starts.npy", "rows.npy", "scores.npy")


def split_postings(starts: np.ndarray, rows: np.ndarray, scores: np.ndarray,
                   cap: int) -> np.ndarray:
    """The permutation that puts each token's best ``cap`` postings first (highest score,
    ties to the lower row) and the rest after, each part in row order. Rows within a
    token come in, and stay in, row order: that keeps the memory writes sequential.

    >>> starts = np.array([0, 3, 5]); rows = np.array([0, 1, 2, 0, 2])
    >>> split_postings(starts, rows, np.array([1.0, 3.0, 3.0, 0.5, 2.0]), cap=2).tolist()
    [1, 2, 0, 3, 4]
    """
    order = np.arange(len(rows))
    for token in np.flatnonzero(np.diff(starts) > cap):
        begin, end = int(starts[token]), int(starts[token + 1])
        best = np.zeros(end - begin, dtype=bool)
        best[np.lexsort((rows[begin:end], -scores[begin:end]))[:cap]] = True
        order[begin:end] = begin + np.concatenate([np.flatnonzero(best),
                                                   np.flatnonzero(~best)])
    return order


def accumulate(starts: np.ndarray, rows: np.ndarray, scores: np.ndarray, token_ids: list[int],
               n_rows: int, cap: int | None) -> np.ndarray:
    """Sum, per passage row, the first ``cap`` postings of each token (all when None);
    a token repeated in the question counts again.

    >>> starts = np.array([0, 2, 3]); rows = np.array([1, 0, 1])
    >>> scores = np.array([2.0, 1.0, 0.5], dtype=np.float32)
    >>> accumulate(starts, rows, scores, [0, 1], 3, cap=None).tolist()
    [1.0, 2.5, 0.0]
    >>> accumulate(starts, rows, scores, [0, 1, 1], 3, cap=1).tolist()
    [0.0, 3.0, 0.0]
    """
    total = np.zeros(n_rows, dtype=np.float32)
    for token in token_ids:
        begin, end = int(starts[token]), int(starts[token + 1])
        if cap is not None:
            end = min(end, begin + cap)
        np.add.at(total, rows[begin:end], scores[begin:end])
    return total


@dataclass(frozen=True)
class LexicalParams:
    tokenizer: str
    n_rows: int
    postings_per_token: int
    method: str = "lucene"  # bm25s's BM25 variant
    k1: float = 1.5
    b: float = 0.75
    order: str = "best postings_per_token first, then the rest; each part by row"


class LexicalIndex:
    """BM25 over passage texts; rows are the passages' positions in the index."""

    def __init__(self, params: LexicalParams, tokens: list[str], starts: np.ndarray,
                 rows: np.ndarray, scores: np.ndarray):
        self.params = params
        self.method = params.tokenizer
        self._id = {token: i for i, token in enumerate(tokens)}
        self._starts, self._rows, self._scores = starts, rows, scores

    @classmethod
    def build(cls, texts: list[str], method: str = "jieba",
              postings_per_token: int = POSTINGS_PER_TOKEN) -> LexicalIndex:
        return cls.from_token_lists([tokenize(t, method) or ["∅"] for t in texts], method,
                                    postings_per_token)

    @classmethod
    def from_token_lists(cls, token_lists, method: str,
                         postings_per_token: int = POSTINGS_PER_TOKEN) -> LexicalIndex:
        """Score with bm25s, then re-store: tokens sorted, each list split at the cap.

        ``token_lists`` is a list of token lists, or an object with ``ids`` (token-id
        lists) and ``vocab`` (token -> id) as bm25s accepts.
        """
        import bm25s

        retriever = bm25s.BM25(method="lucene", k1=BM25_K1, b=BM25_B)
        retriever.index(token_lists, show_progress=False)
        matrix = retriever.scores
        indptr = np.asarray(matrix["indptr"], dtype=np.int64)
        tokens = sorted(t for t, i in retriever.vocab_dict.items() if t and i + 1 < len(indptr))
        old = np.fromiter((retriever.vocab_dict[t] for t in tokens), np.int64, len(tokens))
        lengths = indptr[old + 1] - indptr[old]
        starts = np.zeros(len(tokens) + 1, dtype=np.int64)
        np.cumsum(lengths, out=starts[1:])
        # gather each token's slice in sorted-token order (rows stay in order within it)
        gather = np.repeat(indptr[old] - starts[:-1], lengths) + np.arange(starts[-1])
        rows = np.asarray(matrix["indices"], dtype=np.int32)[gather]
        scores = np.asarray(matrix["data"], dtype=np.float32)[gather]
        n_rows = int(matrix["num_docs"])
        del retriever, matrix, gather
        order = split_postings(starts, rows, scores, int(postings_per_token))
        params = LexicalParams(method, n_rows, int(postings_per_token))
        return cls(params, tokens, starts, rows[order], scores[order])

    def save(self, folder: Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "params.json").write_text(
            json.dumps(self.params.__dict__, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        tokens = sorted(self._id, key=self._id.__getitem__)
        (folder / "vocab.json").write_text(json.dumps(tokens, ensure_ascii=False, indent=0)
                                           + "\n", encoding="utf-8")
        np.save(folder / "starts.npy", self._starts)
        np.save(folder / "rows.npy", self._rows)
        np.save(folder / "scores.npy", self._scores)

    @classmethod
    def load(cls, folder: Path, mmap_files: bool = True) -> LexicalIndex:
        """Open a saved index; postings stay on disk, memory-mapped, read where touched."""
        folder = Path(folder)
        missing = [name for name in _FILES if not (folder / name).is_file()]
        if missing:
            raise FileNotFoundError(f"{', '.join(missing)} missing from {str(folder)!r}")
        params = LexicalParams(**json.loads((folder / "params.json").read_text("utf-8")))
        tokens = json.loads((folder / "vocab.json").read_text("utf-8"))
        starts = np.load(folder / "starts.npy")
        mode: Literal["r"] | None = "r" if mmap_files else None
        rows, scores = (np.load(folder / name, mmap_mode=mode) for name in ("rows.npy",
                                                                           "scores.npy"))
        for array in (rows, scores):  # postings are read in scattered slices: no read-ahead
            handle = getattr(array, "_mmap", None)
            if handle is not None and hasattr(mmap, "MADV_RANDOM"):
                handle.madvise(mmap.MADV_RANDOM)
        consistent = len(starts) == len(tokens) + 1 and int(starts[-1]) == len(rows) == len(scores)
        if not consistent:
            raise ValueError(f"the lexical index in {str(folder)!r} is inconsistent "
                             f"({len(tokens)} tokens, {len(starts)} starts, {len(rows)} rows, "
                             f"{len(scores)} scores)")
        return cls(params, tokens, starts, rows, scores)

    def document_frequencies(self) -> dict[str, int]:
        """How many passages hold each token, read off the index (no second pass)."""
        counts = np.diff(self._starts).tolist()
        return {token: counts[i] for token, i in self._id.items()}

    def scores(self, query: str, mask: np.ndarray | None = None,
               exact: bool = False) -> np.ndarray:
        """BM25 score of every passage for a query text (tokenised here)."""
        return self.token_scores(tokenize(query, self.method), mask, exact)

    def token_scores(self, tokens: Sequence[str], mask: np.ndarray | None = None,
                     exact: bool = False) -> np.ndarray:
        """BM25 score of every passage for query tokens made with ``self.method`` (0 where
        the mask is False); ``exact`` reads every posting, not only each token's best
        ``postings_per_token``."""
        ids = [self._id[t] for t in tokens if t in self._id]
        cap = None if exact else self.params.postings_per_token
        total = accumulate(self._starts, self._rows, self._scores, ids, self.params.n_rows, cap)
        return total if mask is None else np.where(mask, total, 0.0).astype(np.float32)
