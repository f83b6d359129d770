"""The embeddings shipped in corpus/embeddings: they cover the corpus, they are the model's
vectors (within the stated tolerance), a build uses them only for the embedder and texts
they were made for, and a fresh clone builds its index from them without embedding."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import CORPUS

from rag.embed import load_embedder
from rag.index.build import build_index, embedding_text
from rag.index.embed_cache import text_key
from rag.index.shipped import (
    MIN_COSINE,
    TOLERANCE,
    ShippedEmbeddings,
    index_precision,
    shipped_paths,
    write_shipped,
)
from rag.ingest import ingest

SAMPLE_EVERY = 97  # about 20 passages of the corpus, spread over every file
SMALL_FILE = "004_345c30e83f90ffdd.txt"  # the smallest gazette: 66 passages
REGENERATE = "regenerate them with: ragqa index --export-embeddings"


@pytest.fixture(scope="module")
def embedder():
    return load_embedder()


@pytest.fixture(scope="module")
def shipped(embedder):
    found = ShippedEmbeddings.load(CORPUS, embedder)
    assert found is not None, f"no usable shipped embeddings for {embedder.name}; {REGENERATE}"
    return found


def test_every_passage_of_the_corpus_has_a_shipped_vector(ingested, shipped):
    keys = {text_key(embedding_text(p)) for p in ingested.passages}
    missing = sorted(k for k in keys if k not in shipped)
    assert not missing, f"{len(missing)} of {len(keys)} passages have no shipped vector; " \
                        f"{REGENERATE}"
    assert len(shipped) == len(keys)  # and nothing else: no vectors of old passages


def test_shipped_vectors_are_the_models_within_tolerance(ingested, shipped, embedder):
    sample = ingested.passages[::SAMPLE_EVERY]
    texts = [embedding_text(p) for p in sample]
    fresh = embedder.embed_passages(texts)
    stored = shipped.vectors_of([text_key(t) for t in texts])
    assert len(sample) >= 20 and {p.source_file for p in sample} == \
        {p.source_file for p in ingested.passages}
    assert float(np.abs(stored - fresh).max()) <= TOLERANCE
    assert float((stored * fresh).sum(axis=1).min()) >= MIN_COSINE


def test_a_fresh_clone_builds_the_test_index_without_embedding(built_index, tmp_path):
    report = build_index(CORPUS, tmp_path / "index", cache_dir=tmp_path / "cache",
                         progress=False)
    assert report.embedded == 0 and report.reused == 0
    assert report.shipped == report.n_passages
    assert not any((tmp_path / "cache").rglob("*.npy"))  # shipped vectors are not copied
    ours = json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))
    theirs = json.loads((built_index / "manifest.json").read_text(encoding="utf-8"))
    assert ours["checksums"] == theirs["checksums"]  # vectors.faiss included: the same index


def _small_corpus(tmp_path, embedder, version: str | None = None):
    corpus = tmp_path / "corpus"
    corpus.mkdir(parents=True)
    shutil.copy(CORPUS / SMALL_FILE, corpus / SMALL_FILE)
    for source in shipped_paths(CORPUS, embedder.name):
        target = corpus / source.relative_to(CORPUS)
        target.parent.mkdir(exist_ok=True)
        shutil.copy(source, target)
    if version is not None:
        json_path = shipped_paths(corpus, embedder.name)[0]
        record = json.loads(json_path.read_text(encoding="utf-8"))
        json_path.write_text(json.dumps({**record, "embedder_version": version}),
                             encoding="utf-8")
    return corpus


def test_another_embedder_version_is_not_used(tmp_path, embedder):
    corpus = _small_corpus(tmp_path, embedder, version="0.0.1")
    assert ShippedEmbeddings.load(corpus, embedder) is None
    assert ShippedEmbeddings.load(_small_corpus(tmp_path / "b", embedder), embedder)


def test_a_damaged_file_is_not_used(tmp_path, embedder, caplog):
    corpus = _small_corpus(tmp_path, embedder)
    npz = shipped_paths(corpus, embedder.name)[1]
    data = bytearray(npz.read_bytes())
    data[-100] ^= 0xFF  # one vector byte
    npz.write_bytes(bytes(data))
    assert ShippedEmbeddings.load(corpus, embedder) is None
    assert "sha256" in caplog.text


def test_only_passages_whose_text_matches_are_taken(tmp_path, embedder, shipped):
    corpus = _small_corpus(tmp_path, embedder)
    text = (corpus / SMALL_FILE).read_text(encoding="utf-8")
    changed = text.replace("省工信厅", "省工业和信息化厅", 1)
    assert changed != text
    (corpus / SMALL_FILE).write_text(changed, encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", cache_dir=tmp_path / "cache",
                         progress=False)
    assert report.n_passages == 66
    assert report.embedded == 1 and report.shipped == 65  # the changed passage only


def test_writing_the_same_vectors_gives_the_same_bytes(tmp_path, embedder, shipped, ingested):
    texts = [embedding_text(p) for p in ingested.passages if p.source_file == SMALL_FILE]
    vectors = shipped.vectors_of([text_key(t) for t in texts])
    first = [p.read_bytes() for p in write_shipped(tmp_path / "a", embedder, texts, vectors)]
    again = [p.read_bytes() for p in write_shipped(tmp_path / "b", embedder, texts[::-1],
                                                   vectors[::-1])]
    assert first == again
    loaded = ShippedEmbeddings.load(tmp_path / "a", embedder)
    assert len(loaded) == len(set(texts))
    np.testing.assert_array_equal(loaded.vectors_of([text_key(texts[0])])[0],
                                  index_precision(vectors[:1])[0])


def test_adding_a_file_embeds_only_its_own_passages(tmp_path, embedder):
    import time

    from rag.index.collection import add_files

    corpus = _small_corpus(tmp_path, embedder)  # one gazette and the shipped embeddings
    index = tmp_path / ".ragqa" / "index"  # with an empty cache beside it
    first = build_index(corpus, index, embedder=embedder, progress=False)
    assert first.embedded == 0 and first.shipped == 66
    new = tmp_path / "005_added.txt"
    new.write_text(f"关于测试新增文件的通知\n\n新增文件的唯一段落，编号{time.time_ns()}。\n",
                   encoding="utf-8")
    change = add_files([new], index, corpus_dir=corpus, embedder=embedder)
    assert "embedded 1, reused 66 shipped" in change.summary, change.summary


# ----------------------------------------------------------- the tests' own vectors


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    """The generated laws (tests/legal_texts.py): the largest set of texts the suite
    indexes beyond the corpus."""
    from legal_texts import write

    out = tmp_path_factory.mktemp("laws")
    write(out)
    return ingest(out / "corpus")


def test_the_tests_vectors_cover_the_generated_laws_and_are_the_models(laws, embedder):
    """tests/embeddings (seeded into the cache by the conftest) holds the model's vectors
    of the generated laws, within the corpus file's tolerance."""
    from conftest import TESTS

    theirs = ShippedEmbeddings.load(TESTS, embedder)
    again = "rewrite it as the conftest's docstring says (tests.ship_embeddings)"
    assert theirs is not None, f"no usable tests/embeddings for {embedder.name}; {again}"
    texts = sorted({embedding_text(p) for p in laws.passages})
    missing = [t for t in texts if text_key(t) not in theirs]
    assert not missing, f"{len(missing)} of {len(texts)} generated passages have no " \
                        f"vector in tests/embeddings; {again}"
    sample = texts[:: max(1, len(texts) // 12)]
    fresh = embedder.embed_passages(sample)
    stored = theirs.vectors_of([text_key(t) for t in sample])
    assert len(sample) >= 12
    assert float(np.abs(stored - fresh).max()) <= TOLERANCE
    assert float((stored * fresh).sum(axis=1).min()) >= MIN_COSINE
