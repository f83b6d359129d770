"""Read a question: what it asks for, and what a passage must hold to answer it.

``read_ask`` sorts a question into one ask type by its question words:

- ``penalty``: what happens if (罚, 处罚, 后果, 追责 …) without asking an amount;
- ``number``: a figure, with the kind of unit it needs (``money`` 多少钱 罚多少,
  ``age`` 几岁 多大, ``time`` 多久 几天 期限, ``ratio`` 比例 百分之, ``date`` 哪天 哪年,
  ``count`` anything else asked with 多少 or 几);
- ``who``: which person, department or body (谁, 哪个部门 …);
- ``where``: which place (哪里, 在哪 …);
- ``yesno``: 能不能, 可以吗, 是否, …吗;
- ``how``: a procedure or a list (怎么, 如何, 流程, 哪些 …);
- ``what``: anything else.

``holds_detail(ask, text)`` says whether a text holds the kind of thing asked for (a
money amount for ``money``, an age for ``age``, a department for ``who``, a modal
word for ``yesno`` …); ``how`` and ``what`` are held by any on-topic text.
``detail_name`` names what is missing, for a reply that says the documents do not
give it. ``answer_clause`` picks the clause of a sentence that carries the detail,
verbatim, for the direct answer that leads a reply.

Left out: parsing (a few patterns over the question words only), questions that ask
several things at once (the first pattern that matches wins).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ASK_KINDS = ("penalty", "number", "who", "where", "yesno", "how", "what")
UNITS = ("money", "age", "time", "ratio", "date", "count")

_NUM = r"[0-9０-９零〇一二三四五六七八九十百千万两半几]"
_PENALTY_Q = re.compile(r"罚|处罚|处分|后果|追责|追究|法律责任|会怎样|会怎么样|坐牢|判刑|吊销")
_AMOUNT_Q = re.compile(r"多少|几|多大|多长|多久|多高|多远|比例|百分之|哪天|哪一天|哪年|几月|"
                       r"什么时候|何时|什么时间|哪一年")
_MONEY_Q = re.compile(r"多少钱|罚多少|罚款.{0,4}多少|罚.{0,2}最[多少高低].{0,2}多少|金额|多少元|"
                      r"费用?.{0,4}多少|补贴.{0,4}多少|补助.{0,4}多少|奖励.{0,4}多少|工资|价格|价钱|"
                      r"收多少|赔多少|多少万元|多少块")
_AGE_Q = re.compile(r"几岁|多大|多少岁|年龄|年纪|周岁")
_TIME_Q = re.compile(r"多久|多长时间|几天|多少天|几个月|几年|多少年|期限|多长|几个工作日|多少个工作日|"
                     r"几个?小时|多少个?小时|时限|几日|多少日|几周|几个星期|几分钟|多少分钟|有效期|任期")
_RATIO_Q = re.compile(r"比例|百分之|百分比|率是多少|率要|率达到|率有|占比|几成|几个百分点|百分点")
_DATE_Q = re.compile(r"哪天|哪一天|哪年|哪一年|几月|什么时候|何时|什么时间|日期")
# the measure word a count or a length of time is asked in (几次, 多少批次, 几个小时, 多少毫克)
_MEASURES = ("批次", "人次", "千瓦时", "平方米", "平方公里", "立方米", "公里", "千米", "公顷", "千克",
             "公斤", "毫克", "毫升", "工作日", "小时", "分钟", "星期", "周岁", "万元", "亿元", "次",
             "名", "家", "批", "人", "项", "件", "所", "张", "台", "辆", "户", "座", "种", "类",
             "篇", "份", "位", "亩", "吨", "米", "克", "升", "倍", "届", "轮", "星级", "星", "档",
             "级", "岁", "天", "日", "年", "月", "周", "元")
_MEASURE_Q = re.compile(r"(?:几|多少)(?:个)?(" + "|".join(_MEASURES) + ")")
# what a measure word may be written as in the documents (几天 is answered by 十五日)
_MEASURE_FORMS = {"天": "天|日|个工作日|工作日", "日": "日|天|工作日", "工作日": "工作日|日",
                  "小时": "小时", "星期": "星期|周|日", "周": "周|星期|日", "月": "个月|月",
                  "年": "年", "岁": "周岁|岁", "周岁": "周岁|岁", "元": "元|万元|亿元",
                  "人": "人|名", "名": "名|人", "次": "次", "件": "件", "家": "家|个", "级": "级|星级|等"}
_WHO_Q = re.compile(r"谁|哪个部门|哪些部门|什么部门|哪个单位|哪些单位|什么单位|哪个机关|什么机关|"
                    r"哪家|归哪|由哪|哪级|哪一级|哪个机构|什么机构|哪些人|什么人")
_WHERE_Q = re.compile(r"哪里|在哪|哪儿|什么地方|去哪|何处|什么地点")
_YESNO_Q = re.compile(r"吗[？?]?$|吗？|能不能|可不可以|可否|是否|能否|会不会|要不要|有没有|算不算|"
                      r"行不行|允不允许|让不让|需不需要|用不用")
_WHICH_ARTICLE = re.compile(r"哪一条|哪条|哪几条|第几条|哪一款|哪些条")
_HOW_Q = re.compile(r"怎么|如何|怎样|流程|程序|手续|步骤|哪些|什么样|什么条件|要求")

_DETAIL = {
    "money": re.compile(rf"{_NUM}+(?:\.[0-9]+)?\s*(?:万|亿)?元|{_NUM}+倍"),
    "age": re.compile(rf"{_NUM}+\s*周?岁"),
    "time": re.compile(rf"{_NUM}+\s*(?:个)?(?:工作日|日|天|月|年|小时|分钟|周)|日内|日前"),
    "ratio": re.compile(rf"{_NUM}+(?:\.[0-9]+)?\s*[%％]|{_NUM}+分之|{_NUM}+成|{_NUM}+个百分点"),
    "date": re.compile(rf"{_NUM}+\s*(?:年|月|日|季度)|年底|年初|月底|上旬|中旬|下旬|起施行|之日|"
                       r"每年|闭会|以前|之前|前完成"),
    # a figure: digits, or a Chinese numeral with a measure word (三项, 五人以上, 二分之一);
    # a numeral inside a word (单一, 统一, 二手车) is no count
    "count": re.compile(rf"[0-9０-９]+|{_NUM}+\s*(?:余|多)?\s*(?:[%％]|分之|个|倍|成|"
                        rf"{'|'.join(_MEASURES)})"),
    "who": re.compile(r"部门|机关|政府|委员会|办公室|单位|机构|厅|局|法院|检察院|主席团|会议|"
                      r"办事处|公司|企业|学校|人员|监护人|父母|经营者|管理人|组织|代表|小组|中心|"
                      r"社|协会"),
    "where": re.compile(r"在|于|场所|地点|地区|区域|范围|专户|平台|窗口"),
    "penalty": re.compile(r"罚款|处罚|罚|责令|吊销|没收|处分|追究|拘留|赔偿|追偿|责任|撤销|取消|"
                          r"停止|不得|重新|改正|问责|通报|约谈|停产|整顿|关闭|取缔|查处|依法处理"),
    "yesno": re.compile(rf"不得|禁止|严禁|应当|应|可以|有权|必须|不能|不准|不予|须|需|允许|鼓励|支持|"
                        rf"负责|承担|保障|给予|{_NUM}+\s*(?:元|万元|%|周岁|岁|日|天|个月|年)"),
}
_MISSING = {
    "money": "具体金额", "age": "具体年龄", "time": "具体期限或时长", "ratio": "具体比例",
    "date": "具体日期", "count": "具体数量", "who": "负责的部门或单位", "where": "具体地点",
    "penalty": "相应的处罚或后果", "yesno": "明确的规定",
}
_NEGATIVE = re.compile(r"不得|禁止|严禁|不能|不准|不予|不应|不可|不再|禁入")
# a condition or an exception before the modal word: 未经监护人同意，不得… answers 需要同意吗
# with 需要 and 学校能不能收手机 with 可以, so the modal word alone says neither
_CONDITIONED = re.compile(r"未经|非经|除[^，。；]{0,60}外|不经|经[^，。；]{0,30}(?:同意|批准|许可|允许)")
# a question whether the documents say something at all (有没有规定, 是否有优惠): the
# modal word of what they say is not its yes or no
_EXISTS_Q = re.compile(r"有没有|有无|是否有|有什么规定|有规定吗")
_MAY = re.compile(r"可以|有权|允许")
_CLAUSE_END = re.compile(r"(?<=[，；。：,;:])")


@dataclass(frozen=True)
class Ask:
    """What a question asks for: ``kind`` (ASK_KINDS) and, for a number, its ``unit`` and
    the measure word it is asked in, when the question names one (几次 → 次)."""

    kind: str
    unit: str | None = None
    measure: str | None = None  # the measure word of a count or a time (次, 批次, 小时)
    # a yes/no the cited modal word answers (能不能, 可以吗); False for a question whether
    # something is provided at all (有没有规定): the reply then leads with the clause alone
    polar: bool = field(default=True, repr=False)

    @property
    def need(self) -> str | None:
        """The key of what a passage must hold, or None when any on-topic text answers."""
        if self.kind == "number":
            return self.unit
        return self.kind if self.kind in ("who", "where", "penalty", "yesno") else None


def read_ask(question: str) -> Ask:
    """The ask of a question.

    >>> [read_ask(q) for q in ("开车带小孩，几岁的孩子要坐安全座椅？", "没做节能验收要罚多少钱？",
    ...                        "不配合调查会受到什么处罚？", "网吧能让未成年人进去吗？")]
    [Ask(kind='number', unit='age', measure=None), Ask(kind='number', unit='money', measure=None), Ask(kind='penalty', unit=None, measure=None), Ask(kind='yesno', unit=None, measure=None)]
    >>> [read_ask(q).kind for q in ("孩子被欺负归哪个部门管？", "物管会成立后去哪里备案？",
    ...                             "听证会是什么流程？", "该条例第十条的内容")]
    ['who', 'where', 'how', 'what']
    >>> read_ask("罚款最少多少？").unit, read_ask("补贴每户多少？").unit
    ('money', 'money')
    >>> [(a.unit, a.measure) for a in map(read_ask, ("多久内要回复？", "条例是哪天通过的？",
    ...     "入住率要到多少？", "每年抽查多少批次？", "每次最长几个小时？", "一年考核几次？"))]
    [('time', None), ('date', None), ('ratio', None), ('count', '批次'), ('time', '小时'), ('count', '次')]
    """
    q = question.strip()
    if _WHICH_ARTICLE.search(q):
        return Ask("what")  # the article's label answers it
    amount = _AMOUNT_Q.search(q)
    if _PENALTY_Q.search(q) and not amount:
        return Ask("penalty")
    if amount:
        measure = _MEASURE_Q.search(q)
        word = measure.group(1) if measure else None
        for unit, pattern in (("money", _MONEY_Q), ("age", _AGE_Q), ("date", _DATE_Q),
                              ("ratio", _RATIO_Q), ("time", _TIME_Q)):
            if pattern.search(q):
                return Ask("number", unit, word if unit == "time" else None)
        return Ask("number", "count", word)
    if _WHO_Q.search(q):
        return Ask("who")
    if _WHERE_Q.search(q):
        return Ask("where")
    if _YESNO_Q.search(q):
        return Ask("yesno", polar=not _EXISTS_Q.search(q))
    if _HOW_Q.search(q):
        return Ask("how")
    return Ask("what")


def holds_detail(ask: Ask, text: str) -> bool:
    """Whether a text holds the kind of thing the question asks for.

    >>> age = Ask("number", "age")
    >>> holds_detail(age, "应当为未满四周岁的未成年人配备儿童安全座椅"), holds_detail(age, "应当配备座椅")
    (True, False)
    >>> money = Ask("number", "money")
    >>> holds_detail(money, "并处三万元以上五万元以下罚款"), holds_detail(money, "依法给予处罚")
    (True, False)
    >>> holds_detail(Ask("how"), "任何文字")
    True
    """
    pattern = detail_pattern(ask)
    return pattern is None or bool(pattern.search(text))


def detail_pattern(ask: Ask) -> re.Pattern[str] | None:
    """What a text must match to hold the asked kind of thing: a number in the asked
    measure word when the question names one (几次: 三次; 几天: 十五日), else the unit's
    or the kind's pattern; None when any on-topic text answers.

    >>> detail_pattern(Ask("number", "count", "次")).search("每年考核两次") is not None
    True
    >>> detail_pattern(Ask("number", "count", "次")).search("十五个工作日内") is None
    True
    >>> count = detail_pattern(Ask("number", "count"))
    >>> [bool(count.search(t)) for t in ("五人以上联名", "分为四个等级", "共1041户", "推动单一功能转型")]
    [True, True, True, False]
    """
    need = ask.need
    if need is None:
        return None
    if ask.measure and need in ("count", "time"):
        forms = _MEASURE_FORMS.get(ask.measure, ask.measure)
        return re.compile(rf"{_NUM}+(?:\.[0-9]+)?\s*(?:余|多)?\s*(?:个)?(?:{forms})")
    return _DETAIL[need]


def detail_name(ask: Ask) -> str:
    """What the documents would have to give, in words for the reply.

    >>> detail_name(Ask("number", "money")), detail_name(Ask("who"))
    ('具体金额', '负责的部门或单位')
    """
    return _MISSING.get(ask.need or "", "所问的具体内容")


def yes_no(sentence: str) -> str | None:
    """The yes/no a sentence's modal word carries: 不能 (不得, 禁止, 禁入 …) or 可以
    (可以, 有权, 允许); None otherwise. An obligation (应当, 必须) binds someone else than
    the asker as often as not, so it carries no yes/no: the clause itself answers.

    >>> yes_no("不得让未满十二周岁的未成年人乘坐副驾驶座位"), yes_no("有权向有关部门举报")
    ('不能', '可以')
    >>> yes_no("学校应当及时报告"), yes_no("本办法所称")
    (None, None)

    A condition or an exception before the modal word leaves the answer to the clause:

    >>> yes_no("未经监护人同意，不得向未成年人提供医疗美容服务"), yes_no("除法律另有规定外，不得使用")
    (None, None)
    >>> yes_no("经营者不得拒绝，经批准的除外")  # the exception comes after: still 不能
    '不能'
    """
    modal = _NEGATIVE.search(sentence) or _MAY.search(sentence)
    if modal is None or _CONDITIONED.search(sentence[:modal.start()]):
        return None
    return "不能" if _NEGATIVE.search(sentence) else "可以"


def answer_clause(ask: Ask, sentence: str, max_chars: int = 90) -> str | None:
    """The part of a sentence that answers the ask, verbatim: the sentence when short,
    else its clauses from the one that opens a condition (…的，) to the one with the
    detail. None when the sentence does not hold the detail.

    >>> answer_clause(Ask("number", "money"), "违反本条例规定，擅自投入生产的，由节能主管部门责令限期改正，"
    ...               "并处三万元以上五万元以下罚款。", max_chars=30)
    '由节能主管部门责令限期改正，并处三万元以上五万元以下罚款'
    >>> answer_clause(Ask("number", "age"), "应当配备座椅。") is None
    True
    """
    pattern = detail_pattern(ask)
    if pattern is None:
        return None
    body = sentence.strip().rstrip("。；;：:")
    if not pattern.search(body):
        return None
    if len(body) <= max_chars:
        return body
    clauses = [c for c in _CLAUSE_END.split(body) if c]
    for i, clause in enumerate(clauses):
        if pattern.search(clause):
            start = i
            while start > 0 and len("".join(clauses[start - 1:i + 1])) <= max_chars \
                    and not clauses[start - 1].endswith(("。", "；", ";", "：", ":")):
                start -= 1
            return "".join(clauses[start:i + 1]).rstrip("，,；;。：:")
    return None
