"""Embeddings shipped with a corpus folder, so a fresh clone builds its index in seconds.

Two files per embedder, beside the gazettes (``rag.ingest.corpus`` reads no subfolder)::

    <corpus>/embeddings/<embedder folder name>.json   embedder name and version, dim,
                                                      rows, sha256 of the .npz
    <corpus>/embeddings/<embedder folder name>.npz    keys (rows, 32) uint8: sha256 of
                                                      each passage's embedding text,
                                                      sorted; vectors (rows, dim) float16

The folder name is ``rag.index.embed_cache.cache_folder_name`` of the embedder's name.
A build uses the file only when the running embedder has the same name, version and dimension,
and takes a passage's vector only when the sha256 of its embedding text is a key;
every other passage is embedded as usual. A file that fails its checks (checksum,
shapes, sorted unique keys, finite rows of unit norm) is ignored with a warning.

Precision: the vectors are stored as float16. Every build rounds its vectors to float16
and widens them back to float32 for FAISS (:func:`index_precision`), whichever their
source (this file, the local cache or the model), so an index built from this file is
the index a build that embeds everything writes. Rounding moves a component by at most
2^-11 of its value (at most 6.1e-5 on this corpus) and an inner product by under 1e-4.
On eval/gold.jsonl every figure of bm25 and hybrid stays the same to the third
decimal; hybrid MRR@10 and nDCG@10 move by 0.0001 (two questions' relevant passage
move one rank), dense key points by +0.002 (README).

Tolerance against the model (``tests/test_shipped.py`` re-embeds about 20 passages):
each shipped component within :data:`TOLERANCE` of the model's, and the inner product
of the two vectors at least :data:`MIN_COSINE` (measured here: 6.1e-5 and 0.99997;
the margin is for the model's own float differences between machines).

Left out: more than one file per embedder, partial updates (``ragqa index
--export-embeddings`` rewrites the file from the current corpus), and vectors of
passages that are no longer in the corpus.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.index.embed_cache import cache_folder_name, text_key, unit_rows_problem

log = logging.getLogger(__name__)

FORMAT = 1
FOLDER = "embeddings"
DTYPE = np.float16
TOLERANCE = 1e-3  # largest |shipped - model| of one component accepted by the check
MIN_COSINE = 0.9995  # smallest inner product of a shipped vector and the model's
NORM_TOLERANCE = 2e-3  # |norm - 1| of a float16 row (rounding moves it by about 1e-5)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member dates: the same vectors, the same bytes


def embedder_version(embedder: object) -> str:
    """The version a shipped file must match: the embedder's ``version``, or ""."""
    return str(getattr(embedder, "version", "") or "")


def index_precision(vectors: np.ndarray) -> np.ndarray:
    """Vectors as every index stores them: rounded to float16, widened to float32.

    >>> v = np.array([[0.6, 0.8]], dtype=np.float32)
    >>> index_precision(v).dtype, float(abs(index_precision(v) - v).max()) < 2.5e-4
    (dtype('float32'), True)
    >>> bool((index_precision(index_precision(v)) == index_precision(v)).all())
    True
    """
    return np.ascontiguousarray(np.asarray(vectors, dtype=DTYPE), dtype=np.float32)


def shipped_paths(corpus_dir: str | Path, embedder_name: str) -> tuple[Path, Path]:
    """(json, npz) of the shipped embeddings of ``embedder_name`` in a corpus folder."""
    stem = Path(corpus_dir) / FOLDER / cache_folder_name(embedder_name)
    return stem.with_suffix(".json"), stem.with_suffix(".npz")


@dataclass(frozen=True)
class ShippedInfo:
    """The .json beside the vectors."""

    format: int
    embedder: str
    embedder_version: str
    dim: int
    dtype: str
    rows: int
    npz_sha256: str


