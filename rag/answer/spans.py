"""Short answers: the minimal span of a cited sentence that answers the question ("June 29,
2022" before the sentence that says it).

Candidate spans are cut from the sentences the reader chose: dates, figures and amounts,
names, and short phrases bounded by function words or punctuation. English is cut by rules
(no POS tagger with its model inside a PyPI package was found, docs/READER.md#short-answers);
Chinese is cut by jieba's part-of-speech tagger, whose dictionary ships in the package. A
linear model learnt by `scripts/train_short.py` ranks the spans with features that mean the
same on any text: the expected answer type, the span not repeating the question, its
distance to the question's words in the sentence, the question's words around it.

Spans are offsets into the sentence, so the text is exactly as written: a date or figure is
never reformatted.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.answer.questions import Kind, Question, canonical
from rag.answer.reader import DATES, FIGURE, LinearModel
from rag.lang import has_cjk
from rag.lang.en import STOP_WORDS as EN_STOPWORDS
from rag.lang.tokenization import tokenize

MAX_TOKENS = {"en": 8, "zh": 10}
MAX_CHARS = 60
MAX_CLAUSE_CHARS = 90
MAX_SENTENCES = 2  # of an answer, searched for its short answer
_CLAUSE_END = re.compile(r"[,，;；:：。.!！?？、]")

# Questions answered by an explanation, not a phrase: no short answer.
_EXPLAIN = re.compile(r"^\s*(why|how)\b(?!\s+(many|much|long|far|old|big|large|high|often|tall|wide|deep))|"
                      r"\b(explain|describe|what (did|does|do|has|have|will|would) .{1,60}\b(say|said|do|mean|think|propose|call for))\b|"
                      r"为什么|为何|怎么|怎样|如何|什么意义|什么作用", re.I)


def explanatory(q: Question) -> bool:
    """Whether `q` asks for an explanation (why, how, what did X say): its answer is sentences."""
    return q.kind == Kind.WHY or bool(_EXPLAIN.search(q.text))


@dataclass
class Span:
    start: int  # offsets in the sentence
    end: int
    text: str
    types: frozenset[str]  # of "date", "number", "name", "phrase"
    tokens: tuple[int, int] = (0, 0)  # [first, last+1] word index in the sentence
    features: dict[str, float] = field(default_factory=dict)
    p: float = 0.0


@dataclass
class Word:
    start: int
    end: int
    text: str
    stop: bool  # a function word: spans neither start nor end with one
    tag: str = ""  # jieba's part of speech (Chinese)

    @property
    def punct(self) -> bool:
        return not any(ch.isalnum() for ch in self.text)


# -- words -----------------------------------------------------------------------------------------
_EN_WORD = re.compile(r"[$€£¥]?\d+(?:,\d{3})*(?:\.\d+)?%?|[A-Za-z\u00c0-\u024f][\w'’\-.]*[\w]|[A-Za-z\u00c0-\u024f]|\S")
_NUMBER_WORDS = set("one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty sixty "
                    "seventy eighty ninety hundred thousand million billion trillion dozen".split())
# Function tags of jieba: prepositions, conjunctions, particles, modal and interjection words.
_ZH_STOP_TAGS = ("p", "c", "u", "y", "e", "o", "x", "w")
_ZH_NAME_TAGS = ("nr", "ns", "nt", "nz")


def words(sentence: str, lang: str) -> list[Word]:
    if lang == "zh":
        return _zh_words(sentence)
    out = []
    for m in _EN_WORD.finditer(sentence):
        t = m.group(0)
        if t.endswith(".") and len(t) > 1 and not re.fullmatch(r"(?:[A-Z]\.)+", t):
            t = t[:-1]  # a sentence's full stop is not part of its last word; "U.S." keeps its own
        out.append(Word(m.start(), m.start() + len(t), t, t.lower() in EN_STOPWORDS))
    return out


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    return jieba.posseg


def _zh_words(sentence: str) -> list[Word]:
    out, pos = [], 0
    for pair in _jieba().cut(sentence):
        w, tag = pair.word, pair.flag
        start = sentence.find(w, pos)
        if start < 0:
            continue
        pos = start + len(w)
        if not w.strip():
            continue
        stop = tag.startswith(_ZH_STOP_TAGS) or (tag in ("d", "r") and len(w) == 1) or w in ("是", "有", "为")
        out.append(Word(start, pos, w, stop, tag))
    return out


_EN_VERB = re.compile(r"[a-z]{3,}(ed|ing)$")
_EN_ADV = re.compile(r"[a-z]{3,}ly$")
_EN_ADJ = re.compile(r"[a-z]{3,}(al|ous|ive|ic|able|ible|ful|less|ary|ant|ent)$")
CLASSES = ["noun", "name", "verb", "adj", "adv", "num", "func"]


def word_class(w: Word, first: bool, lang: str) -> str:
    """A coarse part of speech: jieba's tag for Chinese; for English, what a word's form says
    (no tagger with its model inside a PyPI package was found)."""
    if w.punct:
        return "punct"
    if lang == "zh":
        t = w.tag[:1]
        if w.tag.startswith(_ZH_NAME_TAGS):
            return "name"
        return {"n": "noun", "v": "verb", "a": "adj", "d": "adv", "m": "num", "q": "num", "t": "num",
                "r": "func", "p": "func", "c": "func", "u": "func", "y": "func", "e": "func"}.get(t, "noun")
    low = w.text.lower()
    if w.text[:1].isdigit() or low in _NUMBER_WORDS or w.text[:1] in "$€£¥":
        return "num"
    if w.stop:
        return "func"
    if w.text[:1].isupper() and not first:
        return "name"
    if _EN_ADV.match(low):
        return "adv"
    if _EN_VERB.match(low):
        return "verb"
    if _EN_ADJ.match(low):
        return "adj"
    return "noun"


def warm_up() -> None:
    """Load jieba's dictionary now (about a second) rather than in the first Chinese answer."""
    _zh_words("重庆")


