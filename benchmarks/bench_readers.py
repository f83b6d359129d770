"""Readers: which PDF library, and how fast and how well each format is read.

On the test documents ``tests/make_documents.py`` generates from the corpus (text PDFs
of the five files, DOCX, web pages, scanned pages of 000):

* PDF libraries compared on the first ``LIBRARY_PAGES`` pages of each text PDF:
  PDFium (pypdfium2, as ``rag.ingest.readers.pdf`` reads it), pdfplumber and pypdf.
  Reading order: the share of the lines drawn on a page that come out in the order they
  were drawn (each found after the previous one, spaces ignored). Kangxi/CJK radicals:
  characters in U+2E80-U+2FDF in the raw output (before our folding). Speed: pages/s.
* Every format through ``read_file`` and the page-furniture step, each in its own
  process: pages (DOCX: page breaks; HTML: files) per second and peak resident memory.
* OCR: the scanned pages read by ``rapidocr-onnxruntime``, pages/s, and character
  accuracy against the lines drawn on them (letters and digits after NFKC,
  ``eval.text_accuracy``); aim ≥ 0.97.

    python -m benchmarks.run --only readers [--quick]
    python -m benchmarks.run --only scan_to_answer   # upload the scan, ask about it
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from benchmarks.common import ROOT, Result, emit, load_average, log, proc_status, run_json

LIBRARY_PAGES = 20
LONG_PAGES = 500
STEMS = ("000_9f2846b890213e93", "001_0cdaa93c0b4343c5", "002_97e5f3168bf50f07",
         "003_2f4097cb1dcd751f", "004_345c30e83f90ffdd")
_SPACE = re.compile(r"\s+")
_RADICALS = re.compile(r"[\u2e80-\u2fdf]")


def drawn_lines(made: Path, stem: str) -> dict[int, list[str]]:
    """Page index -> the source lines drawn on it (a wrapped line counts on its first page)."""
    layout = json.loads((made / "pdf" / f"{stem}.layout.json").read_text(encoding="utf-8"))
    source = (ROOT / "corpus" / f"{stem}.txt").read_text(encoding="utf-8").splitlines()
    pages: dict[int, list[str]] = {}
    for number, page in layout["lines"].items():
        pages.setdefault(page, []).append((int(number), source[int(number) - 1]))
    return {p: [t for _, t in sorted(rows)] for p, rows in pages.items()}


def in_order(extracted: str, lines: list[str], wrapped: bool) -> tuple[int, int]:
    """(lines found in drawing order, lines): each found after the previous one.

    A wrapped source line is looked for by its first 12 characters.

    >>> in_order("甲乙丙\\n丁戊", ["甲乙", "丁戊"], False), in_order("丁戊甲乙", ["甲乙", "丁戊"], False)
    ((2, 2), (1, 2))
    """
    text = _SPACE.sub("", extracted)
    at, found = 0, 0
    for line in lines:
        key = _SPACE.sub("", line)[:12] if wrapped else _SPACE.sub("", line)
        if not key:
            continue
        position = text.find(key, at)
        if position >= 0:
            found += 1
            at = position + len(key)
    return found, sum(1 for x in lines if _SPACE.sub("", x))


def _pdfium_pages(path: Path, n: int) -> list[str]:
    import pypdfium2 as pdfium

    from rag.ingest.readers.pdf import text_lines

    document = pdfium.PdfDocument(str(path))
    out = []
    for i in range(min(n, len(document))):
        page = document[i]
        out.append("\n".join(x.text for x in text_lines(page)))
        page.close()
    document.close()
    return out


def _pdfium_raw(path: Path, n: int) -> list[str]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(str(path))
    out = []
    for i in range(min(n, len(document))):
        textpage = document[i].get_textpage()
        out.append(textpage.get_text_range())
        textpage.close()
    document.close()
    return out


def _pdfplumber_pages(path: Path, n: int) -> list[str]:
    import pdfplumber

    with pdfplumber.open(str(path)) as pdf:
        return [page.extract_text() or "" for page in pdf.pages[:n]]


def _pypdf_pages(path: Path, n: int) -> list[str]:
    import pypdf

    reader = pypdf.PdfReader(str(path))
    return [page.extract_text() or "" for page in reader.pages[:n]]


def _pypdf_pages_no_nul(path: Path, n: int) -> list[str]:
    """pypdf's text with the NUL it puts before every character (2-byte codes) removed."""
    return [text.replace("\x00", "") for text in _pypdf_pages(path, n)]


