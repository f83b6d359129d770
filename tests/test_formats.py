"""Every format yields what the .txt files yield: PDF (text layer), DOCX, HTML, scans.

The documents are generated from the corpus by ``tests/make_documents.py`` (cached in
tests/artifacts/documents). Nothing here is tuned to them: each test compares with
what the .txt path gives on the same text, or with where the generator drew a line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from eval.text_accuracy import char_accuracy
from rag.ingest.clean import ARTICLE_RE

TXT_STEMS = ("000_9f2846b890213e93", "001_0cdaa93c0b4343c5", "002_97e5f3168bf50f07",
             "003_2f4097cb1dcd751f", "004_345c30e83f90ffdd")


def _by_file(ingested) -> dict[str, list]:
    out: dict[str, list] = {}
    for d in ingested.documents:
        out.setdefault(d.source_file.rsplit(".", 1)[0], []).append(d)
    return out


def _articles(ingested, doc_id: str) -> list:
    return [p for p in ingested.passages if p.doc_id == doc_id and p.article]


def _same_documents(ingested, reference, stems):
    got, want = _by_file(ingested), _by_file(reference)
    for stem in stems:
        assert [(d.title, d.doc_type, d.doc_number) for d in got[stem]] == \
               [(d.title, d.doc_type, d.doc_number) for d in want[stem]], stem
        for mine, theirs in zip(got[stem], want[stem], strict=True):
            assert [p.article for p in _articles(ingested, mine.id)] == \
                   [p.article for p in _articles(reference, theirs.id)], mine.title


@pytest.fixture(scope="session")
def from_pdf(made):
    from rag.ingest import ingest

    return ingest(made / "pdf")


def test_text_pdfs_give_the_documents_and_articles_of_the_text_files(from_pdf, ingested):
    _same_documents(from_pdf, ingested, TXT_STEMS)
    regulations = [d for d in from_pdf.documents if d.doc_type == "regulation"]
    articles = [p for p in from_pdf.passages if p.article]
    assert len(regulations) == len([d for d in ingested.documents if d.doc_type == "regulation"])
    assert len(articles) == len([p for p in ingested.passages if p.article])
    assert all(f.encoding == "pdf" and "text layer" in f.read_note for f in from_pdf.corpus.files)


def test_every_article_cites_the_page_it_was_drawn_on(made, from_pdf, ingested):
    """The printed page label of the PDF page where the article's first line was drawn."""
    checked = 0
    got, want = _by_file(from_pdf), _by_file(ingested)
    for stem in TXT_STEMS:
        layout = json.loads((made / "pdf" / f"{stem}.layout.json").read_text(encoding="utf-8"))
        for mine, theirs in zip(got[stem], want[stem], strict=True):
            starts = {}
            for paragraph in theirs.paragraphs:
                if m := ARTICLE_RE.match(paragraph.text):
                    starts.setdefault(m.group(0), paragraph.line)
            first = {}  # a long article's later passages cite the page they start on
            for passage in _articles(from_pdf, mine.id):
                first.setdefault(passage.article, passage)
            for passage in first.values():
                if passage.article not in starts:
                    continue
                drawn = layout["lines"][str(starts[passage.article])]
                assert passage.page == int(layout["labels"][drawn]), (mine.title, passage.article)
                checked += 1
    assert checked >= 600


def test_pdf_page_furniture_is_gone(from_pdf):
    text = "\n".join(p.text for p in from_pdf.passages)
    assert "常务委员会公报　２０２３年第５号" not in text
    assert not re.search(r"^—[０-９]+—$", text, re.M)


@pytest.mark.parametrize("fmt, stems", [("docx", TXT_STEMS), ("html", TXT_STEMS[2:])])
def test_docx_and_web_pages_give_the_same_documents(made, ingested, fmt, stems):
    from rag.ingest import ingest

    _same_documents(ingest(made / fmt), ingested, stems)


def test_web_page_navigation_is_left_out(made):
    from rag.ingest.readers import read_file

    lines = [x.text for x in read_file(made / "html" / "002_97e5f3168bf50f07.html").pages[0].lines]
    joined = "\n".join(lines)
    for furniture in ("当前位置", "政务公开", "晋ICP备", "分享到", "往期公报", "无障碍浏览"):
        assert furniture not in joined
    assert lines[0].startswith("山西省人民政府公报")


def test_docx_tables_numbering_and_headings(tmp_path, ingested):
    """A DOCX table comes out one row a line; auto-numbered paragraphs get their numbers."""
    import docx

    from rag.ingest.readers import read_file

    regulation = next(d for d in ingested.documents if d.doc_type == "regulation")
    articles = [p for p in ingested.passages if p.doc_id == regulation.id and p.article][:3]
    document = docx.Document()
    document.add_heading(regulation.title, level=1)
    table = document.add_table(rows=len(articles), cols=2)
    for row, passage in zip(table.rows, articles, strict=True):
        row.cells[0].text = passage.article
        row.cells[1].text = passage.text.split("　", 1)[1][:30]
    for passage in articles:
        document.add_paragraph(passage.text[:20], style="List Number")
    document.save(tmp_path / "t.docx")
    lines = [x.text for x in read_file(tmp_path / "t.docx").pages[0].lines]
    assert lines[0] == f"# {regulation.title}"
    assert lines[1] == f"{articles[0].article}　{articles[0].text.split('　', 1)[1][:30]}"
    assert [x.split(".", 1)[0] for x in lines[-3:]] == ["1", "2", "3"]


