"""Generated Chinese legal texts shaped like real ones, with their ground truth.

    python tests/legal_texts.py --out DIR [--seed 15] [--code-articles 1260]

writes ``DIR/corpus/`` (one plain-text document a file, as a user downloads laws),
``DIR/truth.json`` (per file: title, expected kind, every article's label, number and
heading path) and ``DIR/gold.jsonl`` (questions in the project's gold format). The
same seed gives the same bytes.

The documents follow the structure of real texts without copying them: a civil code
with 编, 分编, 章 and 节 over more than a thousand articles and a standalone 附则; a
criminal law with articles inserted by amendment (第一百三十三条之一) and articles
reduced to （删除）; a labour law and its implementing regulation; a judicial
interpretation (最高人民法院关于…的解释) with 一、 headings between its articles; another
province's regulation; a provincial government's rules (规章); a city's rules with
bracketed article titles (第五条【适用范围】), an 附件 and an 附表 with captions; an
autonomous prefecture's regulation with a 序言; a standing committee's 决定 with
articles and one without; a ministry's 意见 with 一、/（一） headings. Every text has
list-introducing sentences (…包括下列条款：), list items (（五）…；), long articles of
several 款, and most a 目录 that must not become passages.

Article bodies are written from small vocabularies (seeded), except the ``facts``: a
few hand-written provisions, each with a plain-language question, placed at fixed
spots; they are the citizen questions of the gold file. Left out: tables drawn with
box characters, footnotes, amendment histories longer than one line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``rag`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.numerals import int_to_chinese

CODE_ARTICLES = 1260
SEED = 15


@dataclass(frozen=True)
class ArticleTruth:
    label: str  # as printed: 第一百三十三条之一
    number: int  # 133 (an inserted article carries the number it follows)
    path: tuple[str, ...]  # headings above it, cleaned: ("第一编 总则", "第一章 基本规定")
    text: str  # the article as printed, 款 joined by "\n"
    deleted: bool = False


@dataclass(frozen=True)
class Fact:
    """A hand-written provision with a plain-language question about it."""

    question: str
    sentence: str  # the provision's words, verbatim in the article (the evidence)
    key_points: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class LawText:
    file_name: str
    title: str
    short_title: str  # as people write it in a clause question
    kind: str  # the kind the ingestion should give it (rag.types.LEGAL_KINDS)
    doc_type: str  # the coarse type: "regulation" when article-structured
    text: str
    articles: tuple[ArticleTruth, ...]
    forms: tuple[str, ...]  # which real-text forms it carries
    facts: tuple[tuple[Fact, str], ...] = ()  # (fact, label of the article holding it)
    headings_not_sections: tuple[str, ...] = ()  # lines that must never name a section

    @property
    def article_headings(self) -> int:
        """The count of 第N条 headings in the source, deleted articles included."""
        return len(self.articles)


# ---------------------------------------------------------------- vocabularies

@dataclass(frozen=True)
class Topic:
    subjects: tuple[str, ...]
    objects: tuple[str, ...]
    duties: tuple[str, ...]
    conditions: tuple[str, ...]
    authorities: tuple[str, ...] = ("县级以上人民政府有关部门",)


TOPICS = {
    "general": Topic(
        ("自然人", "法人", "非法人组织", "民事主体", "监护人", "代理人", "法定代表人"),
        ("民事权利", "民事法律行为", "代理事项", "财产权益", "人身权利", "民事义务"),
        ("遵循诚信原则", "依法履行义务", "在授权范围内行事", "承担相应的民事责任",
         "及时通知相对人", "妥善保管相关材料"),
        ("因不可抗力不能履行", "被宣告失踪", "超越代理权限", "意思表示不真实", "违背公序良俗"),
    ),
    "property": Topic(
        ("不动产权利人", "抵押权人", "质权人", "用益物权人", "建设用地使用权人", "业主",
         "共有人", "占有人"),
        ("不动产登记簿", "建筑物区分所有权", "共有部分", "担保财产", "宅基地使用权",
         "地役权", "动产"),
        ("依法办理登记", "不得损害其他权利人的合法权益", "合理使用共有部分",
         "按照约定的用途使用", "妥善保管担保财产", "返还原物"),
        ("登记机构依法登记", "担保财产毁损灭失", "当事人协议不成", "共有人对共有物的管理没有约定",
         "占有人因过错致使占有物受到损害"),
    ),
    "contract": Topic(
        ("当事人", "出卖人", "买受人", "出租人", "承租人", "承揽人", "保证人", "债务人",
         "债权人", "承运人"),
        ("合同约定的义务", "标的物", "租赁物", "借款", "工作成果", "保证责任", "货物",
         "价款或者报酬"),
        ("按照约定全面履行", "及时检验标的物", "妥善保管", "支付价款", "通知对方",
         "采取适当措施防止损失扩大", "承担违约责任"),
        ("一方明确表示不履行主要债务", "标的物在交付前毁损", "当事人对质量要求没有约定",
         "合同生效后", "租赁期限没有约定"),
    ),
    "personality": Topic(
        ("自然人", "信息处理者", "新闻报道者", "医疗机构", "任何组织或者个人"),
        ("姓名权", "名誉权", "隐私权", "个人信息", "荣誉权", "身体权"),
        ("取得本人同意", "采取必要措施保障信息安全", "及时更正", "合理使用",
         "停止侵害并消除影响"),
        ("未经本人同意", "发生信息泄露", "报道内容严重失实", "为维护公共利益"),
    ),
    "family": Topic(
        ("夫妻", "父母", "子女", "收养人", "祖父母、外祖父母", "兄、姐", "婚姻登记机关"),
        ("共同财产", "抚养费", "赡养义务", "监护职责", "收养关系", "家庭事务"),
        ("互相忠实、互相尊重", "平等协商处理", "履行扶养义务", "保护未成年子女的合法权益",
         "依法办理登记"),
        ("一方下落不明满二年", "双方协议不成", "子女已满八周岁", "收养关系解除"),
    ),
    "succession": Topic(
        ("继承人", "受遗赠人", "遗产管理人", "遗嘱执行人", "被继承人"),
        ("遗产", "遗嘱", "遗赠扶养协议", "债务清偿", "遗产清单"),
        ("清理遗产并制作遗产清单", "妥善保管遗产", "按照遗嘱办理", "依法分割遗产",
         "清偿被继承人依法应当缴纳的税款和债务"),
        ("没有遗嘱", "继承开始后", "遗嘱无效", "继承人放弃继承"),
    ),
    "tort": Topic(
        ("行为人", "侵权人", "网络服务提供者", "用人单位", "经营者", "机动车使用人",
         "产品生产者", "建筑物所有人"),
        ("他人民事权益", "损害", "缺陷产品", "公共场所", "高度危险物", "环境"),
        ("承担侵权责任", "采取删除、屏蔽、断开链接等必要措施", "尽到安全保障义务",
         "及时采取补救措施", "赔偿损失"),
        ("因过错侵害他人民事权益", "被侵权人对损害的发生也有过错", "损害是因受害人故意造成",
         "造成他人损害"),
    ),
    "criminal": Topic(
        ("犯罪分子", "国家工作人员", "单位", "行为人", "司法工作人员", "直接负责的主管人员"),
        ("公私财物", "公共安全", "国家秘密", "公民人身权利", "社会管理秩序", "税款"),
        ("处三年以下有期徒刑、拘役或者管制", "处三年以上十年以下有期徒刑",
         "并处或者单处罚金", "依照前款的规定处罚", "从重处罚", "可以从轻或者减轻处罚"),
        ("情节严重的", "数额较大的", "造成严重后果的", "情节特别恶劣的", "致人重伤、死亡的"),
        ("人民法院",),
    ),
    "labour": Topic(
        ("用人单位", "劳动者", "劳务派遣单位", "用工单位", "工会", "劳动行政部门"),
        ("劳动合同", "劳动报酬", "工作时间", "社会保险", "劳动条件", "规章制度", "培训费用"),
        ("依法订立书面劳动合同", "按时足额支付劳动报酬", "遵守劳动纪律",
         "依法为劳动者缴纳社会保险费", "提供必要的劳动保护", "出具解除劳动合同的证明"),
        ("劳动合同期满", "劳动者患病或者非因工负伤", "用人单位濒临破产",
         "劳动合同订立时所依据的客观情况发生重大变化", "双方协商一致"),
        ("劳动行政部门", "县级以上地方人民政府劳动行政部门"),
    ),
    "court": Topic(
        ("当事人", "劳动者", "用人单位", "人民法院", "劳动争议仲裁机构"),
        ("仲裁裁决", "诉讼请求", "劳动争议", "证据", "工资欠条", "劳动关系"),
        ("依法受理", "应予支持", "不予支持", "依照民事诉讼法的规定审理",
         "在法定期间内提起诉讼"),
        ("当事人不服仲裁裁决", "仲裁机构逾期未作出裁决", "用人单位对劳动者作出处理决定",
         "劳动者请求确认劳动关系"),
    ),
    "safety": Topic(
        ("生产经营单位", "物业服务人", "业主委员会", "电动自行车销售者", "驾驶人",
         "物业服务企业", "社区居民委员会"),
        ("安全设施", "共用部位", "专项维修资金", "消防通道", "物业服务合同", "电动自行车",
         "安全生产责任"),
        ("建立健全安全生产责任制", "定期开展检查", "公开收支情况", "依法登记",
         "遵守道路交通安全法律法规", "配合有关部门开展检查"),
        ("发现安全隐患", "物业服务合同期限届满", "业主大会作出决定", "发生紧急情况"),
        ("应急管理部门", "住房城乡建设主管部门", "公安机关交通管理部门"),
    ),
    "waste": Topic(
        ("产生生活垃圾的单位和个人", "生活垃圾分类管理责任人", "收集运输单位",
         "餐饮服务提供者", "宾馆、酒店"),
        ("可回收物", "有害垃圾", "其他垃圾", "收集容器", "分类投放点", "一次性用品"),
        ("按照分类标准投放", "设置分类收集容器", "做好分类指导", "建立管理台账",
         "不得混装混运"),
        ("收集容器已满", "发现分类不符合要求", "举办大型活动"),
        ("城市管理部门",),
    ),
    "autonomy": Topic(
        ("自治州的自治机关", "自治州人民政府", "各民族公民", "民族乡"),
        ("民族文化", "民族语言文字", "草原和森林", "民族教育", "传统医药", "地方财政"),
        ("保障各民族平等", "培养少数民族干部", "扶持发展民族传统产业", "保护和利用自然资源"),
        ("根据本地方的实际情况", "在不违背宪法和法律的原则下", "上级国家机关的决议"),
    ),
}


def _shall(duty: str) -> str:
    """应当 before a duty, unless the duty already says what may or must be done."""
    modal = ("不得", "可以", "处", "并处", "依照", "从重", "应予", "不予", "依法")
    return duty if duty.startswith(modal) else "应当" + duty


def _sentence(rng: random.Random, topic: Topic, law_word: str) -> str:
    s, o, d, c = (rng.choice(topic.subjects), rng.choice(topic.objects),
                  _shall(rng.choice(topic.duties)), rng.choice(topic.conditions).removesuffix("的"))
    forms = (
        f"{s}对{o}，{d}。",
        f"{c}，{s}{d}。",
        f"{s}不得擅自处分{o}；{c}的，{d}。",
        f"{c}的，{s}可以依照本{law_word}的规定请求处理{o}。",
        f"违反本{law_word}规定，{s}侵害{o}的，由{rng.choice(topic.authorities)}责令改正；"
        f"{c}的，依法追究责任。",
        f"{s}处理{o}的具体办法，由{rng.choice(topic.authorities)}另行规定。",
    )
    return rng.choice(forms)


def _paragraph(rng: random.Random, topic: Topic, law_word: str, sentences: int) -> str:
    return "".join(_sentence(rng, topic, law_word) for _ in range(sentences))


def _items(rng: random.Random, topic: Topic, n: int) -> list[str]:
    """List items （一）…；…（n）…。 with distinct contents."""
    pool = [f"{o}" for o in topic.objects] + [d for d in topic.duties]
    rng.shuffle(pool)
    chosen = (pool * 2)[:n]
    lines = []
    for i, what in enumerate(chosen, start=1):
        end = "。" if i == n else "；"
        lines.append(f"（{int_to_chinese(i)}）{what}{'的情况' if i % 3 == 0 else ''}{end}")
    return lines


# ---------------------------------------------------------------- writing one text


@dataclass
class _Writer:
    """Collects the body lines of one text and the truth of its articles."""

    rng: random.Random
    law_word: str  # 本法, 本条例, 本解释 … without 本
    style: dict = field(default_factory=dict)  # sep: label separator; blank: blank lines
    lines: list[str] = field(default_factory=list)
    toc: list[str] = field(default_factory=list)
    articles: list[ArticleTruth] = field(default_factory=list)
    path: list[tuple[int, str]] = field(default_factory=list)  # (level, cleaned heading)
    number: int = 0
    not_sections: list[str] = field(default_factory=list)
    facts: list[tuple[Fact, str]] = field(default_factory=list)

    def _emit(self, text: str) -> None:
        self.lines.append(text)
        if self.style.get("blank"):
            self.lines.append("")

    def heading(self, level: int, label: str, name: str) -> None:
        """level 1 编, 2 分编, 3 章, 4 节; 0 a standalone heading (附则) that ends them all."""
        spaced = "　　".join(name) if len(name) == 2 else name
        printed = f"{label}　{spaced}" if label else spaced
        self._emit(printed)
        self.toc.append(("　" * max(level - 1, 0)) + printed)
        cleaned = f"{label} {name}" if label else name
        self.path = [(lv, h) for lv, h in self.path if lv < level and level > 0]
        self.path.append((level, cleaned))

    def article(self, paragraphs: list[str], caption: str | None = None,
                inserted: int = 0, deleted: bool = False) -> str:
        if not inserted:
            self.number += 1
        label = f"第{int_to_chinese(self.number)}条"
        if inserted:
            label += "之" + int_to_chinese(inserted)
        sep = self.style.get("sep", "　")
        head = f"{label}【{caption}】" if caption else f"{label}{sep}"
        body = ["（删除）"] if deleted else paragraphs
        self._emit(head + body[0])
        indent = self.style.get("indent", "　　")
        for p in body[1:]:
            self._emit(indent + p)
        self.articles.append(ArticleTruth(
            label, self.number, tuple(h for _, h in self.path),
            "\n".join([head + body[0], *body[1:]]), deleted,
        ))
        return label

    def plain(self, n_sentences: int = 2, topic: Topic | None = None) -> list[str]:
        topic = topic or self.topic
        return [_paragraph(self.rng, topic, self.law_word, n_sentences)]

    def listed(self, intro: str, n: int, topic: Topic | None = None) -> list[str]:
        """An article that introduces a list: the intro sentence, then its items."""
        topic = topic or self.topic
        self.not_sections.append(intro)
        items = _items(self.rng, topic, n)
        self.not_sections.extend(items)
        return [intro, *items]

    def long(self, paragraphs: int = 5, topic: Topic | None = None) -> list[str]:
        """An article longer than a screen: several 款 of several sentences."""
        topic = topic or self.topic
        return [_paragraph(self.rng, topic, self.law_word, 4) for _ in range(paragraphs)]

    def fact(self, fact: Fact, before: str = "", after: str = "", **kwargs) -> str:
        paragraphs = [before + fact.sentence + after]
        label = self.article(paragraphs, **kwargs)
        self.facts.append((fact, label))
        return label

    topic: Topic = TOPICS["general"]


def _any_article(w: _Writer, topic: Topic) -> None:
    """A seeded ordinary article: one or two 款, sometimes a list, sometimes long."""
    roll = w.rng.random()
    if roll < 0.08:
        n = w.rng.randint(3, 6)
        w.article(w.listed(f"{w.rng.choice(topic.subjects)}应当履行下列义务：", n, topic))
    elif roll < 0.11:
        w.article(w.long(w.rng.randint(3, 5), topic))
    elif roll < 0.45:
        w.article([_paragraph(w.rng, topic, w.law_word, w.rng.randint(1, 2)) for _ in range(2)])
    else:
        w.article([_paragraph(w.rng, topic, w.law_word, w.rng.randint(1, 2))])


def _render(title: str, history: str, w: _Writer, toc: bool = True,
            before_body: list[str] = (), after_body: list[str] = ()) -> str:
    lines = [title, "", history, ""]
    if toc:
        lines += ["目　　录", "", *w.toc, ""]
    lines += list(before_body)
    lines += w.lines
    lines += list(after_body)
    return "\n".join(lines).rstrip() + "\n"


def _law(file_name: str, title: str, short: str, kind: str, w: _Writer, text: str,
         forms: tuple[str, ...], doc_type: str = "regulation") -> LawText:
    return LawText(file_name, title, short, kind, doc_type, text, tuple(w.articles), forms,
                   tuple(w.facts), tuple(w.not_sections))


# ---------------------------------------------------------------- the facts

F = Fact
CIVIL_FACTS = {
    "minor": F("十岁的孩子自己花钱买东西算数吗？",
               "八周岁以上的未成年人为限制民事行为能力人，实施民事法律行为由其法定代理人代理或者经其法定代理人同意",
               ("八周岁", "法定代理人"), "八周岁以上的未成年人是限制民事行为能力人，需法定代理人代理或同意。"),
    "mortgage": F("办抵押要签什么合同，合同里写什么？",
                  "设立抵押权，当事人应当采用书面形式订立抵押合同。",
                  ("书面形式", "抵押合同"), "应当采用书面形式订立抵押合同。"),
    "residence": F("我有居住权的房子能不能租给别人？",
                   "居住权人不得将设立居住权的住宅出租给他人，当事人另有约定的除外",
                   ("不得", "出租"), "设立居住权的住宅不得出租，另有约定的除外。"),
    "deposit": F("定金最多能收多少？",
                 "当事人约定的定金数额超过主合同标的额百分之二十的，超出的部分不发生定金效力",
                 ("百分之二十",), "定金不得超过主合同标的额的百分之二十。"),
    "lease": F("房东要卖我租的房子，我能先买吗？",
               "出租人在租赁期限内出卖租赁房屋的，应当在出卖前的合理期限内通知承租人，承租人享有以同等条件优先购买的权利",
               ("同等条件", "优先购买"), "承租人享有以同等条件优先购买的权利。"),
    "portrait": F("别人用AI软件把我的照片换脸发到网上是不是侵权？",
                  "任何组织或者个人不得以丑化、污损或者利用信息技术手段伪造等方式侵害他人的肖像权",
                  ("伪造", "肖像权"), "利用信息技术手段伪造他人肖像属于侵害肖像权。"),
    "cooling": F("去民政局申请离婚以后又后悔了怎么办？",
                 "离婚登记申请提交后三十日内，一方反悔不愿离婚的，可以向婚姻登记机关撤回申请",
                 ("三十日", "撤回"), "三十日内可以向婚姻登记机关撤回离婚登记申请。"),
    "premarital": F("结婚前自己买的车，结婚后算两个人的吗？",
                    "夫妻一方在结婚登记前取得的财产，为其个人财产，不因结婚而成为夫妻共同财产",
                    ("个人财产",), "婚前取得的财产是个人财产。"),
    "will": F("打印出来的遗嘱要满足什么条件才有效？",
              "遗嘱人以打印方式立遗嘱的，应当有两个以上见证人在场见证，遗嘱人和见证人应当在遗嘱每一页签名",
              ("两个以上见证人", "每一页签名"), "需两个以上见证人在场见证，并在每一页签名。"),
    "dog": F("邻居家的狗没拴绳把我咬伤了，谁来赔？",
             "饲养人未对其饲养的犬只采取牵引等安全措施致使他人受伤的，饲养人应当赔偿受害人的损失",
             ("饲养人", "赔偿"), "未采取安全措施的犬只饲养人应当赔偿。"),
}
CRIMINAL_FACTS = {
    "age": F("多大年纪犯罪要负刑事责任？", "已满十六周岁的人犯罪，应当负刑事责任。",
             ("十六周岁", "刑事责任"), "已满十六周岁的人犯罪应当负刑事责任。"),
    "drunk": F("喝醉了开车会被判刑吗？", "在道路上醉酒驾驶机动车的，处拘役，并处罚金。",
               ("拘役", "罚金"), "醉酒驾驶机动车的，处拘役并处罚金。"),
    "fraud": F("打电话群发假消息骗钱怎么判？",
               "以非法占有为目的，通过电信网络向不特定多数人发送虚假信息骗取他人财物的，依照诈骗罪从重处罚",
               ("从重处罚",), "依照诈骗罪从重处罚。"),
}
LABOUR_FACTS = {
    "written": F("上班多久公司必须跟我签劳动合同？",
                 "用人单位应当自用工之日起一个月内与劳动者订立书面劳动合同。",
                 ("一个月", "书面劳动合同"), "自用工之日起一个月内订立书面劳动合同。"),
    "probation": F("签两年的合同，试用期最长可以定多久？",
                   "劳动合同期限一年以上不满三年的，试用期不得超过二个月",
                   ("二个月",), "一年以上不满三年的合同，试用期不超过二个月。"),
    "deposit": F("公司入职要收押金、扣身份证，这合法吗？",
                 "用人单位招用劳动者，不得扣押劳动者的居民身份证和其他证件，不得以任何名义向劳动者收取财物",
                 ("不得扣押", "收取财物"), "不得扣押身份证，也不得收取财物。"),
    "resign": F("我想辞职，要提前多久跟公司说？",
                "劳动者提前三十日以书面形式通知用人单位，可以解除劳动合同。",
                ("三十日", "书面形式"), "提前三十日书面通知用人单位。"),
    "severance": F("被公司辞退了，补偿金怎么算？",
                   "经济补偿按劳动者在本单位工作的年限，每满一年支付一个月工资的标准向劳动者支付",
                   ("每满一年", "一个月工资"), "每满一年支付一个月工资。"),
}
REGULATION_FACTS = {
    "service": F("公司出钱送我培训约了服务期，合同到期时服务期还没满怎么办？",
                 "服务期尚未到期而劳动合同期满的，劳动合同续延至服务期满，双方另有约定的从其约定",
                 ("续延至服务期满",), "劳动合同续延至服务期满。"),
}
INTERPRETATION_FACTS = {
    "insurance": F("公司没给我交社保，退休后领不到养老金，能去法院告吗？",
                   "用人单位未为劳动者办理社会保险手续，致使劳动者无法享受社会保险待遇，劳动者请求赔偿损失的，人民法院应当受理",
                   ("社会保险", "赔偿损失"), "劳动者请求赔偿损失的，人民法院应当受理。"),
    "noncompete": F("签了竞业协议但公司没说给补偿，我还能要钱吗？",
                    "劳动者履行了竞业限制义务的，可以请求用人单位按照其离职前十二个月平均工资的百分之三十按月支付经济补偿",
                    ("百分之三十", "按月支付"), "可按离职前十二个月平均工资的百分之三十按月支付补偿。"),
}
PROPERTY_FACTS = {
    "fund": F("小区要动用维修基金，需要多少业主同意？",
              "使用专项维修资金，应当经专有部分面积占比三分之二以上且人数占比三分之二以上的业主参与表决",
              ("三分之二",), "需面积和人数占比均三分之二以上的业主参与表决。"),
    "utilities": F("不交物业费，物业能停我家的水电吗？",
                   "物业服务人不得采取停止供电、供水、供热、供燃气等方式催交物业费",
                   ("不得", "停止供电"), "物业服务人不得以停水停电等方式催交物业费。"),
}
EBIKE_FACTS = {
    "helmet": F("骑电动车带小孩要注意什么？",
                "驾驶电动自行车应当佩戴安全头盔；搭载十二周岁以下未成年人的，应当使用固定座椅",
                ("安全头盔", "固定座椅"), "应佩戴安全头盔，搭载儿童应使用固定座椅。"),
    "charge": F("电瓶车能推到楼道里充电吗？",
                "禁止在建筑物的公共门厅、疏散通道、楼梯间和安全出口处停放电动自行车或者为其充电",
                ("楼梯间", "充电"), "禁止在楼梯间、疏散通道等处停放或充电。"),
}
WASTE_FACTS = {
    "kitchen": F("剩饭剩菜扔之前要怎么处理？",
                 "厨余垃圾应当沥干水分后投放至厨余垃圾收集容器",
                 ("沥干水分",), "厨余垃圾应沥干水分后投放。"),
    "fine": F("垃圾不分类乱扔会罚多少钱？",
              "个人未按照分类要求投放生活垃圾，经劝告拒不改正的，由城市管理部门处五十元以上二百元以下罚款",
              ("五十元以上二百元以下",), "处五十元以上二百元以下罚款。"),
}
AUTONOMY_FACTS = {
    "language": F("少数民族在法院打官司能用自己的语言吗？",
                  "各民族公民都有使用本民族语言文字进行诉讼的权利",
                  ("本民族语言文字",), "各民族公民都有使用本民族语言文字进行诉讼的权利。"),
}
DECISION_FACTS = {
    "accounts": F("人大什么时候审查上一年的决算？",
                  "县级以上地方各级人民代表大会常务委员会每年六月审查和批准本级上一年度决算",
                  ("六月",), "每年六月审查和批准上一年度决算。"),
}
OPINION_FACTS = {
    "rider": F("外卖平台拖欠骑手的报酬可以吗？",
               "平台企业应当按时足额支付劳动报酬，不得克扣或者无故拖欠",
               ("不得克扣",), "平台企业不得克扣或者无故拖欠劳动报酬。"),
}

# ---------------------------------------------------------------- the texts


def _civil_code(rng: random.Random, articles: int) -> LawText:
    """编 > 分编 > 章 > 节, a standalone 附则, more than a thousand articles."""
    books = [  # (book name, share of articles, topic, parts (分编) or None, facts by chapter)
        ("总则", 0.16, "general", None),
        ("物权", 0.21, "property", ["通则", "所有权", "用益物权", "担保物权", "占有"]),
        ("合同", 0.42, "contract", ["通则", "典型合同", "准合同"]),
        ("人格权", 0.04, "personality", None),
        ("婚姻家庭", 0.06, "family", None),
        ("继承", 0.04, "succession", None),
        ("侵权责任", 0.07, "tort", None),
    ]
    facts = {"总则": ["minor"], "物权": ["mortgage", "residence"], "合同": ["deposit", "lease"],
             "人格权": ["portrait"], "婚姻家庭": ["cooling", "premarital"], "继承": ["will"],
             "侵权责任": ["dog"]}
    w = _Writer(rng, "法")
    body_articles = articles - 2  # the 附则 holds two
    chapter = 0
    for b, (book, share, topic_name, parts) in enumerate(books, start=1):
        w.topic = TOPICS[topic_name]
        w.heading(1, f"第{int_to_chinese(b)}编", book)
        chapter = 0  # chapters count within a book
        n_book = round(body_articles * share) if b < len(books) else body_articles - w.number
        start = w.number
        part_names = parts or [None]
        pending_facts = list(facts[book])
        for p, part in enumerate(part_names, start=1):
            if part:
                w.heading(2, f"第{int_to_chinese(p)}分编", part)
            n_part = n_book // len(part_names) if p < len(part_names) else start + n_book - w.number
            part_end = w.number + n_part
            while w.number < part_end:
                chapter += 1
                w.heading(3, f"第{int_to_chinese(chapter)}章", _chapter_name(rng, w.topic))
                in_chapter = min(rng.randint(8, 30), part_end - w.number)
                sections = 2 if in_chapter >= 16 and rng.random() < 0.5 else 0
                per = in_chapter // sections if sections else in_chapter
                for s in range(max(sections, 1)):
                    if sections:
                        w.heading(4, f"第{int_to_chinese(s + 1)}节", _section_name(rng, w.topic))
                    count = per if s < max(sections, 1) - 1 else in_chapter - per * s
                    for _ in range(count):
                        if pending_facts and rng.random() < 0.05:
                            _place_civil_fact(w, pending_facts.pop(0))
                        else:
                            _any_article(w, w.topic)
        for key in pending_facts:  # the rest at the end of the book's last chapter
            _place_civil_fact(w, key)
    w.heading(0, "", "附则")
    w.article(["民法所称的“以上”、“以下”、“以内”、“届满”，包括本数；所称的“不满”、“超过”、“以外”，不包括本数。"])
    w.article(["本法自二〇二一年一月一日起施行。"])
    title = "中华人民共和国民法典"
    text = _render(title, "（2020年5月28日第十三届全国人民代表大会第三次会议通过）", w)
    return _law("01_civil_code.txt", title, "民法典", "law", w, text,
                ("编", "分编", "章", "节", "附则", "目录", "列举", "长条文", "千条以上"))


def _place_civil_fact(w: _Writer, key: str) -> None:
    fact = CIVIL_FACTS[key]
    if key == "mortgage":  # the caption trap: a list introduced inside the article
        label = w.article([fact.sentence + "抵押合同一般包括下列条款：",
                           "（一）被担保债权的种类和数额；", "（二）债务人履行债务的期限；",
                           "（三）抵押财产的名称、数量等情况；", "（四）担保的范围；",
                           "（五）当事人认为需要约定的其他事项。"])
        w.not_sections.extend(["抵押合同一般包括下列条款：", "（五）当事人认为需要约定的其他事项。"])
        w.facts.append((fact, label))
    else:
        w.fact(fact, after="。" if not fact.sentence.endswith("。") else "")


_CHAPTER_WORDS = ("一般规定", "基本规定", "权利和义务", "效力", "履行", "变更和转让", "终止",
                  "责任", "登记", "保护", "管理", "特别规定", "监督检查", "法律责任")


def _chapter_name(rng: random.Random, topic: Topic) -> str:
    return rng.choice(topic.objects).replace("、", "") + rng.choice(_CHAPTER_WORDS)


def _section_name(rng: random.Random, topic: Topic) -> str:
    return rng.choice(topic.objects).replace("、", "") + rng.choice(("的设立", "的效力", "的行使", "的消灭"))


def _criminal_law(rng: random.Random) -> LawText:
    """编 > 章 > 节; 第X条之一 inserted by amendment; articles reduced to （删除）."""
    w = _Writer(rng, "法", style={"blank": True})
    w.topic = TOPICS["criminal"]
    plan = [("总则", ["刑法的任务、基本原则和适用范围", "犯罪", "刑罚"]),
            ("分则", ["危害公共安全罪", "破坏社会主义市场经济秩序罪", "侵犯财产罪",
                      "妨害社会管理秩序罪"])]
    for b, (book, chapters) in enumerate(plan, start=1):
        w.heading(1, f"第{int_to_chinese(b)}编", book)
        for chapter, name in enumerate(chapters, start=1):
            w.heading(3, f"第{int_to_chinese(chapter)}章", name)
            sections = 2 if name in ("犯罪", "破坏社会主义市场经济秩序罪") else 0
            for s in range(max(sections, 1)):
                if sections:
                    w.heading(4, f"第{int_to_chinese(s + 1)}节",
                              ("犯罪和刑事责任", "共同犯罪")[s] if name == "犯罪"
                              else ("生产、销售伪劣商品罪", "走私罪")[s])
                for i in range(rng.randint(12, 20)):
                    _any_article(w, w.topic)
                    if name == "犯罪" and s == 0 and i == 2:
                        w.fact(CRIMINAL_FACTS["age"], after="已满十四周岁不满十六周岁的人，犯故意杀人、故意伤害致人重伤或者死亡罪的，应当负刑事责任。")
                    if name == "危害公共安全罪" and i == 5:
                        w.article(w.plain(2), inserted=1)  # 第X条之一
                        w.article(w.plain(1), inserted=2)  # 第X条之二
                    if name == "危害公共安全罪" and i == 9:
                        w.fact(CRIMINAL_FACTS["drunk"], inserted=1)
                    if name == "破坏社会主义市场经济秩序罪" and i in (3, 4):
                        w.article([], deleted=True)
                    if name == "侵犯财产罪" and i == 6:
                        w.fact(CRIMINAL_FACTS["fraud"], after="。")
    w.heading(0, "", "附则")
    w.article(["本法自一九九七年十月一日起施行。列于本法附件一的全国人民代表大会常务委员会制定的条例、补充规定和决定，已纳入本法或者已不适用，自本法施行之日起，予以废止。"])
    title = "中华人民共和国刑法"
    history = ("（1979年7月1日第五届全国人民代表大会第二次会议通过　1997年3月14日第八届全国人民代表大会"
               "第五次会议修订　根据历次刑法修正案修正）")
    text = _render(title, history, w)
    return _law("02_criminal_law.txt", title, "刑法", "law", w, text,
                ("编", "章", "节", "之一", "删除", "附则", "目录", "空行分隔"))


def _labour_law(rng: random.Random) -> LawText:
    """章 only, 第八章 附则, a long article, lists; label followed by an ASCII space."""
    w = _Writer(rng, "法", style={"sep": " "})
    w.topic = TOPICS["labour"]
    names = ["总则", "劳动合同的订立", "劳动合同的履行和变更", "劳动合同的解除和终止",
             "特别规定", "监督检查", "法律责任", "附则"]
    for c, name in enumerate(names, start=1):
        w.heading(3, f"第{int_to_chinese(c)}章", name)
        n = 3 if name == "附则" else rng.randint(8, 16)
        for i in range(n):
            if name == "劳动合同的订立" and i == 1:
                w.fact(LABOUR_FACTS["written"], before="建立劳动关系，应当订立书面劳动合同。")
                continue
            if name == "劳动合同的订立" and i == 4:
                w.article(w.listed("劳动合同应当具备以下条款：", 9))
                continue
            if name == "劳动合同的订立" and i == 6:
                w.fact(LABOUR_FACTS["probation"],
                       before="劳动合同期限三个月以上不满一年的，试用期不得超过一个月；",
                       after="；三年以上固定期限和无固定期限的劳动合同，试用期不得超过六个月。")
                continue
            if name == "劳动合同的订立" and i == 7:
                w.fact(LABOUR_FACTS["deposit"], after="。")
                continue
            if name == "劳动合同的解除和终止" and i == 2:
                w.fact(LABOUR_FACTS["resign"],
                       after="劳动者在试用期内提前三日通知用人单位，可以解除劳动合同。")
                continue
            if name == "劳动合同的解除和终止" and i == 5:
                w.article(w.long(6))
                continue
            if name == "劳动合同的解除和终止" and i == 7:
                fact = LABOUR_FACTS["severance"]
                label = w.article([fact.sentence + "。六个月以上不满一年的，按一年计算；不满六个月的，向劳动者支付半个月工资的经济补偿。",
                                   "劳动者月工资高于用人单位所在直辖市、设区的市级人民政府公布的本地区上年度职工月平均工资三倍的，向其支付经济补偿的标准按职工月平均工资三倍的数额支付。"])
                w.facts.append((fact, label))
                continue
            if name == "附则" and i == n - 1:
                w.article(["本法自二〇〇八年一月一日起施行。"])
                continue
            _any_article(w, w.topic)
    title = "中华人民共和国劳动合同法"
    history = "（2007年6月29日第十届全国人民代表大会常务委员会第二十八次会议通过　2012年12月28日修正）"
    text = _render(title, history, w)
    return _law("03_labour_contract_law.txt", title, "劳动合同法", "law", w, text,
                ("章", "附则", "目录", "列举", "长条文", "半角空格"))


def _labour_regulation(rng: random.Random) -> LawText:
    """An administrative regulation (行政法规) whose short title extends the law's."""
    w = _Writer(rng, "条例")
    w.topic = TOPICS["labour"]
    for c, name in enumerate(["总则", "劳动合同的订立", "劳动合同的解除和终止", "劳务派遣特别规定",
                              "法律责任", "附则"], start=1):
        w.heading(3, f"第{int_to_chinese(c)}章", name)
        for i in range(rng.randint(4, 9) if name != "附则" else 2):
            if name == "劳动合同的订立" and i == 2:
                w.fact(REGULATION_FACTS["service"], after="。")
                continue
            if name == "附则" and i == 1:
                w.article(["本条例自公布之日起施行。"])
                continue
            _any_article(w, w.topic)
    title = "中华人民共和国劳动合同法实施条例"
    history = "（2008年9月18日中华人民共和国国务院令第535号公布　自公布之日起施行）"
    text = _render(title, history, w, toc=False)
    return _law("04_labour_contract_regulation.txt", title, "劳动合同法实施条例",
                "administrative_regulation", w, text, ("章", "附则", "行政法规"))


