"""Read a gold Q&A file (JSON Lines, docs/GOLD_FORMAT.md) into typed ``GoldItem`` values.

``load_gold`` checks the *format*: the file exists and is UTF-8 JSON Lines, every
line is an object with the required fields of the right types, ``type`` is one of
``GOLD_TYPES`` and ids are unique. Every problem is reported with its line number,
all of them together (the first ``MAX_REPORTED``) in one ``GoldFormatError``.

Choices: blank lines are skipped; a UTF-8 byte-order mark is accepted; extra fields
are ignored; the nullable fields (``source_file``, ``doc_title``, ``article``,
``section``) may be left out and then read as null; ``also_ok`` may be left out.

Left out: whether the content agrees with the corpus (verbatim evidence, evidence
length, articles, unanswerable terms) is ``eval.check``'s job, not this module's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

GOLD_TYPES = ("citizen", "clause", "fact", "unanswerable")
UNANSWERABLE = "unanswerable"
OUTCOMES = ("answered", "detail_absent", "refused")  # GOLD_FORMAT.md, a reply's ``outcome``
MAX_REPORTED = 20

# Required string fields, nullable string fields, and the required list field.
_REQUIRED_STR = ("id", "question", "type", "evidence", "answer")
_NULLABLE_STR = ("source_file", "doc_title", "article", "section")
_FORMAT_HELP = "see docs/GOLD_FORMAT.md: one JSON object per line"


class GoldFormatError(RagError):
    """A gold file does not follow docs/GOLD_FORMAT.md (every problem listed)."""


@dataclass(frozen=True)
class AlsoOk:
    """Another place that holds the answer too (counts for relevance like ``evidence``)."""

    doc_title: str | None
    article: str | None
    section: str | None
    evidence: str


@dataclass(frozen=True)
class GoldItem:
    """One gold question. ``line`` is its 1-based line number in the file."""

    id: str
    question: str
    type: str  # one of GOLD_TYPES
    source_file: str | None
    doc_title: str | None
    article: str | None
    section: str | None
    evidence: str
    answer: str
    key_points: tuple[str, ...]
    also_ok: tuple[AlsoOk, ...] = ()
    line: int = 0
    outcome: str | None = None  # optional extra field: the outcome a reply should have

    @property
    def expected_outcome(self) -> str:
        """The item's ``outcome`` when given, else answered (answerable) or refused.

        >>> GoldItem("q", "?", "unanswerable", None, None, None, None, "", "", ("x",)
        ...          ).expected_outcome
        'refused'
        """
        if self.outcome in OUTCOMES:
            return self.outcome
        return "answered" if self.answerable else "refused"

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE

    @property
    def evidences(self) -> tuple[str, ...]:
        """The main evidence then each ``also_ok`` evidence, empty ones dropped.

        >>> item = GoldItem("q1", "?", "fact", "f.txt", None, None, None, "甲乙丙", "甲", ("甲",),
        ...                 (AlsoOk(None, None, None, "丁戊己"),))
        >>> item.evidences
        ('甲乙丙', '丁戊己')
        """
        found = [self.evidence, *(ok.evidence for ok in self.also_ok)]
        return tuple(text for text in found if text.strip())


@dataclass(frozen=True)
class FormatProblem:
    """One format problem: where (1-based line, 0 for the whole file) and what."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def load_gold(path: str | Path) -> list[GoldItem]:
    """Read and validate a gold file; raise ``GoldFormatError`` listing every problem."""
    path = Path(path)
    if not path.exists():
        raise GoldFormatError(f"gold file not found: {str(path)!r}; give the path of a "
                              f".jsonl file in docs/GOLD_FORMAT.md (e.g. eval/gold.jsonl)")
    if not path.is_file():
        raise GoldFormatError(f"gold path is not a file: {str(path)!r}; give a .jsonl file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GoldFormatError(f"{str(path)!r} is not UTF-8 text (byte {exc.start}); "
                              f"save it as UTF-8 JSON Lines") from None
    items, problems = parse_gold_text(text)
    if problems:
        raise GoldFormatError(format_problems(str(path), problems))
    return items


