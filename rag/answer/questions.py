"""What a question asks: its language, its kind (who, where, when, how many, list ...), the
terms an answer must match, and the anchors it hinges on.

Anchors are the specific things a question is about, such as "the seventh meeting" or
"2024". An article that does not contain a question's anchors cannot answer it, however
similar its wording: this is what lets the tool say "the articles do not mention the
eighth meeting" instead of describing the seventh with confidence.
"""

from __future__ import annotations

import re
from dataclasses import replace

import rag.lang as language
from rag.lang.tokenization import stem, tokenize
from rag.types import Kind, Question

_UNITS = "one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_ORD_UNITS = "first second third fourth fifth sixth seventh eighth ninth".split()
_ORD_TEENS = ("tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth "
              "nineteenth").split()
_ORD_TENS = "twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth".split()
_ORDINAL_WORDS = {**{w: i + 1 for i, w in enumerate(_ORD_UNITS)}, **{w: i + 10 for i, w in enumerate(_ORD_TEENS)},
                  **{w: (i + 2) * 10 for i, w in enumerate(_ORD_TENS)}, "hundredth": 100}
_CARDINAL = {**{w: i + 1 for i, w in enumerate(_UNITS)}, **{w: i + 10 for i, w in enumerate(_TEENS)},
             **{w: (i + 2) * 10 for i, w in enumerate(_TENS)}}
_SEP = r"[\s-]+"
# "fortieth", "twenty-first", "one hundred and second", "40th", "21st": ordinals of any size.
_EN_ORDINAL_RE = re.compile(
    rf"\b((?:(?:{'|'.join(_UNITS)}|a){_SEP}hundred(?:{_SEP}and)?{_SEP})?(?:(?:{'|'.join(_TENS)}){_SEP})?"
    rf"(?:{'|'.join(sorted(_ORDINAL_WORDS, key=len, reverse=True))}))\b|\b(\d{{1,4}})(?:st|nd|rd|th)\b", re.IGNORECASE)
_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_ZH_ORDINAL_RE = re.compile(r"第([零〇一二两三四五六七八九十百千]{1,8}|\d{1,4})(?=[次届个轮期号条项])")


def en_ordinal(words: str) -> int | None:
    """The number an English ordinal spells ("twenty-first" -> 21, "one hundredth" -> 100)."""
    parts = [p for p in re.split(r"[\s-]+", words.lower()) if p and p != "and"]
    total = 0
    for i, p in enumerate(parts):
        if p == "hundred" or p == "hundredth":
            total = max(1, total) * 100
        elif p in _ORDINAL_WORDS and i == len(parts) - 1:
            total += _ORDINAL_WORDS[p]
        elif p in _CARDINAL:
            total += _CARDINAL[p]
        elif p == "a":
            total += 1
        else:
            return None
    return total or None


# ASCII look-arounds: "6月26日" holds the numbers 6 and 26 (\w would count 月 as a letter).
_NUMBER_RE = re.compile(r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![A-Za-z0-9])")


_KIND_PATTERNS: list[tuple[Kind, str, str]] = [
    # (kind, English pattern, Chinese pattern); order matters: the first match wins.
    (Kind.QUANTITY, r"\bhow (many|much|long|far|big|large)\b|\bwhat (percentage|share|number|amount)\b|"
                    r"\b(budget|cost|gdp|growth rate|population|investment|funding|spending|revenue|output|total)\b", r"多少|几[个次位名年天人项家条]|多大|多长|多久|比例|百分"),
    (Kind.WHO, r"\bwho(m|se)?\b|\bwhich (officials?|leaders?|persons?|people|delegates?)\b|\bname the (officials|leaders|people)\b",
               r"谁|哪些人|哪位|哪几位|什么人|哪些领导|哪些官员"),
    # "when" asks for a time only as the question word ("When did ...", "Since when ..."), not
    # as a conjunction ("What does water turn into when heated?").
    (Kind.WHEN, r"^\W*(?:(?:and|but|so|since|until|from|by)\s+)?when\b|\b(what|which|on what|in what) (dates?|days?|time|years?|months?|century|decade)\b", r"什么时候|何时|哪天|哪一天|日期|哪年|几月|几号"),
    (Kind.WHERE, r"\bwhere\b|\bwhich (city|district|place|venue|province|location)\b|\bin what (city|place)\b",
                 r"哪里|何地|在哪|什么地方|哪个(城市|区|地方|省)"),
    (Kind.WHY, r"\bwhy\b", r"为什么|为何"),
    (Kind.LIST, r"\bwhich\b|\blist\b|\bwhat (are|were) the\b|\bname\b|\bwhat (plans|projects|places|documents|tasks|items)\b",
                r"哪些|列出|有什么|包括什么|包括哪些"),
]

