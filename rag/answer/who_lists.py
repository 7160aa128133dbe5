"""Who-lists: the people a sentence says took part ("Wang Xiaohui, Secretary of ..., attended",
"Also attending were ...", "省长黄强出席"), each cited, as the short answer of "who attended"."""

from __future__ import annotations

import re

from rag.answer.expected_types import NOT_NAME
from rag.answer.questions import PARTICIPATION, ZH_PARTICIPATION, canonical, participation_asked
from rag.answer.span_candidates import Span, cited_sentences
from rag.answer.span_words import words, zh_words
from rag.answer.vocabulary import news
from rag.lang.tokenization import tokenize
from rag.types import Answer, Question, ShortItem

_EN, _ZH = news("en"), news("zh")
# Words of organisations, places and things, which two capitalised words that are no person's
# name end with ("Reform Commission", "Economic Circle").
_EN_NOT_PERSON = set(_EN["not_person"])
_ZH_ROLE = re.compile(f"({'|'.join(_ZH['role_endings'])})$")
# Words after which English lists who took part: "Also attending were ...", "attendees included ...".
_LIST_CUE = re.compile("|".join(_EN["list_cues"]), re.I)
# Words that name people in their capacity: English attendee lists carry them ("officials of
# Chongqing Li Mingqing"), the capitalised titles of plans do not.
_EN_CAPACITY = re.compile(rf"\b({'|'.join(_EN['roles'])}|official|representative)s?\b", re.I)


def _en_people(sentence: str) -> list[tuple[int, int]]:
    out = []
    for m in re.finditer(r"[A-Z][a-z]+(?:['’-][A-Za-z]+)?(?:\s+[A-Z][a-z]+(?:['’-][A-Za-z]+)?)+", sentence):
        parts = list(re.finditer(r"\S+", m.group(0)))
        # A person's name in news about China is two words; a longer run starts with a place or
        # a role ("Chongqing Li Mingqing").
        parts = parts[-2:]
        words_ = [p.group(0).lower() for p in parts]
        if words_[-1].endswith(("'s", "’s")):
            continue  # "Xi Jinping's instructions": whose, not who
        if any(w in NOT_NAME or w in _EN_NOT_PERSON for w in re.split(r"[-\s]", " ".join(words_))):
            continue
        out.append((m.start() + parts[0].start(), m.start() + parts[-1].end()))
    return out


def _zh_people(sentence: str) -> list[tuple[int, int]]:
    """Names that follow a role ("省长黄强") or continue a list of them ("施小琳、田庆盈")."""
    ws = zh_words(sentence)
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


def people_span(sentence: str, lang: str) -> Span | None:
    """The people a sentence names, as one candidate short answer whose items are the names
    ("Hu Henghua, Deputy Secretary ..., and Huang Qiang, Governor ..., made a report": Hu Henghua,
    Huang Qiang), for a question that asks which officials did something. None under two."""
    people = _zh_people(sentence) if lang == "zh" else _en_people(sentence)
    if len(people) < 2:
        return None
    ws = words(sentence, lang)
    a, b = people[0][0], people[-1][1]
    i = next(k for k, w in enumerate(ws) if w.end > a)
    j = max(k for k, w in enumerate(ws) if w.start < b) + 1
    return Span(a, b, sentence[a:b], frozenset({"name", "list"}), (i, j), tuple(people))


def _cues(sentence: str, lang: str, only: set[str] | None) -> list[int]:
    """Where `sentence` says someone took part (the start of each such word)."""
    if lang == "zh":
        pool = only or ZH_PARTICIPATION
        return sorted({m.start() for w in pool for m in re.finditer(re.escape(w), sentence)})
    pool = only or PARTICIPATION
    return [w.start for w in words(sentence, "en") if set(canonical(tokenize(w.text))) & pool]


def list_items(q: Question, answer: Answer) -> list[ShortItem]:
    """For 'who attended' and 'who spoke': the people each answer sentence says took part
    (`participants`), each cited. A question with a specific role ("presided", 主持) keeps only
    the sentences with that role; a generic one ("attended", 出席) takes every way of taking part."""
    asked = participation_asked(q.text, q.terms, q.lang)
    sentences = cited_sentences(answer)
    narrow = bool(asked) and any(_cues(text, lang, asked) for _, _, text, lang in sentences)
    items: dict[str, ShortItem] = {}
    for _, s, sentence, lang in sentences:
        for i, j in participants(sentence, lang, asked if narrow else None):
            text = sentence[i:j]
            items.setdefault(text, ShortItem(text, s["citation"], s["start"] + i, s["start"] + j))
    return list(items.values())


def participants(sentence: str, lang: str, only: set[str] | None = None) -> list[tuple[int, int]]:
    """Where `sentence` names the people it says took part (in the ways `only`, when given). The
    people of a cue are the names before it in its clause ("Wang Xiaohui, Secretary of ...,
    attended"), or, when none comes before, the names after it ("Also attending were ...")."""
    cues = _cues(sentence, lang, only)
    if not cues:
        return []
    people = _zh_people(sentence) if lang == "zh" else _en_people(sentence)
    bounds = [0] + cues
    out: list[tuple[int, int]] = []
    for k, cue in enumerate(cues):
        before = [p for p in people if bounds[k] <= p[0] and p[1] <= cue]
        after = [p for p in people if p[0] >= cue and (k + 1 >= len(cues) or p[1] <= cues[k + 1])]
        if lang != "zh" and not (_LIST_CUE.match(sentence, cue) and _EN_CAPACITY.search(sentence)):
            # "said in his speech that Xi Jinping ...", "the attendees were briefed on the
            # Consumer Product Industry Plan": not a list of who took part.
            after = []
        out += [p for p in before or after if p not in out]
    return out