LIBRARIES = {
    "pypdfium2 (our lines)": _pdfium_pages,
    "pypdfium2 (get_text_range)": _pdfium_raw,
    "pdfplumber": _pdfplumber_pages,
    "pypdf": _pypdf_pages,
    "pypdf, NUL removed": _pypdf_pages_no_nul,
}


def compare_libraries(made: Path, pages: int) -> dict[str, dict]:
    out = {}
    for name, read in LIBRARIES.items():
        found = total = radicals = count = 0
        seconds = 0.0
        for stem in STEMS:
            drawn = drawn_lines(made, stem)
            started = time.perf_counter()
            texts = read(made / "pdf" / f"{stem}.pdf", pages)
            seconds += time.perf_counter() - started
            for index, text in enumerate(texts):
                f, t = in_order(text, drawn.get(index, []), stem[:3] in ("002", "004"))
                found, total = found + f, total + t
                radicals += len(_RADICALS.findall(text))
            count += len(texts)
        out[name] = {"pages": count, "seconds": round(seconds, 2),
                     "pages_per_s": round(count / seconds, 1), "order": round(found / total, 4),
                     "radicals": radicals}
        log(f"{name}: {out[name]}")
    return out


# ---------------------------------------------------------------- per-format workers


def long_pdf(pages: int) -> Path:
    """A text PDF of at least ``pages`` pages: the generated 000 PDF repeated."""
    import pypdf

    from benchmarks.common import TMP
    from tests.make_documents import OUT

    target = TMP / f"long-{pages}.pdf"
    if not target.exists():
        source = pypdf.PdfReader(OUT / "pdf" / "000_9f2846b890213e93.pdf")
        writer = pypdf.PdfWriter()
        while len(writer.pages) < pages:
            for page in source.pages:
                writer.add_page(page)
        TMP.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as handle:
            writer.write(handle)
    return target


def worker_long(pages: int) -> dict:
    """Read a long PDF: progress reported for every page, peak memory."""
    from rag.ingest.readers import read_file
    from rag.ingest.readers.pages import to_lines

    path = long_pdf(pages)
    calls: list[int] = []
    started = time.perf_counter()
    extracted = read_file(path, progress=lambda done, total, how: calls.append(done))
    lines = to_lines(extracted)
    seconds = time.perf_counter() - started
    return {"format": "pdf-long", "pages": len(extracted.pages), "lines": len(lines),
            "progress_calls": len(calls), "seconds": round(seconds, 2),
            "pages_per_s": round(len(extracted.pages) / seconds, 2),
            "peak_mib": proc_status().get("VmHWM"), "bytes": path.stat().st_size}


def worker(fmt: str, quick: bool) -> dict:
    """Read every test document of one format; pages, seconds, peak memory."""
    if fmt == "pdf-long":
        return worker_long(LONG_PAGES)
    from rag.ingest.readers import read_file
    from rag.ingest.readers.pages import to_lines
    from tests.make_documents import OUT, SAMPLE_SCAN

    folder = OUT / ("scan" if fmt == "ocr" else fmt)
    files = sorted(p for p in folder.iterdir() if p.suffix in (".pdf", ".docx", ".html"))
    pages = lines = 0
    accuracy: list[tuple[str, float]] = []
    articles: list[tuple[str, int, int, list[str]]] = []  # drawn, found as articles, missing
    started = time.perf_counter()
    for path in files:
        extracted = read_file(path)
        pages += len(extracted.pages)
        kept = to_lines(extracted)
        lines += len(kept)
        if fmt == "ocr":  # the file's text, furniture removed, against the lines drawn
            from eval.text_accuracy import char_accuracy

            drawn = drawn_lines(OUT, path.stem)
            first = SAMPLE_SCAN.get(path.stem, (0, len(extracted.pages)))[0]
            source = "".join("".join(drawn.get(first + p.index, [])) for p in extracted.pages)
            got = "".join(x.text for x in kept)
            accuracy.append((f"{path.stem} ({len(extracted.pages)} pages)",
                             round(char_accuracy(got, source), 4)))
            from rag.ingest.clean import ARTICLE_RE

            want = [m.group(0).strip() for p in extracted.pages
                    for t in drawn.get(first + p.index, []) if (m := ARTICLE_RE.match(t.strip()))]
            found = [m.group(0).strip() for x in kept if (m := ARTICLE_RE.match(x.text))]
            articles.append((path.stem, len(want), len(found),
                             [a for a in want if a not in found]))
    seconds = time.perf_counter() - started
    return {"format": fmt, "files": len(files), "pages": pages, "lines": lines,
            "seconds": round(seconds, 2), "pages_per_s": round(pages / seconds, 2),
            "peak_mib": proc_status().get("VmHWM"), "accuracy": accuracy, "articles": articles}


