"""Constants shared by the Gradio page (``ui.app``, ``ui.handlers``) and the JSON API
(``ui.api``). Nothing is imported here, so the API can use them before gradio loads.
"""

from __future__ import annotations

TITLE = "山西省政府公报智能问答"

RETRIEVERS = ("hybrid", "dense", "bm25")
DEFAULT_K = 8
MAX_K = 20
MAX_QUESTION_CHARS = 500  # the question box's limit (the library has its own)
HISTORY_LIMIT = 6  # earlier questions passed to the pipeline for follow-ups
MAX_HISTORY_ITEMS = 50  # what the JSON API accepts; only the last HISTORY_LIMIT are used

QUEUE_CONCURRENCY = 4  # questions answered at once (the page's queue and the JSON API)
QUEUE_MAX_SIZE = 64
