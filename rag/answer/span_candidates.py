"""Candidate short answers: the runs of words of a sentence that could answer (dates, figures
and amounts, names, short phrases bounded by function words or punctuation, whole clauses).

Spans are offsets into the sentence, so the text is exactly as written: a date or figure is
never reformatted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from rag.answer.expected_types import DATES, FIGURE
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
    types: frozenset[str]  # of "date", "number", "name", "phrase"
    tokens: tuple[int, int] = (0, 0)  # [first, last+1] word index in the sentence
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
    return sorted(spans.values(), key=lambda s: (s.start, s.end))


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
