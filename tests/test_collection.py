"""Adding and removing files while serving: ``ragqa add`` / ``ragqa remove``.

A small index (one text file of the corpus) gets a generated text PDF added, a bad file
refused, and the PDF removed again; a live pipeline follows every swap.
"""

from __future__ import annotations

import hashlib
import shutil

import pytest
from conftest import CACHE, CORPUS

from rag.errors import CorpusError, DocumentReadError
from rag.index.build import build_index
from rag.index.collection import add_files, page_image, remove_file, source_files
from rag.live import LivePipeline

BASE = "004_345c30e83f90ffdd.txt"
ADDED = "003_2f4097cb1dcd751f.pdf"


@pytest.fixture(scope="module")
def embedder():
    from rag.embed import load_embedder

    return load_embedder()


@pytest.fixture
def small_index(tmp_path, embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / BASE, corpus / BASE)
    root = tmp_path / ".ragqa"
    root.mkdir()
    (root / "cache").symlink_to(CACHE.resolve())
    index = root / "index"
    build_index(corpus, index, embedder=embedder, progress=False)
    return corpus, index


def _manifest_hash(index) -> str:
    return hashlib.sha256((index / "manifest.json").read_bytes()).hexdigest()


def test_add_then_remove_while_serving(small_index, embedder, made):
    corpus, index = small_index
    pdf = made / "pdf" / ADDED
    live = LivePipeline(index, check_seconds=0, embedder=embedder)
    before = len(live.current.passages)
    assert not live.search("稷山县重大行政决策程序实施办法第五条", k=3)[0].passage.source_file \
        .endswith(".pdf")

    change = add_files([pdf], index, corpus_dir=corpus, embedder=embedder)
    assert change.added == (ADDED,)
    assert "53 pages (53 text layer)" in change.notes[0]
    hits = live.search("稷山县重大行政决策程序实施办法第五条", k=3)
    top = hits[0].passage
    assert (top.source_file, top.doc_title, top.article) == \
           (ADDED, "稷山县重大行政决策程序实施办法", "第五条")
    assert top.page is not None
    kept = {f.name: f for f in source_files(index)}
    assert set(kept) == {BASE, ADDED}
    png = page_image(index, ADDED, top.page)  # the cited page, as printed, for a viewer
    assert png.startswith(b"\x89PNG")
    with pytest.raises(CorpusError, match="only for PDFs"):
        page_image(index, BASE, 1)
    assert kept[ADDED].path.read_bytes() == pdf.read_bytes()  # the original, by content
    assert kept[ADDED].path.stem == hashlib.sha256(pdf.read_bytes()).hexdigest()

    change = remove_file("003_2f4097cb1dcd751f#004", index, corpus_dir=corpus, embedder=embedder)
    assert change.removed == (ADDED,)
    assert len(live.current.passages) == before
    assert all(p.source_file == BASE for p in live.current.passages)


def test_a_bad_file_leaves_the_index_as_it_was(small_index, embedder, tmp_path, made):
    corpus, index = small_index
    before = _manifest_hash(index)
    cut = tmp_path / "cut.pdf"
    cut.write_bytes((made / "pdf" / ADDED).read_bytes()[:20000])
    with pytest.raises(DocumentReadError, match=r"cut\.pdf: .*damaged or truncated"):
        add_files([made / "docx" / "003_2f4097cb1dcd751f.docx", cut], index, corpus_dir=corpus,
                  embedder=embedder)
    lying = tmp_path / "notice.docx"
    lying.write_bytes((made / "pdf" / ADDED).read_bytes())
    with pytest.raises(DocumentReadError, match=r"content is a PDF; rename it to notice\.pdf"):
        add_files([lying], index, corpus_dir=corpus, embedder=embedder)
    with pytest.raises(DocumentReadError, match="same content as 004_345c30e83f90ffdd.txt"):
        add_files([], index, corpus_dir=corpus, embedder=embedder,
                  uploads={"copy.txt": (CORPUS / BASE).read_bytes()})
    with pytest.raises(CorpusError, match="only file in the index"):
        remove_file(BASE, index, corpus_dir=corpus, embedder=embedder)
    with pytest.raises(CorpusError, match="not an indexed file"):
        remove_file("nothing.pdf", index, corpus_dir=corpus, embedder=embedder)
    assert _manifest_hash(index) == before