# Words that say who took part in an event; a "who attended" question is about all of them.
PARTICIPATION = {stem(w) for w in (
    "attend attended attending attendee attendees present presided preside chaired chair hosted host "
    "addressed address speech spoke delivered invited included participated participants exchanged").split()}
ZH_PARTICIPATION = ("出席", "主持", "参加", "讲话", "发言", "应邀", "出席会议", "参会", "列席", "汇报")

def took_part(text: str) -> bool:
    """Whether a sentence says that someone took part (attended, presided, spoke, 出席, 主持 ...)."""
    return bool(set(tokenize(text)) & PARTICIPATION) or any(w in text for w in ZH_PARTICIPATION)


# Question words carry no content; removed before Chinese text is cut into bigrams.
_ZH_QWORDS_RE = re.compile(r"谁|什么时候|什么|哪里|哪儿|哪些|哪个|哪位|哪几位|哪天|哪一天|哪年|多少|怎么|怎样|如何|为什么|为何|是否|吗|呢|请问|有哪些|分别")

# Words that news reports use for the same event role. Question terms and sentence tokens are
# both mapped to the group's first stem, so "chaired" finds "presided over".
SYNONYM_GROUPS = [
    "hold held take place convene convened kick kicks open opened",
    "preside presided chair chaired host hosted",
    "attend attended attending attendee attendees present participate participated join joined",
    "address addressed speech speak spoke say said remark remarks",
    "visit visited tour toured inspect inspected",
    "report reported brief briefed",
    "propose proposed suggest suggested put forward",
    "stress stressed emphasize emphasized underline",
]
SYNONYMS = {stem(w): stem(group.split()[0]) for group in SYNONYM_GROUPS for w in group.split()}

# Words that name the slot a question asks to fill; the answer sentence holds a value, not the word.
SLOT_WORDS = {stem(w) for w in "date day time year month place location venue city person people".split()}


def strip_question_words(text: str) -> str:
    """`text` without the Chinese question words (English ones are stop words already)."""
    return _ZH_QWORDS_RE.sub(" ", text)


def canonical(tokens):
    return [SYNONYMS.get(t, t) for t in tokens]


# "What did X say / call / according to X": X is the speaker, not what the answer is about.
ATTRIBUTION = re.compile(r"\b(say|said|says|call|called|describe[sd]?|according to|stress(ed)?|propose[sd]?|"
                         r"point(ed)? out|urge[sd]?|hope[sd]?|want(ed)?|cite[sd]?|mention(ed)?|speech)\b|说|讲话|指出|表示|提出", re.I)

# What an attribution question is about: "what did X say about Y", "X对Y说了什么", "X关于Y".
_ABOUT_EN = re.compile(r"\b(?:about|regarding|concerning|on the (?:topic|subject|issue) of)\s+(?:the\s+|a\s+|an\s+)?([^?.,;]+)", re.I)
_ABOUT_ZH = re.compile(r"(?:对|关于|就)([\u4e00-\u9fff]{2,12}?)(?:说|讲|表示|发表|谈|的(?:讲话|看法|表态)|有什么|问题)")


def about(text: str) -> str | None:
    """The topic an attribution question asks about, as written ("artificial intelligence")."""
    if not ATTRIBUTION.search(text):
        return None
    m = _ABOUT_EN.search(text) or _ABOUT_ZH.search(text)
    return m.group(1).strip() if m else None


