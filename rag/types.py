"""The typed values that cross module boundaries.

Everything here is a frozen dataclass: documents, passages, hits, citations and
answers are values, never dicts of unknown shape. ``Passage.to_json`` gives the
exact record written to ``passages.jsonl`` and printed by ``ragqa search --json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

# which retriever found a hit: "clause" for an article a question names, "rerank" for a hit
# the cross-encoder re-ordered, "baseline" for
# the fixed-size chunks the evaluation compares against
HitSource = Literal["hybrid", "bm25", "dense", "clause", "rerank", "baseline"]

# Document types (文件类型). Kept as plain strings so JSON stays readable.
DOC_TYPES = (
    "regulation",  # article-structured (第一条, 第二条 …): laws, regulations, rules, interpretations
    "notice",  # 公告、通知、通报、函
    "explanation",  # 说明 of a draft
    "report",  # 报告: 审议意见/审议结果的报告, work reports, audit reports
    "decision",  # 决定、决议
    "plan",  # 方案、规划、预案、计划
    "list",  # 名单、任免、议程
    "other",
)
# Kinds of article-structured texts, as people name them (Document.kind); a document of
# another type has its type as its kind, and an article-structured text whose kind the
# title and header do not tell is "other".
LEGAL_KINDS = {
    "law": "法律",
    "administrative_regulation": "行政法规",
    "local_regulation": "地方性法规",
    "rules": "规章",
    "judicial_interpretation": "司法解释",
    "normative_document": "规范性文件",
}
# what a type filter (--doc-type, the API's doc_type) accepts: a type, a kind, a kind's name
DOC_TYPE_FILTERS = (*DOC_TYPES, *LEGAL_KINDS, *LEGAL_KINDS.values())


def type_matches(document: Document, value: str) -> bool:
    """Whether a type filter value selects a document: its type, its kind or the kind's name.

    >>> d = Document("f#000", "中华人民共和国民法典", "regulation", "f.txt", None, None, kind="law")
    >>> [type_matches(d, v) for v in ("regulation", "law", "法律", "notice", "司法解释")]
    [True, True, True, False, False]
    """
    return value in (document.doc_type, document.kind, LEGAL_KINDS.get(document.kind))


def citation_label(title: str, article: str | None, section: str | None) -> str:
    """How a citation is written: the title in 《》, then the article or the section path.

    >>> citation_label("山西省未成年人保护条例", "第十二条", None)
    '《山西省未成年人保护条例》第十二条'
    >>> citation_label("关于…的说明", None, "一、总体情况")
    '《关于…的说明》一、总体情况'
    """
    return f"《{title}》{article or section or ''}"


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of cleaned display text, with the page and line it starts on."""

    text: str
    page: int | None
    line: int  # 1-based line number in the source file


@dataclass(frozen=True)
class Document:
    """One document found inside a corpus file (a file holds many)."""

    id: str  # stable: "<file stem>#<ordinal>", e.g. "000_9f28…#003"
    title: str  # as printed, lines joined, «» → 《》
    doc_type: str  # one of DOC_TYPES
    source_file: str  # bare file name
    page_start: int | None
    page_end: int | None
    issuer: str | None = None  # 发文机关
    date: str | None = None  # ISO date "2023-09-22" when printed
    doc_number: str | None = None  # 文号, e.g. 晋政办发〔2022〕91号
    # status fields read from the text (rag.ingest.status); None where it does not say
    adopted: str | None = None  # ISO date adopted (通过/修订/修正) or issued
    effective: str | None = None  # ISO date it takes effect (本条例自…起施行)
    ends: str | None = None  # ISO last day in force (有效期…年, 试行期…年)
    term: str | None = None  # the limit as printed: 有效期5年, 试行期两年, 暂行, 试行
    text_kind: str | None = None  # final, draft_explanation, review_report, amending_decision
    subject: str | None = None  # the title a draft explanation, report or decision is about
    kind: str = "other"  # a LEGAL_KINDS code for a regulation, else the doc_type
    paragraphs: tuple[Paragraph, ...] = field(default=(), repr=False)  # the body, cleaned

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.paragraphs)


@dataclass(frozen=True)
class Passage:
    """The unit that is embedded, retrieved and cited."""

    id: str  # stable: "<doc id>:<ordinal>", e.g. "000_9f28…#003:0012"
    doc_id: str
    doc_title: str
    doc_type: str
    source_file: str
    page: int | None
    chapter: str | None  # 章 (and 节) path, e.g. "第二章 家庭保护"
    section: str | None  # heading path for non-article text, e.g. "一、… > （二）…"
    article: str | None  # article label as printed, e.g. "第十二条"
    article_no: int | None  # 12
    text: str

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, record: dict) -> Passage:
        return cls(**{name: record[name] for name in PASSAGE_FIELDS})

    @property
    def citation_label(self) -> str:
        """《title》第十二条, or 《title》 a section path, for display."""
        return citation_label(self.doc_title, self.article, self.section)

    @property
    def path(self) -> str:
        """The full place of the passage: 编 > 分编 > 章 > 节 > 条 (> 款), or its section path.

        >>> Passage("d:1", "d", "民法典", "regulation", "f.txt", None, "第一编 总则 > 第一章 基本规定",
        ...         "第二款", "第十条", 10, "…").path
        '第一编 总则 > 第一章 基本规定 > 第十条 > 第二款'
        """
        return " > ".join(x for x in (self.chapter, self.article, self.section) if x)


