"""Search backends: where the ranking runs, behind one protocol (``base.SearchBackend``).

``make_backend(name, index)`` picks one by name: ``local`` (FAISS and our BM25 posting
lists, the default on one machine). A new backend adds a module here and one entry in
``BACKENDS``; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable

from rag.errors import QueryError
from rag.index.folder import LoadedIndex

from .base import Scope, SearchBackend

DEFAULT_BACKEND = "local"


def _local(index: LoadedIndex) -> SearchBackend:
    from .local import LocalBackend

    return LocalBackend(index)


BACKENDS: dict[str, Callable[[LoadedIndex], SearchBackend]] = {"local": _local}


def make_backend(name: str, index: LoadedIndex) -> SearchBackend:
    """The backend called ``name`` over a loaded index.

    >>> make_backend("elastic", None)
    Traceback (most recent call last):
    rag.errors.QueryError: unknown search backend 'elastic'; use one of local
    """
    factory = BACKENDS.get(name)
    if factory is None:
        raise QueryError(f"unknown search backend {name!r}; use one of {', '.join(BACKENDS)}")
    return factory(index)


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Scope", "SearchBackend", "make_backend"]