# -- candidate spans -----------------------------------------------------------------------------

def _types(text: str, ws: Sequence[Word], lang: str, first: bool = False) -> frozenset[str]:
    t = set()
    if DATES.search(text):
        t.add("date")
    if FIGURE.search(DATES.sub(" ", text)) or any(w.text.lower() in _NUMBER_WORDS for w in ws) or \
            any(w.tag == "m" for w in ws):
        t.add("number")
    content = [w for w in ws if not w.stop and not w.punct]
    if lang == "zh":
        if any(w.tag.startswith(_ZH_NAME_TAGS) for w in ws):
            t.add("name")
    elif content and all(w.text[:1].isupper() for w in content) and not (len(content) == 1 and first):
        t.add("name")
    if not t:
        t.add("phrase")
    return frozenset(t)


def candidate_spans(sentence: str, lang: str) -> list[Span]:
    """Runs of up to MAX_TOKENS words that do not cross punctuation (a comma may sit inside a
    date or a figure: "June 29, 2022") and neither start nor end with a function word."""
    ws = words(sentence, lang)
    limit = MAX_TOKENS.get(lang, 8)
    spans: dict[tuple[int, int], Span] = {}
    n = len(ws)
    for i in range(n):
        if ws[i].stop or ws[i].punct:
            continue
        for j in range(i, min(n, i + limit)):
            w = ws[j]
            if w.punct and not (w.text == "," and _inside_value(sentence, ws, j)):
                break
            if w.stop or w.punct:
                continue
            a, b = ws[i].start, w.end
            if b - a > MAX_CHARS:
                break
            text = sentence[a:b]
            spans[(a, b)] = Span(a, b, text, _types(text, ws[i:j + 1], lang, i == 0), (i, j + 1))
    # Clauses, and two clauses together: answers that are a whole statement (Chinese sets
    # often take one), trimmed of the function words they open with.
    bounds = [0] + [i + 1 for i, w in enumerate(ws) if w.punct and _CLAUSE_END.fullmatch(w.text)] + [n]
    for x in range(len(bounds) - 1):
        for y in (x + 1, x + 2):
            if y >= len(bounds):
                break
            seg = [k for k in range(bounds[x], bounds[y]) if not ws[k].punct or k < bounds[y] - 1]
            while seg and (ws[seg[0]].stop or ws[seg[0]].punct):
                seg.pop(0)
            while seg and (ws[seg[-1]].stop or ws[seg[-1]].punct):
                seg.pop()
            if not seg:
                continue
            i, j = seg[0], seg[-1]
            a, b = ws[i].start, ws[j].end
            if (a, b) not in spans and b - a <= MAX_CLAUSE_CHARS:
                text = sentence[a:b]
                spans[(a, b)] = Span(a, b, text, _types(text, ws[i:j + 1], lang), (i, j + 1))
    return sorted(spans.values(), key=lambda s: (s.start, s.end))


