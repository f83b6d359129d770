"""The passage store: passages.jsonl stays on disk, one line is read when a passage is needed.

A serving process does not hold a Python object per passage. What ranking needs of
every passage lives in one numpy table, ``passage_rows.npy`` (24 bytes a passage):
the byte offset and length of its line in ``passages.jsonl``, its document (row of
``documents.jsonl``), its article number (-1 for none) and the rank of its id in sorted
order (ties between equal scores are broken by id). ``passages.jsonl`` is memory-mapped,
so its pages belong to the operating system's file cache, not to the process; a
passage becomes a ``Passage`` only when it is returned, shown or quoted.

At 10^6 passages the table is 23 MiB, where a tuple of ``Passage`` objects was over a GB.

Left out: compressing passages.jsonl (it stays a plain, greppable file).
"""

from __future__ import annotations

import bisect
import json
import mmap
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag.errors import REBUILD_HINT, IndexMismatchError
from rag.types import Document, Passage

PASSAGES_FILE = "passages.jsonl"
ROWS_FILE = "passage_rows.npy"
ROW_DTYPE = np.dtype([("offset", "<i8"), ("length", "<i4"), ("doc", "<i4"),
                      ("article_no", "<i4"), ("id_rank", "<i4")])
NO_ARTICLE = -1


def passage_line(passage: Passage) -> bytes:
    """One line of passages.jsonl: the passage's JSON record, UTF-8, not ASCII-escaped."""
    return (json.dumps(passage.to_json(), ensure_ascii=False) + "\n").encode()


def write_passages(path: Path, passages: Sequence[Passage],
                   documents: Sequence[Document]) -> np.ndarray:
    """Write passages.jsonl and return its row table (``ROW_DTYPE``), in passage order.

    >>> import tempfile
    >>> doc = Document("f#000", "山西省节约能源条例", "regulation", "f.txt", 1, 1)
    >>> ps = [Passage(f"f#000:{i:04d}", "f#000", doc.title, "regulation", "f.txt", 1, None,
    ...               None, f"第{n}条", i + 1, "……") for i, n in enumerate("二一")]
    >>> ps = ps[::-1]  # ids out of order: ranks say which id sorts first
    >>> rows = write_passages(Path(tempfile.mkdtemp()) / "p.jsonl", ps, [doc])
    >>> rows["article_no"].tolist(), rows["id_rank"].tolist(), rows["doc"].tolist()
    ([2, 1], [1, 0], [0, 0])
    """
    doc_row = {d.id: i for i, d in enumerate(documents)}
    rows = np.zeros(len(passages), dtype=ROW_DTYPE)
    order = sorted(range(len(passages)), key=lambda i: passages[i].id)
    rows["id_rank"][order] = np.arange(len(passages), dtype=np.int32)
    offset = 0
    with Path(path).open("wb") as out:
        for i, passage in enumerate(passages):
            if passage.doc_id not in doc_row:
                raise ValueError(f"passage {passage.id!r} names document {passage.doc_id!r}, "
                                 "which is not among the documents")
            line = passage_line(passage)
            out.write(line)
            rows["offset"][i], rows["length"][i] = offset, len(line)
            rows["doc"][i] = doc_row[passage.doc_id]
            rows["article_no"][i] = NO_ARTICLE if passage.article_no is None else passage.article_no
            offset += len(line)
    return rows


