"""Read a corpus folder: text files in any common Chinese encoding, and their manifest.

Every ``*.txt`` file in the folder is read (sorted by name). UTF-8 (with or without a
BOM), UTF-16 with a BOM and GB18030 are decoded; an empty, binary, duplicate or huge
file is skipped with a message naming it, and the other files go on as usual.
``MANIFEST.tsv`` (optional) names each file's publication and date.

Left out: PDF extraction (the corpus is already text), subfolders, and encodings
other than those above.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from rag.errors import CorpusError

MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class CorpusFile:
    name: str  # bare file name: the passage's source_file
    text: str
    sha256: str  # of the raw bytes
    encoding: str
    publication: str | None = None
    issue: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class SkippedFile:
    name: str
    reason: str  # what is wrong and how to fix it


@dataclass(frozen=True)
class Corpus:
    files: tuple[CorpusFile, ...]
    skipped: tuple[SkippedFile, ...]

    @property
    def sha256(self) -> str:
        """One hash over the names and contents of the files read: the corpus hash."""
        digest = hashlib.sha256()
        for f in self.files:
            digest.update(f"{f.name}\0{f.sha256}\n".encode())
        return digest.hexdigest()


def decode(data: bytes) -> tuple[str, str]:
    """Decode corpus bytes; returns (text, encoding). Raises ValueError for binary data.

    >>> decode("条例".encode("utf-8-sig")), decode("条例".encode("gb18030"))
    (('条例', 'utf-8-sig'), ('条例', 'gb18030'))
    >>> decode("条例".encode("utf-16"))
    ('条例', 'utf-16')
    >>> decode(bytes(range(256)))
    Traceback (most recent call last):
    ...
    ValueError: binary data (NUL bytes), not text
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data:
        raise ValueError("binary data (NUL bytes), not text")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise ValueError("not UTF-8, UTF-16 or GB18030 text")


def read_corpus(folder: str | Path) -> Corpus:
    """Read every ``*.txt`` file of a corpus folder, skipping bad files with a reason."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(
            f"corpus folder not found: {str(folder)!r}. Pass --corpus DIR (or set "
            "RAGQA_CORPUS) to a folder of .txt gazette files."
        )
    manifest = _read_manifest(folder / "MANIFEST.tsv")
    files: list[CorpusFile] = []
    skipped: list[SkippedFile] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.txt")):
        size = path.stat().st_size
        if size == 0:
            skipped.append(SkippedFile(path.name, "empty file; remove it or add its text"))
            continue
        if size > MAX_FILE_BYTES:
            skipped.append(SkippedFile(
                path.name,
                f"{size:,} bytes is over the {MAX_FILE_BYTES:,}-byte limit; split the file",
            ))
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            skipped.append(SkippedFile(path.name, f"same content as {seen[digest]}; remove one"))
            continue
        try:
            text, encoding = decode(data)
        except ValueError as exc:
            skipped.append(SkippedFile(path.name, f"{exc}; save it as UTF-8 text"))
            continue
        if not text.strip():
            skipped.append(SkippedFile(path.name, "only white space; remove it or add its text"))
            continue
        seen[digest] = path.name
        meta = manifest.get(path.name, {})
        files.append(CorpusFile(
            path.name, text.replace("\r\n", "\n").replace("\r", "\n"), digest, encoding,
            meta.get("publication"), meta.get("issue"), meta.get("date"),
        ))
    if not files:
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in skipped) or "no *.txt files"
        raise CorpusError(f"no readable text files in {str(folder)!r} ({reasons})")
    return Corpus(tuple(files), tuple(skipped))


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t") if row.get("file")}