def _inside_value(sentence: str, ws: Sequence[Word], j: int) -> bool:
    """A comma within a date or a number written with words: "June 29, 2022", "Paris, France"."""
    if j == 0 or j + 1 >= len(ws):
        return False
    before, after = ws[j - 1].text, ws[j + 1].text
    return bool(re.fullmatch(r"\d{1,2}(st|nd|rd|th)?", before) and re.fullmatch(r"\d{4}", after))


# -- features ------------------------------------------------------------------------------------
# The question word, in any language: with the span's word classes and types it says what
# kind of phrase answers ("what year" a number, "which city" a name, "什么" a noun phrase).
_WH = [("when", r"\bwhen\b|\bwhat (year|date|day|month|century|decade|time)\b|什么时候|何时|哪一?年|哪天|几月|几号|时间"),
       ("howmany", r"\bhow (many|much|long|far|old|big|large|high)\b|多少|几|多大|多长|多久|多高|多远"),
       ("who", r"\bwho(m|se)?\b|谁|哪位|什么人"),
       ("where", r"\bwhere\b|哪里|哪儿|何处|什么地方|在哪"),
       ("which", r"\bwhich\b|哪[个些种类座家所部]"),
       ("how", r"\bhow\b|怎么|怎样|如何"),
       ("what", r"\bwhat\b|什么|啥")]
WH = [w for w, _ in _WH] + ["none"]


def wh_word(text: str) -> str:
    for name, rx in _WH:
        if re.search(rx, text, re.I):
            return name
    return "none"


_TYPE_KINDS = [Kind.WHO, Kind.WHERE, Kind.WHEN, Kind.QUANTITY, Kind.LIST, Kind.OTHER]
_TYPES = ["date", "number", "name", "phrase"]
SPAN_FEATURES = (
    [f"t_{t}" for t in _TYPES]
    + [f"{k.value}_{t}" for k in _TYPE_KINDS for t in _TYPES]
    + ["in_q", "all_in_q", "near", "no_q_word", "left_cov", "right_cov", "rest_cov", "head_near",
       "log_tokens", "log_chars", "one_token", "pos", "at_start", "maximal", "left_punct", "right_punct",
       "sent_p", "first_sentence", "zh", "quoted", "verb_share", "clause"]
    + [f"first_{c}" for c in CLASSES] + [f"last_{c}" for c in CLASSES]
    + [f"prev_{c}" for c in CLASSES + ["punct", "none"]] + [f"next_{c}" for c in CLASSES + ["punct", "none"]]
    + [f"wh_{w}_{x}" for w in WH for x in [f"first_{c}" for c in CLASSES] + [f"last_{c}" for c in CLASSES] + _TYPES]
    + ["left_cov2", "right_cov2", "left_cov8", "right_cov8"]
)
# Every feature again for Chinese: the two languages weigh them differently (a span's words,
# classes and lengths are not alike), and one model with these crosses learns both.
BASE_FEATURES = SPAN_FEATURES
SPAN_FEATURES = BASE_FEATURES + [f"zh_{n}" for n in BASE_FEATURES]
_COLUMN = {n: i for i, n in enumerate(BASE_FEATURES)}
_PAIRS = {"“": "”", "\"": "\"", "《": "》", "「": "」", "『": "』", "(": ")", "（": "）", "'": "'", "‘": "’", "【": "】"}


def _norm_tokens(text: str) -> set[str]:
    raw = tokenize(text, bigrams_only=True)
    return set(raw) | set(canonical(raw))


