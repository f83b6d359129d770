"""answer: ranked hits to a cited ``Answer``.

- ``offline``: the extractive answerer (always available; decides refusals).
- ``llm``: an OpenAI-compatible model writing from the numbered passages, every ``[n]``
  checked, the offline answer its fallback.

Imports ``rag.search`` and earlier stages; the front door (``rag.pipeline``) calls it.
"""
