"""A rebuild while serving: the live pipeline switches to the new index, or keeps the old."""

from __future__ import annotations

import shutil
import time

from conftest import CACHE, CORPUS

from rag.index.build import build_index
from rag.live import LivePipeline


def test_rebuild_while_serving_switches_atomically(built_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(built_index, index)
    live = LivePipeline(index, check_seconds=0)
    before = live.current
    assert live.ask("网吧能让未成年人进去吗？").citations  # serving

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "005_extra.txt").write_text(
        f"关于测试热切换的通知\n\n热切换测试段落，编号{time.time_ns()}。\n", encoding="utf-8")
    build_index(corpus, index, cache_dir=CACHE, progress=False)

    after = live.current
    assert after is not before
    assert len(after.passages) == len(before.passages) + 1
    assert any(p.source_file == "005_extra.txt" for p in live.passages)


def test_a_broken_new_index_keeps_the_old_one_serving(built_index, tmp_path):
    index = tmp_path / "index"
    shutil.copytree(built_index, index)
    live = LivePipeline(index, check_seconds=0)
    before = live.current
    (index / "vectors.faiss").write_bytes(b"garbage")  # damaged in place …
    manifest = index / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")  # … and touched
    assert live.current is before
    assert live.ask("网吧能让未成年人进去吗？").citations
