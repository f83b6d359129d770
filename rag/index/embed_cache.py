"""On-disk cache of passage embeddings, so a rebuild embeds only new or changed passages.

Keyed by (embedder name, sha256 of the passage text). Layout, all plain files::

    <root>/<embedder name made filesystem-safe>-<10 hex of sha256(name)>/
        meta.json                      {"embedder": ..., "dim": 384, "format": 1}
        <shard id>.npy                 float32 matrix (rows, dim)
        <shard id>.keys.txt            one sha256 hex per line, in row order

A shard is written as ``.npy`` first and ``.keys.txt`` second, each to a temporary name
that ``os.replace`` then moves into place; the keys file is the commit mark, so a build
killed at any moment leaves only whole shards (plus temporaries, swept later). Misses
are embedded and flushed ``flush_every`` passages at a time, so a killed build keeps
what it paid for. When shards pile up they are merged into one.

On open every shard is read once and checked (dimension, row count, key format, finite
unit-norm rows); a bad shard is deleted with a logged warning and its passages are simply
embedded again. A cache that cannot be written (read-only, disk full) is also only
warned about: vectors then live in memory for this process.

Left out on purpose: eviction of entries no passage uses any more (delete the folder to
reset), locking between processes (concurrent writers cannot corrupt it, they may only
duplicate work), query embeddings, and detection of a model whose weights changed under
an unchanged ``Embedder.name``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import EmbedderError

log = logging.getLogger(__name__)

FORMAT = 1
FLUSH_EVERY = 256  # misses embedded between two shard writes
MAX_SHARDS = 32  # more than this and the folder is merged into one shard
STALE_TEMP_SECONDS = 3600.0  # older temporaries and orphans are swept on open
NORM_TOLERANCE = 1e-3

_KEYS_RE = re.compile(r"(?:[0-9a-f]{64}\n)*")
_KEYS_SUFFIX = ".keys.txt"
_TMP_PREFIX = ".tmp-"

PROGRESS_EVERY = 16  # misses embedded between two calls of on_progress
EmbedFn = Callable[[list[str]], np.ndarray]
ProgressFn = Callable[[int, int], None]  # (passages embedded so far, passages to embed)


@dataclass(frozen=True)
class CacheStats:
    """``hits + misses == len(texts)``; misses are the distinct texts embedded this call."""

    hits: int
    misses: int
    seconds: float


@dataclass(frozen=True)
class _Shard:
    stem: str  # file name without suffix; "" for vectors kept only in memory
    keys: tuple[str, ...]
    vectors: np.ndarray


def text_key(text: str) -> str:
    """The cache key of a passage text: sha256 hex of its UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def cache_root(index_dir: str | Path) -> Path:
    """Where an index's caches live (embeddings, OCR'd pages): ``cache`` beside the index
    folder, so indexes side by side share them.

    >>> cache_root(".ragqa/index").as_posix()
    '.ragqa/cache'
    """
    return Path(index_dir).parent / "cache"


