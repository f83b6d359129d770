"""A question parsed once (``Query``) and the options a search takes (``SearchOptions``).

``parse_query`` cleans the question, resolves the clause reference (carrying the
document of an earlier question over to a follow-up), adds the documents' words for
everyday ones (``glossary``), and computes the tokens and the vector every later step
uses: retrieval, the refusal check and the answerer read them from the ``Query``
instead of tokenising and embedding the question again.

This module owns the search defaults and limits: the retriever names, the default
``k``, the question length limit.

Left out: spelling correction, traditional-to-simplified conversion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from rag.errors import QueryError
from rag.search.clause import ClauseRef, TitleResolver
from rag.search.glossary import expand
from rag.text import tokenize
from rag.types import DOC_TYPE_FILTERS

RetrieverName = Literal["hybrid", "bm25", "dense"]
RETRIEVERS: tuple[RetrieverName, ...] = get_args(RetrieverName)
DEFAULT_RETRIEVER: RetrieverName = "hybrid"
DEFAULT_K = 8  # hits a search returns and an answer is built from
MAX_K = 1000  # the most hits one search may ask for
MAX_QUESTION_CHARS = 2000
_FOLLOW_UP = re.compile(r"^(那|那么|这|该|它|此|如果|若|违反|其)")
FOLLOW_UP_MAX_CHARS = 24  # a longer question without a follow-up word stands alone


def clean_question(question: object) -> str:
    """A question with control characters removed; empty or oversize ones refused.

    >>> clean_question("  网吧\\x00能进吗？ ")
    '网吧能进吗？'
    >>> clean_question("  ")
    Traceback (most recent call last):
    rag.errors.QueryError: the question is empty; type a question, e.g. 网吧能让未成年人进去吗？
    """
    if not isinstance(question, str):
        raise QueryError(f"the question must be text, got {type(question).__name__}")
    text = "".join(ch for ch in question if ch in "\n\t" or ch.isprintable()).strip()
    if not text:
        raise QueryError("the question is empty; type a question, e.g. 网吧能让未成年人进去吗？")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(
            f"the question is {len(text):,} characters, over the {MAX_QUESTION_CHARS:,} limit; "
            "shorten it to the question itself"
        )
    return text


@dataclass(frozen=True)
class SearchOptions:
    """How to search: checked once, here.

    >>> SearchOptions(k=5).retriever
    'hybrid'
    >>> SearchOptions(as_of="2024年1月1日", statuses="in_force,draft").statuses
    ('draft', 'in_force')
    >>> SearchOptions(retriever="sparse")
    Traceback (most recent call last):
    rag.errors.QueryError: unknown retriever 'sparse'; use one of hybrid, bm25, dense
    """

    retriever: RetrieverName = DEFAULT_RETRIEVER
    k: int = DEFAULT_K
    doc_id: str | None = None
    doc_type: str | None = None
    as_of: str | None = None  # the day statuses are computed for, ISO; None: today
    statuses: tuple[str, ...] = ()  # documents of these statuses only; (): all but superseded

    def __post_init__(self) -> None:
        from rag.search.status import parse_as_of, parse_statuses

        if self.as_of is not None:
            object.__setattr__(self, "as_of", parse_as_of(self.as_of))
        object.__setattr__(self, "statuses", parse_statuses(self.statuses))
        if self.retriever not in RETRIEVERS:
            raise QueryError(f"unknown retriever {self.retriever!r}; "
                             f"use one of {', '.join(RETRIEVERS)}")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= MAX_K:
            raise QueryError(f"k={self.k!r} is out of range; use a whole number from 1 to {MAX_K}")
        if self.doc_type is not None and self.doc_type not in DOC_TYPE_FILTERS:
            raise QueryError(f"unknown document type {self.doc_type!r}; "
                             f"use one of {', '.join(DOC_TYPE_FILTERS)}")


@dataclass(frozen=True, eq=False)
class Query:
    """One question, parsed once."""

    question: str  # the cleaned question, as asked
    text: str  # what is searched for: the question, its documents' words, a follow-up's title
    ref: ClauseRef  # the article and the documents it names
    terms: tuple[str, ...]  # word tokens of ``text`` (jieba), for coverage and quoting
    tokens: tuple[str, ...]  # tokens of ``text`` in the lexical index's own method
    vector: np.ndarray | None = field(default=None, repr=False)  # the query embedding


def resolve_with_history(titles: TitleResolver, question: str,
                         history: Sequence[str] = ()) -> ClauseRef:
    """The clause reference of a question, documents carried over from a follow-up."""
    ref = titles.resolve(question)
    if ref.doc_ids or not history:
        return ref
    if len(question) > FOLLOW_UP_MAX_CHARS and not _FOLLOW_UP.match(question):
        return ref
    for earlier in reversed(history):
        previous = titles.resolve(earlier)
        if previous.doc_ids:
            return ClauseRef(ref.article_no, previous.doc_ids, previous.mention,
                             article_sub=ref.article_sub)
    return ref


def parse_query(question: object, titles: TitleResolver, lexical_method: str,
                embed: Callable[[str], np.ndarray] | None,
                history: Sequence[str] = ()) -> Query:
    """The ``Query`` of a question: cleaned, resolved, expanded, tokenised, embedded."""
    cleaned = clean_question(question)
    ref = resolve_with_history(titles, cleaned, history)
    text = expand(cleaned)
    if ref.mention and ref.mention not in cleaned:  # a follow-up: say what it is about
        text = f"{ref.mention} {text}"
    terms = tuple(tokenize(text, "jieba"))
    tokens = terms if lexical_method == "jieba" else tuple(tokenize(text, lexical_method))
    vector = embed(text) if embed is not None else None
    return Query(cleaned, text, ref, terms, tokens, vector)
