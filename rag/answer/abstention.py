"""Abstaining: a plain "the articles do not say", naming what the question asks that the
evidence lacks ("artificial intelligence"), with the closest passages cited for the reader to
check. The reply texts are data (rag/answer/vocab/replies.json), one entry per language."""

from __future__ import annotations

import re

from rag.answer.citations import CitationList
from rag.answer.questions import canonical, strip_question_words
from rag.answer.sentence_features import MISSING_IDF, Lexicon
from rag.answer.vocabulary import replies
from rag.lang import CJK, has_cjk
from rag.lang.tokenization import tokenize
from rag.lang.zh import STOP_CHARS as ZH_STOPCHARS
from rag.types import Answer, Hit, Question

CLOSEST = 3


def abstain(q: Question, closest: list[Hit], what: str | None = None, reason: str = "",
            confidence: float | None = None) -> Answer:
    """A plain 'the articles do not say', with the closest passages cited for the reader to check."""
    cites = CitationList()
    ns = [cites.cite(h) for h in closest[:CLOSEST]]
    refs = " ".join(f"[{n}]" for n in ns)
    say = replies(q.lang)
    head = say["not_mentioned"].format(what=what) if what else say["not_answered"]
    text = head + (say["closest"].format(refs=refs) if ns else "")
    return Answer(text=text, answered=False, citations=cites.items(), reason=reason or "abstained",
                  confidence=confidence)


_WORD = re.compile(rf"[A-Za-z][A-Za-z'’-]*|[{CJK}]+|\d+(?:\.\d+)?")


def missing_phrase(q: Question, texts: list[str], lexicon: Lexicon) -> str | None:
    """The most specific run of the question's words that none of `texts` holds ("artificial
    intelligence" in "What did X say about artificial intelligence?"), to name in an abstention."""
    have: set[str] = set()
    for t in texts:
        raw = tokenize(t, bigrams_only=True)
        have |= set(raw) | set(canonical(raw))
    topic = q.topic
    wanted = set(tokenize(topic, bigrams_only=True)) if topic else set()
    if wanted and not any(wanted <= set(tokenize(t, bigrams_only=True)) for t in texts):
        return topic  # what the question says it is about, as written: no text holds all of it
    runs: list[list[tuple[str, float]]] = [[]]
    for m in _WORD.finditer(strip_question_words(q.text)):
        word = m.group(0)
        toks = tokenize(word, bigrams_only=True)
        if not toks:  # a stop word ends nothing: "state of emergency" is one phrase
            if runs[-1]:
                runs[-1].append((word, 0.0))
            continue
        if has_cjk(word[0]):  # a Chinese run: keep its characters that no text covers
            miss = _uncovered_cjk(word, have)
            for part in miss:
                runs.append([(part, MISSING_IDF)])
            runs.append([])
            continue
        if any(t in have or canonical([t])[0] in have for t in toks):
            runs.append([])
            continue
        runs[-1].append((word, max((lexicon.idf(t) or MISSING_IDF) for t in toks)))
    best = None
    for run in runs:
        while run and run[-1][1] == 0.0:
            run.pop()
        if not run:
            continue
        weight = sum(w for _, w in run)
        if best is None or weight > best[0]:
            joiner = "" if has_cjk(run[0][0][0]) else " "
            best = (weight, joiner.join(w for w, _ in run))
    return best[1] if best else None


def quote(what: str, q: Question) -> str:
    """`what` as the reply in the question's language quotes it."""
    return replies(q.lang)["quote"].format(what=what)


def _uncovered_cjk(run: str, have: set[str]) -> list[str]:
    covered = [False] * len(run)
    for i in range(len(run) - 1):
        if run[i:i + 2] in have:
            covered[i] = covered[i + 1] = True
    parts, cur = [], ""
    for ch, ok in zip(run, covered):
        if ok:
            if len(cur) >= 2:
                parts.append(cur)
            cur = ""
        else:
            cur += ch
    if len(cur) >= 2:
        parts.append(cur)
    trimmed = ["".join(p).strip("".join(ZH_STOPCHARS)) for p in parts]
    return [p for p in trimmed if len(p) >= 2]