def cache_folder_name(embedder_name: str) -> str:
    """A filesystem-safe, collision-free folder name for an embedder name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", embedder_name).strip("._-")[:80] or "embedder"
    digest = hashlib.sha256(embedder_name.encode("utf-8")).hexdigest()[:10]
    return f"{safe}-{digest}"


class EmbeddingCache:
    """Passage vectors of one embedder, looked up by text hash. Not thread-safe."""

    def __init__(
        self, root: Path, embedder_name: str, dim: int, flush_every: int = FLUSH_EVERY
    ) -> None:
        if dim < 1 or flush_every < 1:
            raise ValueError(f"dim={dim} and flush_every={flush_every} must both be positive")
        self.embedder_name = embedder_name
        self.dim = dim
        self.flush_every = flush_every
        self.path = Path(root) / cache_folder_name(embedder_name)
        self._writable = True
        self._shards: list[_Shard] = []
        self._index: dict[str, int] = {}
        self._offsets = np.zeros(0, dtype=np.int64)
        self._open()

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, text: str) -> bool:
        """Whether a text's vector is cached."""
        return text_key(text) in self._index

    # ------------------------------------------------------------------ public

    def embed(
        self, texts: Sequence[str], embed_fn: EmbedFn, progress: bool = False,
        on_progress: ProgressFn | None = None,
    ) -> tuple[np.ndarray, CacheStats]:
        """Vectors for ``texts`` (row order kept), embedding only the texts not cached.

        ``embed_fn(list_of_texts) -> (n, dim)`` is called on chunks of misses, e.g.
        ``embedder.embed_passages``; ``progress`` shows one bar over all misses on stderr;
        ``on_progress(done, total)`` is called before the first chunk and after every
        ``PROGRESS_EVERY`` misses.
        """
        started = time.perf_counter()
        keys = [text_key(t) for t in _check_texts(texts)]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._index}
        self._embed_missing(missing, embed_fn, progress, on_progress)
        vectors = self._gather(np.fromiter((self._index[k] for k in keys), np.int64, len(keys)))
        if len(self._shards) > MAX_SHARDS:
            self._compact()
        seconds = time.perf_counter() - started
        return vectors, CacheStats(len(keys) - len(missing), len(missing), seconds)

    def text_keys(self) -> list[str]:
        """Every cached text key, sorted."""
        return sorted(self._index)

    def vectors_of(self, keys: Sequence[str]) -> np.ndarray:
        """float32 vectors of these text keys, in order (each must be cached)."""
        return self._gather(np.fromiter((self._index[k] for k in keys), np.int64, len(keys)))

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> int:
        """Keep vectors computed elsewhere (another cache, a shipped file) under their text
        keys, as one shard; keys already cached are skipped. Returns how many were added.

        The rows get the checks an embedder's output gets (dimension, finite, unit norm).
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.dim):
            raise EmbedderError(f"{len(keys)} keys and vectors of shape {vectors.shape}; "
                                f"expected {(len(keys), self.dim)}")
        problem = unit_rows_problem(vectors) or (
            "" if _KEYS_RE.fullmatch("".join(k + "\n" for k in keys)) else "bad text keys")
        if problem:
            raise EmbedderError(f"vectors for the {self.embedder_name!r} cache: {problem}")
        new = sorted({k: row for row, k in enumerate(keys) if k not in self._index}.items())
        if new:
            rows = np.fromiter((row for _, row in new), np.int64, len(new))
            self._append(tuple(k for k, _ in new), vectors[rows])
        return len(new)

    # ------------------------------------------------------------------ reading

    def _open(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self._check_meta()
        except OSError as exc:
            self._disable_writes(f"cannot prepare {self.path}: {exc}")
        if not self.path.is_dir():
            return
        self._sweep_leftovers()
        for keys_path in sorted(self.path.glob("*" + _KEYS_SUFFIX)):
            shard = self._read_shard(keys_path.name[: -len(_KEYS_SUFFIX)])
            if shard is not None:
                self._register(shard)

    def _check_meta(self) -> None:
        meta_path = self.path / "meta.json"
        wanted = {"embedder": self.embedder_name, "dim": self.dim, "format": FORMAT}
        try:
            found = json.loads(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            found = None
        except (OSError, ValueError) as exc:
            log.warning("embedding cache: %s is unreadable (%s); rewriting it", meta_path, exc)
            found = None
        if found is not None and found != wanted:
            log.warning(
                "embedding cache: %s records %s but %s is wanted; discarding its shards",
                meta_path,
                found,
                wanted,
            )
            for path in self._shard_files():
                path.unlink(missing_ok=True)
        if found != wanted:
            _atomic_write(meta_path, json.dumps(wanted, ensure_ascii=False).encode("utf-8"))

    def _read_shard(self, stem: str) -> _Shard | None:
        keys_path = self.path / (stem + _KEYS_SUFFIX)
        vectors_path = self.path / (stem + ".npy")
        try:
            content = keys_path.read_text(encoding="ascii")
            vectors = np.load(vectors_path, allow_pickle=False)
            problem = self._shard_problem(content, vectors)
        except (OSError, ValueError, EOFError) as exc:  # unreadable, truncated, not .npy
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            log.warning(
                "embedding cache: discarding damaged shard %s (%s); its passages will be "
                "embedded again",
                vectors_path,
                problem,
            )
            for path in (keys_path, vectors_path):
                _unlink_quietly(path)
            return None
        return _Shard(stem, tuple(content.split()), vectors)

    def _shard_problem(self, keys_text: str, vectors: np.ndarray) -> str:
        if not _KEYS_RE.fullmatch(keys_text):
            return "keys file is not one sha256 hex per line"
        rows = keys_text.count("\n")
        if vectors.dtype != np.float32 or vectors.shape != (rows, self.dim):
            return (
                f"vectors are {vectors.dtype} {vectors.shape}, expected float32 {(rows, self.dim)}"
            )
        return unit_rows_problem(vectors)

    def _shard_files(self) -> Iterable[Path]:
        yield from self.path.glob("*.npy")
        yield from self.path.glob("*" + _KEYS_SUFFIX)

    def _sweep_leftovers(self) -> None:
        """Delete old temporaries and old vectors files whose keys file never arrived."""
        cutoff = time.time() - STALE_TEMP_SECONDS
        orphans = [
            p
            for p in self.path.glob("*.npy")
            if not (self.path / (p.name[: -len(".npy")] + _KEYS_SUFFIX)).exists()
        ]
        for path in [*self.path.glob(_TMP_PREFIX + "*"), *orphans]:
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    # ------------------------------------------------------------------ lookups

    def _register(self, shard: _Shard) -> None:
        start = sum(len(s.keys) for s in self._shards)
        self._shards.append(shard)
        self._offsets = np.append(self._offsets, start)
        for row, key in enumerate(shard.keys, start):
            self._index.setdefault(key, row)

    def _gather(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        which = np.searchsorted(self._offsets, rows, side="right") - 1
        for shard_no in np.unique(which):
            mask = which == shard_no
            out[mask] = self._shards[shard_no].vectors[rows[mask] - self._offsets[shard_no]]
        return out

    # ------------------------------------------------------------------ writing

    def _embed_missing(self, missing: dict[str, str], embed_fn: EmbedFn, progress: bool,
                       on_progress: ProgressFn | None) -> None:
        if not missing:
            return
        from tqdm import tqdm

        items = list(missing.items())
        desc = f"embedding ({self.embedder_name})"
        done = 0
        if on_progress is not None:
            on_progress(0, len(items))
        with tqdm(
            total=len(items), unit="passage", desc=desc, file=sys.stderr, disable=not progress
        ) as bar:
            for start in range(0, len(items), self.flush_every):
                chunk = items[start : start + self.flush_every]
                parts = []
                step = PROGRESS_EVERY if on_progress is not None else len(chunk)
                for at in range(0, len(chunk), step):
                    texts = [text for _, text in chunk[at : at + step]]
                    parts.append(self._call_embed_fn(embed_fn, texts))
                    done += len(texts)
                    bar.update(len(texts))
                    if on_progress is not None:
                        on_progress(done, len(items))
                self._append(tuple(key for key, _ in chunk), np.concatenate(parts))

    def _call_embed_fn(self, embed_fn: EmbedFn, texts: list[str]) -> np.ndarray:
        vectors = np.ascontiguousarray(embed_fn(texts), dtype=np.float32)
        if vectors.shape != (len(texts), self.dim):
            raise EmbedderError(
                f"embedder {self.embedder_name!r} returned shape {vectors.shape} for "
                f"{len(texts)} texts, expected {(len(texts), self.dim)}; the cache was "
                "opened with the wrong dim or embed_fn"
            )
        problem = unit_rows_problem(vectors)
        if problem:
            raise EmbedderError(f"embedder {self.embedder_name!r} returned bad vectors: {problem}")
        return vectors

    def _append(self, keys: tuple[str, ...], vectors: np.ndarray) -> None:
        stem = self._write_shard(keys, vectors) if self._writable else ""
        self._register(_Shard(stem, keys, vectors))

    def _write_shard(self, keys: Sequence[str], vectors: np.ndarray) -> str:
        stem = f"{time.time_ns():020d}-{os.getpid()}-{secrets.token_hex(3)}"
        try:
            _atomic_write(self.path / (stem + ".npy"), _npy_bytes(vectors))
            _atomic_write(
                self.path / (stem + _KEYS_SUFFIX), "".join(k + "\n" for k in keys).encode("ascii")
            )
        except OSError as exc:
            self._disable_writes(f"cannot write to {self.path}: {exc}")
            return ""
        return stem

    def _compact(self) -> None:
        """Merge every shard into one (duplicates dropped); old files go after it commits."""
        order = sorted(self._index.items(), key=lambda item: item[1])
        keys = tuple(key for key, _ in order)
        vectors = self._gather(np.fromiter((row for _, row in order), np.int64, len(order)))
        old = [s.stem for s in self._shards if s.stem]
        stem = self._write_shard(keys, vectors) if self._writable else ""
        if self._writable:
            for old_stem in old:
                _unlink_quietly(self.path / (old_stem + _KEYS_SUFFIX))
                _unlink_quietly(self.path / (old_stem + ".npy"))
        self._shards, self._index, self._offsets = [], {}, np.zeros(0, dtype=np.int64)
        self._register(_Shard(stem, keys, vectors))

    def _disable_writes(self, reason: str) -> None:
        if self._writable:
            log.warning("embedding cache: %s; keeping new vectors in memory only", reason)
        self._writable = False


# ---------------------------------------------------------------------- helpers


def _check_texts(texts: Sequence[str]) -> Sequence[str]:
    if isinstance(texts, str):
        raise EmbedderError("EmbeddingCache.embed got one string; pass a list of passage texts")
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise EmbedderError(
            f"EmbeddingCache.embed got a {type(bad).__name__} ({bad!r:.60}); pass passage texts"
        )
    return texts


def unit_rows_problem(vectors: np.ndarray, tolerance: float = NORM_TOLERANCE) -> str:
    """What is wrong with rows that should be finite and of unit length ("" if nothing).

    >>> unit_rows_problem(np.eye(2, dtype=np.float32)), unit_rows_problem(np.ones((1, 2)))
    ('', 'rows not L2-normalised (norms 1.4142..1.4142)')
    """
    if not np.isfinite(vectors).all():
        return "NaN or infinite values"
    norms = np.linalg.norm(vectors, axis=1)
    if len(norms) and np.abs(norms - 1.0).max() > tolerance:
        return f"rows not L2-normalised (norms {norms.min():.4f}..{norms.max():.4f})"
    return ""


def _npy_bytes(vectors: np.ndarray) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    return buffer.getvalue()


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary in the same folder, fsync, then os.replace."""
    tmp = path.with_name(f"{_TMP_PREFIX}{secrets.token_hex(4)}-{path.name}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("embedding cache: cannot delete %s: %s", path, exc)
