"""Everyday words to the words the regulations use (网吧 → 互联网上网服务营业场所).

Citizens ask in their own words; the gazettes speak legal Chinese. ``expand`` adds
the legal term after a question that uses the everyday one, so that both the
lexical and the dense retriever, and the refusal check, see the words an article
actually contains. The list is short on purpose: common lay words with one clear
legal counterpart, none of them copied from a test question.

Left out: a general synonym thesaurus, and expansion of the passages.
"""

from __future__ import annotations

# everyday word -> the term the gazettes use (日常用语 → 规范用语)
GLOSSARY: dict[str, str] = {
    "网吧": "互联网上网服务营业场所",
    "欺负": "欺凌",
    "罚则": "法律责任 处罚",
    "怎么罚": "法律责任 处罚 罚款",
    "惩罚": "处罚",
    "生效": "施行",
    "开始实施": "施行",
    "城管": "城市管理",
    "协管员": "协管人员",
    "老人": "老年人",
    "开发商": "房地产开发企业",
    "物业公司": "物业服务企业",
}


def expand(question: str) -> str:
    """The question followed by the legal terms of the everyday words it uses.

    >>> expand("网吧能让未成年人进去吗？")
    '网吧能让未成年人进去吗？ 互联网上网服务营业场所'
    >>> expand("节约能源条例第二十条")
    '节约能源条例第二十条'
    """
    extra = [term for word, term in GLOSSARY.items() if word in question and term not in question]
    return f"{question} {' '.join(extra)}" if extra else question
