"""A reproducible corpus at N times the shipped articles: the real articles plus generated
distractor news articles (seeded), in English, Chinese, or both.

    python -m bench.corpus OUT_DIR --size 10 [--seed 7]

Size N gives 2N articles: the 2 real ones and 2N - 2 distractors (`--distractors` sets the
count directly). Distractors are realistic news prose about *other* joint meetings,
forums, visits, projects and economic reports: other provinces and cities, invented
officials, other years (never 2022 or 2023), other ordinals (never 3rd, 5th, 7th or 8th:
the ordinals the question set asks about, so the anchor rule can never make a distractor
the right article). They share the real articles' vocabulary on purpose ("Party and
government joint meeting", "economic circle", "high-quality development", "presided over
the meeting and delivered a speech", lists of attendees and key tasks) so that neither
BM25 nor the dense model can tell them apart by style. `check_distractor` enforces that no
distractor holds a gold name, place or project of the question set.

Article lengths follow the real articles (about 40 passages per article), so 100x is about
200 articles and 8,000 passages.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from rag.config import DEFAULT_ARTICLES, PROJECT_ROOT

# (province, capital, a second city, districts), English and Chinese.
REGIONS = [
    ("Hubei", "湖北", "Wuhan", "武汉", "Yichang", "宜昌", [("Hongshan", "洪山"), ("Jiangxia", "江夏")]),
    ("Hunan", "湖南", "Changsha", "长沙", "Zhuzhou", "株洲", [("Yuelu", "岳麓"), ("Kaifu", "开福")]),
    ("Shaanxi", "陕西", "Xi'an", "西安", "Baoji", "宝鸡", [("Yanta", "雁塔"), ("Weiyang", "未央")]),
    ("Yunnan", "云南", "Kunming", "昆明", "Qujing", "曲靖", [("Panlong", "盘龙"), ("Chenggong", "呈贡")]),
    ("Guizhou", "贵州", "Guiyang", "贵阳", "Zunyi", "遵义", [("Yunyan", "云岩"), ("Huaxi", "花溪")]),
    ("Guangxi", "广西", "Nanning", "南宁", "Liuzhou", "柳州", [("Qingxiu", "青秀"), ("Xixiangtang", "西乡塘")]),
    ("Anhui", "安徽", "Hefei", "合肥", "Wuhu", "芜湖", [("Baohe", "包河"), ("Luyang", "庐阳")]),
    ("Jiangxi", "江西", "Nanchang", "南昌", "Ganzhou", "赣州", [("Honggutan", "红谷滩"), ("Qingyunpu", "青云谱")]),
    ("Fujian", "福建", "Fuzhou", "福州", "Quanzhou", "泉州", [("Gulou", "鼓楼"), ("Cangshan", "仓山")]),
    ("Gansu", "甘肃", "Lanzhou", "兰州", "Tianshui", "天水", [("Chengguan", "城关"), ("Anning", "安宁")]),
    ("Henan", "河南", "Zhengzhou", "郑州", "Luoyang", "洛阳", [("Jinshui", "金水"), ("Zhongyuan", "中原")]),
    ("Shanxi", "山西", "Taiyuan", "太原", "Datong", "大同", [("Xiaodian", "小店"), ("Yingze", "迎泽")]),
    ("Shandong", "山东", "Jinan", "济南", "Qingdao", "青岛", [("Lixia", "历下"), ("Huaiyin", "槐荫")]),
    ("Jiangsu", "江苏", "Nanjing", "南京", "Suzhou", "苏州", [("Jianye", "建邺"), ("Qinhuai", "秦淮")]),
    ("Zhejiang", "浙江", "Hangzhou", "杭州", "Ningbo", "宁波", [("Xihu", "西湖"), ("Binjiang", "滨江")]),
    ("Liaoning", "辽宁", "Shenyang", "沈阳", "Dalian", "大连", [("Hunnan", "浑南"), ("Heping", "和平")]),
    ("Jilin", "吉林", "Changchun", "长春", "Yanji", "延吉", [("Nanguan", "南关"), ("Kuancheng", "宽城")]),
    ("Heilongjiang", "黑龙江", "Harbin", "哈尔滨", "Daqing", "大庆", [("Nangang", "南岗"), ("Songbei", "松北")]),
    ("Qinghai", "青海", "Xining", "西宁", "Golmud", "格尔木", [("Chengzhong", "城中"), ("Chengxi", "城西")]),
    ("Ningxia", "宁夏", "Yinchuan", "银川", "Shizuishan", "石嘴山", [("Jinfeng", "金凤"), ("Xingqing", "兴庆")]),
    ("Hainan", "海南", "Haikou", "海口", "Sanya", "三亚", [("Meilan", "美兰"), ("Longhua", "龙华")]),
    ("Guangdong", "广东", "Guangzhou", "广州", "Foshan", "佛山", [("Tianhe", "天河"), ("Huangpu", "黄埔")]),
]

SURNAMES = [("Zhao", "赵"), ("Sun", "孙"), ("Zhou", "周"), ("Xu", "徐"), ("Gao", "高"), ("Lin", "林"),
            ("He", "何"), ("Guo", "郭"), ("Liang", "梁"), ("Song", "宋"), ("Tang", "唐"), ("Han", "韩"),
            ("Feng", "冯"), ("Deng", "邓"), ("Peng", "彭"), ("Xie", "谢"), ("Pan", "潘"), ("Du", "杜"),
            ("Ye", "叶"), ("Fang", "方"), ("Qin", "秦"), ("Lei", "雷"), ("Cui", "崔"), ("Meng", "孟"),
            ("Yan", "严"), ("Kong", "孔"), ("Bai", "白"), ("Jin", "金"), ("Qian", "钱"), ("Xiong", "熊")]
GIVEN = [("Wenbo", "文博"), ("Jianguo", "建国"), ("Haiyan", "海燕"), ("Zhiqiang", "志强"), ("Lihua", "丽华"),
         ("Xiaodong", "晓东"), ("Yongming", "永明"), ("Guoqing", "国庆"), ("Hongwei", "宏伟"), ("Jing", "静"),
         ("Peiyu", "沛宇"), ("Shaohua", "绍华"), ("Kaiwen", "凯文"), ("Ruolan", "若兰"), ("Dezhong", "德忠"),
         ("Yifan", "一帆"), ("Chunlei", "春雷"), ("Mingyuan", "明远"), ("Xuefeng", "雪峰"), ("Zhenhai", "振海"),
         ("Huiling", "慧玲"), ("Tianyu", "天宇"), ("Baoshan", "宝山"), ("Qinghe", "清河"), ("Anping", "安平")]

# Ordinals a distractor may use: never 3, 5, 7 or 8 (asked about by the question set).
ORDINALS = [(2, "second", "二"), (4, "fourth", "四"), (6, "sixth", "六"), (9, "ninth", "九"),
            (10, "tenth", "十"), (11, "eleventh", "十一"), (12, "twelfth", "十二"), (14, "fourteenth", "十四")]
YEARS = [2015, 2016, 2017, 2018, 2019, 2020, 2021, 2024, 2025]

SECTORS = [("new energy vehicles", "新能源汽车"), ("integrated circuits", "集成电路"), ("biomedicine", "生物医药"),
           ("modern logistics", "现代物流"), ("cultural tourism", "文化旅游"), ("the digital economy", "数字经济"),
           ("hydrogen energy", "氢能"), ("high-end equipment manufacturing", "高端装备制造"),
           ("modern agriculture", "现代农业"), ("green building materials", "绿色建材"),
           ("aviation and aerospace", "航空航天"), ("food processing", "食品加工")]
FEATURES = [("Riverside Logistics Hub", "滨江物流枢纽"), ("Science Innovation Corridor", "科创走廊"),
            ("Ecological Protection Belt", "生态保护带"), ("Intercity Railway", "城际铁路"),
            ("Smart Port", "智慧港口"), ("Industrial Cooperation Park", "产业合作园"),
            ("Cross-border E-commerce Zone", "跨境电商综合试验区"), ("Water Diversion Project", "引水工程"),
            ("Computing Power Center", "算力中心"), ("Heritage Trail", "遗产步道")]
COMPANIES = [("Hengtai Motor", "恒泰汽车"), ("Xinrui Microelectronics", "芯锐微电子"), ("Lanfeng Pharmaceutical", "蓝峰制药"),
             ("Jiahe Cold Chain", "嘉禾冷链"), ("Tianqu Robotics", "天衢机器人"), ("Huaxing Photovoltaic", "华星光伏"),
             ("Yuantu Geospatial", "远图测绘"), ("Qingyun Aviation", "青云航空"), ("Dingsheng Steel", "鼎盛钢铁"),
             ("Minghu Tea", "明湖茶业"), ("Shuguang Battery", "曙光电池"), ("Zhiyuan Cloud", "智远云")]
MEETINGS = [("Party and Government Joint Meeting on Promoting the {a}-{b} Economic Belt", "{a_zh}{b_zh}党政联席会议", "joint meeting"),
            ("Cooperation Forum of the {a}-{b} Urban Agglomeration", "{a_zh}{b_zh}城市群合作论坛", "forum"),
            ("Coordination Conference on the {a}-{b} Twin-City Economic Circle", "{a_zh}{b_zh}双城经济圈协调会", "conference"),
            ("Joint Working Session on the {a}-{b} Integrated Development Zone", "{a_zh}{b_zh}一体化发展示范区联席会", "session"),
            ("High-level Symposium on {a}-{b} Regional Cooperation", "{a_zh}{b_zh}区域合作高层座谈会", "symposium")]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]

# Strings of the question set that no distractor may contain (gold names, places, projects,
# the eval's own meetings), checked case-insensitively on every generated article.
FORBIDDEN = [
    "chongqing", "sichuan", "chengdu", "bishan", "bashu", "meishan", "yibin", "mianyang", "guangyang",
    "xiuhu", "fudi", "konka", "chang'an", "fisu", "france", "paris", "fifa", "world cup", "ma xingrui",
    "fifth", "seventh", "eighth", "third", "5th", "7th", "8th", "3rd", "2022", "2023",
    "重庆", "四川", "成都", "川渝", "成渝", "渝", "璧山", "巴蜀", "第五", "第七", "第八", "第三", "法国",
]


# Gold facts that are ordinary news vocabulary, not names: distractors may (and should) use them.
GENERIC_GOLD = {"合作机制", "高质量", "高质量发展", "一体化", "城乡融合发展", "现代化产业体系", "现代化基础设施网络", "组织保障",
                "工作机制的建议", "七个方面", "强镇带村", "开放门户枢纽", "高品质生活宜居地", "第四极"}


def gold_strings(questions: Path = PROJECT_ROOT / "eval" / "questions.jsonl") -> list[str]:
    """Names and titles among the gold facts (a capitalised multi-word name, or Chinese
    other than GENERIC_GOLD)."""
    out = set()
    for line in questions.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        for fact in json.loads(line).get("gold_facts", []):
            for s in fact:
                if re.search(r"[\u4e00-\u9fff]", s) and len(s) >= 2 and s not in GENERIC_GOLD:
                    out.add(s)
                elif re.fullmatch(r"[A-Z][\w'’-]*( [A-Z][\w'’-]*)+", s):  # e.g. "Wang Xiaohui"
                    out.add(s)
    return sorted(out)


class DistractorError(ValueError):
    pass


def check_distractor(text: str, gold: list[str] | None = None) -> None:
    """Raise DistractorError when `text` holds a forbidden or gold string."""
    low = text.lower()
    for s in FORBIDDEN + (gold if gold is not None else gold_strings()):
        if s.lower() in low:
            i = low.index(s.lower())
            raise DistractorError(f"distractor contains {s!r}: …{text[max(0, i - 40):i + 40]}…")


def _y(year: int) -> int:
    """A year other than those of the real articles."""
    return year - 2 if year in (2022, 2023) else year


@dataclass
class Person:
    en: str
    zh: str


class _Gen:
    """One distractor article's facts: a meeting (or other event) between two regions."""

    def __init__(self, rng: random.Random, used_names: set[str]):
        self.rng = rng
        a, b = rng.sample(REGIONS, 2)
        self.a, self.b = a, b
        self.year = rng.choice(YEARS)
        self.month = rng.randrange(1, 13)
        self.day = rng.randrange(1, 29)
        self.ordinal = rng.choice(ORDINALS)
        self.meeting = rng.choice(MEETINGS)
        self.host = rng.choice([a, b])
        self.district = rng.choice(self.host[6])
        self.people = [self._person(used_names) for _ in range(14)]
        self.sectors = rng.sample(SECTORS, 6)
        self.features = rng.sample(FEATURES, 5)
        self.companies = rng.sample(COMPANIES, 4)

    def _person(self, used: set[str]) -> Person:
        for _ in range(200):
            s, g = self.rng.choice(SURNAMES), self.rng.choice(GIVEN)
            if s[0] + g[0] not in used or len(used) > 600:
                used.add(s[0] + g[0])
                return Person(f"{s[0]} {g[0]}", s[1] + g[1])
        raise RuntimeError("out of names")

    # -- English ------------------------------------------------------------------------------
    def meeting_name(self) -> str:
        return self.meeting[0].format(a=self.a[0], b=self.b[0])

    def meeting_zh(self) -> str:
        return self.meeting[1].format(a_zh=self.a[1], b_zh=self.b[1])

    def title_en(self) -> str:
        r = self.rng
        n = self.ordinal[1].capitalize()
        return r.choice([
            f"{n} {self.meeting_name()} Held in {self.host[2]}",
            f"{self.a[0]} and {self.b[0]} Pledge Deeper Cooperation at {n} {self.meeting[2].title()}",
            f"Working Together for High-Quality Development of the {self.a[0]}-{self.b[0]} Region: {n} {self.meeting[2].title()} Convenes",
            f"{self.host[2]} Hosts {n} {self.meeting_name()}",
        ])

    def title_zh(self) -> str:
        return self.rng.choice([
            f"{self.meeting_zh()}第{self.ordinal[2]}次会议在{self.host[3]}举行",
            f"携手推动{self.a[1]}{self.b[1]}高质量发展 {self.meeting_zh()}第{self.ordinal[2]}次会议召开",
            f"{self.meeting_zh()}第{self.ordinal[2]}次会议举行 共谱区域合作新篇章",
        ])

    def sec(self, p: Person, region) -> str:
        return self.rng.choice([f"Secretary of the CPC {region[0]} Provincial Committee",
                                f"Deputy Secretary of the CPC {region[0]} Provincial Committee",
                                f"Governor of {region[0]} Province", f"Mayor of {region[2]}",
                                f"Chairman of the CPPCC {region[0]} Provincial Committee",
                                f"Vice Governor of {region[0]} Province",
                                f"Director of the {region[0]} Development and Reform Commission"])

    def paragraphs_en(self, target_chars: int) -> list[str]:
        r = self.rng
        P = self.people
        a, b, host = self.a, self.b, self.host
        other = b if host is a else a
        month = MONTHS[self.month - 1]
        paras = [
            r.choice([
                f"On {month} {self.day}, the {self.ordinal[1]} {self.meeting_name()} was held in {host[2]}. "
                f"{P[0].en}, Secretary of the CPC {host[0]} Provincial Committee, presided over the meeting and delivered a speech, "
                f"and {P[1].en}, Secretary of the CPC {other[0]} Provincial Committee, attended the meeting and addressed it.",
                f"A delegation of the CPC {other[0]} Provincial Committee and the {other[0]} Provincial Government visited {host[0]} "
                f"from {month} {self.day} to {month} {self.day + 1}. In {self.district[0]} District, the two sides held the "
                f"{self.ordinal[1]} {self.meeting_name()}, pledging to write a new chapter of practical cooperation.",
                f"The {self.ordinal[1]} {self.meeting_name()} convened in {self.district[0]} District of {host[2]} on {month} {self.day}, "
                f"{self.year}. {P[0].en} chaired the meeting, and {P[1].en} delivered a keynote speech.",
            ]),
            f"{P[2].en}, {self.sec(P[2], host)}, and {P[3].en}, {self.sec(P[3], other)}, made reports respectively "
            f"on the progress of cooperation between {a[0]} and {b[0]} since the previous session.",
        ]
        makers = [self._speech_en, self._tasks_en, self._projects_en, self._economy_en, self._visit_en,
                  self._attendees_en, self._background_en, self._quote_en]
        while sum(len(p) for p in paras) < target_chars:
            paras.extend(r.choice(makers)())
        return paras

    def _speech_en(self) -> list[str]:
        r, P = self.rng, self.people
        p = r.choice(P[:4])
        s1, s2 = r.sample(self.sectors, 2)
        f = r.choice(self.features)
        region = r.choice([self.a, self.b])
        return [r.choice([
            f"{p.en} said in the speech that promoting the {self.a[0]}-{self.b[0]} economic belt is a major strategic decision, "
            f"and that the two sides should focus on {s1[0]} and {s2[0]}, strengthen the sharing of public services, and "
            f"speed up the construction of the {region[2]} {f[0]}.",
            f"{p.en} stressed that {region[0]} would stick to the goal of high-quality development, deepen reform of "
            f"the cooperation mechanism and give priority to {s1[0]}, so that the region becomes a key growth pole in "
            f"{r.choice(['central', 'southwestern', 'eastern', 'northern', 'northwestern'])} China.",
            f"According to {p.en}, the past {r.choice(['two', 'four', 'six'])} years have seen the "
            f"{f[0]} in {region[2]} move from planning to construction, while joint funds for {s1[0]} reached "
            f"{r.randrange(12, 480)} billion yuan.",
            f"{p.en} called on both sides to break administrative barriers, build a unified market for {s2[0]} and "
            f"{s1[0]}, and make the {self.a[0]}-{self.b[0]} region a pacesetter of coordinated development.",
        ])]

    def _tasks_en(self) -> list[str]:
        r = self.rng
        items = r.sample([
            f"jointly building the {r.choice(self.features)[0]} of {r.choice([self.a, self.b])[2]}",
            f"cultivating industrial clusters of {r.choice(self.sectors)[0]}",
            "improving cross-provincial medical insurance settlement",
            "sharing talent, science and education resources",
            f"opening {r.randrange(4, 30)} new cross-border bus routes",
            "coordinating ecological protection of shared rivers",
            f"setting up a {r.randrange(5, 90)} billion yuan regional investment fund",
            "unifying market access standards for enterprises",
            "building a joint emergency response mechanism",
        ], 4)
        intro = r.choice(["The meeting identified four key tasks for the next stage:",
                          "Participants agreed on the following priorities:",
                          "The two sides signed a cooperation agreement covering:"])
        return [intro] + [f"{i}. {t[0].upper() + t[1:]}." for i, t in enumerate(items, 1)]

    def _projects_en(self) -> list[str]:
        r = self.rng
        f, s = r.choice(self.features), r.choice(self.sectors)
        region = r.choice([self.a, self.b])
        return [r.choice([
            f"Construction of the {region[2]} {f[0]} started in {r.choice(MONTHS)} {_y(self.year - 1)}; once completed, it is "
            f"expected to handle {r.randrange(2, 60)} million tonnes of freight a year and create {r.randrange(3, 40)},000 jobs.",
            f"A total of {r.randrange(20, 180)} major projects in {s[0]}, with a combined investment of "
            f"{r.randrange(100, 2000)} billion yuan, were listed for joint promotion this year.",
            f"The {region[3 - 1]} {f[0]} and a new {s[0]} base in {region[4]} were named as flagship projects of the "
            f"{self.a[0]}-{self.b[0]} partnership.",
        ])]

    def _economy_en(self) -> list[str]:
        r = self.rng
        region = r.choice([self.a, self.b])
        return [r.choice([
            f"In {_y(self.year - 1)}, the regional GDP of {region[0]} grew by {r.randrange(30, 89) / 10:.1f} percent, and "
            f"the output of {r.choice(self.sectors)[0]} rose by {r.randrange(8, 40)} percent year on year.",
            f"Trade between {self.a[0]} and {self.b[0]} exceeded {r.randrange(150, 990)} billion yuan in the first half of "
            f"{self.year}, with {r.randrange(3, 20)},000 enterprises from each side investing in the other.",
            f"Officials said that {region[2]} had attracted {r.randrange(12, 95)} research institutes in "
            f"{r.choice(self.sectors)[0]} and that its digital economy accounted for {r.randrange(20, 48)} percent of GDP.",
        ])]

    def _visit_en(self) -> list[str]:
        r = self.rng
        c1, c2 = r.sample(self.companies, 2)
        host = self.host
        return [r.choice([
            f"During their stay in {host[0]}, the delegation visited {c1[0]}, the {host[2]} {r.choice(self.features)[0]} "
            f"and {c2[0]}, and learned about local efforts in {r.choice(self.sectors)[0]}.",
            f"Before the meeting, members of the delegation toured the {self.district[0]} District exhibition hall and "
            f"the production lines of {c1[0]}.",
        ])]

    def _attendees_en(self) -> list[str]:
        r, P = self.rng, self.people
        names_a = ", ".join(p.en for p in r.sample(P[4:], 4))
        names_b = ", ".join(p.en for p in r.sample(P[4:], 3))
        return [f"{self.a[0]} provincial leaders {names_a}, and {self.b[0]} provincial leaders {names_b} attended the "
                f"meeting. Heads of relevant departments of both sides and of the {self.a[2]} and {self.b[2]} "
                f"municipal governments were also present."]

    def _background_en(self) -> list[str]:
        r = self.rng
        return [r.choice([
            f"The {self.meeting[2]} was first held in {_y(self.year - r.randrange(3, 8))} and rotates between the two "
            f"provinces; this {self.ordinal[1]} session was the largest so far, bringing together more than "
            f"{r.randrange(2, 9)}00 officials and business representatives.",
            f"Analysts noted that {self.a[0]} and {self.b[0]} share rivers, railways and markets, and that closer "
            f"integration could lift the region's combined output above {r.randrange(8, 20)} trillion yuan by "
            f"{_y(self.year + r.choice([5, 10]))}.",
            f"The {self.a[0]}-{self.b[0]} cooperation framework was approved by the central authorities in "
            f"{_y(self.year - r.randrange(2, 6))}, setting out the direction of building an open, green and "
            f"innovative region.",
        ])]

    def _quote_en(self) -> list[str]:
        r, P = self.rng, self.people
        p = r.choice(P[4:])
        s = r.choice(self.sectors)
        return [f"\"We will treat {s[0]} as the first engine of growth,\" said {p.en}, "
                f"{self.sec(p, r.choice([self.a, self.b]))}, adding that the two sides would "
                f"{r.choice(['hold quarterly consultations', 'set up a joint office', 'share an investment database', 'co-host an annual expo'])}."]

    # -- Chinese ------------------------------------------------------------------------------
    def paragraphs_zh(self, target_chars: int) -> list[str]:
        r = self.rng
        P = self.people
        a, b, host = self.a, self.b, self.host
        other = b if host is a else a
        paras = [
            f"{self.month}月{self.day}日，{other[1]}省党政代表团来{host[1]}考察。在{self.district[1]}区，双方召开"
            f"{self.meeting_zh()}第{self.ordinal[2]}次会议，携手推动区域合作走深走实。",
            f"{host[1]}省委书记{P[0].zh}主持会议并讲话，{other[1]}省委书记{P[1].zh}出席会议并讲话。"
            f"{P[2].zh}、{P[3].zh}分别作交流发言。",
        ]
        makers = [self._speech_zh, self._tasks_zh, self._economy_zh, self._visit_zh, self._attendees_zh]
        while sum(len(p) for p in paras) < target_chars:
            paras.extend(r.choice(makers)())
        return paras

    def _speech_zh(self) -> list[str]:
        r, P = self.rng, self.people
        p = r.choice(P[:4])
        s1, s2 = r.sample(self.sectors, 2)
        f = r.choice(self.features)
        region = r.choice([self.a, self.b])
        return [r.choice([
            f"{p.zh}指出，推动{self.a[1]}{self.b[1]}经济带建设是重大战略决策，双方要聚焦{s1[1]}和{s2[1]}，"
            f"加快建设{region[3]}{f[1]}，推动公共服务共建共享。",
            f"{p.zh}强调，要坚持高质量发展目标，深化合作机制改革，优先发展{s1[1]}，"
            f"努力把{self.a[1]}{self.b[1]}地区打造成为全国重要增长极。",
            f"{p.zh}表示，近年来{region[3]}{f[1]}从规划走向建设，双方设立的{s2[1]}联合基金规模达到"
            f"{r.randrange(12, 480)}亿元。",
        ])]

    def _tasks_zh(self) -> list[str]:
        r = self.rng
        items = r.sample([f"共建{r.choice([self.a, self.b])[3]}{r.choice(self.features)[1]}",
                          f"培育{r.choice(self.sectors)[1]}产业集群", "推进跨省医保结算便利化",
                          "共享人才和科教资源", f"新开通{r.randrange(4, 30)}条跨省公交线路",
                          "协同保护跨界河流生态", "统一企业市场准入标准", "建立联合应急处置机制"], 4)
        zh_nums = "一二三四"
        return ["会议明确了下一阶段重点任务："] + [f"（{zh_nums[i]}）{t}。" for i, t in enumerate(items)]

    def _economy_zh(self) -> list[str]:
        r = self.rng
        region = r.choice([self.a, self.b])
        return [r.choice([
            f"{_y(self.year - 1)}年，{region[1]}地区生产总值增长{r.randrange(30, 89) / 10:.1f}%，"
            f"{r.choice(self.sectors)[1]}产值同比增长{r.randrange(8, 40)}%。",
            f"{self.year}年上半年，{self.a[1]}{self.b[1]}两地贸易额超过{r.randrange(150, 990)}亿元。",
        ])]

    def _visit_zh(self) -> list[str]:
        r = self.rng
        c1, c2 = r.sample(self.companies, 2)
        return [f"在{self.host[1]}期间，代表团先后前往{c1[1]}、{c2[1]}和{self.host[3]}{r.choice(self.features)[1]}参观考察，"
                f"了解{r.choice(self.sectors)[1]}发展情况。"]

    def _attendees_zh(self) -> list[str]:
        r, P = self.rng, self.people
        return [f"{self.a[1]}省领导{'、'.join(p.zh for p in r.sample(P[4:], 4))}，{self.b[1]}省领导"
                f"{'、'.join(p.zh for p in r.sample(P[4:], 3))}参加会议。"]


