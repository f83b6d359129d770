"""The files an index is built from, kept beside it; adding and removing files.

Every file an index is built from is kept, content-addressed, in ``sources/`` beside
the index folder (``.ragqa/sources/<sha256><ext>``), so the original can be shown
(the cited page of a PDF as an image) and the index rebuilt without the folder it
came from. The index's manifest lists the files it holds (name, sha256): that list,
swapped in with the index, is the collection; nothing else records it.

``add_files`` reads each new file first (a file that fails says why, and nothing
changes), then builds a new index from the collection plus the new files in a
staging folder and swaps it in (``rag.index.build``): only passages the
embedding cache has not seen are embedded, and a running ``ragqa serve`` picks the
new index up (``rag.live``). ``remove_file`` does the same without a file. One
change at a time: a lock file next to the index serialises them.

Progressive: when some new passages have no vector yet, a partial index goes in
first (every passage searchable by keyword; ``on_partial`` is told), then the
passages are embedded (``on_embedding(done, total)``) and the complete index goes in.
If the embedding fails after the first swap, ``EmbeddingIncompleteError`` says so and
the partial index stays: the change is in, its new passages found by keyword; the
same add again (or any later change) embeds the rest, the cache keeping every batch
it wrote (``rag.index.embed_cache.FLUSH_EVERY`` passages).
With a Milvus URI there is one swap, at the end.

What was read from a non-text file is kept beside its original
(``<sha256>.read<N>.json``), so a rebuild does not OCR a scan again.

Left out: removing one document out of a gazette file (a file goes as a whole),
versions (adding a file with a name already indexed replaces it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rag.errors import CorpusError, DocumentReadError, EmbeddingIncompleteError, IndexMissingError
from rag.index.embed_cache import cache_root
from rag.index.folder import read_manifest
from rag.index.shipped import FOLDER as SHIPPED_FOLDER
from rag.ingest.readers import EXTENSIONS, Progress, format_of
from rag.ingest.readers.ocr import CACHE_FOLDER as OCR_CACHE_FOLDER

SOURCES_DIR = "sources"


@dataclass(frozen=True)
class SourceFile:
    name: str  # bare file name: the passages' source_file
    sha256: str
    path: Path  # the kept original
    added: float  # when it was first kept (seconds since the epoch)


@dataclass(frozen=True)
class Change:
    """What an add or a remove did."""

    added: tuple[str, ...]  # file names added or replaced
    removed: tuple[str, ...]
    notes: tuple[str, ...]  # per file: how it was read (pages, OCR), or what replaced what
    summary: str  # the build's summary line
    passages: int = 0  # in the index now
    unembedded: int = 0  # of them, without a vector yet (found by keyword only)
    keyword_first: int = 0  # passages that were searchable by keyword before embedded


def sources_dir(index_dir: str | Path) -> Path:
    return Path(index_dir).parent / SOURCES_DIR


def keep_original(index_dir: str | Path, name: str, data: bytes) -> Path:
    """Store a file's bytes content-addressed beside the index; its path."""
    digest = hashlib.sha256(data).hexdigest()
    folder = sources_dir(index_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}{Path(name).suffix.lower()}"
    if not target.exists():
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        partial.write_bytes(data)
        os.replace(partial, target)
    return target


def source_files(index_dir: str | Path, corpus_dir: str | Path | None = None) -> list[SourceFile]:
    """The files the index now holds, with their kept originals (copied from
    ``corpus_dir`` first when an index predates ``sources/``)."""
    manifest = read_manifest(Path(index_dir))
    out = []
    for name, digest in manifest.files:
        path = sources_dir(index_dir) / f"{digest}{Path(name).suffix.lower()}"
        if not path.exists() and corpus_dir and (Path(corpus_dir) / name).is_file():
            data = (Path(corpus_dir) / name).read_bytes()
            if hashlib.sha256(data).hexdigest() == digest:
                path = keep_original(index_dir, name, data)
        if not path.exists():
            raise CorpusError(f"the original of {name} is not kept in {sources_dir(index_dir)}; "
                              "rebuild from its folder: ragqa index --corpus DIR --rebuild")
        out.append(SourceFile(name, digest, path, path.stat().st_mtime))
    return out