PASSAGE_FIELDS = (
    "id",
    "doc_id",
    "doc_title",
    "doc_type",
    "source_file",
    "page",
    "chapter",
    "section",
    "article",
    "article_no",
    "text",
)


STATUS_LABELS = {  # the status of a document on a day (rag.search.status)
    "in_force": "现行有效",
    "not_yet_in_force": "尚未施行",
    "expired": "已失效",
    "superseded": "已被新版本替代",
    "draft": "草案",
    "unknown": "未载明施行日期",
}


@dataclass(frozen=True)
class DocStatus:
    """The status of one document on one day, with the words that explain it."""

    code: str  # one of STATUS_LABELS
    as_of: str  # ISO day
    note: str  # e.g. "自2024-01-01起施行，有效期至2024-10-07"
    superseded_by: str | None = None  # id of the version that replaced it
    replaces: str | None = None  # id of the earlier indexed version it replaces (or will)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.code]

    def describe(self) -> str:
        """One line for a citation: 现行有效（自2024-01-01起施行）.

        >>> DocStatus("expired", "2025-01-01", "有效期至2024-10-07").describe()
        '已失效（有效期至2024-10-07）'
        """
        return f"{self.label}（{self.note}）" if self.note else self.label

    def to_json(self) -> dict:
        return {"status": self.code, "status_label": self.label, "status_note": self.note,
                "as_of": self.as_of, "superseded_by": self.superseded_by,
                "replaces": self.replaces}


@dataclass(frozen=True)
class Hit:
    """A passage returned by a retriever, with its rank (1-based) and score."""

    passage: Passage
    score: float
    rank: int
    source: HitSource = "hybrid"  # which retriever found it
    status: DocStatus | None = None  # its document's status on the day asked about
    # the largest cosine between the question and one of its sentences, when the sentence
    # reranker scored it (rag.search.rerank); None otherwise
    sentence: float | None = None

    def to_json(self) -> dict:
        return {**self.passage.to_json(), "rank": self.rank, "score": round(self.score, 6),
                "source": self.source, **(self.status.to_json() if self.status else {})}


@dataclass(frozen=True)
class Citation:
    """A numbered citation [n] in an answer, pointing at one passage."""

    n: int
    passage_id: str
    doc_title: str
    article: str | None
    section: str | None
    source_file: str
    page: int | None
    quote: str  # verbatim text from the passage that the answer uses
    status: DocStatus | None = None  # the cited document's status on the day asked about
    chapter: str | None = None  # the passage's path: 第三编 合同 > 第一分编 通则 > 第二章 …

    @property
    def label(self) -> str:
        return citation_label(self.doc_title, self.article, self.section)

    @property
    def doc_id(self) -> str:
        """The cited document's id (a passage id is "<doc id>:<ordinal>")."""
        return self.passage_id.rsplit(":", 1)[0]

    def to_json(self) -> dict:
        record = asdict(self)
        record.pop("status")
        return {**record, **(self.status.to_json() if self.status else {})}


OUTCOMES = ("answered", "detail_absent", "refused")


@dataclass(frozen=True)
class Answer:
    """A reply. ``outcome`` says which of three it is (GOLD_FORMAT.md): ``answered`` (the
    cited words hold what was asked), ``detail_absent`` (the documents cover the topic but
    not the detail asked for; it may cite what they do say) or ``refused`` (nothing on the
    topic; nothing cited). ``refused`` is true for the last two. Left empty, ``outcome``
    follows ``refused``.

    >>> Answer("q", "…", True, (), ()).outcome, Answer("q", "…", False, (), ()).outcome
    ('refused', 'answered')
    """

    question: str
    text: str  # the answer with [n] markers
    refused: bool
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]  # the ranked passages the answer was built from
    related: tuple[Hit, ...] = ()  # "possibly related" passages shown with a refusal
    note: str | None = None  # e.g. "language model unavailable; offline answer given"
    answerer: str = "extractive"
    outcome: str = ""  # one of OUTCOMES; empty: "refused" when refused, else "answered"

    def __post_init__(self) -> None:
        if not self.outcome:
            object.__setattr__(self, "outcome", "refused" if self.refused else "answered")
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, "
                             f"got {self.outcome!r}")

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "outcome": self.outcome,
            "citations": [c.to_json() for c in self.citations],
            "passages": [h.to_json() for h in self.hits],
            "note": self.note,
            "answerer": self.answerer,
        }