# ---------------------------------------------------------------- scans


def test_scanned_page_is_read_by_ocr_and_recorded(made, monkeypatch, tmp_path):
    """Page 2 of 000 as a scan: OCR'd ('no text layer'), ≥ 0.97 of its characters right
    (its running header counts: one page cannot show that it repeats), with the network
    cut off (the OCR models ship in the package), every article start found; read again,
    the page comes from the OCR cache without OCR."""
    pytest.importorskip("rapidocr_onnxruntime")
    import socket

    import pypdf

    from rag.ingest.readers import ocr, read_bytes
    from rag.ingest.readers.pages import to_lines

    scan = made / "scan" / "000_9f2846b890213e93.pdf"
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(scan).pages[1])
    one = Path(made / "scan" / "page2.pdf.part")
    with one.open("wb") as handle:
        writer.write(handle)
    def no_network(*args, **kwargs):
        raise AssertionError("OCR tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(ocr, "_engines", {})  # load the models now, offline
    extracted = read_bytes("page2.pdf", one.read_bytes(), ocr_cache=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 1

    def no_ocr(*args, **kwargs):
        raise AssertionError("a cached page was OCR'd again")

    monkeypatch.setattr(ocr, "engine", no_ocr)
    assert read_bytes("page2.pdf", one.read_bytes(), ocr_cache=tmp_path) == extracted
    one.unlink()
    assert [(p.method, p.reason) for p in extracted.pages] == [("ocr", "no text layer")]
    layout = json.loads((made / "pdf" / "000_9f2846b890213e93.layout.json").read_text())
    source = Path("corpus/000_9f2846b890213e93.txt").read_text(encoding="utf-8").splitlines()
    drawn = [source[int(n) - 1] for n, page in layout["lines"].items() if page == 1]
    lines = to_lines(extracted)
    assert char_accuracy("".join(x.text for x in lines), "".join(drawn)) >= 0.97
    starts = [x.text.split("　")[0] for x in lines if ARTICLE_RE.match(x.text)]
    want = [m.group(0).rstrip("　") for t in drawn if (m := ARTICLE_RE.match(t.strip()))]
    assert starts == want  # the space after 第X条 survives OCR, so articles still start


def test_a_line_the_detector_missed_is_read_by_a_second_look(made, monkeypatch, tmp_path):
    """Page 24 of 002 as ``--scanned all`` scans it (the pages before it drawn first, so
    it gets the same rotation and noise): OCR's detector misses whole lines of it, among
    them the first line of 第三十二条, so the regulation lost the article. The second
    look at the bands between rows reads them (this one found by the rows' edges)."""
    pytest.importorskip("rapidocr_onnxruntime")
    import pypdf

    from rag.ingest.corpus import read_corpus
    from rag.ingest.readers import ocr, read_bytes
    from rag.ingest.readers.pages import to_lines
    from tests.make_documents import SEED, write_scan

    stem = "002_97e5f3168bf50f07"
    index = [f.name for f in read_corpus("corpus").files].index(f"{stem}.txt")
    scanned = write_scan(made / "pdf" / f"{stem}.pdf", tmp_path, (0, 24), SEED + index)
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(scanned).pages[23])
    one = tmp_path / "page24.pdf"
    with one.open("wb") as handle:
        writer.write(handle)

    def text(cache: Path) -> str:
        return "\n".join(x.text for x in to_lines(read_bytes(one.name, one.read_bytes(),
                                                               ocr_cache=cache)))

    read = text(tmp_path / "ocr")
    assert "第三十二条　尾矿库闭库工作及闭库后的安全管理由原生产经营单位负责" in read
    assert "第三十六条" in read
    monkeypatch.setattr(ocr, "second_look", lambda *args: [])
    first_pass = text(tmp_path / "first")
    assert "第三十二条" not in first_pass and len(first_pass) < len(read)


def test_scanned_pages_keep_the_documents_of_a_congress_gazette(made, from_pdf, tmp_path):
    """000 as printed with two of its pages scanned (OCR loses the small full stops at
    line ends and reads commas full-width): page 1, where a 公告 is followed by the
    regulation it promulgates (a paragraph ending in 制定本条例 and one ending in 用本条例
    lose their full stops), and page 9, whose last line, 施行, loses its full stop above
    the title of the 说明 that opens page 10. The file splits into the documents, and the
    regulations into the articles, that the text PDF gives."""
    pytest.importorskip("rapidocr_onnxruntime")
    import pypdf

    from rag.ingest import ingest

    stem = "000_9f2846b890213e93"
    writer = pypdf.PdfWriter(clone_from=made / "pdf" / f"{stem}.pdf")
    scan = pypdf.PdfReader(made / "scan" / f"{stem}.pdf")
    for index in (0, 8):  # both inside the sample scan (pages 1-9)
        writer.insert_page(scan.pages[index], index)
        writer.remove_page(index + 1)
    folder = tmp_path / "mixed"
    folder.mkdir()
    with (folder / f"{stem}.pdf").open("wb") as handle:
        writer.write(handle)
    mixed = ingest(folder, ocr_cache=tmp_path / "ocr")
    assert "2 OCR: page 1 no text layer; page 9 no text layer" in mixed.corpus.files[0].read_note
    _same_documents(mixed, from_pdf, [stem])


# ---------------------------------------------------------------- bad input


def _pdf_bytes(made) -> bytes:
    return (made / "pdf" / "004_345c30e83f90ffdd.pdf").read_bytes()


def test_bad_files_get_a_message_naming_the_file_and_the_fix(made, tmp_path):
    import pypdf

    from rag.errors import DocumentReadError
    from rag.ingest.readers import MAX_FILE_BYTES, read_bytes, read_file

    def message(name: str, data: bytes) -> str:
        with pytest.raises(DocumentReadError) as info:
            read_bytes(name, data)
        assert str(info.value).startswith(f"{name}: ")
        return str(info.value)

    writer = pypdf.PdfWriter(clone_from=made / "pdf" / "004_345c30e83f90ffdd.pdf")
    writer.encrypt("secret")
    encrypted = tmp_path / "locked.pdf"
    with encrypted.open("wb") as handle:
        writer.write(handle)
    assert "encrypted" in message("locked.pdf", encrypted.read_bytes())
    empty = tmp_path / "empty.pdf"
    with empty.open("wb") as handle:
        pypdf.PdfWriter().write(handle)
    assert "no pages" in message("empty.pdf", empty.read_bytes())
    data = _pdf_bytes(made)
    assert "damaged or truncated" in message("cut.pdf", data[: len(data) // 3])
    docx_bytes = (made / "docx" / "004_345c30e83f90ffdd.docx").read_bytes()
    lie = message("notice.pdf", docx_bytes)
    assert "Word (DOCX)" in lie and "rename it to notice.docx" in lie
    assert "rename it to scan.pdf" in message("scan.png", data)
    assert "unsupported file type .xlsx" in message("budget.xlsx", b"PK\x03\x04...")
    assert "binary data" in message("a.txt", b"\x00\x01\x02")
    big = tmp_path / "huge.pdf"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing is read
    with pytest.raises(DocumentReadError, match=r"huge\.pdf: .* over the .*limit; split"):
        read_file(big)


def test_image_without_text_is_refused(tmp_path):
    pytest.importorskip("rapidocr_onnxruntime")
    from PIL import Image

    from rag.errors import DocumentReadError
    from rag.ingest.corpus import read_document

    blank = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(blank)
    with pytest.raises(DocumentReadError, match=r"blank\.png: no text found"):
        read_document("blank.png", blank.read_bytes())


def test_a_bad_file_in_a_corpus_folder_is_skipped_and_the_rest_read(made, tmp_path):
    from rag.ingest import ingest

    (tmp_path / "004.pdf").write_bytes(_pdf_bytes(made))
    (tmp_path / "cut.pdf").write_bytes(_pdf_bytes(made)[:5000])
    (tmp_path / "004.docx").write_bytes((made / "docx" / "004_345c30e83f90ffdd.docx").read_bytes())
    result = ingest(tmp_path)
    assert [f.name for f in result.corpus.files] == ["004.docx"]  # in name order
    reasons = {s.name: s.reason for s in result.corpus.skipped}
    assert "damaged or truncated" in reasons["cut.pdf"]
    assert "same name as 004.docx" in reasons["004.pdf"]
    assert len(result.documents) == 2


def test_what_was_read_is_kept_and_reused(made, tmp_path, monkeypatch):
    from rag.errors import DocumentReadError
    from rag.ingest import corpus

    data = (made / "pdf" / "004_345c30e83f90ffdd.pdf").read_bytes()
    first = corpus.read_document("004.pdf", data, cache=tmp_path)
    assert list(tmp_path.glob("*.read*.json"))

    def unread(*args, **kwargs):
        raise AssertionError("read again")

    monkeypatch.setattr(corpus, "read_bytes", unread)
    again = corpus.read_document("renamed.pdf", data, cache=tmp_path)
    assert again.lines == first.lines and again.read_note.startswith("renamed.pdf: pdf")
    with pytest.raises(DocumentReadError, match="rename it to lie.pdf"):
        corpus.read_document("lie.docx", data, cache=tmp_path)  # a kept read checks the type too
