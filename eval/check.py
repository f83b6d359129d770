"""Verify a gold file's content against the indexed passages of the corpus.

``check_gold(items, passages)`` returns one ``GoldProblem`` per thing wrong, in file
order. Checks (text compared after ``metrics.norm``):

- ``source_file``: an answerable item names a file that the index holds; an
  unanswerable one names none.
- ``evidence_length``: the evidence is 15 to 80 characters as written (stripped).
- ``evidence_not_found``: the evidence occurs verbatim in its source file: in one
  passage, in the file's passages joined in order, or straddling two neighbouring
  passages that overlap. The message gives the longest part that was found, or the
  file that holds it instead.
- ``doc_title``: the named document exists in that file and holds the evidence.
- ``key_points``: an item has key points, none empty, and an answerable item's key
  points each occur in its evidence.
- ``article``: a passage labelled with the item's article (in the named document
  when that exists) holds the evidence (containment or half the evidence in common).
- ``unreachable``: some indexed passage is relevant to the evidence under the scoring
  rule (which never counts passages over 1,500 normalised characters).
- ``unanswerable_term``: the key terms of an unanswerable item occur in no passage.
- ``also_ok``: each also_ok evidence is 15 to 80 characters, occurs verbatim in the
  corpus, and its document and article (when named) hold it.

With the raw corpus texts (``read_raw_texts``), text that the raw file holds but no
passage does is reported as lost by ingestion, not as a gold mistake.

Left out: ``section`` is not checked (headings are paths whose printed form varies);
questions and reference answers are not judged; format problems are ``eval.gold``'s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from eval.gold import GoldItem
from eval.metrics import (
    longest_common_substring,
    norm,
    relevant_indices,
    same_article,
)
from rag.errors import CorpusError
from rag.types import Passage

EVIDENCE_MIN, EVIDENCE_MAX = 15, 80
MAX_OVERLAP = 1000  # how far into the next passage a straddling evidence may resume

PROBLEM_KINDS = (
    "source_file",
    "evidence_length",
    "evidence_not_found",
    "doc_title",
    "key_points",
    "article",
    "unreachable",
    "unanswerable_term",
    "also_ok",
)


@dataclass(frozen=True)
class GoldProblem:
    """One content problem of a gold item: its line, id, kind (PROBLEM_KINDS), message."""

    line: int
    id: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line} [{self.id}] {self.kind}: {self.message}"


def check_gold(items: Sequence[GoldItem], passages: Sequence[Passage],
               raw_texts: Mapping[str, str] | None = None) -> list[GoldProblem]:
    """Every content problem of the items against the passages, in item order.

    ``raw_texts`` (file name -> raw text, see ``read_raw_texts``) is optional: with it,
    an evidence or title missing from the passages but present in the raw file is
    reported as lost by ingestion rather than as a gold mistake.

    >>> from rag.types import Passage
    >>> p = Passage("f#001:0001", "f#001", "某某条例", "regulation", "f.txt", 1, None, None,
    ...             "第三条", 3, "第三条　保护未成年人应当坚持最有利于未成年人的原则。")
    >>> item = GoldItem("q1", "原则是什么", "clause", "f.txt", "某某条例", "第四条", None,
    ...                 "保护未成年人应当坚持最有利于未成年人的原则", "最有利于", ("最有利于",))
    >>> [problem.kind for problem in check_gold([item], [p])]
    ['article']
    """
    corpus = _Corpus(passages, raw_texts or {})
    problems: list[GoldProblem] = []
    for item in items:
        problems.extend(GoldProblem(item.line, item.id, kind, message)
                        for kind, message in _check_item(item, corpus))
    return problems


class _Corpus:
    """The passages grouped by file and document, normalised once."""

    def __init__(self, passages: Sequence[Passage], raw_texts: Mapping[str, str]) -> None:
        self.raw = {name: norm(text) for name, text in sorted(raw_texts.items())}
        self.passages = tuple(passages)
        self.texts = tuple(passage.text for passage in self.passages)
        self.norms = tuple(norm(text) for text in self.texts)
        self.by_file: dict[str, list[int]] = {}
        self.by_doc: dict[str, list[int]] = {}
        self.titles: dict[str, str] = {}  # doc_id -> title
        for index, passage in enumerate(self.passages):
            self.by_file.setdefault(passage.source_file, []).append(index)
            self.by_doc.setdefault(passage.doc_id, []).append(index)
            self.titles.setdefault(passage.doc_id, passage.doc_title)
        self.files = sorted(self.by_file)
        self.file_text = {name: "".join(self.norms[i] for i in indices)
                          for name, indices in self.by_file.items()}
        self.everything = "\x00".join(self.norms)

    def holds(self, indices: Sequence[int], evidence: str) -> bool:
        """Whether ``evidence`` (normalised) occurs in these passages, joined in order."""
        if not evidence:
            return False
        if evidence in "".join(self.norms[i] for i in indices):
            return True
        return any(_straddles(self.norms[a], self.norms[b], evidence)
                   for a, b in pairwise(indices))

    def docs_of_file(self, source_file: str) -> list[str]:
        return sorted({self.passages[i].doc_id for i in self.by_file.get(source_file, [])})

    def docs_titled(self, source_file: str | None, title: str) -> list[str]:
        """Documents (in that file, or anywhere when None) whose title equals ``title``."""
        target = norm(title)
        docs = self.docs_of_file(source_file) if source_file else sorted(self.by_doc)
        return [doc for doc in docs if norm(self.titles[doc]) == target]

    def closest_titles(self, source_file: str, title: str, count: int = 3) -> list[str]:
        target = norm(title)
        titles = sorted({self.titles[doc] for doc in self.docs_of_file(source_file)})
        scored = sorted(titles, key=lambda t: (-len(longest_common_substring(norm(t), target)),
                                               t))
        return scored[:count]


def _straddles(first: str, second: str, evidence: str) -> bool:
    """Whether the evidence runs from the end of ``first`` on into ``second``, where
    ``second`` may begin by repeating the end of ``first`` (overlapping passages, up to
    MAX_OVERLAP characters).

    >>> _straddles("甲乙丙丁", "戊己", "丙丁戊"), _straddles("甲乙丙丁", "丙丁戊己", "乙丙丁戊")
    (True, True)
    >>> _straddles("甲乙", "丙丁", "乙丁")  # 丁 resumes after 丙, which 甲乙 does not end with
    False
    """
    for cut in range(1, len(evidence)):
        if not first.endswith(evidence[:cut]):
            continue
        rest = evidence[cut:]
        start = second.find(rest)
        while 0 <= start <= MAX_OVERLAP:
            if first.endswith(second[:start]):
                return True
            start = second.find(rest, start + 1)
    return False


def _holds_loosely(text: str, evidence: str) -> bool:
    """Containment or half the evidence in common, without the 1,500-character cap."""
    return bool(evidence) and (
        evidence in text or 2 * len(longest_common_substring(text, evidence)) >= len(evidence))


def _length_problem(evidence: str, what: str) -> str | None:
    length = len(evidence.strip())
    if EVIDENCE_MIN <= length <= EVIDENCE_MAX:
        return None
    return f"{what} is {length} characters; quote a span of {EVIDENCE_MIN} to " \
           f"{EVIDENCE_MAX} characters"


def _check_item(item: GoldItem, corpus: _Corpus) -> list[tuple[str, str]]:
    if not item.answerable:
        return _check_unanswerable(item, corpus)
    found: list[tuple[str, str]] = []
    problem = _length_problem(item.evidence, "the evidence")
    if problem:
        found.append(("evidence_length", problem))
    found.extend(_check_key_points(item))
    evidence = norm(item.evidence)
    file_ok = item.source_file is not None and item.source_file in corpus.by_file
    if item.source_file is None:
        found.append(("source_file", "an answerable item has source_file null; name the "
                                     "corpus file that holds the answer"))
    elif not file_ok:
        listed = ", ".join(corpus.files[:10]) + (" …" if len(corpus.files) > 10 else "")
        found.append(("source_file", f"source_file {item.source_file!r} is not in the "
                                     f"index; indexed files: {listed}"))
    in_file = file_ok and corpus.holds(corpus.by_file[item.source_file], evidence)
    if not in_file:
        found.append(("evidence_not_found", _not_found_message(item, corpus, evidence)))
    scope = corpus.by_file.get(item.source_file, []) if file_ok else []
    if file_ok and item.doc_title:
        docs = corpus.docs_titled(item.source_file, item.doc_title)
        if not docs:
            closest = "; ".join(f"《{t}》" for t in corpus.closest_titles(item.source_file,
                                                                        item.doc_title))
            lost = "; the raw file holds this title, so document splitting missed it" \
                if norm(item.doc_title) in corpus.raw.get(item.source_file, "") else ""
            found.append(("doc_title", f"no document titled 《{item.doc_title}》 in "
                                       f"{item.source_file}; closest titles: {closest}{lost}"))
        else:
            scope = [i for doc in docs for i in corpus.by_doc[doc]]
            if in_file and not any(corpus.holds(corpus.by_doc[doc], evidence) for doc in docs):
                found.append(("doc_title", f"the evidence is not in 《{item.doc_title}》 but "
                                           f"elsewhere in {item.source_file}; fix doc_title"))
    if item.article and scope:
        problem = _article_problem(item.article, evidence, scope, corpus)
        if problem:
            found.append(("article", problem))
    if in_file and not relevant_indices(corpus.texts, item.evidences):
        found.append(("unreachable", _unreachable_message(evidence, corpus)))
    found.extend(_check_also_ok(item, corpus))
    return found


def _check_key_points(item: GoldItem) -> list[tuple[str, str]]:
    if not item.key_points:
        return [("key_points", "key_points is empty; list the short strings any correct "
                               "answer contains")]
    found: list[tuple[str, str]] = []
    evidence = norm(item.evidence)
    for point in item.key_points:
        if not norm(point):
            found.append(("key_points", f"key point {point!r} has no letters or digits; "
                                        f"remove it"))
        elif norm(point) not in evidence:
            found.append(("key_points", f"key point {point!r} is not in the evidence (after "
                                        f"norm); quote it as the evidence writes it or widen "
                                        f"the evidence"))
    return found


def _not_found_message(item: GoldItem, corpus: _Corpus, evidence: str) -> str:
    others = [name for name in corpus.files if name != item.source_file
              and corpus.holds(corpus.by_file[name], evidence)]
    if others:
        return f"the evidence is not in {item.source_file!r} but in {others[0]!r}; " \
               f"fix source_file"
    if item.source_file and evidence in corpus.raw.get(item.source_file, ""):
        return f"the evidence is in the raw file {item.source_file!r} but in no indexed " \
               f"passage: ingestion drops it (front matter, a title, a document number?); " \
               f"keep that text in the passages or quote body text"
    text = corpus.file_text.get(item.source_file or "", corpus.everything)
    part = longest_common_substring(text, evidence)
    return f"the evidence is not found verbatim (after norm) in " \
           f"{item.source_file or 'the corpus'!r}; the longest part found is " \
           f"{len(part)} of {len(evidence)} characters: {part!r}; copy the span from the source"


def _article_problem(article: str, evidence: str, scope: Sequence[int],
                     corpus: _Corpus) -> str | None:
    labelled = [i for i in scope if same_article(corpus.passages[i].article, article)]
    if any(_holds_loosely(corpus.norms[i], evidence) for i in labelled):
        return None
    holders = sorted({corpus.passages[i].article or corpus.passages[i].section or "(no label)"
                      for i in scope if _holds_loosely(corpus.norms[i], evidence)})
    where = f"; the evidence is in: {', '.join(holders)}" if holders else ""
    if not labelled:
        return f"no passage labelled {article!r} in that document{where}; fix article"
    return f"the passages labelled {article!r} do not hold the evidence{where}; fix article"


def _unreachable_message(evidence: str, corpus: _Corpus) -> str:
    holders = [i for i, text in enumerate(corpus.norms) if _holds_loosely(text, evidence)]
    long = [f"{corpus.passages[i].id} ({len(corpus.norms[i])} characters)" for i in holders]
    detail = f": it sits in {', '.join(long[:3])}, over the 1,500-character cap" if long else \
        ": it straddles passages with less than half of it in any one"
    return f"no indexed passage is relevant to the evidence{detail}; choose a span inside " \
           f"one short passage"


def _check_unanswerable(item: GoldItem, corpus: _Corpus) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if item.source_file is not None:
        found.append(("source_file", f"an unanswerable item names source_file "
                                     f"{item.source_file!r}; set it to null"))
    if not item.key_points:
        found.append(("key_points", "an unanswerable item needs the key terms of its question "
                                    "that occur nowhere in the corpus"))
    for term in item.key_points:
        target = norm(term)
        if not target:
            found.append(("key_points", f"key term {term!r} has no letters or digits; "
                                        f"remove it"))
            continue
        position = corpus.everything.find(target)
        if position >= 0:
            index = corpus.everything.count("\x00", 0, position)
            passage = corpus.passages[index]
            found.append(("unanswerable_term", f"key term {term!r} occurs in the corpus "
                                               f"({passage.source_file}, passage {passage.id}); "
                                               f"use a term found nowhere or make the item "
                                               f"answerable"))
    return found


def _check_also_ok(item: GoldItem, corpus: _Corpus) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for position, other in enumerate(item.also_ok, 1):
        where = f"also_ok[{position}]"
        problem = _length_problem(other.evidence, f"{where} evidence")
        if problem:
            found.append(("also_ok", problem))
        evidence = norm(other.evidence)
        docs = corpus.docs_titled(None, other.doc_title) if other.doc_title else []
        if other.doc_title and not docs:
            found.append(("also_ok", f"{where}: no document titled 《{other.doc_title}》 in "
                                     f"the index; fix its doc_title"))
        holders = [doc for doc in (docs or sorted(corpus.by_doc))
                   if corpus.holds(corpus.by_doc[doc], evidence)]
        if not holders and not any(corpus.holds(corpus.by_file[name], evidence)
                                   for name in corpus.files):
            found.append(("also_ok", f"{where}: the evidence is not found verbatim (after "
                                     f"norm) in the corpus; copy the span from the source"))
            continue
        if not holders:
            found.append(("also_ok", f"{where}: the evidence is not in 《{other.doc_title}》; "
                                     f"fix its doc_title"))
            continue
        if other.article:
            scope = [i for doc in holders for i in corpus.by_doc[doc]]
            problem = _article_problem(other.article, evidence, scope, corpus)
            if problem:
                found.append(("also_ok", f"{where}: {problem}"))
    return found


def read_raw_texts(corpus_dir: str | Path) -> dict[str, str]:
    """The raw text of every ``*.txt`` file in ``corpus_dir`` (UTF-8), by file name."""
    folder = Path(corpus_dir)
    if not folder.is_dir():
        raise CorpusError(f"corpus folder not found: {str(folder)!r}; pass the folder that "
                          f"holds the gazette .txt files")
    texts = {}
    for path in sorted(folder.glob("*.txt")):
        try:
            texts[path.name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{str(path)!r} is not UTF-8 (byte {exc.start}); "
                              f"convert it to UTF-8") from None
    return texts