def span_features(q: Question, sentence: str, spans: list[Span], weights: dict[str, float],
                  sent_p: float = 0.0, first: bool = True, lang: str = "en") -> None:
    """Set `features` on each span of `sentence` for question `q`; `weights` are the question
    terms' idf (rag.answer.reader.question_weights), `sent_p` the reader's probability of the sentence."""
    ws = words(sentence, lang)
    qtoks = set(weights) or _norm_tokens(q.text)
    total = sum(weights.values()) or 1.0
    wtok = [_norm_tokens(w.text) for w in ws]
    qpos = [i for i, t in enumerate(wtok) if t & qtoks]
    head = _norm_tokens(q.head) if q.head else set()
    n = max(1, len(ws))
    classes = [word_class(w, k == 0, lang) for k, w in enumerate(ws)]
    wh = wh_word(q.text)

    def cov(toks: set[str]) -> float:
        return sum(weights.get(t, 0.0) for t in toks) / total if weights else float(bool(toks & qtoks))

    for s in spans:
        i, j = s.tokens
        inside = set().union(*wtok[i:j]) if j > i else set()
        content = inside - {""}
        in_q = len(content & qtoks) / len(content) if content else 0.0
        outside = set().union(*(wtok[:i] + wtok[j:])) if ws else set()
        dist = min((i - p if p < i else p - j + 1 for p in qpos if p < i or p >= j), default=None)
        left = set().union(*wtok[max(0, i - 4):i]) if i else set()
        right = set().union(*wtok[j:j + 4]) if j < len(ws) else set()
        # Indicator features are set only when on (feature_matrix reads a missing one as 0).
        f = {f"t_{t}": 1.0 for t in s.types}
        if q.kind in _TYPE_KINDS:
            f.update({f"{q.kind.value}_{t}": 1.0 for t in s.types})
        f.update({
            "in_q": in_q, "all_in_q": 1.0 if content and in_q == 1.0 else 0.0,
            "near": 1.0 / (1 + dist) if dist is not None else 0.0,
            "no_q_word": 1.0 if dist is None else 0.0,
            "left_cov": cov(left & qtoks), "right_cov": cov(right & qtoks), "rest_cov": cov(outside & qtoks),
            "head_near": 1.0 if head and (head & (left | right)) else 0.0,
            "log_tokens": math.log1p(j - i) / 2, "log_chars": math.log1p(len(s.text)) / 4,
            "one_token": 1.0 if j - i == 1 else 0.0, "pos": i / n, "at_start": 1.0 if i == 0 else 0.0,
            "maximal": 1.0 if (i == 0 or ws[i - 1].stop or ws[i - 1].punct) and
                              (j >= len(ws) or ws[j].stop or ws[j].punct) else 0.0,
            "left_punct": 1.0 if i and ws[i - 1].punct else 0.0,
            "right_punct": 1.0 if j < len(ws) and ws[j].punct else 0.0,
            "sent_p": sent_p, "first_sentence": 1.0 if first else 0.0, "zh": 1.0 if lang == "zh" else 0.0,
            "quoted": 1.0 if s.start and _PAIRS.get(sentence[s.start - 1]) == sentence[s.end:s.end + 1] else 0.0,
            "verb_share": sum(c == "verb" for c in classes[i:j]) / max(1, j - i),
            "clause": 1.0 if (i == 0 or ws[i - 1].punct) and (j >= len(ws) or ws[j].punct) else 0.0,
        })
        f[f"first_{classes[i]}"] = 1.0
        f[f"last_{classes[j - 1]}"] = 1.0
        f[f"wh_{wh}_first_{classes[i]}"] = 1.0
        f[f"wh_{wh}_last_{classes[j - 1]}"] = 1.0
        f.update({f"wh_{wh}_{t}": 1.0 for t in s.types})
        for size in (2, 8):
            lw = set().union(*wtok[max(0, i - size):i]) if i else set()
            rw = set().union(*wtok[j:j + size]) if j < len(ws) else set()
            f[f"left_cov{size}"], f[f"right_cov{size}"] = cov(lw & qtoks), cov(rw & qtoks)
        f[f"prev_{classes[i - 1] if i else 'none'}"] = 1.0
        f[f"next_{classes[j] if j < len(ws) else 'none'}"] = 1.0

        s.features = f


# -- the model and the answer ---------------------------------------------------------------------

@dataclass
class ShortItem:
    text: str
    citation: int
    start: int  # offsets in the cited passage's text
    end: int

    def to_json(self) -> dict:
        return {"text": self.text, "citation": self.citation, "start": self.start, "end": self.end}


@dataclass
class ShortAnswer:
    items: list[ShortItem]
    confidence: float  # the span model's probability of the best span (1.0 for a list of names)
    kind: str = "span"  # "span" or "list"

    @property
    def text(self) -> str:
        sep = "、" if any(has_cjk(i.text) for i in self.items) else ", "
        return sep.join(i.text for i in self.items)

    def to_json(self) -> dict:
        return {"text": self.text, "kind": self.kind, "confidence": round(self.confidence, 4),
                "items": [i.to_json() for i in self.items]}


def feature_matrix(spans: Sequence[Span]) -> np.ndarray:
    """The spans' features as rows in SPAN_FEATURES order (the Chinese crosses computed here)."""
    X = np.zeros((len(spans), len(BASE_FEATURES)))
    for r, s in enumerate(spans):
        for k, v in s.features.items():
            col = _COLUMN.get(k)
            if col is not None:
                X[r, col] = v
    zh = X[:, [_COLUMN["zh"]]]
    return np.hstack([X, X * zh])


