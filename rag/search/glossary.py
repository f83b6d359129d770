"""Everyday words to the words the regulations use (网吧 → 互联网上网服务营业场所).

Citizens ask in their own words; the gazettes speak legal Chinese. ``expand`` adds
the legal term after a question that uses the everyday one, so that both the
lexical and the dense retriever, and the refusal check, see the words an article
actually contains. The list is short on purpose: common lay words with one clear
legal counterpart, none of them copied from a test question.

Left out: a general synonym thesaurus, and expansion of the passages.
"""

from __future__ import annotations

# everyday word -> the terms the gazettes use (日常用语 → 规范用语), by theme.
# Every target occurs in the corpus (tests/test_glossary.py checks it). Built from
# everyday vocabulary, eval/gold.jsonl and eval/dev.jsonl (GDP, 房企, 小卖部, 中学生,
# 暖气 are words its questions use), never from the held-out set.
GLOSSARY: dict[str, str] = {
    # people
    "小孩": "未成年人 儿童",
    "孩子": "未成年人",
    "小朋友": "儿童",
    "初中生": "未成年学生",
    "中学生": "未成年学生",
    "小学生": "未成年学生",
    "高中生": "未成年学生",
    "中小学生": "未成年学生",
    "家长": "父母 监护人",
    "爸妈": "父母",
    "老人": "老年人",
    "老板": "经营者 用人单位",
    "打工": "务工",
    "开发商": "房地产开发企业",
    "房企": "房地产企业",
    "小卖部": "经营者",
    "商店": "经营者",
    "司机": "驾驶",
    "物业公司": "物业服务企业",
    "城管": "城市管理",
    "协管员": "协管人员",
    "交警": "公安机关交通管理部门",
    "警察": "公安机关",
    "派出所": "公安机关",
    "业委会": "业主委员会",
    "物管会": "物业管理委员会",
    # places
    "网吧": "互联网上网服务营业场所",
    "宾馆": "旅馆",
    "酒店": "旅馆",
    "医院": "医疗机构",
    "菜市场": "集贸市场 农产品批发市场",
    "培训班": "教育培训机构",
    "补课": "教育培训机构",
    "托管班": "校外托管",
    "小区": "物业管理区域 住宅小区",
    # things and acts
    "开车": "驾驶 家庭乘用车",
    "电动车": "电动自行车",
    "车祸": "交通事故",
    "撞人": "交通事故",
    "欺负": "欺凌",
    "走丢": "走失",
    "不上学": "辍学",
    "退学": "辍学 休学",
    "作业多": "学习负担",
    "网游": "网络游戏",
    "打游戏": "网络游戏",
    "医美": "医疗美容",
    "整容": "医疗美容",
    "农药": "农业投入品",
    "化肥": "农业投入品",
    "兽药": "农业投入品",
    "碘盐": "加碘食盐",
    "省电": "节能",
    "耗电": "能源消耗",
    "物业费": "物业服务收费",
    "体检": "体格检查",
    "身份证": "身份证件",
    "集资诈骗": "非法集资",
    "工资": "劳动报酬",
    "医药费": "医疗费用",
    "垫钱": "垫付",
    "打官司": "诉讼",
    "上访": "信访",
    "退休金": "养老金",
    "低保": "最低生活保障",
    "暖气": "供热",
    "香烟": "烟草",
    "GDP": "地区生产总值",
    # what happens
    "罚钱": "罚款",
    "罚多少": "罚款",
    "赔钱": "赔偿",
    "坐牢": "刑事责任",
    "罚则": "法律责任 处罚",
    "怎么罚": "法律责任 处罚 罚款",
    "惩罚": "处罚",
    "生效": "施行",
    "开始实施": "施行",
    # ages
    "几岁": "周岁",
    "多大的孩子": "周岁",
    "岁数": "周岁",
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


def covered_words(question: str) -> tuple[str, ...]:
    """The everyday words of a question that the glossary maps to the documents' words.

    >>> covered_words("小孩几岁可以坐副驾驶？")
    ('小孩', '几岁')
    """
    return tuple(word for word in GLOSSARY if word in question)
