"""Find every clause reference in a text: what it names, as written, line by line.

A reference is 第N条, optionally with 第M款 and 第K项, in Chinese or Arabic numerals,
and what it points into:

- ``title``: a title right before it, in 《》 or not (《山西省节约能源条例》第二十条,
  节约能源法第十五条); a title the text abbreviates (…(以下简称《条例》)) is spelt out.
- ``self``: 本条例/本办法/本细则/本规则/本规定/本法 第N条: the text's own document.
- ``draft``: 草案/修订草案/草案修改稿/初审稿 第N条, or a title the text abbreviates to
  a draft's (…(修订草案)》(以下简称草案)).
- ``bare``: 第N条 with no title; it takes the scope of the text it is in.

A list or a range (第十条、第十一条和第十二条, 第十条至第十二条, 第十九条、二十条)
shares the first reference's target; a range gives one reference per article.
The article labels that open a line (第一条　…) are the text's own articles, not
references. Left out: relative references (前款, 前条, 本条第二款), chapters (第二章)
and references to other kinds of text (一、(三)).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rag.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int, int_to_chinese

MAX_RANGE = 100  # a range wider than this is checked at its two ends only
LOOK_BACK = 120  # characters before a 第N条 searched for its title
_NUMBER = rf"[0-9０-９{CHINESE_NUMERAL_CHARS}A-Za-zＡ-Ｚａ-ｚ]{{1,12}}"
_ARTICLE = re.compile(
    rf"第\s*(?P<art>{_NUMBER})\s*条(?!例)"
    rf"(?:\s*第\s*(?P<para>{_NUMBER})\s*款)?"
    rf"(?:\s*第\s*[（(]?\s*(?P<item>{_NUMBER})\s*[）)]?\s*项)?"
)
# a further article in a list, 第 sometimes left out: 、二十条 / 和第十二条 / 至第十八条
_NEXT = re.compile(
    rf"\s*(?P<link>、|，|,|和|及|以及|或者|或|与|至|到|—|－|-|~|～)\s*"
    rf"(?:第\s*)?(?P<art>{_NUMBER})\s*条(?!例)"
    rf"(?:\s*第\s*(?P<para>{_NUMBER})\s*款)?"
    rf"(?:\s*第\s*[（(]?\s*(?P<item>{_NUMBER})\s*[）)]?\s*项)?"
)
_RANGE_LINKS = ("至", "到", "—", "－", "-", "~", "～")
_OWN_LABEL = re.compile(rf"^\s*第\s*[0-9０-９{CHINESE_NUMERAL_CHARS}]+\s*条(?:[\s\u3000【]|$)")
_QUOTED_TITLE = re.compile(r"《([^《》]{1,80})》\s*$")
_SELF = re.compile(r"本(?:实施)?(条例|办法|细则|规则|规定|法|决定)\s*$")
_DRAFT = re.compile(r"(?:修订|修正)?草案(?:修改稿|初审稿|修订稿|二审稿|审议稿)?\s*$|初审稿\s*$")
_UNQUOTED_TITLE = re.compile(
    r"([\u4e00-\u9fff〈〉<>“”]{2,40}?(?:法|条例|办法|细则|规则|规定)(?:[(（]试行[)）])?)\s*$")
_CHAPTER = re.compile(rf"第[{CHINESE_NUMERAL_CHARS}0-9]+[章节]\s*$")
_LEADING_WORDS = re.compile(r"^.*[的在里对按据照依将把被即现称见经、]")
_ALIAS = re.compile(
    r"《(?P<full>[^《》]{2,80})》\s*[(（]\s*(?:以下简称|下称|简称)\s*"
    r"(?:《(?P<q>[^《》]{1,30})》|“(?P<d>[^”]{1,30})”|\"(?P<a>[^\"]{1,30})\"|(?P<b>[^)）]{1,30}))\s*[)）]"
)


@dataclass(frozen=True)
class Reference:
    """One reference to one article, as found in a text."""

    line: int  # 1-based line of the text
    column: int  # 0-based character offset in that line
    written: str  # the reference as written, title and whole list or range included
    scope: str  # "title", "self", "draft", "bare"
    title: str | None  # the title written (abbreviation spelt out), for scope "title"
    article: int | None  # None when the number is malformed
    paragraph: int | None = None  # 款
    item: int | None = None  # 项
    malformed: str | None = None  # why a number cannot be read

    @property
    def label(self) -> str:
        """第二十条第一款第（三）项, from the numbers (not as written)."""
        if self.article is None:
            return ""
        text = f"第{int_to_chinese(self.article)}条"
        if self.paragraph:
            text += f"第{int_to_chinese(self.paragraph)}款"
        if self.item:
            text += f"第（{int_to_chinese(self.item)}）项"
        return text


def read_number(text: str) -> int:
    """An article, paragraph or item number as written; ValueError when it is not a
    well-formed numeral (a reference checker must not read 第十百条 as 第一百一十条).

    >>> read_number("四十三"), read_number("43"), read_number("４３"), read_number("一百零三")
    (43, 43, 43, 103)
    >>> read_number("一十二")
    12
    >>> read_number("十百")
    Traceback (most recent call last):
    ...
    ValueError: 十百 is not a well-formed numeral
    >>> read_number("1O")
    Traceback (most recent call last):
    ...
    ValueError: 1O is not a well-formed numeral
    """
    plain = unicodedata.normalize("NFKC", text).strip()
    if plain.isdigit() and plain.isascii():
        if plain.startswith("0"):
            raise ValueError(f"{text} is not a well-formed numeral (leading zero)")
        return int(plain)
    try:
        number = chinese_to_int(plain)
    except ValueError:
        raise ValueError(f"{text} is not a well-formed numeral") from None
    if number < 1 or number > 9999 or plain not in (
            int_to_chinese(number), "一" + int_to_chinese(number)):
        raise ValueError(f"{text} is not a well-formed numeral")
    return number


def aliases(text: str) -> dict[str, str]:
    """Abbreviations a text defines: 《…》(以下简称《条例》) and friends, short -> full.

    >>> aliases("现就《山西省节约能源条例(修订草案)》(以下简称《条例(修订草案)》)作说明。"
    ...         "《山西省节约能源条例》(以下简称《条例》)于２０００年通过；(以下简称草案)")
    {'条例(修订草案)': '山西省节约能源条例(修订草案)', '条例': '山西省节约能源条例'}
    """
    found: dict[str, str] = {}
    for m in _ALIAS.finditer(unicodedata.normalize("NFKC", text).replace("«", "《")
                             .replace("»", "》")):
        short = (m["q"] or m["d"] or m["a"] or m["b"] or "").strip()
        if short and short != m["full"]:
            found.setdefault(short, m["full"])
    return found


def _number(value: str | None) -> tuple[int | None, str | None]:
    if value is None:
        return None, None
    try:
        return read_number(value), None
    except ValueError as exc:
        return None, str(exc)


def _target(before: str, aliases_: dict[str, str]) -> tuple[str, str | None, int | None]:
    """The scope and title of a reference, from the text just before it on its line, and
    where a quoted title starts."""
    before = _CHAPTER.sub("", before.rstrip())  # 第一章第二条: the article still counts
    if m := _QUOTED_TITLE.search(before):
        title = m.group(1).strip()
        return (*_titled(aliases_.get(title, title)), m.start())
    return (*_unquoted(before, aliases_), None)


def _unquoted(before: str, aliases_: dict[str, str]) -> tuple[str, str | None]:
    if _SELF.search(before):
        return "self", None
    for short in sorted(aliases_, key=len, reverse=True):  # 以下简称草案 / 条例修订草案
        if before.endswith(short) and len(short) >= 2:
            return _titled(aliases_[short])
    if _DRAFT.search(before):
        return "draft", None
    if m := _UNQUOTED_TITLE.search(before[-40:]):
        title = _LEADING_WORDS.sub("", m.group(1)).strip("“”\"<>〈〉")
        if len(title) >= 3 and not re.fullmatch(r"(?:本|该|此|上位|原|新|现行|相关|有关)?"
                                                r"(?:法|条例|办法|细则|规则|规定)", title):
            return "title", title
    return "bare", None


def _titled(title: str) -> tuple[str, str | None]:
    return ("draft", title) if "草案" in title else ("title", title)


def find_references(text: str) -> list[Reference]:
    """Every reference in a text, in reading order.

    >>> refs = find_references("依照《山西省节约能源条例》第二十条、第二十一条和第三十条第二款的规定")
    >>> [(r.title, r.article, r.paragraph) for r in refs]
    [('山西省节约能源条例', 20, None), ('山西省节约能源条例', 21, None), ('山西省节约能源条例', 30, 2)]
    >>> [r.article for r in find_references("违反本条例第十条至第十二条规定的")]
    [10, 11, 12]
    >>> [(r.scope, r.article) for r in find_references("(草案修改稿第十九条、二十条)")]
    [('draft', 19), ('draft', 20)]
    >>> [(r.scope, r.title) for r in find_references("建议按照节约能源法第二十七条的规定")]
    [('title', '节约能源法')]
    >>> find_references("第一条　为了节约能源，依照第五条的规定")[0].column
    13
    >>> r = find_references("《山西省节约能源条例》第十百条")[0]
    >>> r.article, r.malformed
    (None, '十百 is not a well-formed numeral')
    """
    defined = aliases(text)
    references: list[Reference] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.replace("«", "《").replace("»", "》")
        own = _OWN_LABEL.match(line)
        position = own.end() if own else 0
        while m := _ARTICLE.search(line, position):
            window = max(0, m.start() - LOOK_BACK)  # a title sits right before its article
            scope, title, title_start = _target(line[window: m.start()], defined)
            title_start = None if title_start is None else window + title_start
            chain = [m]
            end = m.end()
            while nxt := _NEXT.match(line, end):
                chain.append(nxt)
                end = nxt.end()
            written = line[m.start() if title_start is None else title_start : end].strip()
            references.extend(_expand(chain, number, m.start(), written, scope, title))
            position = end
    return references


def _expand(chain: list[re.Match], line: int, column: int, written: str, scope: str,
            title: str | None) -> list[Reference]:
    """One reference per article of a list; a range gives every article in it."""
    result: list[Reference] = []
    for i, m in enumerate(chain):
        article, problem = _number(m["art"])
        paragraph, p_problem = _number(m["para"])
        item, i_problem = _number(m["item"])
        problem = problem or p_problem or i_problem
        is_range = i > 0 and m["link"] in _RANGE_LINKS
        previous = result[-1].article if result else None
        if is_range and article is not None and previous is not None and article > previous:
            between = range(previous + 1, article)
            if len(between) <= MAX_RANGE:
                result.extend(Reference(line, column, written, scope, title, n) for n in between)
        result.append(Reference(line, column, written, scope, title,
                                None if problem else article,
                                None if problem else paragraph, None if problem else item,
                                problem))
    return result