_FOLLOW_UP_RE = re.compile(r"\b(it|its|that|this|there|they|them|those|the meeting|the session|he|she|his|her)\b|它|那次|这次|该会|此次|那里|他们|他|她", re.IGNORECASE)


def anchors_in_text(text: str) -> set[str]:
    """Anchors an article offers to questions (see `_anchors`)."""
    found, _ = _anchors(text, with_bare=True)
    return found


def _zh_number(s: str) -> int | None:
    """第四十次 -> 40, 第二十一届 -> 21, 第一百零二次 -> 102, 第12次 -> 12."""
    if s.isdigit():
        return int(s)
    total, digit = 0, None
    for ch in s:
        if ch in _ZH_DIGITS:
            digit = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            total += (1 if digit is None else digit) * _ZH_UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0) or None


def _with_next_word(text: str, m: re.Match) -> str:
    """The anchor with the word after it ("eighth meeting", "第八次会议"), to name it in a reply."""
    nxt = re.match(r"\s*([A-Za-z-]+|[\u4e00-\u9fff]{1,3})", text[m.end():])
    phrase = m.group(0) + (nxt.group(0) if nxt else "")
    return phrase.strip()


def anchor_tokens(text: str) -> set[str]:
    """The tokens that spelled the anchors of `text` (e.g. "seventh", "第七", "七次")."""
    words = [m.group(0) for rx in (_EN_ORDINAL_RE, _ZH_ORDINAL_RE, _NUMBER_RE) for m in rx.finditer(text)]
    return set(tokenize(" ".join(words), bigrams_only=True))


# What an ordinal counts: "the sixth meeting" is not "the Sixth ... Congress". Nouns of one
# class, in English or Chinese, count the same series of events.
_EVENT_CLASSES = {
    "meeting": "meet meetings session sessions conference 会议 座谈 联席 会晤 例会",
    "congress": "congress 代表 大会",
    "plenum": "plenari plenum 全会 全体",
    "festival": "festiv 艺术 节",
    "games": "game 运会",
}
_CLASS_OF = {}
for _cls, _words in _EVENT_CLASSES.items():
    for _w in _words.split():
        _CLASS_OF[_w if not _w.isascii() else stem(_w)] = _cls
_CLASS_WINDOW = 6


def _ordinal_class(text: str, end: int) -> str | None:
    """The class of the event an ordinal ending at `end` counts, from the next few words."""
    after = text[end:end + 80]
    if re.match(r"\s*[次届个轮期]", after):  # 第七次会议: skip the measure word
        after = re.sub(r"^\s*[次届个轮期]", "", after)
    for tok in tokenize(after, bigrams_only=True)[:_CLASS_WINDOW]:
        if tok in _CLASS_OF:
            return _CLASS_OF[tok]
    return None


def _anchors(text: str, with_bare: bool = False) -> tuple[set[str], dict[str, str]]:
    """Anchors of `text`. An ordinal followed by an event noun gives "ord:7:meeting";
    with `with_bare` (for articles) it also gives "ord:7", which matches questions that
    name no event class."""
    found: dict[str, str] = {}

    def add_ordinal(n: int, m: re.Match, describe: str) -> None:
        cls = _ordinal_class(text, m.end())
        key = f"ord:{n}:{cls}" if cls else f"ord:{n}"
        found.setdefault(key, describe)
        if with_bare:
            found.setdefault(f"ord:{n}", describe)

    for m in _EN_ORDINAL_RE.finditer(text):
        n = en_ordinal(m.group(1)) if m.group(1) else int(m.group(2))
        if n and n > 2:
            add_ordinal(n, m, "the " + _with_next_word(text, m))
    for m in _ZH_ORDINAL_RE.finditer(text):
        n = _zh_number(m.group(1))
        if n and n > 2:
            add_ordinal(n, m, _with_next_word(text, m))
    for m in _NUMBER_RE.finditer(text):
        raw = m.group(1).replace(",", "")
        found.setdefault(f"num:{raw}", m.group(0))
    return set(found), found


