"""rag: retrieval-augmented question answering over Chinese legal and government texts.

Data flows one way, a sub-package per stage, each importing only earlier stages and
the shared values (``types``, ``errors``, ``numerals``, ``text``, ``embed``):

    ingest  files -> Documents -> Passages             (no model)
    index   Passages -> the index folder on disk        (vectors, BM25, store, cache)
    search  question -> Query -> Hits                   (clause lookup, backends, fusion)
    answer  Hits -> Answer                              (offline, language model)

``Pipeline`` (``rag.pipeline``) is the front door: it loads an index and answers;
``LivePipeline`` (``rag.live``) follows rebuilds while serving.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["LivePipeline", "Pipeline"]


def __getattr__(name: str) -> Any:  # imported on first use: ``import rag`` stays light
    if name == "Pipeline":
        from rag.pipeline import Pipeline

        return Pipeline
    if name == "LivePipeline":
        from rag.live import LivePipeline

        return LivePipeline
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
