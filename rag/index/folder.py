"""The index folder: build it atomically, load it with every check that keeps answers honest.

Layout (plain, readable files)::

    manifest.json      format version, embedder, dimension, corpus hash, chunking and
                       index parameters, and a sha256 of every other file
    passages.jsonl     one passage a line (UTF-8, not ASCII-escaped)
    passage_rows.npy   per passage: its line's offset and length, document, article
                       number, id order (``rag.index.store``: passages are read when needed)
    documents.jsonl    one document a line (metadata, no body)
    quotations.json    for each regulation, the documents that quote its 《title》
    vectors.faiss      the FAISS index over the passage vectors (inner product)
    unembedded.npy     only in a partial index: the rows of passages without a vector
                       yet (a zero row in vectors.faiss); the manifest counts them
    lexical/           BM25 posting lists as numpy files, each token's best first
                       (``rag.index.lexical``)

A build writes a fresh folder beside the target and swaps it in whole, so a failed
or killed build leaves the previous index as it was. Loading checks the format
version, the embedder, the checksums and (when a corpus folder is given) the corpus
hash, and raises IndexMismatchError with the command that rebuilds.

A partial index (``ragqa add`` before its new passages are embedded) has every passage
in the store and the lexical index, and a vector for each passage whose text was
already embedded; the others are listed in ``unembedded.npy`` and counted in the
manifest (``unembedded``), and the search finds them by keyword only
(``rag.search.fusion.rrf_partial``) until the complete index is swapped in.

Left out: incremental FAISS updates (the flat index rebuilds in milliseconds; the
embedding cache is what makes a rebuild cheap).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import REBUILD_HINT, IndexMismatchError, IndexMissingError
from rag.index.embed_cache import cache_root
from rag.index.lexical import LexicalIndex
from rag.index.store import PASSAGES_FILE, ROWS_FILE, PassageStore, passage_line, write_passages
from rag.ingest.quotations import quotations
from rag.types import Document, Passage

MANIFEST_FILE = "manifest.json"
DOCUMENTS_FILE = "documents.jsonl"
QUOTATIONS_FILE = "quotations.json"
VECTORS_FILE = "vectors.faiss"
UNEMBEDDED_FILE = "unembedded.npy"

# 2: passage_rows.npy and quotations.json; 3: lexical/ replaces bm25/; 4: documents carry
# status fields (adopted, effective, ends, term, text_kind, subject); 5: and their kind;
# 6: a partial index (``unembedded`` in the manifest, unembedded.npy)
FORMAT_VERSION = 6
LEXICAL_DIR = "lexical"
DEFAULT_INDEX_DIR = Path(".ragqa") / "index"  # the one default; RAGQA_INDEX overrides it
KEYWORD_ONLY = "none"  # the faiss_index of a keyword-only index: no vectors.faiss
# every file but the two big posting arrays, whose sizes lexical/starts.npy fixes
_CHECKSUMMED = (PASSAGES_FILE, ROWS_FILE, DOCUMENTS_FILE, QUOTATIONS_FILE, VECTORS_FILE,
                f"{LEXICAL_DIR}/params.json", f"{LEXICAL_DIR}/vocab.json",
                f"{LEXICAL_DIR}/starts.npy")


@dataclass(frozen=True)
class Manifest:
    format_version: int
    embedder: str
    dim: int
    corpus_sha256: str
    files: tuple[tuple[str, str], ...]  # (name, sha256) of each corpus file read
    chunking: dict
    lexical_tokenizer: str
    faiss_index: str  # "flat", "hnsw32", "ivf1024,sq8" …; KEYWORD_ONLY without vectors
    n_passages: int
    n_documents: int
    checksums: dict  # file name -> sha256
    unembedded: int = 0  # passages without a vector yet (a partial index; UNEMBEDDED_FILE)

    def to_json(self) -> str:
        record = asdict(self)
        record["files"] = [list(f) for f in self.files]
        return json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        record = json.loads(text)
        record["files"] = tuple(tuple(f) for f in record["files"])
        return cls(**record)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def document_record(document: Document) -> dict:
    record = asdict(document)
    record.pop("paragraphs")
    return record


def passage_lines(passages: tuple[Passage, ...]) -> bytes:
    """passages.jsonl exactly as written: its sha256 says whether passages changed."""
    return b"".join(passage_line(p) for p in passages)


def write_index(
    target: Path,
    manifest_fields: dict,
    passages: tuple[Passage, ...],
    documents: tuple[Document, ...],
    vectors_index,
    lexical,
    unembedded: np.ndarray | None = None,
) -> Manifest:
    """Write a complete index to a temporary folder, then swap it in for ``target``.

    ``vectors_index`` None writes a keyword-only index (``faiss_index`` KEYWORD_ONLY, no
    vectors.faiss): what ``ragqa serve`` answers from while the passages are embedded.
    ``unembedded``: rows whose vector in ``vectors_index`` is a stand-in (zeros), for a
    partial index; none or empty for a complete one.
    """
    import faiss

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        np.save(staging / ROWS_FILE, write_passages(staging / PASSAGES_FILE, passages, documents))
        with (staging / DOCUMENTS_FILE).open("w", encoding="utf-8") as out:
            for d in documents:
                out.write(json.dumps(document_record(d), ensure_ascii=False) + "\n")
        (staging / QUOTATIONS_FILE).write_text(
            json.dumps(quotations(documents, passages), ensure_ascii=False, indent=1,
                       sort_keys=True) + "\n", encoding="utf-8")
        if vectors_index is not None:
            faiss.write_index(vectors_index, str(staging / VECTORS_FILE))
        else:
            manifest_fields = {**manifest_fields, "faiss_index": KEYWORD_ONLY}
        lexical.save(staging / LEXICAL_DIR)
        missing = np.unique(np.asarray([] if unembedded is None else unembedded, np.int64))
        if len(missing) and vectors_index is not None:
            np.save(staging / UNEMBEDDED_FILE, missing)
        checksums = {name: sha256_file(staging / name)
                     for name in (*_CHECKSUMMED, UNEMBEDDED_FILE) if (staging / name).is_file()}
        manifest = Manifest(
            format_version=FORMAT_VERSION,
            n_passages=len(passages),
            n_documents=len(documents),
            checksums=checksums,
            unembedded=len(missing) if vectors_index is not None else 0,
            **manifest_fields,
        )
        (staging / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging``: two renames, the old folder removed last."""
    retired = target.parent / f".{target.name}.old-{os.getpid()}-{time.time_ns()}"
    if target.exists():
        os.rename(target, retired)
    os.rename(staging, target)
    shutil.rmtree(retired, ignore_errors=True)


