"""The protocol every answerer implements, and the factory that picks one.

An answerer turns the ranked hits of a parsed question into a cited ``Answer``. The
offline answerer (``offline``) always exists and decides refusals; a configured
language model (``llm``) writes the answer on top of it and falls back to it.

Left out: answerers that retrieve for themselves (agents), streaming.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from rag.search.query import Query
from rag.types import Answer, Hit

if TYPE_CHECKING:
    from rag.answer.llm import LLMConfig
    from rag.answer.offline import Basis, SupportModel


class Answerer(Protocol):
    """Hits to a cited answer; ``basis`` None means the hits came from a clause lookup."""

    name: str

    def answer(self, query: Query, hits: Sequence[Hit], basis: Basis | None) -> Answer: ...


def make_answerer(support: SupportModel, llm: LLMConfig | None = None) -> Answerer:
    """The offline answerer, with a language model on top when one is configured."""
    from rag.answer.llm import LLMAnswerer
    from rag.answer.offline import OfflineAnswerer

    offline = OfflineAnswerer(support)
    return offline if llm is None else LLMAnswerer(llm, offline)
