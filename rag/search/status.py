"""Which text is in force on a given day: a status computed from the status fields.

The fields come from each document's own text at ingest (``rag.ingest.status``); the
status depends on the day asked about ("as of", today by default) and on what else is
indexed:

- ``draft``: a draft explanation or a review report; article numbers in it are the
  draft's.
- ``superseded``: a later version of the same regulation is indexed and has taken
  effect (same title once the province prefix and a 试行 mark are set aside, ordered by
  the date each takes effect, else the date adopted).
- ``not_yet_in_force``: it takes effect after that day.
- ``expired``: its term (有效期…年, 试行期…年) ended before that day.
- ``in_force``: it took effect on or before that day and has not ended.
- ``unknown``: the text gives no date of entry into force (work reports, plans,
  notices that only transmit): nothing is guessed.

Versions are only looked for among regulations (条例、办法、细则、规则、规定): two 公告
or two 政府工作报告 of one title are different texts, not versions. Left out: repeal
by a text that names another (…同时废止) when the titles differ.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from rag.errors import QueryError
from rag.search.clause import _core
from rag.types import STATUS_LABELS, DocStatus, Document

STATUSES = tuple(STATUS_LABELS)  # in_force, not_yet_in_force, expired, superseded, draft, unknown
DRAFT_KINDS = ("draft_explanation", "review_report")
DEFAULT_EXCLUDED = ("superseded",)  # what a search leaves out unless asked


def parse_as_of(value: str | dt.date | None) -> str:
    """An "as of" day as ISO; None or "" means today. A bad value is a QueryError.

    >>> parse_as_of("2024-1-5"), parse_as_of("2024年1月5日"), parse_as_of(dt.date(2023, 9, 22))
    ('2024-01-05', '2024-01-05', '2023-09-22')
    >>> parse_as_of("2024-02-30")
    Traceback (most recent call last):
    ...
    rag.errors.QueryError: as-of date '2024-02-30' is not a date; write it as YYYY-MM-DD, e.g. 2024-01-01
    """
    if value is None or value == "":
        return dt.date.today().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*", str(value))
    try:
        if m:
            return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
    except ValueError:
        pass
    raise QueryError(f"as-of date {value!r} is not a date; write it as YYYY-MM-DD, "
                     "e.g. 2024-01-01")


def parse_statuses(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """Status filter values: a comma-separated list, ``all``, or nothing (the default:
    every status but ``superseded``).

    >>> parse_statuses("in_force,draft"), parse_statuses(None)
    (('draft', 'in_force'), ())
    >>> parse_statuses("all") == tuple(sorted(STATUSES))
    True
    >>> parse_statuses("valid")
    Traceback (most recent call last):
    ...
    rag.errors.QueryError: unknown status 'valid'; use all or a comma-separated list of in_force, not_yet_in_force, expired, superseded, draft, unknown
    """
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    items = [x.strip() for x in items if x and x.strip()]
    if items == ["all"]:
        return tuple(sorted(STATUSES))
    for item in items:
        if item not in STATUSES:
            raise QueryError(f"unknown status {item!r}; use all or a comma-separated list of "
                             f"{', '.join(STATUSES)}")
    return tuple(sorted(set(items)))


def status_code(text_kind: str | None, effective: str | None, ends: str | None, as_of: str,
                replaced_from: str | None = None) -> str:
    """The status on ``as_of`` from the fields (ISO dates compare as strings).

    ``replaced_from``: the day a later indexed version of the same regulation starts.

    >>> status_code("final", "2024-01-01", None, "2023-12-31")
    'not_yet_in_force'
    >>> status_code("final", "2024-01-01", None, "2024-01-01")
    'in_force'
    >>> status_code("final", "2022-10-08", "2024-10-07", "2024-10-08")
    'expired'
    >>> status_code("final", "2022-10-08", None, "2026-01-01", replaced_from="2025-01-01")
    'superseded'
    >>> status_code("final", "2022-10-08", None, "2024-06-01", replaced_from="2025-01-01")
    'in_force'
    >>> status_code("review_report", None, None, "2024-01-01"), status_code("final", None, None, "2024-01-01")
    ('draft', 'unknown')
    """
    if text_kind in DRAFT_KINDS:
        return "draft"
    if replaced_from is not None and replaced_from <= as_of:
        return "superseded"
    if effective is None:
        return "unknown"
    if as_of < effective:
        return "not_yet_in_force"
    if ends is not None and as_of > ends:
        return "expired"
    return "in_force"


def version_key(document: Document) -> str | None:
    """The key two versions of one regulation share; None for what has no versions.

    >>> version_key(Document("a", "山西省防范和处置非法集资工作实施细则(试行)", "regulation", "f", None, None))
    '防范和处置非法集资工作实施细则'
    >>> version_key(Document("b", "政府工作报告", "report", "f", None, None)) is None
    True
    """
    if document.doc_type != "regulation":
        return None
    return _core(document.title)


def _start(document: Document) -> str | None:
    return document.effective or document.adopted


def statuses(documents: Sequence[Document], as_of: str) -> dict[str, DocStatus]:
    """The status of every document on ``as_of`` (an ISO day), by document id."""
    versions: dict[str, list[Document]] = {}
    for d in documents:
        key = version_key(d)
        if key is not None and _start(d) is not None and d.text_kind == "final":
            versions.setdefault(key, []).append(d)
    replaced: dict[str, Document] = {}  # id -> the next version, when one is indexed
    earlier: dict[str, str] = {}  # id -> the version it replaces
    for group in versions.values():
        group.sort(key=lambda d: (_start(d) or "", d.id))  # grouped only with a start
        for older, newer in zip(group, group[1:], strict=False):
            if (_start(newer) or "") > (_start(older) or ""):
                replaced[older.id] = newer
                earlier[newer.id] = older.id
    result = {}
    for d in documents:
        successor = replaced.get(d.id)
        code = status_code(d.text_kind, d.effective, d.ends, as_of,
                           _start(successor) if successor else None)
        result[d.id] = DocStatus(code, as_of, _note(d, code, successor),
                                 successor.id if successor and code == "superseded" else None,
                                 earlier.get(d.id))
    return result


def allowed_documents(status: dict[str, DocStatus], wanted: tuple[str, ...]) -> tuple[str, ...]:
    """Ids of the documents a status filter keeps (``wanted`` empty: the default, every
    document but a replaced version and a revision not yet in force).

    >>> s = {"a": DocStatus("in_force", "d", ""), "b": DocStatus("superseded", "d", "")}
    >>> allowed_documents(s, ()), allowed_documents(s, ("superseded",))
    (('a',), ('b',))
    """
    if wanted:
        return tuple(sorted(i for i, s in status.items() if s.code in wanted))
    return tuple(sorted(i for i, s in status.items() if not set_aside(s, status)))


def set_aside(s: DocStatus, status: dict[str, DocStatus]) -> bool:
    """By default a search leaves out a replaced version, and a revision not yet in force
    while the version it will replace still is."""
    if s.code in DEFAULT_EXCLUDED:
        return True
    return (s.code == "not_yet_in_force" and s.replaces is not None
            and status.get(s.replaces, s).code == "in_force")


def _note(d: Document, code: str, newer: Document | None) -> str:
    if code == "draft":
        return f"《{d.subject}》的草案说明或审议报告，条文序号为草案序号" if d.subject else "草案文本"
    if code == "superseded" and newer is not None:
        return f"已被{_start(newer)}起施行的《{newer.title}》替代"
    parts = []
    if d.effective:
        parts.append(f"自{d.effective}起施行")
    if d.ends:
        parts.append(f"有效期至{d.ends}")
    elif d.term in ("暂行", "试行"):
        parts.append(d.term)
    return "，".join(parts)
