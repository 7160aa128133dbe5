"""Chinese: stop characters, numerals, months, sentence punctuation, question words."""

from __future__ import annotations

import re

from rag.lang import CJK, cjk_count
from rag.lang.language_pack import LanguagePack

# Function words of Chinese questions; single characters, dropped from unigrams only.
STOP_CHARS = frozenset("的了是在和与及或也都就而吗呢吧啊么什谁哪几多少怎为何这那有个之其被把将对")

MONTHS = tuple(f"{n}月" for n in "一 二 三 四 五 六 七 八 九 十 十一 十二".split())

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10 ** 4, "亿": 10 ** 8}

# 第七次会议, 第二十一届: the counter after the numeral says it counts events.
ORDINAL_RE = re.compile(r"第([零〇一二两三四五六七八九十百千]{1,8}|\d{1,4})(?=[次届个轮期号条项])")
# Numerals that state a figure: an ordinal (第三), or a count before a measure word (三个, 五项, 两次).
FIGURE_RE = re.compile(r"第([零〇一二两三四五六七八九十百千]+)|([零〇一二两三四五六七八九十百千万亿]+)(?=\s*[个项次名位条家届座处倍])")


def parse_numeral(text: str) -> int | None:
    """The value of a Chinese numeral: 四十 -> 40, 二十一 -> 21, 一百零二 -> 102, 三万五千 -> 35000,
    二〇二三 -> 2023 (digit by digit: a year, with no unit), 12 -> 12. None for anything else.
    Two digits without a unit are a range, not a number: 一两个 is "one or two", read as 2."""
    if text.isdigit():
        return int(text)
    if all(ch in DIGITS for ch in text) and (len(text) >= 3 or "〇" in text) and "两" not in text:
        return int("".join(str(DIGITS[ch]) for ch in text))
    total, section, digit = 0, 0, 0
    for ch in text:
        if ch in DIGITS:
            digit = DIGITS[ch]
        elif ch in _UNITS:
            section += (digit or 1) * _UNITS[ch]
            digit = 0
        elif ch in _BIG_UNITS:
            total += (section + digit) * _BIG_UNITS[ch]
            section, digit = 0, 0
        else:
            return None
    return total + section + digit if text else None


def find_figures(text: str) -> set[int]:
    values = (parse_numeral(m.group(1) or m.group(2)) for m in FIGURE_RE.finditer(text))
    return {v for v in values if v is not None}


def find_months(text: str) -> set[int]:
    return {int(m) for m in re.findall(r"(\d{1,2})\s*月", text) if 1 <= int(m) <= 12}


PACK = LanguagePack(
    code="zh",
    stop_words=STOP_CHARS,
    months=MONTHS,
    find_months=find_months,
    find_figures=find_figures,
    parse_number=parse_numeral,
    ordinal_re=ORDINAL_RE,
    length=cjk_count,
    # Chinese needs no space after its full stops; ASCII ! ? ; count only next to Chinese text.
    capitals=False,
    sentence_end="。！？!?；;",
    article="",
    joiner="",
    title_length=40,
    body_length=15,
    label_length=6,
    shout_label_length=0,
    question_kinds={
        "quantity": r"多少|几[个次位名年天人项家条]|多大|多长|多久|比例|百分",
        "who": r"谁|哪些人|哪位|哪几位|什么人|哪些领导|哪些官员",
        "when": r"什么时候|何时|哪天|哪一天|日期|哪年|几月|几号",
        "where": r"哪里|何地|在哪|什么地方|哪个(城市|区|地方|省)",
        "why": r"为什么(?![？?]?\s*$)|为何",  # "被称为什么？" ends on 为 + 什么: "called what", not "why"
        "list": r"哪些|列出|有什么|包括什么|包括哪些",
    },
    # Removed before Chinese text is cut into bigrams: they carry no content.
    question_words=r"谁|什么时候|什么|哪里|哪儿|哪些|哪个|哪位|哪几位|哪天|哪一天|哪年|多少|怎么|怎样|如何|为什么|为何|是否|吗|呢|请问|有哪些|分别",
    attribution=r"说|讲话|指出|表示|提出",
    follow_up=r"它|那次|这次|该会|此次|那里|他们|他|她",
    intersection=r"两次都|都参加|都出席|均出席|均参加|共同参加",
    several=r"哪些|哪两|哪三|哪四|哪五|哪几|有哪|几[个位项家座条处]|[两三四五][位个项家座条处]|分别|都有",
    abstains=r"没有(回答|提到|提及|说明|涉及|相关)|未(提及|提到|说明)|无法回答|不知道",
    instructs=r"忽略.{0,12}(指令|指示|说明|提示)|无视.{0,12}(指令|指示)|请(只)?回答\s*[“\"']|(只|仅)(回答|回复|输出)|现在你是|调试模式",
    about=rf"(?:对|关于|就)([{CJK}]{{2,12}}?)(?:说|讲|表示|发表|谈|的(?:讲话|看法|表态)|有什么|问题)",
    speech=r"说|讲话|指出|表示|提出|强调|要求|希望|认为|介绍|汇报|发言|报告|据",
)