def _interpretation(rng: random.Random) -> LawText:
    """A judicial interpretation: a doc number line, 一、 headings between articles."""
    w = _Writer(rng, "解释")
    w.topic = TOPICS["court"]
    for c, name in enumerate(["受理范围", "仲裁与诉讼的衔接", "劳动合同的效力", "附则"]):
        label = f"{int_to_chinese(c + 1)}、"
        w._emit(f"{label}{name}")
        w.path = [(3, f"{label}{name}")]
        for i in range(rng.randint(6, 12) if name != "附则" else 1):
            if name == "受理范围" and i == 3:
                w.fact(INTERPRETATION_FACTS["insurance"], after="。")
                continue
            if name == "劳动合同的效力" and i == 2:
                w.fact(INTERPRETATION_FACTS["noncompete"],
                       before="当事人在劳动合同或者保密协议中约定了竞业限制，但未约定解除或者终止劳动合同后给予劳动者经济补偿，",
                       after="。月平均工资的百分之三十低于劳动合同履行地最低工资标准的，按照劳动合同履行地最低工资标准支付。")
                continue
            if name == "受理范围" and i == 1:
                w.article(w.listed("劳动者与用人单位之间发生的下列纠纷，属于劳动争议，当事人不服劳动争议仲裁机构作出的裁决，依法提起诉讼的，人民法院应予受理：", 6))
                continue
            if name == "附则":
                w.article(["本解释自2021年1月1日起施行。"])
                continue
            _any_article(w, w.topic)
    title = "最高人民法院关于审理劳动争议案件适用法律问题的解释（一）"
    history = "（2020年12月25日最高人民法院审判委员会第1825次会议通过，自2021年1月1日起施行）"
    preface = ["为正确审理劳动争议案件，根据《中华人民共和国民法典》《中华人民共和国劳动法》"
               "《中华人民共和国劳动合同法》等相关法律规定，结合审判实践，制定本解释。"]
    text = _render(title, "法释〔2020〕26号\n\n" + history, w, toc=False, before_body=preface)
    return _law("05_labour_interpretation.txt", title,
                "关于审理劳动争议案件适用法律问题的解释（一）", "judicial_interpretation", w, text,
                ("司法解释", "一、标题", "列举"))


