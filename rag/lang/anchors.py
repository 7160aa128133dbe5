"""Anchors: the specific things a text is about, such as "the seventh meeting" or "2024".

An article that does not contain a question's anchors cannot answer it, however similar its
wording: this is what lets the tool say "the articles do not mention the eighth meeting"
instead of describing the seventh with confidence. Questions (rag.answer) and articles at
ingest (rag.ingest) are read the same way, so the reading is here.
"""

from __future__ import annotations

import re

from rag.lang import CJK, packs
from rag.lang.tokenization import stem, tokenize

# ASCII look-arounds: "6月26日" holds the numbers 6 and 26 (\w would count 月 as a letter).
NUMBER_RE = re.compile(r"(?<![A-Za-z0-9.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![A-Za-z0-9])")

# What an ordinal counts: "the sixth meeting" is not "the Sixth ... Congress". Nouns of one
# class, in English or Chinese, count the same series of events.
_EVENT_CLASSES = {
    "meeting": "meet meetings session sessions conference 会议 座谈 联席 会晤 例会",
    "congress": "congress 代表 大会",
    "plenum": "plenari plenum 全会 全体",
    "festival": "festiv 艺术 节",
    "games": "game 运会",
}
_CLASS_OF = {(w if not w.isascii() else stem(w)): cls for cls, ws in _EVENT_CLASSES.items() for w in ws.split()}
_CLASS_WINDOW = 6
_MEASURE_WORD = re.compile(r"^\s*[次届个轮期]")  # 第七次会议: the noun comes after the measure word
_NEXT_WORD = re.compile(rf"\s*([A-Za-z-]+|[{CJK}]{{1,3}})")


def anchors_in_text(text: str) -> set[str]:
    """Anchors an article offers to questions (see `anchors`)."""
    found, _ = anchors(text, with_bare=True)
    return found


def anchor_tokens(text: str) -> set[str]:
    """The tokens that spelled the anchors of `text` (e.g. "seventh", "第七", "七次")."""
    words = [m.group(0) for rx in [p.ordinal_re for p in packs()] + [NUMBER_RE] for m in rx.finditer(text)]
    return set(tokenize(" ".join(words), bigrams_only=True))


def anchors(text: str, with_bare: bool = False) -> tuple[set[str], dict[str, str]]:
    """Anchors of `text` ("ord:7", "num:2024"), and the words that said each. An ordinal followed
    by an event noun gives "ord:7:meeting"; with `with_bare` (for articles) it also gives
    "ord:7", which matches questions that name no event class."""
    found: dict[str, str] = {}
    for pack in packs():
        for m in pack.ordinal_re.finditer(text):
            n = pack.parse_number(m.group(1) or m.group(2))
            if not n or n <= 2:
                continue
            cls = _ordinal_class(text, m.end())
            describe = pack.article + _with_next_word(text, m)
            found.setdefault(f"ord:{n}:{cls}" if cls else f"ord:{n}", describe)
            if with_bare:
                found.setdefault(f"ord:{n}", describe)
    for m in NUMBER_RE.finditer(text):
        found.setdefault(f"num:{m.group(1).replace(',', '')}", m.group(0))
    return set(found), found


def _ordinal_class(text: str, end: int) -> str | None:
    """The class of the event an ordinal ending at `end` counts, from the next few words."""
    after = _MEASURE_WORD.sub("", text[end:end + 80])
    for tok in tokenize(after, bigrams_only=True)[:_CLASS_WINDOW]:
        if tok in _CLASS_OF:
            return _CLASS_OF[tok]
    return None


def _with_next_word(text: str, m: re.Match) -> str:
    """The anchor with the word after it ("eighth meeting", "第八次会议"), to name it in a reply."""
    nxt = _NEXT_WORD.match(text[m.end():])
    phrase = m.group(0) + (nxt.group(0) if nxt else "")
    return phrase.strip()