def test_cli_add_and_list_documents(small_index, capsys, made):
    from ragqa.cli import main

    corpus, index = small_index
    html = made / "html" / "002_97e5f3168bf50f07.html"
    assert main(["add", str(html), "--index", str(index), "--corpus", str(corpus)]) == 0
    assert main(["index", "--list-documents", "--index", str(index)]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = [line.split("\t") for line in out if line.startswith("002_97e5f3168bf50f07#")]
    assert len(rows) == 36 and all(r[5] == "002_97e5f3168bf50f07.html" for r in rows)
    assert main(["add", str(corpus / "missing.pdf"), "--index", str(index)]) == 2
    assert "missing.pdf: no such file or folder" in capsys.readouterr().err


def test_document_tab_uploads_lists_and_removes(small_index, embedder, made, tmp_path):
    from rag.ingest import readers
    from rag.pipeline import Pipeline
    from ui.app import build_app
    from ui.documents import DocumentManager

    corpus, index = small_index
    live = LivePipeline(index, check_seconds=0, embedder=embedder)
    build_app(live, needs_login=True)  # the page, with its document tab, builds
    guarded = DocumentManager(live, needs_login=True)
    docx = made / "docx" / "003_2f4097cb1dcd751f.docx"
    assert guarded.upload([str(docx)], username=None) == "请先登录再管理文档。"
    assert guarded.remove(BASE, username=None) == "请先登录再管理文档。"
    before = _manifest_hash(index)

    manager = DocumentManager(live, needs_login=True)
    lying = tmp_path / "scan.png"
    lying.write_bytes(docx.read_bytes())
    message = manager.upload([str(lying)], username="staff")
    assert "scan.png" in message and "rename it to scan.docx" in message
    assert message.endswith("索引未改变。")
    big = tmp_path / "big.pdf"
    with big.open("wb") as handle:
        handle.truncate(readers.MAX_FILE_BYTES + 1)
    assert "big.pdf" in manager.upload([str(big)], username="staff")
    assert _manifest_hash(index) == before

    steps: list[str] = []
    message = manager.upload([str(docx)], username="staff",
                             progress=lambda f, text: steps.append(text))
    assert message.startswith("已加入 003_2f4097cb1dcd751f.docx")
    assert steps[0] == "读取文件…" and steps[-1] == "完成"
    rows = {r["file"]: r for r in manager.rows()}
    assert rows["003_2f4097cb1dcd751f.docx"]["documents"] == 19
    assert rows["003_2f4097cb1dcd751f.docx"]["added"]
    assert "003_2f4097cb1dcd751f.docx" in manager.listing_html()
    assert any(p.source_file.endswith(".docx") for p in live.current.passages)
    assert manager.remove("003_2f4097cb1dcd751f.docx", username="staff").startswith("已移除")
    assert manager.file_choices() == [BASE]
    assert isinstance(Pipeline.load(index, embedder=embedder), Pipeline)


def test_add_without_an_index_starts_from_the_corpus_folder(tmp_path, embedder, made):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copyfile(CORPUS / BASE, corpus / BASE)
    (tmp_path / ".ragqa").mkdir()
    (tmp_path / ".ragqa" / "cache").symlink_to(CACHE.resolve())
    index = tmp_path / ".ragqa" / "index"
    add_files([made / "html" / "003_2f4097cb1dcd751f.html"], index, corpus_dir=corpus,
              embedder=embedder)
    assert [f.name for f in source_files(index)] == ["003_2f4097cb1dcd751f.html", BASE]
