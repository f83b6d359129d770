"""Read a corpus folder: every supported file in it, and their manifest.

Every file whose extension a reader takes (``rag.ingest.readers``: .txt, .pdf, .docx,
.html, images) is read, sorted by name. Text files are decoded (UTF-8 with or without
a BOM, UTF-16 with a BOM, GB18030) and cleaned by the .txt path; other files are read
into pages and their page furniture dropped (``readers.pages``). An empty, binary,
damaged, encrypted, duplicate, huge or mislabelled file is skipped with a message
naming it and the fix, and the other files go on as usual. Two files whose names
differ only in the extension would give documents the same ids: the second is
skipped. ``MANIFEST.tsv`` (optional) names each file's publication and date; a row
naming ``000_x.txt`` also describes ``000_x.pdf`` (or any supported extension) when no
row names that file itself, so a folder of scans of the corpus files reuses its manifest.

Left out: subfolders, and encodings other than those above.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import CorpusError, DocumentReadError
from rag.ingest.clean import Line
from rag.ingest.readers import (
    EXTENSIONS,
    MAX_FILE_BYTES,
    READERS_VERSION,
    Progress,
    check_format,
    format_of,
    read_bytes,
)
from rag.ingest.readers.base import Extracted
from rag.ingest.readers.pages import to_lines
from rag.ingest.readers.txt import decode

__all__ = ["MAX_FILE_BYTES", "Corpus", "CorpusFile", "SkippedFile", "decode", "read_corpus",
           "read_document"]


@dataclass(frozen=True)
class CorpusFile:
    name: str  # bare file name: the passage's source_file
    text: str  # a text file's text; for other formats, the lines read, one a line
    sha256: str  # of the raw bytes
    encoding: str  # of a text file; for other formats, the format ("pdf", "docx", …)
    publication: str | None = None
    issue: str | None = None
    date: str | None = None
    lines: tuple[Line, ...] | None = None  # read from pages (None: clean ``text`` as .txt)
    read_note: str = ""  # how the pages were read: text layer, OCR (and why), none


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


def read_document(name: str, data: bytes, use_ocr: bool = True,
                  progress: Progress | None = None, cache: str | Path | None = None,
                  ocr_cache: str | Path | None = None) -> CorpusFile:
    """One file's bytes as a CorpusFile; DocumentReadError says what is wrong and the fix.

    ``cache``: a folder keeping what was read from a non-text file, by content hash and
    ``READERS_VERSION`` (an OCR'd scan is read once); ``ocr_cache``: a folder where OCR
    keeps every page it reads (shared between indexes: a page is OCR'd once).
    """
    digest = hashlib.sha256(data).hexdigest()
    cached = Path(cache) / f"{digest}.read{READERS_VERSION}.json" if cache else None
    if cached is not None and cached.is_file() and check_format(name, data) != "txt":
        record = json.loads(cached.read_text(encoding="utf-8"))
        lines = tuple(Line(*row) for row in record["lines"])
        return CorpusFile(name, "\n".join(x.text for x in lines), digest, record["format"],
                          lines=lines, read_note=record["note"].replace(record["name"], name))
    extracted: Extracted = read_bytes(name, data, use_ocr=use_ocr, progress=progress,
                                      ocr_cache=ocr_cache)
    if extracted.text is not None:
        return CorpusFile(name, extracted.text, digest, extracted.encoding or "utf-8",
                          read_note=extracted.summary())
    lines = tuple(to_lines(extracted))
    if not lines:
        why = "; ".join(sorted({p.reason for p in extracted.pages if p.reason})) or "no text"
        raise DocumentReadError(f"{name}: no text found ({why}); add a file with text, or a "
                                "legible scan")
    read = CorpusFile(name, "\n".join(x.text for x in lines), digest, extracted.format,
                      lines=lines, read_note=extracted.summary())
    if cached is not None and use_ocr:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}")
        partial.write_text(json.dumps({
            "name": name, "format": read.encoding, "note": read.read_note,
            "lines": [[x.text, x.page, x.number, x.opens_page, x.table] for x in lines],
        }, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, cached)
    return read


def read_corpus(folder: str | Path, use_ocr: bool = True,
                progress: Progress | None = None, cache: str | Path | None = None,
                ocr_cache: str | Path | None = None) -> Corpus:
    """Read every supported file of a corpus folder, skipping bad files with a reason."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(
            f"corpus folder not found: {str(folder)!r}. Pass --corpus DIR (or set "
            f"RAGQA_CORPUS) to a folder of gazette files ({', '.join(EXTENSIONS)})."
        )
    manifest = _read_manifest(folder / "MANIFEST.tsv")
    files: list[CorpusFile] = []
    skipped: list[SkippedFile] = []
    seen: dict[str, str] = {}
    stems: dict[str, str] = {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and format_of(p.name)):
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
        if path.stem in stems:
            skipped.append(SkippedFile(path.name, f"same name as {stems[path.stem]} but for "
                                                  "the extension; rename or remove one"))
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in seen:
            skipped.append(SkippedFile(path.name, f"same content as {seen[digest]}; remove one"))
            continue
        try:
            read = read_document(path.name, data, use_ocr=use_ocr, progress=progress,
                                 cache=cache, ocr_cache=ocr_cache)
        except DocumentReadError as exc:
            skipped.append(SkippedFile(path.name, str(exc).removeprefix(f"{path.name}: ")))
            continue
        seen[digest] = path.name
        stems[path.stem] = path.name
        meta = manifest_row(manifest, path.name)
        files.append(replace(read, publication=meta.get("publication"),
                             issue=meta.get("issue"), date=meta.get("date")))
    if not files:
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in skipped) or "no readable files"
        raise CorpusError(f"no readable files in {str(folder)!r} ({reasons})")
    return Corpus(tuple(files), tuple(skipped))


def manifest_row(manifest: dict[str, dict[str, str]], name: str) -> dict[str, str]:
    """The manifest row of a file: by its name, else the one row whose file has the
    same stem (the same gazette in another format).

    >>> rows = {"000_a.txt": {"date": "2023-09-22"}, "001_b.txt": {"date": "2024-01-27"}}
    >>> manifest_row(rows, "000_a.pdf"), manifest_row(rows, "002_c.pdf")
    ({'date': '2023-09-22'}, {})
    """
    if name in manifest:
        return manifest[name]
    same = [row for file, row in sorted(manifest.items()) if Path(file).stem == Path(name).stem]
    return same[0] if len(same) == 1 else {}


def _read_manifest(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t") if row.get("file")}