class ShippedEmbeddings:
    """The verified vectors of one shipped file, looked up by passage-text hash."""

    def __init__(self, info: ShippedInfo, keys: np.ndarray, vectors: np.ndarray) -> None:
        self.info = info
        self._row = {bytes(k).hex(): i for i, k in enumerate(keys)}
        self._vectors = vectors

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, key: str) -> bool:
        return key in self._row

    def text_keys(self) -> list[str]:
        """Every text key of the file, sorted."""
        return sorted(self._row)

    def vectors_of(self, keys: Sequence[str]) -> np.ndarray:
        """float32 vectors of these text keys (each must be present)."""
        rows = np.fromiter((self._row[k] for k in keys), np.int64, len(keys))
        return self._vectors[rows].astype(np.float32)

    @classmethod
    def load(cls, corpus_dir: str | Path, embedder: object) -> ShippedEmbeddings | None:
        """The shipped vectors for ``embedder`` in ``corpus_dir``; None if there are none
        for it (another name, version or dimension) or the file fails a check."""
        name = str(getattr(embedder, "name", ""))
        json_path, npz_path = shipped_paths(corpus_dir, name)
        if not json_path.is_file():
            return None
        try:
            info = ShippedInfo(**json.loads(json_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            log.warning("shipped embeddings %s are unreadable (%s); embedding instead",
                        json_path, exc)
            return None
        wanted = (FORMAT, name, embedder_version(embedder), int(getattr(embedder, "dim", 0)))
        found = (info.format, info.embedder, info.embedder_version, info.dim)
        if found != wanted:
            log.info("shipped embeddings %s are for %s, not %s; not used", json_path, found,
                     wanted)
            return None
        try:
            data = npz_path.read_bytes()
            problem = "" if hashlib.sha256(data).hexdigest() == info.npz_sha256 else (
                "its sha256 differs from the one recorded")
            if not problem:
                with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
                    keys, vectors = arrays["keys"], arrays["vectors"]
                problem = _problem(info, keys, vectors)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            log.warning("shipped embeddings %s fail a check (%s); embedding instead", npz_path,
                        problem)
            return None
        return cls(info, keys, vectors)


def _problem(info: ShippedInfo, keys: np.ndarray, vectors: np.ndarray) -> str:
    if info.dtype != np.dtype(DTYPE).name or vectors.dtype != DTYPE:
        return f"vectors are {vectors.dtype} (recorded {info.dtype}), expected float16"
    if keys.dtype != np.uint8 or keys.shape != (info.rows, 32):
        return f"keys are {keys.dtype} {keys.shape}, expected uint8 {(info.rows, 32)}"
    if vectors.shape != (info.rows, info.dim):
        return f"vectors are {vectors.shape}, expected {(info.rows, info.dim)}"
    as_bytes = [bytes(k) for k in keys]
    if any(a >= b for a, b in zip(as_bytes, as_bytes[1:], strict=False)):
        return "keys are not sorted and unique"
    return unit_rows_problem(vectors.astype(np.float32), NORM_TOLERANCE)


def write_shipped(corpus_dir: str | Path, embedder: object, texts: Sequence[str],
                  vectors: np.ndarray) -> tuple[Path, Path]:
    """Write the shipped embeddings of ``texts`` (duplicates once, keys sorted); the same
    texts and vectors give the same bytes. Returns (json, npz)."""
    return write_shipped_keys(corpus_dir, embedder, [text_key(t) for t in texts], vectors)


def write_shipped_keys(corpus_dir: str | Path, embedder: object, keys: Sequence[str],
                       vectors: np.ndarray) -> tuple[Path, Path]:
    """:func:`write_shipped` of vectors given by text key (sha256 hex) instead of text."""
    name = str(getattr(embedder, "name", ""))
    json_path, npz_path = shipped_paths(corpus_dir, name)
    by_key = {k: row for row, k in enumerate(keys)}
    order = sorted(by_key)
    packed = np.array([np.frombuffer(bytes.fromhex(k), np.uint8) for k in order],
                      dtype=np.uint8).reshape(len(order), 32)
    rows = np.fromiter((by_key[k] for k in order), np.int64, len(order))
    half = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32)[rows], dtype=DTYPE)
    data = _npz_bytes({"keys": packed, "vectors": half})
    info = ShippedInfo(FORMAT, name, embedder_version(embedder), int(half.shape[1]),
                       np.dtype(DTYPE).name, len(order), hashlib.sha256(data).hexdigest())
    problem = _problem(info, packed, half)
    if problem:
        raise ValueError(f"refusing to write shipped embeddings: {problem}")
    npz_path.parent.mkdir(parents=True, exist_ok=True)
    npz_path.write_bytes(data)
    record = {k: getattr(info, k) for k in ShippedInfo.__dataclass_fields__}
    json_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return json_path, npz_path


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed .npz that ``np.load`` reads, with fixed member dates."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.save(member, arrays[name], allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_DATE),
                             member.getvalue())
    return buffer.getvalue()
