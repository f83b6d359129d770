"""Write tests/embeddings: the model's vectors of every text the test suite embeds that
corpus/embeddings does not hold (generated laws, renderings and edits of the gazettes).

Run it after a test run that started from an empty embedding cache, so the file holds
what the tests embed today and nothing older::

    rm -rf .ragqa/cache tests/embeddings && make test && .venv/bin/python -m tests.ship_embeddings

The conftest seeds the cache from this file before the tests run; ``tests/test_shipped``
checks a sample against the model. Left out: telling the texts the tests make new on
purpose (an edit stamped with the time) from the rest; a few such vectors ride along.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    from rag.embed import load_embedder
    from rag.index.embed_cache import EmbeddingCache
    from rag.index.shipped import ShippedEmbeddings, write_shipped_keys

    embedder = load_embedder()
    cache = EmbeddingCache(ROOT / ".ragqa" / "cache", embedder.name, embedder.dim)
    corpus = ShippedEmbeddings.load(ROOT / "corpus", embedder)
    keys = [k for k in cache.text_keys() if corpus is None or k not in corpus]
    json_path, npz_path = write_shipped_keys(ROOT / "tests", embedder, keys,
                                             cache.vectors_of(keys))
    print(f"{len(keys)} vectors of {embedder.name} written to {npz_path} "
          f"({npz_path.stat().st_size / 2**20:.1f} MiB) and {json_path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