def format_problems(source: str, problems: list[FormatProblem]) -> str:
    """One message listing the first ``MAX_REPORTED`` problems.

    >>> print(format_problems("g.jsonl", [FormatProblem(2, "bad"), FormatProblem(0, "worse")]))
    g.jsonl: 2 problems in the gold file (see docs/GOLD_FORMAT.md):
      line 2: bad
      worse
    """
    count = len(problems)
    head = f"{source}: {count} problem{'s' if count != 1 else ''} in the gold file " \
           f"(see docs/GOLD_FORMAT.md):"
    lines = [head, *(f"  {problem}" for problem in problems[:MAX_REPORTED])]
    if count > MAX_REPORTED:
        lines.append(f"  … and {count - MAX_REPORTED} more")
    return "\n".join(lines)


def parse_gold_text(text: str) -> tuple[list[GoldItem], list[FormatProblem]]:
    """Parse the text of a gold file: the valid items and every problem found.

    >>> items, problems = parse_gold_text('{"id": "a"}\\n\\nnot json\\n')
    >>> items, [str(p) for p in problems]  # doctest: +NORMALIZE_WHITESPACE
    ([], ['line 1: missing fields: question, type, evidence, answer, key_points',
          'line 3: not valid JSON (Expecting value at column 1); see docs/GOLD_FORMAT.md:
           one JSON object per line'])
    """
    lines = text.splitlines()
    numbered = [(number, line) for number, line in enumerate(lines, 1) if line.strip()]
    if not numbered:
        return [], [FormatProblem(0, "the gold file is empty; write one JSON object per line")]
    other = _other_format(text, numbered[0][1])
    if other:
        return [], [FormatProblem(0, other)]
    items: list[GoldItem] = []
    problems: list[FormatProblem] = []
    first_line_of: dict[str, int] = {}
    for number, line in numbered:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(FormatProblem(
                number, f"not valid JSON ({exc.msg} at column {exc.colno}); {_FORMAT_HELP}"))
            continue
        if not isinstance(record, dict):
            problems.append(FormatProblem(
                number, f"a JSON {_json_kind(record)}, not an object; {_FORMAT_HELP}"))
            continue
        item, found = _item_from_record(record, number)
        problems.extend(found)
        if item is None:
            continue
        if item.id in first_line_of:
            problems.append(FormatProblem(
                number, f"duplicate id {item.id!r} (first on line {first_line_of[item.id]}); "
                        f"give every item its own id"))
            continue
        first_line_of[item.id] = number
        items.append(item)
    return items, problems


def _other_format(text: str, first_line: str) -> str | None:
    """A message when the whole file is plainly another format, else None.

    >>> _other_format('[{"id": "a"}]', '[{"id": "a"}]')[:36]
    'a JSON array, not JSON Lines; write '
    >>> _other_format("id,question,type\\nq1,x,fact", "id,question,type")[:26]
    'looks like CSV (first line'
    >>> _other_format('{"id": "a"}', '{"id": "a"}') is None
    True
    """
    stripped = first_line.strip()
    if stripped.startswith("["):
        return "a JSON array, not JSON Lines; write each object on its own line, no [ ] around"
    if stripped == "{":
        try:
            json.loads(text)
        except json.JSONDecodeError:
            return None
        return "one JSON object spread over several lines (pretty-printed), not JSON Lines; " \
               "write each item as one object on one line"
    if not stripped.startswith("{") and ("," in stripped or "\t" in stripped):
        header = stripped[:60]
        return f"looks like CSV (first line {header!r}), not JSON Lines; " \
               f"write one JSON object per line with the fields of docs/GOLD_FORMAT.md"
    return None