_WH_WORDS = {"who", "whom", "whose", "what", "when", "where", "which", "why", "how", "did", "does", "do", "is",
             "are", "was", "were", "in", "on", "at", "the", "a", "an", "list", "name", "tell", "give", "according",
             "and", "or", "of", "to", "for", "by", "with", "both", "between", "besides", "apart", "during"}


# Capitalised words that are headline nouns, not parts of a name: "the Seventh Meeting".
_GENERIC = {w.lower() for w in """Meeting Session Conference Congress Committee Party Government Province
City District County Region Area Mayor Governor Secretary Chairman President Premier Minister Delegation
Forum Summit Ceremony Plan Project Program Programme Article Report""".split()}


def name_phrases(text: str) -> list[str]:
    """Runs of two or more capitalised words that may be a person's or a place's full name
    ("Li Qiang"); the articles must contain the run as written, not just its words."""
    phrases = []
    for m in re.finditer(r"(?:[A-Z][a-z]+(?:['’-][A-Za-z]+)?\s+)+[A-Z][a-z]+(?:['’-][A-Za-z]+)?", text):
        words = [re.sub(r"['’]s$", "", w) for w in m.group().split()]  # "Hu Henghua's"
        if m.start() == 0 and words[0].lower() in _WH_WORDS:
            words = words[1:]
        if len(words) >= 2 and not any(w.lower() in _GENERIC or w.lower() in _ORDINAL_WORDS for w in words):
            phrases.append(" ".join(words))
    return phrases


_AUX = r"(?:is|are|was|were|did|does|do|has|have|had|will|would|can|could|should|may|might|must)"
_HEAD_RE = re.compile(rf"^\s*(?:which|what)\s+((?:(?!{_AUX}\b)[A-Za-z-]+\s+){{0,2}}?(?!{_AUX}\b)[A-Za-z-]+)\s+{_AUX}\b", re.I)


def head_phrase(text: str) -> str:
    """The thing a which/what question asks for: "newspaper" in "Which newspaper is ...".
    When the articles never use any of its words, they cannot name one."""
    m = _HEAD_RE.match(text)
    return m.group(1) if m else ""


def proper_names(text: str) -> list[str]:
    """Capitalised English words that are not sentence-initial: candidate proper nouns.
    Acronyms are left out: "NDRC" may stand for words the articles spell out."""
    names = []
    for sent in re.split(r"[.?!]\s+", text):
        toks = re.findall(r"[A-Za-z][A-Za-z'’-]*", sent)
        for i, tok in enumerate(toks):
            if i == 0 or not tok[0].isupper() or tok.lower() in _WH_WORDS or tok.isupper():
                continue
            names.append(tok)
    return names


def detect_kind(text: str, lang: str) -> Kind:
    low = text.lower()
    for kind, en, zh in _KIND_PATTERNS:
        if re.search(en, low) or re.search(zh, text):
            return kind
    return Kind.OTHER


def analyse(text: str, previous: "Question | None" = None) -> Question:
    text = text.strip()
    lang = language.detect(text)
    anchors, anchor_text = _anchors(text)
    kind, terms = detect_kind(text, lang), tokenize(_ZH_QWORDS_RE.sub(" ", text), bigrams_only=True)
    q = Question(text=text, lang=lang, kind=kind, terms=terms,
                 anchors=anchors, names=proper_names(text) if lang == "en" else [], anchor_text=anchor_text,
                 phrases=name_phrases(text) if lang == "en" else [], head=head_phrase(text) if lang == "en" else "",
                 participation=kind == Kind.WHO and (bool(set(terms) & PARTICIPATION)
                                                     or any(w in text for w in ZH_PARTICIPATION)))
    if previous is not None and is_follow_up(q, previous):
        # "Where was it held?" after "Who attended the seventh meeting?" is about the seventh meeting.
        q = replace(q, anchors=q.anchors | previous.anchors, anchor_text={**previous.anchor_text, **q.anchor_text},
                    context=previous.text + " " + previous.context)
    return q


def is_follow_up(q: Question, previous: Question) -> bool:
    if q.anchors and not q.anchors <= previous.anchors:
        return False  # it names its own subject
    return bool(_FOLLOW_UP_RE.search(q.text)) or len(q.terms) <= 3