def recover_interrupted(target: Path) -> None:
    """If a swap was killed between its two renames, put the retired index back."""
    target = Path(target)
    if target.exists():
        return
    retired = sorted(target.parent.glob(f".{target.name}.old-*"))
    if retired:
        os.rename(retired[-1], target)


def read_manifest(folder: Path) -> Manifest:
    folder = Path(folder)
    recover_interrupted(folder)
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise IndexMissingError(
            f"no index at {str(folder)!r} ({MANIFEST_FILE} missing). Build it with: "
            f"ragqa index --index {folder}"
        )
    try:
        manifest = Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, TypeError, KeyError) as exc:
        raise IndexMismatchError(
            f"the manifest at {str(path)!r} is unreadable ({exc}); {REBUILD_HINT}"
        ) from exc
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index format {manifest.format_version} at {str(folder)!r}, this program reads "
            f"format {FORMAT_VERSION}; {REBUILD_HINT}"
        )
    return manifest


def verify_checksums(folder: Path, manifest: Manifest) -> None:
    for name, expected in sorted(manifest.checksums.items()):
        path = Path(folder) / name
        if not path.is_file():
            raise IndexMismatchError(f"{name} is missing from the index {str(folder)!r}; "
                                     f"{REBUILD_HINT}")
        if sha256_file(path) != expected:
            raise IndexMismatchError(
                f"{name} in {str(folder)!r} does not match its checksum (truncated or "
                f"changed since the build); {REBUILD_HINT}"
            )


def open_passages(folder: Path, documents: tuple[Document, ...]) -> PassageStore:
    """The passage store of an index folder (passages read from disk when needed)."""
    return PassageStore(Path(folder), documents)


def read_passages(folder: Path) -> tuple[Passage, ...]:
    """Every passage of an index folder as objects (for tools; serving uses the store)."""
    return tuple(open_passages(folder, read_documents(folder)))