def run(command: str, quick: bool) -> Result:
    from tests.make_documents import make_documents

    result = Result("readers", command)
    made = make_documents()
    load = load_average()
    libraries = compare_libraries(made, 5 if quick else LIBRARY_PAGES)
    result.details["libraries"] = libraries
    for name, row in libraries.items():
        result.figure(f"text PDF with {name}: pages/s", row["pages_per_s"], "pages/s",
                      f"{row['pages']} pages; reading order {row['order']:.2%} of lines; "
                      f"{row['radicals']} radical code points", load=load)
    for fmt in ("pdf", "docx", "html", "ocr"):
        row = run_json("benchmarks.bench_readers", ["--worker", fmt] + (["--quick"] * quick),
                       timeout_s=900)
        result.details[fmt] = row
        unit = {"html": "files/s", "docx": "pages/s"}.get(fmt, "pages/s")
        label = {"pdf": "text PDF (PDFium, furniture removed)", "docx": "DOCX (page breaks)",
                 "html": "web page", "ocr": "scanned PDF page (OCR, 200 dpi)"}[fmt]
        speed = row["pages_per_s"]
        if fmt == "ocr":  # seconds a page reads better than 0.02 pages/s
            speed, unit = round(row["seconds"] / max(1, row["pages"]), 1), "s/page"
        result.figure(f"{label}: speed", speed, unit,
                      f"{row['pages']} pages in {row['files']} files, {row['seconds']} s",
                      load=load_average())
        result.figure(f"{label}: peak resident memory of the reading process",
                      row["peak_mib"], "MiB", "Python, the reader and its libraries")
    row = run_json("benchmarks.bench_readers", ["--worker", "pdf-long"], timeout_s=900)
    result.details["pdf-long"] = row
    result.figure(f"{row['pages']}-page text PDF: read, progress on every page, peak memory",
                  row["peak_mib"], "MiB",
                  f"{row['pages_per_s']} pages/s, {row['progress_calls']} progress reports, "
                  f"{row['bytes'] // 2**20} MiB file", load=load_average())
    scores = [a for _, a in result.details["ocr"]["accuracy"]]
    if scores:
        mean = sum(scores) / len(scores)
        result.figure("OCR character accuracy (letters and digits, NFKC), mean over files",
                      round(mean, 4), "", f"{result.details['ocr']['accuracy']}")
        result.aim("OCR character accuracy on scanned gazette pages", ">= 0.97",
                   f"{min(scores):.4f} (worst file), {mean:.4f} (mean)", min(scores) >= 0.97)
        drawn = sum(a[1] for a in result.details["ocr"]["articles"])
        missing = [m for a in result.details["ocr"]["articles"] for m in a[3]]
        result.aim("articles on the scanned pages found as articles after OCR", "all",
                   f"{drawn - len(missing)} of {drawn}" + (f" (missing {missing})" if missing
                                                          else ""), not missing)
    result.notes.append(
        "On these PDFs (fpdf2, Noto Serif CJK as a CID font) pdfplumber extracts no text and "
        "pypdf puts a NUL before every character; PDFium reads every line in order. The "
        "readers use PDFium (pypdfium2).")
    result.notes.append(
        "Test documents: tests/make_documents.py (generated from corpus/; scans rotated up "
        "to ±0.8°, Gaussian noise σ 12, JPEG quality 60, 200 dpi). Library reading order is "
        "scored against the lines the generator drew on each page.")
    return result