def _province_regulation(rng: random.Random) -> LawText:
    """Another province's regulation (地方性法规), passed by its people's congress."""
    w = _Writer(rng, "条例")
    w.topic = TOPICS["safety"]
    for c, name in enumerate(["总则", "业主和业主大会", "物业服务", "物业的使用和维护",
                              "法律责任", "附则"], start=1):
        w.heading(3, f"第{int_to_chinese(c)}章", name)
        for i in range(rng.randint(6, 12) if name != "附则" else 2):
            if name == "物业的使用和维护" and i == 3:
                w.fact(PROPERTY_FACTS["fund"], after="。")
                continue
            if name == "物业服务" and i == 4:
                w.fact(PROPERTY_FACTS["utilities"], before="业主应当按照约定交纳物业费。", after="。")
                continue
            if name == "附则" and i == 1:
                w.article(["本条例自2024年3月1日起施行。"])
                continue
            _any_article(w, w.topic)
    title = "浙江省物业管理条例"
    history = "（2023年11月24日浙江省第十四届人民代表大会常务委员会第六次会议通过）"
    text = _render(title, history, w)
    return _law("06_zhejiang_property.txt", title, "浙江省物业管理条例", "local_regulation", w,
                text, ("章", "附则", "目录", "地方性法规"))


def _province_rules(rng: random.Random) -> LawText:
    """A provincial government's rules (规章), without chapters."""
    w = _Writer(rng, "规定")
    w.topic = TOPICS["safety"]
    for i in range(rng.randint(24, 32)):
        if i == 6:
            w.fact(EBIKE_FACTS["helmet"], after="。")
        elif i == 9:
            w.fact(EBIKE_FACTS["charge"], after="。")
        elif i == 12:
            w.article(w.listed("电动自行车销售者不得有下列行为：", 5))
        else:
            _any_article(w, w.topic)
    w.article(["本规定自2023年7月1日起施行。"])
    title = "广东省电动自行车安全管理规定"
    history = "（2023年4月20日广东省人民政府令第302号公布　自2023年7月1日起施行）"
    text = _render(title, history, w, toc=False)
    return _law("07_guangdong_ebike.txt", title, "广东省电动自行车安全管理规定", "rules", w,
                text, ("规章", "无章"))


