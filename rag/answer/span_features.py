"""The features of a candidate span for the short-answer model (rag/answer/short_answer.py),
which mean the same on any text: the expected answer type, the span not repeating the question,
its distance to the question's words in the sentence, the question's words around it (and on
which side of the question word they stand in the question), the classes of its words.

The order of SPAN_FEATURES is the order of the trained model's weights: never reorder.
"""

from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

import rag.lang as language
from rag.answer.questions import canonical
from rag.answer.span_candidates import Span
from rag.answer.span_words import CLASSES, word_class, words
from rag.lang.tokenization import tokenize
from rag.types import Kind, Question

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


_WH_ANY = re.compile("|".join(rx for _, rx in _WH), re.I)
# The noun a what / which question asks for ("What river ...", "which kind of rock"): the answer
# often ends with it or sits next to it ("the Rhine river", "the river Rhine"). Tried for Chinese
# too (the word after 什么 / 哪个), with no gain measured (docs/READER.md, session 16).
# Capitalised words and figures before it are its modifiers: "Which Sichuan Party secretary", "which two cities".
_ASKED_NOUN = re.compile(r"\b(?i:what|which)\s+(?:(?:kind|type|sort|form|part|name)\s+of\s+)?(?:the\s+)?"
                         r"(?:(?:[A-Z][\w'’-]*|\d+|two|three|four|five|six)\s+){0,3}([a-z][a-z-]+)")


def wh_word(text: str) -> str:
    for name, rx in _WH:
        if re.search(rx, text, re.I):
            return name
    return "none"


def question_sides(q: Question, qtoks: set[str], lang: str) -> tuple[list[set[str]], list[set[str]]]:
    """The question's content words before and after its question word, in order, each as its
    tokens. A statement puts the answer where the question word stands: "Who founded X?" is
    answered by "Y founded X", "X于哪一年成立？" by "X于1990年成立", so which of the question's
    words a span has on its left and on its right says whether it fills that place."""
    m = _WH_ANY.search(q.text)
    before, after = (q.text[:m.start()], q.text[m.end():]) if m else (q.text, "")

    def ordered(text: str) -> list[set[str]]:
        return [t for t in (_norm_tokens(w.text) & qtoks for w in words(text, lang)) if t]

    return ordered(before), ordered(after)


_TYPE_KINDS = [Kind.WHO, Kind.WHERE, Kind.WHEN, Kind.QUANTITY, Kind.LIST, Kind.OTHER]
_TYPES = ["date", "number", "name", "phrase", "list"]
# "Which two officials ...", "哪些": the question asks for more than one thing.
_SEVERAL = language.any_language("several")
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
    + ["log_items", "several", "several_list"]
    # Session 16: where the span stands against the question's words on either side of its
    # question word (question_sides), and against the noun a what / which question asks for.
    + ["left_after_wh", "left_before_wh", "right_after_wh", "right_before_wh",
       "prev_after_wh", "next_after_wh", "prev_before_wh", "next_before_wh",
       "after_wh_left", "after_wh_right", "before_wh_left", "before_wh_right", "has_after_wh", "has_before_wh",
       "asked_last", "asked_next", "asked_prev", "asked_in"]
)
# Every feature again for Chinese: the two languages weigh them differently (a span's words,
# classes and lengths are not alike), and one model with these crosses learns both.
BASE_FEATURES = SPAN_FEATURES
SPAN_FEATURES = BASE_FEATURES + [f"zh_{n}" for n in BASE_FEATURES]
_COLUMN = {n: i for i, n in enumerate(BASE_FEATURES)}
_PAIRS = {"“": "”", "\"": "\"", "《": "》", "「": "」", "『": "』", "(": ")", "（": "）", "'": "'", "‘": "’", "【": "】"}


_ACRONYM = re.compile(r"\b[A-Z]{2,8}\b")
_NAME_JOINERS = {"and", "of", "the", "for", "&"}


def named_by_initials(text: str, acronyms: set[str]) -> bool:
    """Whether the question already names `text` by its initials: "National Development and Reform
    Commission" or a part of it ("Reform Commission") for a question that says NDRC."""
    named = [w for w in text.split() if w[:1].isupper()]
    initials = "".join(w[0] for w in named)
    # Every word capitalised but the function words inside a name ("and", "of").
    whole = len(named) == sum(1 for w in text.split() if w.casefold() not in _NAME_JOINERS)
    return whole and len(initials) >= 2 and any(initials in a for a in acronyms)


def _norm_tokens(text: str) -> set[str]:
    raw = tokenize(text, bigrams_only=True)
    return set(raw) | set(canonical(raw))