def distractor_article(i: int, seed: int, used_names: set[str], lang: str | None = None) -> tuple[str, str]:
    """(file name, text) of distractor number `i`: deterministic in (seed, i)."""
    rng = random.Random(int(hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()[:12], 16))
    g = _Gen(rng, used_names)
    lang = lang or rng.choices(["en", "zh", "bi"], weights=[5, 2, 3])[0]
    date = f"{g.year}-{g.month:02d}-{g.day:02d}"
    lines: list[str] = []
    if lang in ("en", "bi"):
        lines += [g.title_en(), "", f"{date} {rng.randrange(7, 22):02d}:{rng.randrange(0, 60):02d}", ""]
        lines += [p + "\n" for p in g.paragraphs_en(rng.randrange(9000, 15000) if lang == "en" else rng.randrange(6000, 9000))]
    if lang in ("zh", "bi"):
        if lang == "zh":
            lines += [g.title_zh(), "", date, ""]
        else:
            lines += ["", g.title_zh(), ""]
        lines += [p + "\n" for p in g.paragraphs_zh(rng.randrange(3000, 5500) if lang == "zh" else rng.randrange(2500, 4000))]
    slug = f"{g.a[0]}-{g.b[0]}-{g.meeting[2]}".lower().replace("'", "").replace(" ", "-")
    name = f"{date}_{slug}-{i:04d}{'_bilingual' if lang == 'bi' else ''}.txt"
    return name, "\n".join(lines)


def build(out: Path, size: float = 1, seed: int = 7, distractors: int | None = None,
          articles: Path = DEFAULT_ARTICLES, check: bool = True) -> dict:
    """Write the corpus to `out` (emptied first): the real articles plus the distractors."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    real = sorted(p for p in articles.iterdir() if p.is_file())
    for p in real:
        shutil.copy2(p, out / p.name)
    n = distractors if distractors is not None else max(0, round(len(real) * size) - len(real))
    gold = gold_strings() if check else []
    used: set[str] = set()
    chars = 0
    for i in range(n):
        name, text = distractor_article(i, seed, used)
        if check:
            check_distractor(text, gold)
        (out / name).write_text(text, "utf-8")
        chars += len(text)
    return {"dir": str(out), "real": len(real), "distractors": n, "distractor_chars": chars, "seed": seed}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path)
    p.add_argument("--size", type=float, default=1.0, help="N times the shipped articles (default 1)")
    p.add_argument("--distractors", type=int, default=None, help="number of distractors (overrides --size)")
    p.add_argument("--seed", type=int, default=7)
    a = p.parse_args(argv)
    print(json.dumps(build(a.out, a.size, a.seed, a.distractors)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