def run_scan_to_answer(command: str, quick: bool) -> Result:
    from tests.make_documents import make_documents

    result = Result("scan_to_answer", command)
    make_documents()
    row = run_json("benchmarks.bench_readers", ["--worker", "scan-to-answer"], timeout_s=900)
    result.details.update(row)
    load = load_average()
    pages = row["pages"]
    result.figure(f"{pages}-page scanned gazette: upload (document tab handler) to indexed",
                  row["added_s"], "s", f"first page read after {row['first_page_read_s']} s",
                  load=load)
    result.figure(f"{pages}-page scanned gazette: upload to the first answer citing it",
                  row["answered_s"], "s", f"cited files {row['cited']}", load=load)
    result.aim("an answer cites the scanned file right after its upload", "cites the scan",
               str(row["cited"]), "000_9f2846b890213e93.pdf" in row["cited"])
    result.notes.append("A 20-page scan costs about 5 times the OCR part (OCR is per page, "
                        "the rebuild and the answer are not).")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=("pdf", "docx", "html", "ocr", "pdf-long",
                                             "scan-to-answer", "ocr-settings"))
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--settings", action="append", default=[],
                        help="ocr-settings: a name from ocr_candidates() (repeatable)")
    parser.add_argument("--pages", default=",".join(map(str, OCR_SPEED_PAGES)))
    args = parser.parse_args(argv)
    if args.worker == "ocr-settings":
        emit(worker_ocr_settings(args.settings or list(ocr_candidates()),
                                 tuple(int(p) for p in args.pages.split(","))))
        return 0
    if args.worker == "scan-to-answer":
        emit(scan_to_answer(args.quick))
        return 0
    emit(worker(args.worker, args.quick))
    return 0



# ---------------------------------------------------------------- OCR settings

def ocr_candidates() -> dict[str, dict]:
    """Name -> OcrSettings fields, every one given: the setting used before this comparison
    (onnxruntime's own thread count, recognition batch 6), then one change at a time."""
    base = {"dpi": 200, "threads": 1, "det_side": 0, "rec_batch": 6, "cls": True}
    return {
        "before: 200 dpi, onnxruntime's threads, batch 6": base | {"threads": 0},
        "200 dpi, 1 thread, batch 6": base,
        "200 dpi, 2 threads, batch 6": base | {"threads": 2},
        "150 dpi": base | {"dpi": 150},
        "detector at 1280 px": base | {"det_side": 1280},
        "detector at 960 px": base | {"det_side": 960},
        "no angle classifier": base | {"cls": False},
        "recognition batch 3": base | {"rec_batch": 3},
        "recognition batch 1 (default)": base | {"rec_batch": 1},
        "batch 3, detector at 960 px": base | {"rec_batch": 3, "det_side": 960},
        "batch 1, detector at 960 px": base | {"rec_batch": 1, "det_side": 960},
        "batch 3, detector at 960 px, 150 dpi": base | {"rec_batch": 3, "det_side": 960,
                                                        "dpi": 150},
        "batch 3, detector at 960 px, no classifier": base | {"rec_batch": 3, "det_side": 960,
                                                              "cls": False},
    }


OCR_SPEED_PAGES = (1, 2, 5)  # page indexes of the 000 scan: 公告 end, dense article pages


def worker_ocr_settings(names: list[str], pages: tuple[int, ...]) -> dict:
    """OCR the same scanned pages with each setting: seconds a page (wall and CPU of this
    process), character accuracy against the lines drawn, articles found."""
    import os

    import pypdfium2 as pdfium

    from eval.text_accuracy import char_accuracy
    from rag.ingest.clean import ARTICLE_RE
    from rag.ingest.readers import ocr
    from rag.ingest.readers.base import OCR, Extracted, PageText
    from rag.ingest.readers.pages import to_lines
    from tests.make_documents import OUT

    stem = "000_9f2846b890213e93"
    drawn = drawn_lines(OUT, stem)
    document = pdfium.PdfDocument(str(OUT / "scan" / f"{stem}.pdf"))
    candidates = ocr_candidates()
    rows = []
    for name in names:
        chosen = ocr.OcrSettings(**candidates[name])
        ocr.engine(chosen)  # loading is not counted
        found, wall, cpu = [], 0.0, 0.0
        for index in pages:
            started, times = time.perf_counter(), os.times()
            page = document[index]
            image = page.render(scale=chosen.dpi / 72, grayscale=True).to_pil()
            lines = ocr.ocr_image(image, chosen=chosen)
            page.close()
            after = os.times()
            wall += time.perf_counter() - started
            cpu += (after.user - times.user) + (after.system - times.system)
            found.append(PageText(index, None, lines, OCR, "no text layer"))
        kept = to_lines(Extracted(f"{stem}.pdf", "pdf", tuple(found)))
        source = "".join("".join(drawn.get(i, [])) for i in pages)
        want = [m.group(0).strip() for i in pages for t in drawn.get(i, [])
                if (m := ARTICLE_RE.match(t.strip()))]
        got = [m.group(0).strip() for x in kept if (m := ARTICLE_RE.match(x.text))]
        rows.append({"setting": name, "settings": candidates[name], "pages": len(pages),
                     "wall_s_per_page": round(wall / len(pages), 2),
                     "cpu_s_per_page": round(cpu / len(pages), 2),
                     "accuracy": round(char_accuracy("".join(x.text for x in kept), source), 4),
                     "articles": f"{sum(a in got for a in want)} of {len(want)}",
                     "load": load_average()})
        log(json.dumps(rows[-1], ensure_ascii=False))
    document.close()
    return {"pages": list(pages), "rows": rows}


