"""search: a question to ranked hits over one loaded index.

- ``query``: the question parsed once (``Query``) and the typed ``SearchOptions``.
- ``clause``: which article and which document a question names (``TitleResolver``).
- ``glossary``: everyday words to the documents' words.
- ``ask``: what a question asks for (yes/no, a number, who, where, how, a penalty).
- ``figures``: passages holding the asked kind of number first, for fact questions.
- ``status``: a document's status on a day (in force, expired, superseded, draft).
- ``fusion``: reciprocal rank fusion and ordering, pure functions.
- ``backends``: where the ranking runs (``local``: FAISS and our BM25; ``milvus``), one
  protocol, picked by ``make_backend``.
- ``retrieve``: clause lookup first, then dense / BM25 / hybrid through a backend.
- ``rerank``: an optional cross-encoder over the top hits.

Imports ``rag.index``, ``rag.ingest`` and the shared values; never ``rag.answer``.
"""
