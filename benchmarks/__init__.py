"""Benchmarks of the ragqa system on this machine: ``python -m benchmarks.run``.

Benchmarks (``--only NAME``):

- ``build``: index build rate per step (ingest, embedding cold and warm, FAISS, BM25,
  the whole build) and a rebuild after one corpus file changed.
- ``latency``: ``Pipeline.search`` and ``Pipeline.ask`` p50/p95/max over the gold
  questions, for hybrid, dense and bm25 (warm, single-threaded).
- ``throughput``: answers per second from 1, 4 and 8 concurrent clients against a
  ``ragqa serve`` server (gradio_client), and against ``Pipeline.ask`` in-process.
- ``memory``: peak resident size of a process that loads the pipeline and answers
  questions (a clean subprocess), and the index size on disk per file.
- ``startup``: seconds from launching ``ragqa serve`` to the port opening, to the first
  answer over its JSON API (``/api/ask``) and to the web UI answering (gradio_client).
- ``scale``: synthetic corpora of 10^4, 10^5 and 10^6 passages: FAISS flat, hnsw32
  (efSearch swept) and ivf+sq8 build time, latency, recall@10 and memory, BM25 build
  and latency, and a serving process holding it all.

Every figure is stored with the load average when it was taken and the command that
produced it: ``benchmarks/results/results.json`` and ``results.md``, plus one JSON
file per benchmark. Scratch data goes to ``benchmarks/results/tmp/`` (git-ignored).
"""
