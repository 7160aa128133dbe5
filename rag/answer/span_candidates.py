"""Candidate short answers: the runs of words of a sentence that could answer (dates, figures
and amounts, names, short phrases bounded by function words or punctuation, whole clauses).

Spans are offsets into the sentence, so the text is exactly as written: a date or figure is
never reformatted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from rag.answer.expected_types import DATES, FIGURE, NOT_NAME, person_names
from rag.answer.span_words import NUMBER_WORDS, ZH_NAME_TAGS, Word, words
from rag.types import Answer

MAX_TOKENS = {"en": 8, "zh": 10}
MAX_CHARS = 60
MAX_CLAUSE_CHARS = 90
_CLAUSE_END = re.compile(r"[,，;；:：。.!！?？、]")


@dataclass
class Span:
    start: int  # offsets in the sentence
    end: int
    text: str
    types: frozenset[str]  # of "date", "number", "name", "phrase", and "list" for an enumeration
    tokens: tuple[int, int] = (0, 0)  # [first, last+1] word index in the sentence
    items: tuple[tuple[int, int], ...] = ()  # an enumeration's items, as offsets in the sentence
    features: dict[str, float] = field(default_factory=dict)
    p: float = 0.0


def _types(text: str, ws: Sequence[Word], lang: str, first: bool = False) -> frozenset[str]:
    t = set()
    if DATES.search(text):
        t.add("date")
    if FIGURE.search(DATES.sub(" ", text)) or any(w.text.lower() in NUMBER_WORDS for w in ws) or \
            any(w.tag == "m" for w in ws):
        t.add("number")
    content = [w for w in ws if not w.stop and not w.punct]
    if lang == "zh":
        if any(w.tag.startswith(ZH_NAME_TAGS) for w in ws):
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
    for e in enumerations(sentence, ws, lang):
        spans[(e.start, e.end)] = e  # the same words as one run, now with their items
    return sorted(spans.values(), key=lambda s: (s.start, s.end))


# What separates the items of an enumeration: "A, B and C", "甲、乙和丙". Language-specific
# words, kept here in one place per language.
LIST_SEPARATORS = {"en": {",", ";", "and", "or", "as well as"}, "zh": {"、", "；", "和", "及", "与", "以及", "或"}}
MAX_ITEMS = 12
_ZH_ITEM_TAGS = ("n", "vn", "an", "j", "eng", "m", "q", "f", "s", "t")
MAX_LIST_CHARS = 240
QUOTES = set('"“”‘’「」『』《》')


def _item_kind(text: str, ws: Sequence[Word], lang: str) -> str:
    t = _types(text, ws, lang)
    for k in ("date", "number"):
        if k in t:
            return k
    if lang == "zh":
        # Chinese names and noun phrases are not told apart by capitals: both are items; a cut
        # that is names alone is a kind of its own, so "施小琳" is cut from "四川省领导施小琳".
        content = [w for w in ws if not w.punct]
        return "name" if content and all(w.tag.startswith(ZH_NAME_TAGS) for w in content) else "nominal"
    return "name" if "name" in t else "nominal"


def _trimmed(ws: Sequence[Word], a: int, b: int, inner: frozenset[int] = frozenset()) -> tuple[int, int]:
    while a < b and (ws[a].stop or ws[a].punct):
        a += 1
    while b > a and (ws[b - 1].stop or ws[b - 1].punct) and not (b - 1 in inner and ws[b - 1].text in CLOSERS):
        b -= 1
    return a, b


OPENERS, CLOSERS = "(（", ")）"
MAX_BRACKETED = 6


def bracketed(ws: Sequence[Word], seps: set[str]) -> frozenset[int]:
    """Word positions of short brackets that qualify the word before them, brackets included:
    "西部(重庆)科学城" and "Liège (Belgium)" are one item each, not the end of a list."""
    inside: set[int] = set()
    for k, w in enumerate(ws):
        if w.text not in OPENERS or k == 0 or ws[k - 1].punct:
            continue
        for m in range(k + 1, min(len(ws), k + MAX_BRACKETED + 2)):
            if ws[m].text in CLOSERS:
                if m > k + 1:
                    inside.update(range(k, m + 1))
                break
            if ws[m].punct or ws[m].text.lower() in seps:
                break
    return frozenset(inside)


def enumerations(sentence: str, ws: Sequence[Word], lang: str) -> list[Span]:
    """Coordinated items of one kind ("Hu Henghua and Huang Qiang", "成渝中线高铁、渝西高铁"),
    each enumeration one candidate whose items are kept: a question that asks for several
    things is answered by all of them. The first item may be the tail of its segment and the
    last the head of its own ("visited by Chen Min'er, Wang Xiaohui and Hu Henghua on ..."),
    cut where the item's kind (name, figure, date) ends."""
    seps = LIST_SEPARATORS.get(lang, LIST_SEPARATORS["en"])
    inner = bracketed(ws, seps)
    runs: list[list[tuple[int, int]]] = [[]]
    start = None
    for k, w in enumerate(ws + [None]):  # type: ignore[operator]
        if k in inner:
            if start is None:
                start = k
            continue
        if w is not None and w.text in QUOTES and (start is None or k + 1 == len(ws) or ws[k + 1].punct
                                                   or ws[k + 1].text.lower() in seps):
            continue  # “Integration” and “high quality”: quotes around items do not end the list
        if w is None or w.text.lower() in seps or w.punct:
            if start is not None:
                runs[-1].append(_trimmed(ws, start, k, inner))
                start = None
            if w is None or w.text.lower() not in seps:
                runs.append([])  # other punctuation ends the enumeration
        elif start is None:
            start = k
    limit = MAX_TOKENS.get(lang, 8)
    out: list[Span] = []

    def kind(a: int, b: int) -> str:
        if 0 < a and b < len(ws) and ws[a - 1].text in QUOTES and ws[b].text in QUOTES:
            return "quoted"  # a quoted term is an item whatever its words
        return _item_kind(sentence[ws[a].start:ws[b - 1].end], ws[a:b], lang)

    def item_like(a: int, b: int) -> bool:
        if kind(a, b) == "quoted":
            return True
        if lang == "zh":  # a run of nouns, names and figures (jieba's tags), no verb or particle
            return all(ws[k].tag.startswith(_ZH_ITEM_TAGS) for k in range(a, b) if k not in inner) \
                and ws[b - 1].tag != "vn"
        return kind(a, b) != "nominal"  # English: a name, a figure or a date

    def cuts(a: int, b: int, tail: bool) -> list[tuple[int, int]]:
        """The whole segment (in English), and its longest tail (or head) that is one item, of
        each kind ("Huang Qiang on June 29": "Huang Qiang", a name, and the whole, a date)."""
        got = [(a, b)] if b - a <= limit and (lang != "zh" or item_like(a, b)) else []
        seen = set()
        for x in (range(a, b) if tail else range(b, a, -1)):
            c = (x, b) if tail else (a, x)
            if c[1] - c[0] > limit or ws[c[0]].stop or ws[c[1] - 1].stop or c[0] in inner \
                    or (c[1] - 1 in inner and ws[c[1] - 1].text not in CLOSERS) or not item_like(*c):
                continue
            k = kind(*c)
            if k not in seen:
                seen.add(k)
                if c not in got:
                    got.append(c)
        return got

    for segs in runs:
        tails = [cuts(a, b, tail=True) if b > a else [] for a, b in segs]  # each segment as a first item
        heads = [cuts(a, b, tail=False) if b > a else [] for a, b in segs]  # ... and as a last one
        for i in range(len(segs)):
            for j in range(i + 1, min(len(segs), i + MAX_ITEMS)):
                middle = segs[i + 1:j]
                if any(b <= a or b - a > limit for a, b in middle) or segs[i][1] <= segs[i][0] \
                        or segs[j][1] <= segs[j][0]:
                    break
                # "Meishan, an important node city ..., and Yibin": in English a segment that opens
                # with an article after a name is that name's apposition, not an item.
                kept = [m for k, m in enumerate(middle) if not (lang != "zh" and _apposition(ws, m, segs[i + k])
                                                                and kind(*m) == "nominal")]
                for first in tails[i]:
                    for last in heads[j]:
                        items = [first, *kept, last]
                        if lang != "zh" and len({kind(a, b) for a, b in items}) != 1:
                            continue  # "In 2022, Chen Min'er ...": a date and a name are not a list
                        if lang != "zh" and {"person", "title"} <= {_name_sort(ws, a, b) for a, b in items}:
                            continue  # "Wu Hao, Secretary General of the ...": a name and its title
                        a, b = ws[first[0]].start, ws[last[1] - 1].end
                        if b - a > MAX_LIST_CHARS:
                            continue
                        text = sentence[a:b]
                        out.append(Span(a, b, text, _types(text, ws[first[0]:last[1]], lang) | {"list"},
                                        (first[0], last[1]),
                                        tuple((ws[x].start, ws[y - 1].end) for x, y in items)))
    return out


