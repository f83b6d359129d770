"""index: everything on disk that a question is answered from.

- ``folder``: the index folder's format, read and written by this one owner (manifest,
  file names, checksums, the atomic swap, ``open_index``).
- ``store``: passages read from disk by row, numpy columns for ranking.
- ``lexical``: BM25 as capped posting lists (numpy files, memory-mapped).
- ``vectors``: the FAISS index (kind by corpus size, build, search parameters).
- ``embed_cache``: passage embeddings cached by text hash, so rebuilds embed only what changed.
- ``shipped``: the corpus's embeddings kept in the repository (float16, checked by hash).
- ``ray_embed``: embedding cache misses on a Ray cluster (or a local Ray).
- ``milvus``: the Milvus collection a build writes (alias switched when complete).
- ``collection``: the files an index is built from (``ragqa add`` / ``remove``).
- ``pages``: the pages of kept PDFs and images, rendered for a source viewer.
- ``build``: corpus folder -> a new index folder, swapped in whole.

Imports only ``rag.ingest`` and the shared values (``rag.types``, ``rag.errors``,
``rag.text``, ``rag.embed``); nothing here runs at question time except loading.
"""