def _city_rules(rng: random.Random) -> LawText:
    """Bracketed article titles, an 附件 and an 附表 with captions after the last article."""
    w = _Writer(rng, "办法")
    w.topic = TOPICS["waste"]
    captions = ["立法目的", "适用范围", "基本原则", "职责分工", "分类标准", "投放要求", "收集运输",
                "处理设施", "源头减量", "监督检查", "法律责任", "施行日期"]
    for c, name in enumerate(["总则", "分类投放", "收集运输和处理", "法律责任", "附则"], start=1):
        w.heading(3, f"第{int_to_chinese(c)}章", name)
        for i in range(rng.randint(3, 5) if name != "附则" else 1):
            caption = captions[min(w.number, len(captions) - 1)]
            if name == "分类投放" and i == 1:
                w.fact(WASTE_FACTS["kitchen"], after="。", caption="投放要求")
            elif name == "法律责任" and i == 0:
                w.fact(WASTE_FACTS["fine"], after="。", caption="法律责任")
            elif name == "附则":
                w.article(["本办法自2024年1月1日起施行。附件所列表格由城市管理部门统一印制。"],
                          caption="施行日期")
            elif name == "分类投放" and i == 2:
                w.article(w.listed("生活垃圾分为以下四类：", 4), caption="分类标准")
            else:
                w.article(w.plain(2), caption=caption)
    attachment = ["附件1", "生活垃圾分类投放指引", "一、可回收物：废纸、塑料、玻璃、金属和布料。",
                  "二、有害垃圾：废电池、废灯管、废药品和废油漆。", "附件2",
                  "生活垃圾分类管理责任人登记表", "责任区域　　责任人　　联系电话　　登记日期",
                  "附表", "表1　各区生活垃圾分类收集点设置标准",
                  "区域类型　　每百户收集点数　　收集容器容量", "住宅小区　　2　　240升"]
    w.not_sections.append("表1　各区生活垃圾分类收集点设置标准")  # a caption, not a section
    title = "杭州市生活垃圾分类管理办法"
    history = "（2023年10月8日杭州市人民政府令第340号公布　自2024年1月1日起施行）"
    text = _render(title, history, w, toc=False, after_body=["", *attachment])
    return _law("08_hangzhou_waste.txt", title, "杭州市生活垃圾分类管理办法", "rules", w, text,
                ("条文主旨【】", "附件", "附表", "表题"))


