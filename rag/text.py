"""Text as a reader sees it and as search matches it, and the search tokens.

Shared by every stage: ``display_text`` and ``squeeze_cjk_spaces`` repair what PDF
extraction did to Chinese text (ingest), ``search_text`` is the normalization for
matching only (NFKC, lower case, no spaces; never shown), and ``tokenize`` turns text
into the tokens the lexical index and the answerer count (jieba search-mode words,
character bigrams, or both); ``split_sentences`` cuts a passage into the sentences and
items that the reranker scores and the answerer quotes.

Left out: a custom jieba dictionary, synonyms (``rag.search.glossary`` holds the
lay-word expansions), traditional-to-simplified conversion.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import lru_cache

from rag.numerals import CHINESE_NUMERAL_CHARS

_CN = CHINESE_NUMERAL_CHARS

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_BEFORE_PUNCT = rf"[{_CJK}”’）)》»」』】%％]"
_PERIOD = re.compile(rf"(?<={_BEFORE_PUNCT})\.(?!\.)")
_COMMA = re.compile(rf"(?<={_BEFORE_PUNCT}),|,(?=[{_CJK}“‘（(《«])")
_COLON = re.compile(rf"(?<=[{_CJK}”）)》»]):(?!//)")
_SEMICOLON = re.compile(rf"(?<={_BEFORE_PUNCT});")
_QUESTION = re.compile(rf"(?<=[{_CJK}])\?")


def display_text(text: str) -> str:
    """Text as a reader should see it: Chinese punctuation where the PDF lost it.

    >>> display_text("«山西省未成年人保护条例»公布,自２０２４年１月１日起施行.")
    '《山西省未成年人保护条例》公布，自２０２４年１月１日起施行。'
    >>> display_text("关于«山西省‹条例›(草案)»的说明")
    '关于《山西省〈条例〉(草案)》的说明'
    >>> display_text("关停4.3米焦炉,按照4.1 信息报告执行.1,000元")
    '关停4.3米焦炉，按照4.1 信息报告执行。1,000元'
    >>> display_text("网址 http://www.shanxi.gov.cn/ 电话:0351")
    '网址 http://www.shanxi.gov.cn/ 电话：0351'
    """
    text = text.replace("«", "《").replace("»", "》").replace("‹", "〈").replace("›", "〉")
    text = _PERIOD.sub("。", text)
    text = _COMMA.sub("，", text)
    text = _COLON.sub("：", text)
    text = _SEMICOLON.sub("；", text)
    return _QUESTION.sub("？", text)


_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}])[ \u3000]+(?=[{_CJK}])")


def squeeze_cjk_spaces(text: str) -> str:
    """Remove spaces that PDF extraction put between Chinese characters.

    The space after a leading label (第十二条　, 第一章　) is kept: it ends the label.

    >>> squeeze_cjk_spaces("实 施 方 案"), squeeze_cjk_spaces("2023 年 2 月")
    ('实施方案', '2023 年 2 月')
    >>> squeeze_cjk_spaces("第一章　总　则"), squeeze_cjk_spaces("第五条　合法性审 查")
    ('第一章　总则', '第五条　合法性审查')
    """
    label = re.match(rf"^第[{_CN}0-9０-９]+(?:条(?:之[{_CN}]+)?|[章节编]|分编)[\s　]+", text)
    head = label.group(0) if label else ""
    return head + _SPACE_IN_CJK.sub("", text[len(head) :])


def search_text(text: str) -> str:
    """Normalization for matching only (never shown): NFKC, lower case, no spaces.

    >>> search_text("第１２条　«节约能源条例» ABC")
    '第12条《节约能源条例》abc'
    """
    text = unicodedata.normalize("NFKC", display_text(text)).lower()
    return re.sub(r"\s+", "", text)


TOKENIZERS = ("jieba", "bigram", "mixed")
_WORD = re.compile(r"[\w\u3400-\u9fff]+")
# function words that only add noise to BM25 (的, 了, 是 …) and question words
STOPWORDS = frozenset(
    "的 了 是 在 和 与 或 及 等 对 为 由 其 之 也 就 都 而 并 从 以 于 把 被 让 向 有 没有 "
    "吗 呢 吧 啊 什么 怎么 怎么办 如何 哪些 哪个 哪 多少 几 是否 能 能否 可以 会 要 "
    "我 我们 你 他 她 它 这 那 这个 那个 一个 请问 规定 条例".split()
)


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokenize(text: str, method: str = "jieba") -> list[str]:
    """Search tokens of a text.

    >>> tokenize("网吧能让未成年人进去吗？")
    ['网吧', '未成', '成年', '未成年', '成年人', '未成年人', '进去']
    >>> tokenize("ＰＭ２.５超标", "bigram")
    ['pm', 'm2', '2.', '.5', '5超', '超标']
    """
    normalized = search_text(text)
    if method == "mixed":  # words and character bigrams together
        return tokenize(text, "jieba") + tokenize(text, "bigram")
    if method == "bigram":
        compact = re.sub(r"[^\w.\u3400-\u9fff]", "", normalized)
        return [compact[i : i + 2] for i in range(len(compact) - 1)] or ([compact] if compact else [])
    if method != "jieba":
        raise ValueError(f"unknown tokenizer {method!r}; use one of {TOKENIZERS}")
    tokens = []
    for token in _jieba().lcut_for_search(normalized):
        if _WORD.fullmatch(token) and token not in STOPWORDS:
            tokens.append(token)
    return tokens


_SENTENCE_END = re.compile(r"(?<=[。；！？!?;])|\n")


def split_sentences(text: str) -> list[str]:
    """Sentences and items of a passage, verbatim, in order.

    >>> split_sentences("第三条　应当符合下列要求：\\n（一）给予特殊保护；\\n（二）尊重人格。")
    ['第三条\\u3000应当符合下列要求：', '（一）给予特殊保护；', '（二）尊重人格。']
    """
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]