def span_features(q: Question, sentence: str, spans: list[Span], weights: dict[str, float],
                  sent_p: float = 0.0, first: bool = True, lang: str = "en") -> None:
    """Set `features` on each span of `sentence` for question `q`; `weights` are the question
    terms' idf (rag.answer.sentence_features.question_weights), `sent_p` the reader's probability of the sentence."""
    ws = words(sentence, lang)
    qtoks = set(weights) or _norm_tokens(q.text)
    total = sum(weights.values()) or 1.0
    wtok = [_norm_tokens(w.text) for w in ws]
    qpos = [i for i, t in enumerate(wtok) if t & qtoks]
    head = _norm_tokens(q.head) if q.head else set()
    n = max(1, len(ws))
    classes = [word_class(w, k == 0, lang) for k, w in enumerate(ws)]
    wh = wh_word(q.text)
    several = 1.0 if _SEVERAL.search(q.text) else 0.0
    before_wh, after_wh = question_sides(q, qtoks, lang)
    before_all, after_all = set().union(*before_wh), set().union(*after_wh)
    # The question's words next to its question word: "founded" in "Who founded X?", "位于" in "X位于哪个国家？".
    nearest_after = [k for k, t in enumerate(wtok) if after_wh and t & after_wh[0]]
    nearest_before = [k for k, t in enumerate(wtok) if before_wh and t & before_wh[-1]]
    acronyms = set(_ACRONYM.findall(q.text))
    asked = _ASKED_NOUN.search(q.text) if lang != "zh" else None
    asked_noun = _norm_tokens(asked.group(1)) if asked else set()

    def around(i: int, j: int, n: int) -> tuple[set[str], set[str]]:
        """The tokens of the n words left and right of the words [i, j)."""
        return (set().union(*wtok[max(0, i - n):i]) if i else set(),
                set().union(*wtok[j:j + n]) if j < len(ws) else set())

    def cov(toks: set[str]) -> float:
        return sum(weights.get(t, 0.0) for t in toks) / total if weights else float(bool(toks & qtoks))

    for s in spans:
        i, j = s.tokens
        inside = set().union(*wtok[i:j]) if j > i else set()
        content = inside - {""}
        in_q = len(content & qtoks) / len(content) if content else 0.0
        if acronyms and named_by_initials(s.text, acronyms):
            in_q = 1.0
        outside = set().union(*(wtok[:i] + wtok[j:])) if ws else set()
        dist = min((i - p if p < i else p - j + 1 for p in qpos if p < i or p >= j), default=None)
        left, right = around(i, j, 4)
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
            lw, rw = around(i, j, size)
            f[f"left_cov{size}"], f[f"right_cov{size}"] = cov(lw & qtoks), cov(rw & qtoks)
        f["log_items"] = math.log(max(1, len(s.items))) / 2
        f["several"] = several
        f["several_list"] = several * (1.0 if s.items else 0.0)
        f[f"prev_{classes[i - 1] if i else 'none'}"] = 1.0
        f[f"next_{classes[j] if j < len(ws) else 'none'}"] = 1.0
        left3, right3 = around(i, j, 3)
        prev_w = wtok[i - 1] if i else set()
        next_w = wtok[j] if j < len(ws) else set()
        f.update({"left_after_wh": cov(left3 & after_all), "left_before_wh": cov(left3 & before_all),
                  "right_after_wh": cov(right3 & after_all), "right_before_wh": cov(right3 & before_all),
                  "prev_after_wh": float(bool(prev_w & after_all)), "next_after_wh": float(bool(next_w & after_all)),
                  "prev_before_wh": float(bool(prev_w & before_all)),
                  "next_before_wh": float(bool(next_w & before_all)),
                  "has_after_wh": float(bool(after_wh)), "has_before_wh": float(bool(before_wh))})
        for name, at in (("after_wh", nearest_after), ("before_wh", nearest_before)):
            gap_left = min((i - k for k in at if k < i), default=0)
            gap_right = min((k - j + 1 for k in at if k >= j), default=0)
            f[f"{name}_left"] = 1.0 / gap_left if gap_left else 0.0
            f[f"{name}_right"] = 1.0 / gap_right if gap_right else 0.0
        if asked_noun:
            f.update({"asked_last": float(bool(wtok[j - 1] & asked_noun)),
                      "asked_next": float(bool(next_w & asked_noun)), "asked_prev": float(bool(prev_w & asked_noun)),
                      "asked_in": float(bool(inside & asked_noun))})

        s.features = f


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