def _autonomy_regulation(rng: random.Random) -> LawText:
    """A 序言 before the first chapter."""
    w = _Writer(rng, "条例")
    w.topic = TOPICS["autonomy"]
    for c, name in enumerate(["总则", "自治机关", "经济建设", "社会事业", "附则"], start=1):
        w.heading(3, f"第{int_to_chinese(c)}章", name)
        for i in range(rng.randint(5, 9) if name != "附则" else 2):
            if name == "自治机关" and i == 2:
                w.fact(AUTONOMY_FACTS["language"],
                       before="自治州的自治机关在执行职务的时候，使用当地通用的一种或者几种语言文字。",
                       after="。")
                continue
            if name == "附则" and i == 1:
                w.article(["本条例自公布之日起施行。"])
                continue
            _any_article(w, w.topic)
    preface = ["序　　言",
               "自治州位于云贵高原东南部，是多民族聚居的地区。各族人民在长期的生产生活中，"
               "共同开发了这片土地，创造了丰富多彩的民族文化。",
               "自治州成立以来，在国家的帮助下，各项事业取得了显著成就。今后自治州的根本任务是，"
               "团结各族人民，集中力量推进经济建设和社会发展。"]
    title = "黔东南苗族侗族自治州自治条例"
    history = ("（1987年3月20日黔东南苗族侗族自治州第八届人民代表大会第五次会议通过　"
               "1987年12月26日贵州省第六届人民代表大会常务委员会第二十九次会议批准）")
    w.toc.insert(0, "序　　言")
    text = _render(title, history, w, before_body=[*preface, ""])
    return _law("09_autonomy.txt", title, "黔东南苗族侗族自治州自治条例", "local_regulation", w,
                text, ("序言", "目录", "章", "附则"))


