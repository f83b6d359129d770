"""Search backends: where the ranking runs, behind one protocol (``base.SearchBackend``).

``make_backend(name, index)`` picks one by name: ``local`` (FAISS and our BM25 posting
lists, the default on one machine) or ``milvus`` (a Milvus collection: Milvus Lite for
a local ``.db`` path, a Milvus server for an ``http://`` URI; ``milvus_uri``, else
RAGQA_MILVUS_URI, else ``.ragqa/milvus.db``). A new backend adds a module here and one
entry in ``BACKENDS``; nothing else changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rag.errors import QueryError
from rag.index.folder import LoadedIndex

from .base import Scope, SearchBackend

DEFAULT_BACKEND = "local"


def _local(index: LoadedIndex, milvus_uri: str | None = None) -> SearchBackend:
    from .local import LocalBackend

    return LocalBackend(index)


def _milvus(index: LoadedIndex, milvus_uri: str | None = None) -> SearchBackend:
    from .milvus import MilvusBackend

    return MilvusBackend(index, milvus_uri)


BACKENDS: dict[str, Callable[..., SearchBackend]] = {"local": _local, "milvus": _milvus}
ENV_BACKEND = "RAGQA_BACKEND"


def make_backend(name: str | None, index: LoadedIndex,
                 milvus_uri: str | None = None) -> SearchBackend:
    """The backend called ``name`` over a loaded index.

    >>> make_backend("elastic", None)
    Traceback (most recent call last):
    rag.errors.QueryError: unknown search backend 'elastic'; use one of local, milvus
    """
    name = backend_name(name)
    factory = BACKENDS.get(name)
    if factory is None:
        raise QueryError(f"unknown search backend {name!r}; use one of {', '.join(BACKENDS)}")
    return factory(index, milvus_uri)


def backend_name(name: str | None = None) -> str:
    """The backend to use: ``name``, else RAGQA_BACKEND, else ``local``.

    >>> backend_name("milvus")
    'milvus'
    """
    return (name or os.environ.get(ENV_BACKEND) or DEFAULT_BACKEND).strip().lower()


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "ENV_BACKEND", "Scope", "SearchBackend", "backend_name",
           "make_backend"]
