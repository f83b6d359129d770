"""Constants shared by the Gradio page (``ui.app``, ``ui.handlers``) and the JSON API
(``ui.api``). Only light library modules are imported here, so the API can use them
before gradio loads. The search defaults and limits are the library's
(``rag.search.query``); what is here is the page's own.
"""

from __future__ import annotations

from rag.search.query import DEFAULT_K, DEFAULT_RETRIEVER, MAX_QUESTION_CHARS, RETRIEVERS

TITLE = "山西省政府公报智能问答"

MAX_K = 20  # the page and the JSON API offer at most this many passages
HISTORY_LIMIT = 6  # earlier questions passed to the pipeline for follow-ups
MAX_HISTORY_ITEMS = 50  # what the JSON API accepts; only the last HISTORY_LIMIT are used

QUEUE_CONCURRENCY = 4  # questions answered at once (the page's queue and the JSON API)
QUEUE_MAX_SIZE = 64

__all__ = ["DEFAULT_K", "DEFAULT_RETRIEVER", "HISTORY_LIMIT", "MAX_HISTORY_ITEMS", "MAX_K",
           "MAX_QUESTION_CHARS", "QUEUE_CONCURRENCY", "QUEUE_MAX_SIZE", "RETRIEVERS", "TITLE"]