def keep_originals(index_dir: str | Path, corpus_dir: str | Path, files) -> None:
    """Keep the original of every corpus file read (``CorpusFile``s), before a build."""
    folder = sources_dir(index_dir)
    for f in files:
        if not (folder / f"{f.sha256}{Path(f.name).suffix.lower()}").exists():
            keep_original(index_dir, f.name, (Path(corpus_dir) / f.name).read_bytes())


@contextlib.contextmanager
def _locked(index_dir: Path) -> Iterator[None]:
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(index_dir.parent / f".{index_dir.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def expand(paths: list[str | Path]) -> list[Path]:
    """Files given, and the supported files directly inside folders given, in name order."""
    out: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            out.extend(sorted(p for p in item.iterdir() if p.is_file() and format_of(p.name)))
        elif item.exists():
            out.append(item)
        else:
            raise DocumentReadError(f"{item}: no such file or folder; check the path")
    if not out:
        raise DocumentReadError(f"no supported files in {', '.join(map(str, paths))} "
                                f"({', '.join(EXTENSIONS)})")
    return out


def add_files(paths: list[str | Path], index_dir: str | Path, corpus_dir: str | Path | None = None,
              embedder=None, progress: Progress | None = None,
              uploads: dict[str, bytes] | None = None,
              milvus_uri: str | None = None,
              on_partial: Callable[[Change], None] | None = None,
              on_embedding: Callable[[int, int], None] | None = None) -> Change:
    """Add files (or replace files of the same name) and swap in the rebuilt index
    (and, with ``milvus_uri``, upsert their passages into the Milvus collection by id).

    ``uploads``: name -> bytes, for files that do not exist on disk (UI uploads).
    Every file is read before anything changes; the first that fails raises
    DocumentReadError naming it, and the index stays as it was. ``on_partial`` gets the
    change as it stands after a keyword-first swap (``unembedded`` > 0; not called when
    every new passage already has a vector); ``on_embedding(done, total)`` follows the
    embedding after it. A failure after that swap raises EmbeddingIncompleteError.
    """
    index_dir = Path(index_dir)
    incoming: list[tuple[str, bytes]] = [(p.name, p.read_bytes()) for p in expand(paths)] \
        if paths else []
    incoming += sorted((uploads or {}).items())
    names = [n for n, _ in incoming]
    if len(set(names)) != len(names):
        raise DocumentReadError(f"two files named {_first_duplicate(names)}; rename one")
    from rag.ingest.corpus import read_document

    notes = []
    for name, data in incoming:  # read first (and kept read): a bad file changes nothing
        notes.append(read_document(name, data, progress=progress,
                                   cache=sources_dir(index_dir),
                                   ocr_cache=cache_root(index_dir) / OCR_CACHE_FOLDER
                                   ).read_note)
    with _locked(index_dir):
        current = _current(index_dir, corpus_dir)
        stems = {Path(n).stem: n for n in current}
        contents = {digest: n for n, (digest, _) in current.items()}
        for name, data in incoming:
            old = stems.get(Path(name).stem)
            same = contents.get(hashlib.sha256(data).hexdigest())
            if same and same != name:
                raise DocumentReadError(f"{name}: same content as {same}, already indexed; "
                                        "nothing to add")
            if old and old != name:
                raise DocumentReadError(
                    f"{name}: {old} is already indexed under the same name; remove it first "
                    f"(ragqa remove {old}) or rename the new file")
            if name in current and hashlib.sha256(data).hexdigest() == current[name][0]:
                notes.append(f"{name}: already indexed, unchanged")
            elif name in current:
                notes.append(f"{name}: replaces the file indexed under that name")
            current[name] = (hashlib.sha256(data).hexdigest(), keep_original(index_dir, name, data))
        change = Change(tuple(names), (), tuple(notes), "")
        return _rebuild(index_dir, current, corpus_dir, embedder, milvus_uri, change,
                        on_partial, on_embedding)


def remove_file(target: str, index_dir: str | Path, corpus_dir: str | Path | None = None,
                embedder=None, milvus_uri: str | None = None) -> Change:
    """Remove a file (named by its name, its stem, or the id of a document in it); with
    ``milvus_uri``, its passages are deleted from the Milvus collection by id."""
    index_dir = Path(index_dir)
    with _locked(index_dir):
        current = _current(index_dir, corpus_dir)
        stem = target.split("#", 1)[0]
        matches = [n for n in current if target in (n, Path(n).stem) or Path(n).stem == stem]
        if not matches:
            listing = ", ".join(sorted(current)) or "none"
            raise CorpusError(f"{target!r} is not an indexed file or document id (files: "
                              f"{listing}); see ragqa index --list-documents")
        if len(current) == len(matches):
            raise CorpusError(f"{matches[0]} is the only file in the index; an index needs at "
                              "least one file (add another first)")
        for name in matches:
            del current[name]
        return _rebuild(index_dir, current, corpus_dir, embedder, milvus_uri,
                        Change((), tuple(matches), (), ""))


def _first_duplicate(names: list[str]) -> str:
    return next(n for n in names if names.count(n) > 1)


def _current(index_dir: Path, corpus_dir) -> dict[str, tuple[str, Path]]:
    """The indexed files; with no index yet, the supported files of ``corpus_dir``."""
    if not (index_dir / "manifest.json").exists():
        if corpus_dir is None or not Path(corpus_dir).is_dir():
            raise IndexMissingError(f"no index at {index_dir} and no corpus folder "
                                    f"{corpus_dir!r}; build one first: ragqa index --corpus DIR")
        current = {}
        for path in sorted(Path(corpus_dir).iterdir()):
            if path.is_file() and format_of(path.name):
                data = path.read_bytes()
                current[path.name] = (hashlib.sha256(data).hexdigest(),
                                      keep_original(index_dir, path.name, data))
        return current
    return {f.name: (f.sha256, f.path) for f in source_files(index_dir, corpus_dir)}


def _rebuild(index_dir: Path, files: dict[str, tuple[str, Path]], corpus_dir,
             embedder, milvus_uri: str | None, change: Change,
             on_partial: Callable[[Change], None] | None = None,
             on_embedding: Callable[[int, int], None] | None = None) -> Change:
    """Build from the kept originals in a staging folder; the build swaps the index in
    (keyword first when some passages need embedding). ``change`` without its summary."""
    from rag.index.build import build_index

    first: list[Change] = []  # the change as it stood after a keyword-first swap
    names = ", ".join(change.added) or "the change"

    def partial(unembedded: int, passages: int) -> None:
        first.append(replace(change, passages=passages, unembedded=unembedded,
                             keyword_first=unembedded, summary=(
                                 f"{names}: searchable by keyword now ({passages} passages in "
                                 f"{index_dir}); embedding {unembedded} new passages")))
        if on_partial is not None:
            on_partial(first[0])

    staging = index_dir.parent / f".collection-{os.getpid()}-{time.monotonic_ns()}"
    staging.mkdir(parents=True)
    try:
        for name, (_, path) in sorted(files.items()):
            try:
                os.link(path, staging / name)
            except OSError:
                shutil.copyfile(path, staging / name)
        if corpus_dir and (Path(corpus_dir) / "MANIFEST.tsv").is_file():
            shutil.copyfile(Path(corpus_dir) / "MANIFEST.tsv", staging / "MANIFEST.tsv")
        shipped = Path(corpus_dir) / SHIPPED_FOLDER if corpus_dir else None
        if shipped is not None and shipped.is_dir():  # the bundled passages stay un-embedded
            shutil.copytree(shipped, staging / SHIPPED_FOLDER)
        try:
            report = build_index(staging, index_dir, embedder=embedder, progress=False,
                                 cache_dir=cache_root(index_dir), milvus_uri=milvus_uri,
                                 partial_first=True, on_partial=partial,
                                 on_progress=on_embedding)
        except Exception as exc:
            if not first:
                raise
            raise EmbeddingIncompleteError(
                f"{names} is in the index and searchable by keyword, "
                f"but embedding its {first[0].unembedded} new passages failed "
                f"({type(exc).__name__}: {exc}); they are found by keyword only until a "
                "later change embeds them: run the same ragqa add again") from exc
        skipped = tuple(f"skipped {n}: {r}" for n, r in report.skipped_files)
        return replace(change, notes=change.notes + skipped, summary=report.summary(),
                       passages=report.n_passages,
                       keyword_first=first[0].unembedded if first else 0)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def page_image(index_dir: str | Path, source_file: str, page: int, dpi: int = 110) -> bytes:
    """The printed page ``page`` of an indexed PDF or image, as PNG bytes (for a source
    viewer; see ``rag.index.pages``). CorpusError when the file is not a kept PDF or
    image or has no such page."""
    from rag.index.pages import page_view

    return page_view(index_dir, source_file, page, dpi).png