def read_quotations(folder: Path) -> dict[str, tuple[str, ...]]:
    """Regulation id -> ids of the documents that quote its title (quotations.json)."""
    try:
        record = json.loads((Path(folder) / QUOTATIONS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexMismatchError(f"{QUOTATIONS_FILE} in {str(folder)!r} is unreadable ({exc}); "
                                 f"{REBUILD_HINT}") from exc
    return {doc_id: tuple(ids) for doc_id, ids in sorted(record.items())}


def read_documents(folder: Path) -> tuple[Document, ...]:
    with (Path(folder) / DOCUMENTS_FILE).open(encoding="utf-8") as handle:
        return tuple(Document(**json.loads(line)) for line in handle)




@dataclass(frozen=True, eq=False)
class LoadedIndex:
    """An index folder opened for questions, every check passed."""

    folder: Path
    manifest: Manifest
    documents: tuple[Document, ...]
    passages: PassageStore
    vectors: Any  # a FAISS index, rows aligned with passages; None: a keyword-only index
    lexical: LexicalIndex
    quoting: dict[str, tuple[str, ...]]  # regulation id -> ids of documents quoting it
    # a partial index: True for each row whose passage has no vector yet; else None
    unembedded: np.ndarray | None = None
    # read from Milvus (rag.index.replica): its URI and collection; ``folder`` is then the
    # URI, ``vectors`` None and the search backend fetches vectors from the collection
    remote: str | None = None
    collection: str | None = None

    @property
    def keyword_only(self) -> bool:
        """No vectors at all: a keyword-only folder (a first build is embedding)."""
        return self.vectors is None and self.remote is None


def open_index(folder: str | Path, embedder_name: str, embedder_dim: int,
               corpus_dir: str | Path | None = None, verify: bool = True,
               keyword_only: bool = False) -> LoadedIndex:
    """Open an index folder with every check that keeps answers honest: format, embedder
    (name and dimension), corpus hash (when ``corpus_dir`` is given), checksums, sizes.
    Raises ``IndexMissingError`` or ``IndexMismatchError`` with the command that fixes it.
    A keyword-only index (``write_index`` without vectors) opens only with
    ``keyword_only`` True, and then has ``vectors`` None."""
    import faiss

    from rag.index.vectors import prepare_loaded

    folder = Path(folder)
    manifest = read_manifest(folder)
    if embedder_name != manifest.embedder or embedder_dim != manifest.dim:
        raise IndexMismatchError(
            f"the index at {str(folder)!r} was built with {manifest.embedder} "
            f"({manifest.dim} dims) but the configured embedder is {embedder_name} "
            f"({embedder_dim} dims); set RAGQA_EMBED_MODEL to match, or {REBUILD_HINT}"
        )
    if corpus_dir is not None:
        from rag.index.collection import sources_dir
        from rag.ingest.corpus import read_corpus
        from rag.ingest.readers.ocr import CACHE_FOLDER

        # what the build read is kept (sources/, cache/ocr/): a scan is not OCR'd again
        read = read_corpus(corpus_dir, cache=sources_dir(folder),
                           ocr_cache=cache_root(folder) / CACHE_FOLDER)
        if read.sha256 != manifest.corpus_sha256:
            raise IndexMismatchError(
                f"the corpus in {str(corpus_dir)!r} changed since the index at "
                f"{str(folder)!r} was built; update it with: ragqa index"
            )
    without_vectors = manifest.faiss_index == KEYWORD_ONLY
    if without_vectors and not keyword_only:
        raise IndexMismatchError(
            f"the index at {str(folder)!r} holds the keyword index only (its passages were "
            "not embedded yet); build it with: ragqa index")
    if verify:
        verify_checksums(folder, manifest)
    documents = read_documents(folder)
    passages = open_passages(folder, documents)
    try:
        vectors = None
        if not without_vectors:
            vectors = faiss.read_index(str(folder / VECTORS_FILE))
            prepare_loaded(vectors)
        lexical = LexicalIndex.load(folder / LEXICAL_DIR)
        unembedded = _unembedded_mask(folder, manifest)
    except Exception as exc:  # faiss raises RuntimeError; numpy and json several kinds
        raise IndexMismatchError(f"the index at {str(folder)!r} is damaged ({exc}); "
                                 f"{REBUILD_HINT}") from exc
    n_vectors = len(passages) if vectors is None else vectors.ntotal
    if n_vectors != len(passages) or len(passages) != manifest.n_passages:
        raise IndexMismatchError(
            f"the index at {str(folder)!r} holds {n_vectors} vectors for "
            f"{len(passages)} passages; {REBUILD_HINT}"
        )
    return LoadedIndex(folder, manifest, documents, passages, vectors, lexical,
                       read_quotations(folder), unembedded)


def _unembedded_mask(folder: Path, manifest: Manifest) -> np.ndarray | None:
    """The row mask of passages without a vector (UNEMBEDDED_FILE); None when none."""
    if not manifest.unembedded:
        return None
    rows = np.load(folder / UNEMBEDDED_FILE, allow_pickle=False)
    if len(rows) != manifest.unembedded or (len(rows) and not
                                            0 <= rows.min() <= rows.max() < manifest.n_passages):
        raise ValueError(f"{UNEMBEDDED_FILE} lists {len(rows)} rows, the manifest "
                         f"{manifest.unembedded} of {manifest.n_passages}")
    mask = np.zeros(manifest.n_passages, dtype=bool)
    mask[rows] = True
    return mask