def _decision_with_articles(rng: random.Random) -> LawText:
    w = _Writer(rng, "决定")
    w.topic = TOPICS["general"]
    for i in range(rng.randint(7, 10)):
        if i == 3:
            w.fact(DECISION_FACTS["accounts"], after="。")
        else:
            w.article(w.plain(1))
    w.article(["本决定自公布之日起施行。"])
    title = "河北省人民代表大会常务委员会关于加强预算审查监督的决定"
    history = "（2022年5月27日河北省第十三届人民代表大会常务委员会第三十次会议通过）"
    text = _render(title, history, w, toc=False)
    return _law("10_hebei_decision.txt", title, "关于加强预算审查监督的决定", "local_regulation",
                w, text, ("决定", "条文"))


def _decision_without_articles(rng: random.Random) -> LawText:
    w = _Writer(rng, "决定")
    topic = TOPICS["general"]
    lines = ["为了进一步规范国家机关的授权决定工作，第十四届全国人民代表大会常务委员会第八次会议决定：",
             f"一、{_paragraph(rng, topic, '决定', 2)}",
             f"二、{_paragraph(rng, topic, '决定', 2)}",
             "三、本决定自公布之日起施行。"]
    title = "全国人民代表大会常务委员会关于规范授权决定工作的决定"
    history = "（2024年2月27日第十四届全国人民代表大会常务委员会第八次会议通过）"
    text = "\n".join([title, "", history, "", *lines]) + "\n"
    return _law("11_npc_decision.txt", title, "关于规范授权决定工作的决定", "decision", w, text,
                ("决定", "无条文"), doc_type="decision")