def rank(model: LinearModel, spans: list[Span]) -> list[Span]:
    if not spans:
        return []
    for s, p in zip(spans, model.predict(feature_matrix(spans))):
        s.p = float(p)
    return sorted(spans, key=lambda s: (-s.p, s.start))


def _answer_sentences(answer) -> list[tuple[int, dict, str, str]]:
    """(index, sentence record, sentence text, language) of each sentence of `answer` whose
    offsets in its cited passage are known."""
    passages = {c.n: (c.text, c.lang) for c in answer.citations}
    out = []
    for k, s in enumerate(answer.sentences):
        passage, lang = passages.get(s["citation"], ("", "en"))
        if s.get("start") is not None and passage:
            out.append((k, s, passage[s["start"]:s["end"]], lang))
    return out


# -- lists of people ---------------------------------------------------------------------------
# Words of organisations, places and things, which two capitalised words that are no person's
# name end with ("Reform Commission", "Economic Circle").
_EN_NOT_PERSON = set("""commission committee congress council bureau department ministry office university institute
corridor zone center centre group company bank association league circle city district province region park
initiative belt road river festival forum plan programme program project railway line hub mega twin island
gallery auto development reform economic industrial science technology culture tourism""".split())
_ZH_ROLE = re.compile(r"(书记|长|主任|领导|委员|主席|总理|部长|秘书长|代表|局长|院长|行长|会长|经理|董事)$")
# Words after which English lists who took part: "Also attending were ...", "attendees included ...".
_LIST_CUE = re.compile(r"attendees|attending|participants|particip|includ|present", re.I)
_GENERIC_PART = {"attend", "present", "particip", "includ"}
_ZH_GENERIC_PART = ("出席", "参加", "参会")


def _en_people(sentence: str) -> list[tuple[int, int]]:
    from rag.answer.reader import _NOT_NAME

    out = []
    for m in re.finditer(r"[A-Z][a-z]+(?:['’-][A-Za-z]+)?(?:\s+[A-Z][a-z]+(?:['’-][A-Za-z]+)?)+", sentence):
        parts = list(re.finditer(r"\S+", m.group(0)))
        # A person's name in news about China is two words; a longer run starts with a place or
        # a role ("Chongqing Li Mingqing").
        parts = parts[-2:]
        words_ = [p.group(0).lower() for p in parts]
        if words_[-1].endswith(("'s", "’s")):
            continue  # "Xi Jinping's instructions": whose, not who
        if any(w in _NOT_NAME or w in _EN_NOT_PERSON for w in re.split(r"[-\s]", " ".join(words_))):
            continue
        out.append((m.start() + parts[0].start(), m.start() + parts[-1].end()))
    return out


def _zh_people(sentence: str) -> list[tuple[int, int]]:
    """Names that follow a role ("省长黄强") or continue a list of them ("施小琳、田庆盈")."""
    ws = _zh_words(sentence)
    out: list[tuple[int, int]] = []
    for k, w in enumerate(ws):
        if not w.tag.startswith("nr") or not 2 <= len(w.text) <= 3:
            continue
        start = w.start
        prev = ws[k - 1] if k else None
        if prev is not None and len(prev.text) == 1 and prev.end == w.start and not prev.punct and len(w.text) == 2 \
                and k >= 2 and (ws[k - 2].text == "、" or _ZH_ROLE.search(ws[k - 2].text)):
            start, prev = prev.start, ws[k - 2]  # a surname cut off by the tagger: 郑 + 向东
        if prev is None or not (_ZH_ROLE.search(prev.text) or (prev.text == "、" and out and out[-1][1] == prev.start)):
            continue
        out.append((start, w.end))
    return out


def _cues(sentence: str, lang: str, only: set[str] | None) -> list[int]:
    """Where `sentence` says someone took part (the start of each such word)."""
    from rag.answer.questions import PARTICIPATION, ZH_PARTICIPATION

    if lang == "zh":
        pool = only or ZH_PARTICIPATION
        return sorted({m.start() for w in pool for m in re.finditer(re.escape(w), sentence)})
    pool = only or PARTICIPATION
    return [w.start for w in words(sentence, "en") if set(canonical(tokenize(w.text))) & pool]


_ROLE_Q = re.compile(r"\b(mayor|governor|secretary|chairman|chairwoman|president|premier|minister|director|head|chief|"
                     r"leader)\b|市长|省长|书记|主席|总理|部长|主任|负责人", re.I)