ARTICLES = {"a", "an", "the"}


def _name_sort(ws: Sequence[Word], a: int, b: int) -> str | None:
    """Of an English item: "person" when it is written like a person's name, two capitalised
    words neither of which names a role, a body or a month ("Wu Hao", "Chen Min'er"); "title"
    when it is capitalised and has such a word or a function word ("Secretary General of the
    National Development"); None otherwise ("Chengdu-Chongqing Middle Line", "Sichuan")."""
    content = [w for w in ws[a:b] if not w.punct]
    if not content or not content[0].text[:1].isupper():
        return None
    if any(w.stop or w.text.lower() in NOT_NAME for w in content):
        return "title"
    text = " ".join(w.text for w in content)
    return "person" if person_names(text, "en") == [text] else None


def _apposition(ws: Sequence[Word], seg: tuple[int, int], before: tuple[int, int]) -> bool:
    """Whether `seg` opens with an article (trimmed off it) and directly follows a capitalised
    word (a name)."""
    return seg[0] > 0 and ws[seg[0] - 1].text.lower() in ARTICLES and before[1] > before[0] \
        and ws[before[1] - 1].text[:1].isupper()


def _inside_value(sentence: str, ws: Sequence[Word], j: int) -> bool:
    """A comma within a date or a number written with words: "June 29, 2022", "Paris, France"."""
    if j == 0 or j + 1 >= len(ws):
        return False
    before, after = ws[j - 1].text, ws[j + 1].text
    return bool(re.fullmatch(r"\d{1,2}(st|nd|rd|th)?", before) and re.fullmatch(r"\d{4}", after))


def cited_sentences(answer: Answer) -> list[tuple[int, dict, str, str]]:
    """(index, sentence record, sentence text, language) of each sentence of `answer` whose
    offsets in its cited passage are known."""
    passages = {c.n: (c.text, c.lang) for c in answer.citations}
    out = []
    for k, s in enumerate(answer.sentences):
        passage, lang = passages.get(s["citation"], ("", "en"))
        if s.get("start") is not None and passage:
            out.append((k, s, passage[s["start"]:s["end"]], lang))
    return out