def _opinion(rng: random.Random) -> LawText:
    """一、/（一） headings; list-introducing sentences and list items that are not headings."""
    topic = TOPICS["labour"]
    lines = ["各省、自治区、直辖市人力资源社会保障厅（局）：",
             "为维护新就业形态劳动者劳动保障权益，现提出如下意见：",
             "一、规范用工",
             "（一）明确劳动关系认定。" + _paragraph(rng, topic, "意见", 2),
             "（二）落实公平就业制度。" + _paragraph(rng, topic, "意见", 2),
             "二、保障权益",
             "（一）保障劳动报酬。" + OPINION_FACTS["rider"].sentence + "。" + _paragraph(rng, topic, "意见", 1),
             "平台企业制定劳动规则应当包括下列内容：",
             "（一）计件单价和抽成比例；",
             "（二）订单分配规则；",
             "（三）报酬支付周期和方式。",
             "（二）合理确定劳动定额。" + _paragraph(rng, topic, "意见", 2),
             "三、组织实施",
             "各地要加强组织领导，结合实际制定具体措施。"]
    not_sections = ["平台企业制定劳动规则应当包括下列内容：", "（一）计件单价和抽成比例；",
                    "（二）订单分配规则；", "（三）报酬支付周期和方式。"]
    title = "人力资源社会保障部关于维护新就业形态劳动者劳动保障权益的指导意见"
    history = "人社部发〔2021〕56号"
    text = "\n".join([title, history, "", *lines, "", "人力资源社会保障部", "2021年7月16日"]) + "\n"
    return LawText("12_opinion.txt", title, "新就业形态劳动者劳动保障权益的指导意见", "other",
                   "other", text, (), ("意见", "一、（一）标题", "列举"), (),
                   tuple(not_sections))