def asks_role(q: Question) -> bool:
    """'Who was the Mayor of Chengdu among the attendees': one person by role, not everyone."""
    return bool(_ROLE_Q.search(q.text))


def list_items(q: Question, answer) -> list[ShortItem]:
    """For 'who attended' and 'who spoke': the people each answer sentence says took part,
    each cited. The people of a cue are the names before it in its clause ("Wang Xiaohui,
    Secretary of ..., attended"), or, when none comes before, the names after it ("Also
    attending were ..."). A question with a specific role ("presided", 主持) keeps only the
    sentences with that role; a generic one ("attended", 出席) takes every way of taking part."""
    from rag.answer.questions import PARTICIPATION, ZH_PARTICIPATION

    if q.lang == "zh":
        asked = {w for w in ZH_PARTICIPATION if w in q.text and w not in _ZH_GENERIC_PART}
    else:
        asked = set(canonical(q.terms)) & set(canonical(PARTICIPATION)) - _GENERIC_PART
    sentences = _answer_sentences(answer)
    narrow = bool(asked) and any(_cues(text, lang, asked) for _, _, text, lang in sentences)
    items: dict[str, ShortItem] = {}
    for _, s, sentence, lang in sentences:
        cues = _cues(sentence, lang, asked if narrow else None)
        if not cues:
            continue
        people = _zh_people(sentence) if lang == "zh" else _en_people(sentence)
        bounds = [0] + cues
        for k, cue in enumerate(cues):
            before = [p for p in people if bounds[k] <= p[0] and p[1] <= cue]
            after = [p for p in people if p[0] >= cue and (k + 1 >= len(cues) or p[1] <= cues[k + 1])]
            if lang != "zh" and not _LIST_CUE.match(sentence, cue):
                after = []  # "said in his speech that Xi Jinping ...": not a list of who took part
            for i, j in before or after:
                text = sentence[i:j]
                items.setdefault(text, ShortItem(text, s["citation"], s["start"] + i, s["start"] + j))
    return list(items.values())


def spans_of(q: Question, answer, weights: dict[str, float]) -> list[tuple[Span, dict]]:
    """Every candidate span of the answer's sentences, with its features, and its sentence."""
    out = []
    # The best sentences only: a short answer comes from what the reader ranks first, and a
    # gathered list's every sentence would multiply the spans (and the time) to no use.
    best = sorted(range(len(answer.sentences)), key=lambda k: -answer.sentences[k].get("p", 0.0))[:MAX_SENTENCES]
    for k, s, sentence, lang in _answer_sentences(answer):
        if k not in best:
            continue
        cands = candidate_spans(sentence, lang)
        span_features(q, sentence, cands, weights, s.get("p", 0.0), k == best[0], lang)
        out.extend((c, s) for c in cands)
    return out


def short_answer(q: Question, answer, model: LinearModel, weights: dict[str, float],
                 min_probability: float = 0.0) -> ShortAnswer | None:
    """The short answer of an extractive `answer` (rag.answer.extractive.Answer), or None: when it
    abstained, when the question asks for an explanation, or when no span is probable enough."""
    if not answer.answered or not answer.sentences or explanatory(q):
        return None
    if q.participation and not asks_role(q):
        found = list_items(q, answer)
        if found:
            return ShortAnswer(found, 1.0, "list" if len(found) > 1 else "span")
    pairs = spans_of(q, answer, weights)
    if not pairs:
        return None
    ranked = rank(model, [c for c, _ in pairs])
    best = ranked[0]
    if best.p < min_probability:
        return None
    sent = next(s for c, s in pairs if c is best)
    return ShortAnswer([ShortItem(best.text, sent["citation"], sent["start"] + best.start,
                                  sent["start"] + best.end)], best.p)


MODEL_PATH = Path(__file__).parent / "models" / "short.json"


@dataclass
class ShortModel:
    spans: LinearModel
    min_probability: float = 0.0
    meta: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"version": 1, "spans": self.spans.to_json(), "min_probability": self.min_probability,
                "meta": self.meta}

    @classmethod
    def from_json(cls, d: dict) -> "ShortModel":
        m = LinearModel.from_json(d["spans"])
        if m.features != SPAN_FEATURES:
            raise ValueError("the short-answer model's features differ from the code's; run scripts/train_short.py")
        return cls(m, float(d.get("min_probability", 0.0)), d.get("meta", {}))


@functools.lru_cache(maxsize=4)
def load(path: Path = MODEL_PATH) -> ShortModel:
    return ShortModel.from_json(json.loads(Path(path).read_text("utf-8")))