class PassageStore(Sequence[Passage]):
    """The passages of one index folder, by row (the row of their vector in FAISS)."""

    def __init__(self, folder: Path, documents: Sequence[Document], cache_size: int = 4096):
        folder = Path(folder)
        try:
            rows = np.load(folder / ROWS_FILE, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexMismatchError(f"{ROWS_FILE} in {str(folder)!r} is unreadable ({exc}); "
                                     f"{REBUILD_HINT}") from exc
        if rows.dtype != ROW_DTYPE:
            raise IndexMismatchError(f"{ROWS_FILE} in {str(folder)!r} has columns "
                                     f"{rows.dtype}, expected {ROW_DTYPE}; {REBUILD_HINT}")
        self.documents = tuple(documents)
        self._handle = (folder / PASSAGES_FILE).open("rb")
        size = (folder / PASSAGES_FILE).stat().st_size
        self._map = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        last = int(rows["offset"][-1] + rows["length"][-1]) if len(rows) else 0
        if last != size or (len(rows) and int(rows["doc"].max()) >= len(documents)):
            raise IndexMismatchError(f"{PASSAGES_FILE} in {str(folder)!r} ({size:,} bytes) does "
                                     f"not match {ROWS_FILE} ({last:,} bytes); {REBUILD_HINT}")
        # one contiguous array per column (ranking reads doc, article and id order)
        self._offset = np.ascontiguousarray(rows["offset"])
        self._length = np.ascontiguousarray(rows["length"])
        self.doc_of_row: np.ndarray = np.ascontiguousarray(rows["doc"])
        self.article_of_row: np.ndarray = np.ascontiguousarray(rows["article_no"])
        self.id_rank: np.ndarray = np.ascontiguousarray(rows["id_rank"])
        self._by_id_rank = np.empty_like(self.id_rank)  # rows in id order: the inverse
        self._by_id_rank[self.id_rank] = np.arange(len(rows), dtype=self.id_rank.dtype)
        self._doc_row = {d.id: i for i, d in enumerate(self.documents)}
        self._read = lru_cache(maxsize=cache_size)(self._read_row)

    def __len__(self) -> int:
        return len(self.id_rank)

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self._read(i) for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} is out of range (0 to {len(self) - 1})")
        return self._read(row)

    def __iter__(self) -> Iterator[Passage]:
        return (self._read(i) for i in range(len(self)))

    def _read_row(self, row: int) -> Passage:
        start = int(self._offset[row])
        line = self._map[start : start + int(self._length[row])]
        try:
            passage = Passage.from_json(json.loads(line))
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexMismatchError(f"{PASSAGES_FILE} line {row + 1} is corrupt ({exc}); "
                                     f"{REBUILD_HINT}") from exc
        if passage.doc_id != self.documents[int(self.doc_of_row[row])].id:
            raise IndexMismatchError(f"{PASSAGES_FILE} line {row + 1} does not belong to the "
                                     f"document {ROWS_FILE} names; {REBUILD_HINT}")
        return passage

    # ------------------------------------------------------------ lookups

    def row_of(self, passage_id: str) -> int:
        """The row of a passage id (binary search in id order); KeyError if absent."""
        order = self._by_id_rank
        at = bisect.bisect_left(range(len(order)), passage_id,
                                key=lambda i: self._read(int(order[i])).id)
        if at < len(order) and self._read(int(order[at])).id == passage_id:
            return int(order[at])
        raise KeyError(passage_id)

    def doc_rows(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Document rows of these document ids (unknown ids left out)."""
        return np.array(sorted(self._doc_row[d] for d in set(doc_ids) if d in self._doc_row),
                        dtype=np.int32)

    def rows_of(self, doc_id: str) -> np.ndarray:
        """Rows of one document's passages, in order."""
        doc = self._doc_row.get(doc_id)
        return np.empty(0, np.int64) if doc is None else np.flatnonzero(self.doc_of_row == doc)

    def article_rows(self, article_no: int, doc_id: str | None = None) -> np.ndarray:
        """Rows of an article's passages: in one document, or in every document."""
        hits = self.article_of_row == article_no
        if doc_id is not None:
            doc = self._doc_row.get(doc_id)
            if doc is None:
                return np.empty(0, np.int64)
            hits &= self.doc_of_row == doc
        return np.flatnonzero(hits)

    def close(self) -> None:
        if isinstance(self._map, mmap.mmap):
            self._map.close()
        self._handle.close()
