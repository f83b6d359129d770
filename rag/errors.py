"""Typed errors. The library raises them; the CLI and the UI turn them into messages.

Every message names the offending value and says how to fix it.
"""


REBUILD_HINT = "rebuild it with: ragqa index --rebuild"  # ends every damaged-index message


class RagError(Exception):
    """Base class of every error this library raises on purpose."""


class CorpusError(RagError):
    """A corpus folder or file cannot be read."""


class IndexMissingError(RagError):
    """No index folder where one was expected."""


class IndexMismatchError(RagError):
    """The index was built with another embedder, corpus or format, or is damaged."""


class EmbedderError(RagError):
    """An embedding model cannot be loaded or used."""


class QueryError(RagError):
    """A question or a search option is not acceptable."""


class CheckInputError(RagError):
    """A text given to the reference checker is empty, too long or not text."""


class LLMError(RagError):
    """The language-model endpoint failed, timed out or answered garbage."""


class EmbeddingIncompleteError(RagError):
    """A change is in the index and searchable by keyword, but embedding its new passages
    failed; the index answers, finding them by keyword only."""


class DocumentReadError(CorpusError):
    """One file cannot be read: unsupported, lying about its type, encrypted, damaged, empty."""


class BackendUnavailableError(RagError):
    """A search backend's server (Milvus) or a compute cluster (Ray) does not answer."""


class PageRequestError(CorpusError):
    """A page asked of an indexed file (to show it) that the index does not have."""