def _json_kind(value: object) -> str:
    """The JSON name of a decoded value's type.

    >>> [_json_kind(v) for v in ("s", 1, 1.5, True, None, [], {})]
    ['string', 'number', 'number', 'boolean', 'null', 'array', 'object']
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _item_from_record(record: dict, line: int) -> tuple[GoldItem | None, list[FormatProblem]]:
    """Validate one decoded line; the item when it is valid, and its problems."""
    problems: list[FormatProblem] = []
    missing = [name for name in (*_REQUIRED_STR, "key_points") if name not in record]
    if missing:
        problems.append(FormatProblem(line, f"missing fields: {', '.join(missing)}"))
    for name in _REQUIRED_STR:
        if name in record and not isinstance(record[name], str):
            problems.append(FormatProblem(
                line, f"field {name!r} must be a string, got a JSON "
                      f"{_json_kind(record[name])}: {_short(record[name])}"))
    for name in ("id", "question"):
        if isinstance(record.get(name), str) and not record[name].strip():
            problems.append(FormatProblem(line, f"field {name!r} is empty; fill it in"))
    for name in _NULLABLE_STR:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(FormatProblem(
                line, f"field {name!r} must be a string or null, got a JSON "
                      f"{_json_kind(value)}: {_short(value)}"))
    kind = record.get("type")
    if isinstance(kind, str) and kind not in GOLD_TYPES:
        problems.append(FormatProblem(
            line, f"invalid type {kind!r}; use one of {', '.join(GOLD_TYPES)}"))
    if kind in GOLD_TYPES and kind != UNANSWERABLE and isinstance(record.get("evidence"), str) \
            and not record["evidence"].strip():
        problems.append(FormatProblem(
            line, f"field 'evidence' is empty for a {kind!r} item; quote the source span"))
    key_points = record.get("key_points")
    if "key_points" in record and not _is_str_list(key_points):
        problems.append(FormatProblem(
            line, f"field 'key_points' must be a list of strings, got {_short(key_points)}"))
    also_ok, found = _also_ok(record.get("also_ok", []), line)
    problems.extend(found)
    outcome = record.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        problems.append(FormatProblem(
            line, f"field 'outcome' is {_short(outcome)}; use one of {', '.join(OUTCOMES)} "
                  f"or leave it out"))
    if problems:
        return None, problems
    item = GoldItem(
        id=record["id"],
        question=record["question"],
        type=record["type"],
        source_file=record.get("source_file"),
        doc_title=record.get("doc_title"),
        article=record.get("article"),
        section=record.get("section"),
        evidence=record["evidence"],
        answer=record["answer"],
        key_points=tuple(key_points),
        also_ok=also_ok,
        line=line,
        outcome=outcome,
    )
    return item, []


def _also_ok(value: object, line: int) -> tuple[tuple[AlsoOk, ...], list[FormatProblem]]:
    """Validate the optional ``also_ok`` list."""
    if value is None:
        return (), []
    if not isinstance(value, list):
        return (), [FormatProblem(
            line, f"field 'also_ok' must be a list of objects, got a JSON {_json_kind(value)}")]
    found: list[AlsoOk] = []
    problems: list[FormatProblem] = []
    for position, entry in enumerate(value, 1):
        where = f"also_ok[{position}]"
        if not isinstance(entry, dict):
            problems.append(FormatProblem(
                line, f"{where} must be an object, got a JSON {_json_kind(entry)}"))
            continue
        evidence = entry.get("evidence")
        if not isinstance(evidence, str) or not evidence.strip():
            problems.append(FormatProblem(
                line, f"{where} needs a non-empty string 'evidence', got {_short(evidence)}"))
        bad = [name for name in ("doc_title", "article", "section")
               if entry.get(name) is not None and not isinstance(entry.get(name), str)]
        if bad:
            problems.append(FormatProblem(
                line, f"{where}: {', '.join(bad)} must be strings or null"))
        if not problems:
            found.append(AlsoOk(entry.get("doc_title"), entry.get("article"),
                                entry.get("section"), evidence))
    return tuple(found), problems


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(entry, str) for entry in value)


def _short(value: object, limit: int = 40) -> str:
    """A value as JSON, cut to ``limit`` characters.

    >>> _short({"a": "甲" * 50}, 12)
    '{"a": "甲甲甲甲甲…'
    """
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"