def run_ocr_speed(command: str, quick: bool) -> Result:
    """OCR settings compared on the same scanned pages (each in its own process)."""
    from rag.ingest.readers import ocr
    from tests.make_documents import make_documents

    result = Result("ocr_speed", command)
    make_documents()
    pages = OCR_SPEED_PAGES  # three pages: running headers are told by repetition
    names = list(ocr_candidates())
    default = next(n for n, v in ocr_candidates().items() if ocr.OcrSettings(**v) == ocr.SETTINGS)
    if quick:  # the setting before and the default
        names = [names[0], default]
    rows = []
    for name in names:
        row = run_json("benchmarks.bench_readers",
                       ["--worker", "ocr-settings", "--settings", name,
                        "--pages", ",".join(map(str, pages))], timeout_s=1800)
        rows.extend(row["rows"])
    result.details["rows"] = rows
    result.details["default"] = str(ocr.SETTINGS)
    for row in rows:
        result.figure(f"OCR, {row['setting']}: CPU seconds a page", row["cpu_s_per_page"], "s",
                      f"wall {row['wall_s_per_page']} s/page; accuracy {row['accuracy']}; "
                      f"articles {row['articles']}; pages {pages} of the 000 scan",
                      load=row["load"])
    chosen = next(r for r in rows if r["setting"] == default)
    result.aim("OCR character accuracy with the default settings", ">= 0.99",
               f"{chosen['accuracy']}", chosen["accuracy"] >= 0.99)
    result.notes.append(
        "CPU seconds are the reading process's user+system time, a steadier measure than wall "
        "time on a shared machine; onnxruntime's own thread count spins idle threads, which "
        "shows as CPU time and, under load, as wall time.")
    return result


# ---------------------------------------------------------------- scan to answer


def scan_to_answer(quick: bool) -> dict:
    """Seconds from handing the scanned pages to the document tab's upload handler to the
    first answer (through the live pipeline) that cites them."""
    import shutil

    from benchmarks.common import CACHE, TMP
    from rag.embed import load_embedder
    from rag.index.build import build_index
    from rag.live import LivePipeline
    from tests.make_documents import OUT
    from ui.documents import DocumentManager

    root = TMP / "scan-to-answer"
    shutil.rmtree(root, ignore_errors=True)
    (root / "corpus").mkdir(parents=True)
    shutil.copyfile(ROOT / "corpus" / "004_345c30e83f90ffdd.txt",
                    root / "corpus" / "004_345c30e83f90ffdd.txt")
    (root / ".ragqa").mkdir()
    (root / ".ragqa" / "cache").symlink_to(CACHE.resolve())
    index = root / ".ragqa" / "index"
    embedder = load_embedder()
    build_index(root / "corpus", index, embedder=embedder, progress=False)
    live = LivePipeline(index, check_seconds=0, embedder=embedder)
    scan = OUT / "scan" / "000_9f2846b890213e93.pdf"
    steps: list[tuple[float, str]] = []
    started = time.perf_counter()
    message = DocumentManager(live).upload(
        [str(scan)], progress=lambda f, text: steps.append((time.perf_counter() - started, text)))
    added = time.perf_counter() - started
    answer = live.ask("未成年人保护条例第五条怎么规定的？")
    answered = time.perf_counter() - started
    cited = [c.source_file for c in answer.citations]
    shutil.rmtree(root, ignore_errors=True)
    import pypdfium2 as pdfium

    pages = len(pdfium.PdfDocument(str(scan)))
    message = message.replace(f"{ROOT}/", "")  # paths relative to the checkout
    return {"pages": pages, "message": message[:300], "added_s": round(added, 1),
            "answered_s": round(answered, 1), "cited": cited,
            "first_page_read_s": round(steps[1][0], 1) if len(steps) > 1 else None}


if __name__ == "__main__":
    raise SystemExit(main())
