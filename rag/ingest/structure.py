"""Article structure read from the text: article runs, the heading hierarchy, legal kinds.

A document is article-structured when its paragraphs open a run of 第N条 headings in
sequence (第一条, 第二条, …), whatever its title ends in. The run admits the forms of
real texts: articles inserted by amendment (第一百三十三条之一 after 第一百三十三条),
articles reduced to （删除）, bracketed article titles (第五条【适用范围】). A 第N条 out of
sequence (a quotation, a reference) is never an article; one whose space OCR lost
(第四十六条本办法…) is one only as the next article of a run already going.

Above the articles stands the hierarchy 编 > 分编 > 章 > 节 (and 一、 headings directly
above an article, as judicial interpretations use them); a standalone 附则 closes
them all. In front of the first article: the title note (题注), a 目录 (table of
contents, dropped: it only repeats the headings) and a 序言. After the last article:
附件 and 附表, which belong to no article.

``legal_kind`` names the kind of an article-structured text as people name it:
法律, 行政法规, 地方性法规, 规章, 司法解释, 规范性文件, or ``other`` when the title and
header do not tell.

Left out: articles numbered in Arabic digits inside Chinese-numbered texts beyond
their value, ranges (第十条至第十五条　（删除）), and 款/项/目 references inside articles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.ingest.clean import (
    ARTICLE_RE,
    BOOK_RE,
    CHAPTER_RE,
    HEADING_LABEL,
    MAX_HEADING_CHARS,
    PART_RE,
    SECTION_RE,
    UNSPACED_ARTICLE_RE,
    unspaced_heading,
)
from rag.numerals import CHINESE_NUMERAL_CHARS, chinese_to_int
from rag.types import LEGAL_KINDS, Document, Passage

_CN = CHINESE_NUMERAL_CHARS
_NUMBERED_HEADING = re.compile(rf"^[{_CN}]+、")
_ATTACHMENT = re.compile(r"^(附件|附表)\s*[0-9０-９一二三四五六七八九十]*\s*[:：]?")
_SENTENCE_PUNCT = re.compile(r"[。；;，,：:！？!?]")
MIN_RUN = 2  # articles in sequence that make a document article-structured
MAX_SKIP = 2  # articles a run may miss when the labels after the gap go on in sequence

# levels of the hierarchy; a standalone 附则 is level 0 and closes every level
BOOK, PART, CHAPTER, SECTION = 1, 2, 3, 4
_LEVELS = {"分编": PART, "编": BOOK, "章": CHAPTER, "节": SECTION}  # 分编 before 编


@dataclass(frozen=True)
class ArticleLabel:
    label: str  # as printed, without a bracketed title: 第一百三十三条之一
    number: int  # 133
    sub: int  # 1 for 之一, 0 for none


def article_label(text: str) -> ArticleLabel | None:
    """The article label a paragraph opens with, or None.

    >>> article_label("第一百三十三条之一　在道路上醉酒驾驶机动车的")
    ArticleLabel(label='第一百三十三条之一', number=133, sub=1)
    >>> article_label("第五条【适用范围】本办法适用于").label, article_label("第九十三条（删除）").number
    ('第五条', 93)
    >>> article_label("第十二条规定的情形") is None
    True
    >>> article_label("第四十六条本办法自公布之日起施行") is None  # see unspaced_article_label
    True
    """
    return _label(ARTICLE_RE.match(text))


def unspaced_article_label(text: str) -> ArticleLabel | None:
    """The label of a paragraph that opens 第N条 with no space after it (OCR dropped it),
    or None. Such a label is an article only where ``article_run`` expects exactly it.
    A reference in a sentence (第十二条规定的, 第三条第二款, 第五条至第七条) is never one.

    >>> unspaced_article_label("第四十六条本办法自公布之日起施行")
    ArticleLabel(label='第四十六条', number=46, sub=0)
    >>> unspaced_article_label("第二条之一县人民政府").label
    '第二条之一'
    >>> [unspaced_article_label(t) for t in ("第十二条规定的情形", "第三条第二款", "第五条至第七条",
    ...                                      "第十二条的规定", "第十条所称", "第二条、第三条")]
    [None, None, None, None, None, None]
    >>> unspaced_article_label("第五条　本办法") is None  # spaced: article_label's
    True
    """
    return _label(UNSPACED_ARTICLE_RE.match(text))


def _label(m: re.Match[str] | None) -> ArticleLabel | None:
    if not m:
        return None
    try:
        number = chinese_to_int(m.group(1))
    except ValueError:
        return None
    sub = chinese_to_int(m.group(2)) if m.group(2) else 0
    return ArticleLabel(m.group(0), number, sub)


def article_run(texts: Sequence[str]) -> list[int]:
    """Indexes of the paragraphs that open articles 第一条, 第二条, … in sequence.

    An inserted article (之一, 之二 …) follows the article it is numbered after. A run
    shorter than MIN_RUN is no run (one 第一条 does not make a text article-structured).
    Up to MAX_SKIP articles may be missing (a label OCR misread) when the next label
    goes on from the one after the gap, itself with at most MAX_SKIP missing: 第十条,
    第十二条, 第十三条 keeps 第十二条; so does 第十条, 第十二条, 第十四条.

    >>> article_run(["题注", "第一条　甲", "第二条　乙", "依照第一条处理", "第二条之一　丙",
    ...              "第三条　（删除）", "第五条　丁", "第四条【适用】戊"])
    [1, 2, 4, 5, 7]
    >>> article_run(["第一条　甲", "第二条　乙", "第四条　丙", "第五条　丁", "第九条　戊"])
    [0, 1, 2, 3]
    >>> article_run(["第一条　甲", "第二条　乙", "第四条　丙", "第六条　丁", "第七条　戊"])
    [0, 1, 2, 3, 4]
    >>> article_run(["第一条　只有一条"])
    []

    A label OCR glued to its text (``unspaced_article_label``) is taken only as exactly
    the next article of a run already going: never to start one, never across a gap.

    >>> article_run(["第一条　甲", "第二条乙", "第二条规定的情形", "第三条丙", "第五条丁"])
    [0, 1, 3]
    >>> article_run(["第一条甲", "第二条乙"])
    []
    """
    labels = [(i, label) for i, text in enumerate(texts)
              if (label := article_label(text)) is not None]
    following = {i: labels[k + 1][1] if k + 1 < len(labels) else None
                 for k, (i, _) in enumerate(labels)}
    spaced = dict(labels)
    starts: list[int] = []
    expected, sub = 1, 0
    for i, text in enumerate(texts):
        if i not in spaced:
            glued = unspaced_article_label(text) if starts else None
            if glued is not None and glued.sub == 0 and glued.number == expected:
                starts.append(i)
                expected, sub = glued.number + 1, 0
            continue
        label, after = spaced[i], following[i]
        if label.sub == 0 and (label.number == expected or (
                starts and expected < label.number <= expected + MAX_SKIP
                and after is not None and after.sub == 0
                and label.number < after.number <= label.number + 1 + MAX_SKIP)):
            starts.append(i)
            expected, sub = label.number + 1, 0
        elif label.sub == sub + 1 and label.number == expected - 1:
            starts.append(i)
            sub += 1
    return starts if len(starts) >= MIN_RUN else []


def compact(text: str) -> str:
    """A text without spaces (full-width ones too).

    >>> compact("附　　则"), compact("目 录")
    ('附则', '目录')
    """
    return re.sub(r"[\s　]+", "", text)


def clean_heading(text: str) -> str:
    """第一章　总　则 → 第一章 总则; 第一编　总　　则 → 第一编 总则; 附　则 → 附则.

    >>> clean_heading("第一章　总　则"), clean_heading("第二分编　典型合同"), clean_heading("附　　则")
    ('第一章 总则', '第二分编 典型合同', '附则')
    >>> clean_heading("第六章附则"), clean_heading("第二节一般规定")  # OCR lost the space
    ('第六章 附则', '第二节 一般规定')
    """
    m = re.match(rf"^({HEADING_LABEL})[\s　]*(.*)$", text)
    if not m:
        return compact(text)
    return f"{m.group(1)} {compact(m.group(2))}".strip()


def structure_level(text: str) -> int | None:
    """The hierarchy level of a heading paragraph (1 编 … 4 节, 0 a standalone 附则),
    or None for any other paragraph.

    >>> [structure_level(t) for t in ("第一编　总　　则", "第一分编　通　　则", "第二章　家庭保护")]
    [1, 2, 3]
    >>> [structure_level(t) for t in ("第一节　一般规定", "附　　则", "第十二条　学校", "附则规定")]
    [4, 0, None, None]

    A heading whose space OCR dropped (``rag.ingest.clean.unspaced_heading``) counts; a
    reference opening a sentence does not:

    >>> [structure_level(t) for t in ("第一编总则", "第一分编通则", "第六章附则", "第二节一般规定")]
    [1, 2, 3, 4]
    >>> structure_level("第六章规定的情形，由县人民政府决定"), structure_level("第三章第二节规定")
    (None, None)
    """
    if len(text) > MAX_HEADING_CHARS:
        return None
    for level, pattern in ((PART, PART_RE), (BOOK, BOOK_RE), (CHAPTER, CHAPTER_RE),
                           (SECTION, SECTION_RE)):
        if pattern.match(text):
            return level
    if glued := unspaced_heading(text):
        return next(level for unit, level in _LEVELS.items() if glued[0].endswith(unit))
    if compact(text) == "附则":
        return 0
    return None


def numbered_heading(text: str, next_text: str | None) -> bool:
    """一、受理范围 standing alone right above an article: a heading, at chapter level.

    >>> numbered_heading("一、受理范围", "第一条　劳动者"), numbered_heading("一、受理范围", "正文")
    (True, False)
    >>> numbered_heading("一、用人单位应当依法支付工资；", "第二条　…")
    False
    """
    return (bool(_NUMBERED_HEADING.match(text)) and len(text) <= 20
            and not _SENTENCE_PUNCT.search(text)
            and next_text is not None and article_label(next_text) is not None)


def is_contents_heading(text: str) -> bool:
    """目录 / 目　　录 on a line of its own."""
    return compact(text) == "目录"


def is_preface_heading(text: str) -> bool:
    """序言 / 序　　言 on a line of its own."""
    return compact(text) == "序言"


def attachment_label(text: str) -> str | None:
    """附件1 / 附件：… / 附表 opening a paragraph of its own, short and no sentence.

    >>> attachment_label("附件1"), attachment_label("附表：收费标准"), attachment_label("附件所列表格由部门印制。")
    ('附件1', '附表：收费标准', None)
    """
    if not _ATTACHMENT.match(text) or len(text) > MAX_HEADING_CHARS:
        return None
    if re.search(r"[。；;，,]", text):
        return None
    rest = _ATTACHMENT.sub("", text)
    if rest and not re.match(r"^[\u4e00-\u9fff“《]", rest) and not text.endswith(("：", ":")):
        return None
    return compact(text) if not rest else text.strip()


def contents_span(texts: Sequence[str]) -> tuple[int, int] | None:
    """The paragraphs of a 目录 (table of contents), as [start, end), or None.

    The contents hold only headings; they end where the first heading comes again
    (the body starts) or at the first paragraph that is no heading.

    >>> contents_span(["题注", "目　　录", "第一章　总则", "第二章　附则", "第一章　总则", "第一条　甲"])
    (1, 4)
    >>> contents_span(["目录", "序　　言", "第一章　总则", "序　　言", "各族人民"])
    (0, 3)
    """
    start = next((i for i, t in enumerate(texts) if is_contents_heading(t)), None)
    if start is None:
        return None
    first: str | None = None
    i = start + 1
    while i < len(texts):
        text = texts[i]
        heading = (structure_level(text) is not None or is_preface_heading(text)
                   or (len(text) <= MAX_HEADING_CHARS and not _SENTENCE_PUNCT.search(text)
                       and article_label(text) is None))
        if not heading or (first is not None and clean_heading(text) == first):
            break
        first = first if first is not None else clean_heading(text)
        i += 1
    return start, i


# ---------------------------------------------------------------- kinds

_PROVINCES = ("北京市 天津市 上海市 重庆市 河北省 山西省 辽宁省 吉林省 黑龙江省 江苏省 浙江省 安徽省 "
              "福建省 江西省 山东省 河南省 湖北省 湖南省 广东省 海南省 四川省 贵州省 云南省 陕西省 "
              "甘肃省 青海省 台湾省 内蒙古自治区 广西壮族自治区 西藏自治区 宁夏回族自治区 "
              "新疆维吾尔自治区 香港特别行政区 澳门特别行政区").split()
PROVINCES = tuple(sorted(_PROVINCES, key=len, reverse=True))


def legal_kind(title: str, header: str, issued_by_notice: bool = False) -> str:
    """The kind of an article-structured text, from its title and header, or ``other``.

    ``header`` is the text right under the title (the 题注 that says who passed or
    promulgated it); ``issued_by_notice`` is true for rules a notice (通知) issues.

    >>> legal_kind("中华人民共和国民法典", "（2020年5月28日第十三届全国人民代表大会第三次会议通过）")
    'law'
    >>> legal_kind("中华人民共和国劳动合同法实施条例", "（2008年9月18日中华人民共和国国务院令第535号公布）")
    'administrative_regulation'
    >>> legal_kind("山西省节约能源条例", "（2023年9月22日山西省第十四届人民代表大会常务委员会第五次会议通过）")
    'local_regulation'
    >>> legal_kind("广东省电动自行车安全管理规定", "（2023年4月20日广东省人民政府令第302号公布）")
    'rules'
    >>> legal_kind("最高人民法院关于审理劳动争议案件适用法律问题的解释（一）", "法释〔2020〕26号")
    'judicial_interpretation'
    >>> legal_kind("房地产企业信用评价管理办法", "", issued_by_notice=True)
    'normative_document'
    >>> legal_kind("中华人民共和国学位条例", "（1980年2月12日第五届全国人民代表大会常务委员会第十三次会议通过）")
    'law'
    >>> legal_kind("某协会章程", "")
    'other'
    """
    t = compact(title)
    head = compact(header)
    if re.match(r"^最高人民(法院|检察院)", t) and re.search(r"(解释|规定|批复|决定|规则)([(（].{1,4}[)）])?$", t):
        return "judicial_interpretation"
    if re.search(r"法释〔|高检发释字", head):
        return "judicial_interpretation"
    if issued_by_notice:
        return "normative_document"
    if re.search(r"国务院令|国务院(常务会议|第\S{1,4}次常务会议)", head):
        return "administrative_regulation"
    if re.search(r"全国人民代表大会", head) or t.startswith("全国人民代表大会"):
        return "law" if t.startswith(("中华人民共和国", "全国人民代表大会")) else "other"
    if t.startswith("中华人民共和国") and re.search(r"(条例|细则)$", t):
        return "administrative_regulation"
    if re.search(r"人民政府令|(部|委员会|总局|署|局|行)令第|部务会议|委务会议|局务会议|政府常务会议", head):
        return "rules"
    if re.search(r"人民代表大会", head) and re.search(r"(通过|批准)", head):
        return "local_regulation"
    if t.startswith("中华人民共和国") and re.search(r"法(典)?$", t):
        return "law"
    return "other"


def kind_name(kind: str) -> str:
    """The Chinese name of a kind (法律 …), or the code itself.

    >>> kind_name("judicial_interpretation"), kind_name("notice")
    ('司法解释', 'notice')
    """
    return LEGAL_KINDS.get(kind, kind)


# ---------------------------------------------------------------- the article check


@dataclass(frozen=True)
class ArticleCheck:
    """Article passages against 第N条 headings in the source, for one document."""

    doc_id: str
    title: str
    kind: str
    headings: int  # paragraphs of the source that open with a 第N条 label
    articles: int  # distinct articles among the document's passages

    @property
    def ok(self) -> bool:
        return self.headings == self.articles

    def line(self) -> str:
        """One line for ``ragqa index``.

        >>> ArticleCheck("f#001", "中华人民共和国刑法", "law", 167, 167).line()
        'articles  167 / 第N条 headings  167  ok        法律  中华人民共和国刑法'
        """
        mark = "ok" if self.ok else "MISMATCH"
        return (f"articles {self.articles:>4} / 第N条 headings {self.headings:>4}  {mark:<8}  "
                f"{kind_name(self.kind)}  {self.title}")


def article_checks(documents: Sequence[Document], passages: Sequence[Passage]
                   ) -> tuple[ArticleCheck, ...]:
    """The check for every document that has articles or 第N条 headings, in document order.

    A heading not taken as an article (out of sequence, a numbering slip in the source)
    shows as a mismatch; so does an article lost in splitting. A label glued to its text
    (``unspaced_article_label``) is a heading only where the article run takes it.
    """
    labels: dict[str, set[str]] = {}
    for p in passages:
        if p.article:
            labels.setdefault(p.doc_id, set()).add(p.article)
    checks = []
    for d in documents:
        texts = [p.text for p in d.paragraphs if p.text.strip()]
        headings = sum(article_label(t) is not None for t in texts)
        # labels OCR glued to their text count where the run takes them as articles
        headings += sum(article_label(texts[i]) is None for i in article_run(texts))
        articles = len(labels.get(d.id, ()))
        if headings or articles:
            checks.append(ArticleCheck(d.id, d.title, d.kind, headings, articles))
    return tuple(checks)
