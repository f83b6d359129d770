"""Shared fixtures: the real corpus, ingested once, and the real index, built once.

The index is built once per test session in a temporary folder (never the checkout's
.ragqa/index, which ``make run`` serves). Its vectors come from the shipped embeddings
(corpus/embeddings) and the embedding cache (.ragqa/cache), so even the first build in
a fresh clone embeds nothing and costs seconds.

The tests also index texts that are not the corpus: generated laws, PDF and Word
renderings of the gazettes (whose passages differ slightly), edited copies. The model's
vectors of those texts ship in ``tests/embeddings`` (the same format as the corpus's,
checked against the model by ``tests/test_shipped.py``), and before any test runs they
are put in the embedding cache, so a fresh clone embeds only the texts a test makes new
on purpose (the corpus's shipped vectors are seeded too, for the tests that index copies
of its files). After a change to the generated texts, rewrite the file from a clean run::

    rm -rf .ragqa/cache tests/embeddings && make test && .venv/bin/python -m tests.ship_embeddings
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
CACHE = ROOT / ".ragqa" / "cache"
TESTS = ROOT / "tests"  # tests/embeddings: the model's vectors of the tests' own texts


def pytest_configure(config):
    """Seed the embedding cache from corpus/embeddings and tests/embeddings, once: in the
    xdist controller (or the only process), before any worker starts."""
    if hasattr(config, "workerinput"):
        return
    from rag.embed import load_embedder
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.shipped import ShippedEmbeddings

    embedder = load_embedder()
    cache = EmbeddingCache(CACHE, embedder.name, embedder.dim)
    for folder in (CORPUS, TESTS):  # the corpus's too: many tests index copies of its files
        shipped = ShippedEmbeddings.load(folder, embedder)
        if shipped is not None:  # None: not for this embedder and version; tests embed
            keys = shipped.text_keys()
            cache.add(keys, shipped.vectors_of(keys))


@pytest.fixture(scope="session")
def ingested():
    from rag.ingest import ingest

    return ingest(CORPUS)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory):
    from rag.index.build import build_index

    index = tmp_path_factory.mktemp("ragqa") / "index"
    report = build_index(CORPUS, index, cache_dir=CACHE, progress=True)
    print(report.summary())
    return index


@pytest.fixture(scope="session")
def pipeline(built_index):
    from rag.pipeline import Pipeline

    return Pipeline.load(built_index, corpus_dir=CORPUS)


@pytest.fixture(scope="session")
def made():
    """The generated test documents (tests/make_documents.py), made once and cached."""
    from tests.make_documents import FONT, make_documents

    if not Path(FONT).is_file():
        pytest.skip(f"{FONT} is missing: apt-get install fonts-noto-cjk (make test does)")
    return make_documents()


def free_port() -> int:
    """A TCP port that is free on localhost right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served_app(pipeline):
    """The UI launched on a free localhost port for one test module; its URL."""
    from ui.app import launch

    demo = launch(pipeline, port=free_port(), block=False, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def doc_by_title(documents, title):
    matches = [d for d in documents if d.title == title]
    assert matches, f"no document titled {title!r}"
    return matches[0]


PAGED_PDF = "000_pages_27-29.pdf"  # 公告 and 山西省地方病防治条例: printed pages 27-29
PAGED_TEXT = "004_345c30e83f90ffdd.txt"


@pytest.fixture(scope="session")
def paged_index(made, tmp_path_factory):
    """A small index of a 3-page text PDF (pages 27-29 of the generated gazette 000, cut
    out: the printed footers number them, no page labels) and one text file."""
    import pypdfium2 as pdfium

    from rag.index.build import build_index

    root = tmp_path_factory.mktemp("paged")
    (root / "corpus").mkdir()
    shutil.copyfile(CORPUS / PAGED_TEXT, root / "corpus" / PAGED_TEXT)
    gazette = pdfium.PdfDocument(made / "pdf" / "000_9f2846b890213e93.pdf")
    excerpt = pdfium.PdfDocument.new()
    excerpt.import_pages(gazette, [26, 27, 28])
    excerpt.save(root / "corpus" / PAGED_PDF)
    (root / ".ragqa").mkdir()
    (root / ".ragqa" / "cache").symlink_to(CACHE.resolve())
    index = root / ".ragqa" / "index"
    build_index(root / "corpus", index, progress=False, cache_dir=CACHE)
    return index
