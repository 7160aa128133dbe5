"""The words of a sentence, as the short-answer spans are cut from them: English by rules (no
POS tagger with its model inside a PyPI package was found, docs/READER.md#short-answers),
Chinese by jieba's part-of-speech tagger, whose dictionary ships in the package."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass

from rag.lang.en import STOP_WORDS as EN_STOPWORDS


@dataclass(frozen=True)
class Word:
    start: int
    end: int
    text: str
    stop: bool  # a function word: spans neither start nor end with one
    tag: str = ""  # jieba's part of speech (Chinese)

    @property
    def punct(self) -> bool:
        return not any(ch.isalnum() for ch in self.text)


_EN_WORD = re.compile(r"[$€£¥]?\d+(?:,\d{3})*(?:\.\d+)?%?|[A-Za-z\u00c0-\u024f][\w'’\-.&]*[\w]|[A-Za-z\u00c0-\u024f]|\S")
NUMBER_WORDS = set("one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty sixty "
                    "seventy eighty ninety hundred thousand million billion trillion dozen".split())
# Function tags of jieba: prepositions, conjunctions, particles, modal and interjection words.
_ZH_STOP_TAGS = ("p", "c", "u", "y", "e", "o", "x", "w")
ZH_NAME_TAGS = ("nr", "ns", "nt", "nz")


def words(sentence: str, lang: str) -> list[Word]:
    if lang == "zh":
        return zh_words(sentence)
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


def zh_words(sentence: str) -> list[Word]:
    # Tagging costs about 2 ms a sentence, and the candidates, their features and the people of
    # a sentence each need its words: tag each sentence once.
    return list(_zh_words(sentence))


@functools.lru_cache(maxsize=256)
def _zh_words(sentence: str) -> tuple[Word, ...]:
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
    return tuple(out)


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
        if w.tag.startswith(ZH_NAME_TAGS):
            return "name"
        return {"n": "noun", "v": "verb", "a": "adj", "d": "adv", "m": "num", "q": "num", "t": "num",
                "r": "func", "p": "func", "c": "func", "u": "func", "y": "func", "e": "func"}.get(t, "noun")
    low = w.text.lower()
    if w.text[:1].isdigit() or low in NUMBER_WORDS or w.text[:1] in "$€£¥":
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
    zh_words("重庆")