def generate(seed: int = SEED, code_articles: int = CODE_ARTICLES) -> tuple[LawText, ...]:
    """Every generated text, in file order; the same seed gives the same texts."""
    rng = random.Random(seed)
    texts = (
        _civil_code(rng, code_articles), _criminal_law(rng), _labour_law(rng),
        _labour_regulation(rng), _interpretation(rng), _province_regulation(rng),
        _province_rules(rng), _city_rules(rng), _autonomy_regulation(rng),
        _decision_with_articles(rng), _decision_without_articles(rng), _opinion(rng),
    )
    return texts


# ---------------------------------------------------------------- gold questions


UNANSWERABLE = (
    ("宠物医院的营业执照怎么申请？", ("宠物医院",)),
    ("无人机在景区上空飞行要向哪个部门报备？", ("无人机",)),
    ("高速公路上的光伏板归谁所有？", ("光伏板",)),
    ("直播带货主播的个人所得税怎么申报？", ("直播带货",)),
)


def gold_items(texts: tuple[LawText, ...], seed: int = SEED) -> list[dict]:
    """Citizen questions (the facts), clause references and unanswerable questions."""
    rng = random.Random(seed + 1)
    items: list[dict] = []
    for law in texts:
        for fact, label in law.facts:
            items.append(_item(law, "citizen", fact.question, label, fact.sentence.rstrip("。"),
                               fact.answer, list(fact.key_points)))
    for law in texts:
        live = [a for a in law.articles
                if not a.deleted and len(_body(a.text).split("\n")[0]) >= 20]
        for a in sorted(rng.sample(live, min(3, len(live))), key=lambda a: a.number):
            evidence = _body(a.text).split("\n")[0][:40]
            question = rng.choice(("{t}{a}是怎么规定的？", "{t}{a}讲的是什么", "《{t}》{a}的内容"))
            items.append(_item(law, "clause", question.format(t=law.short_title, a=a.label),
                               a.label, evidence, evidence, [evidence[:8]]))
    for question, terms in UNANSWERABLE:
        items.append({"question": question, "type": "unanswerable", "source_file": None,
                      "doc_title": None, "article": None, "section": None, "evidence": "",
                      "answer": "现有文件中没有相关规定。", "key_points": list(terms)})
    for n, item in enumerate(items, start=1):
        item["id"] = f"L{n:03d}"
    return [{"id": i["id"], **{k: v for k, v in i.items() if k != "id"}} for i in items]


def _body(article_text: str) -> str:
    """An article's words without its label (and bracketed title)."""
    head, _, rest = article_text.partition("条")
    rest = rest.lstrip("之一二三四五六七八九十")
    if rest.startswith("【"):
        rest = rest.split("】", 1)[1]
    return rest.lstrip(" 　")


def _item(law: LawText, kind: str, question: str, article: str, evidence: str, answer: str,
          key_points: list[str]) -> dict:
    return {"question": question, "type": kind, "source_file": law.file_name,
            "doc_title": law.title, "article": article, "section": None,
            "evidence": evidence[:80], "answer": answer, "key_points": key_points}


# ---------------------------------------------------------------- writing


def write(out: Path, seed: int = SEED, code_articles: int = CODE_ARTICLES) -> dict[str, str]:
    """Write corpus/, truth.json and gold.jsonl under ``out``; their sha256 by name."""
    texts = generate(seed, code_articles)
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    digests = {}
    for law in texts:
        (corpus / law.file_name).write_text(law.text, encoding="utf-8")
    truth = [{**{k: v for k, v in asdict(law).items() if k not in ("text", "facts")},
              "article_headings": law.article_headings} for law in texts]
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    gold = "".join(json.dumps(i, ensure_ascii=False) + "\n" for i in gold_items(texts, seed))
    (out / "gold.jsonl").write_text(gold, encoding="utf-8")
    for name in ("truth.json", "gold.jsonl"):
        digests[name] = hashlib.sha256((out / name).read_bytes()).hexdigest()
    return digests


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--code-articles", type=int, default=CODE_ARTICLES,
                        help="articles of the generated civil code (default %(default)s)")
    args = parser.parse_args(argv)
    digests = write(args.out, args.seed, args.code_articles)
    texts = generate(args.seed, args.code_articles)
    for law in texts:
        print(f"{law.file_name}\t{law.kind}\t{law.article_headings}\t{law.title}")
    for name, digest in digests.items():
        print(f"{name} sha256 {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
