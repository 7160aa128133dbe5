"""Extractive, grounded answers: pick the sentences of the retrieved passages that answer the
question, cite each, and abstain when the evidence does not support an answer.

Nothing here writes new text about the articles: every sentence of an answer is a sentence
of a passage, so every claim is exactly as faithful as its citation. Which sentences, and
whether to answer at all, is the trained reader's call (rag/answer/reader.py, docs/READER.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from rag.answer import reader
from rag.answer.citations import Citation, CitationList
from rag.answer.questions import Kind, Question, about, took_part
from rag.answer.reader import DATES, FIGURE, Candidate, Lexicon
from rag.retrieve.hybrid import Hit
from rag.lang.tokenization import tokenize

from rag.answer.spans import ShortAnswer, ShortItem

# Sentences kept beside the best one must be at least this probable relative to it.
RELATIVE_KEEP = {"gather": 0.05, "single": 0.3}
MAX_SENTENCES = {"gather": 8, "single": 2}
GATHER_COVERAGE = 0.5
# Questions answered by a value of their kind: a date or a figure in a sentence about something
# else is no answer, so their coverage floor is learnt on its own.
TYPED = (Kind.WHEN, Kind.QUANTITY)
# A second sentence is added to a single answer only while the answer stays short.
SINGLE_MAX_CHARS = 170
CLOSEST = 3


@dataclass
class Answer:
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    reason: str = ""  # why it abstained, for the eval and logs
    sentences: list[dict] = field(default_factory=list)  # [{"text", "citation"}]
    confidence: float | None = None  # probability that the evidence answers the question
    short: ShortAnswer | None = None  # the exact phrase that answers (rag/answer/spans.py)


# When a question names a unit, the figure must be in that unit.
_UNITS = [
    (r"\b(km|kilomet(er|re)s?)\b|公里|千米", r"\b(km|kilomet(er|re)s?)\b|公里|千米"),
    (r"\bpercent|%|percentage|百分|比例|增长率", r"percent|%|百分之"),
    (r"\byuan\b|\bRMB\b|元|资金|funding|budget|invest", r"yuan|RMB|\$|dollars?|euros?|pounds?|元"),
    (r"\bpeople\b|\bpersons?\b|\battendees\b|\binhabitants\b|多少人|几人", r"\b(people|persons|attendees|participants|delegates|inhabitants|residents)\b|[0-9一二三四五六七八九十百千万]+\s*(人|名|位)"),
    (r"\btons?\b|吨", r"\btons?\b|吨"),
    (r"\bGDP\b|生产总值|growth rate|增长", r"%|percent|百分|yuan|元|亿"),
]


def states_figure(question: str, sentence: str) -> bool:
    """Whether `sentence` gives a figure of the kind `question` asks for (dates are not figures)."""
    rest = DATES.sub(" ", sentence)
    if not FIGURE.search(rest):
        return False
    for asked, given in _UNITS:
        if re.search(asked, question, re.I) and not re.search(given, rest, re.I):
            return False
    return True


def states_date(sentence: str) -> bool:
    return bool(DATES.search(sentence))


def _cue(q: Question, c: Candidate) -> bool:
    """A sentence that can be one item of a gathered list: it names someone taking part."""
    return took_part(c.text) if q.participation else bool(reader.values(q.kind, c.text, c.hit.lang)) or q.kind == Kind.LIST


def _gathers(q: Question) -> bool:
    # "Who attended" wants everyone; "Who is the mayor" wants one sentence.
    return q.kind == Kind.LIST or q.participation


def select(q: Question, candidates: list[Candidate], article_groups: list[set[str]] | None = None) -> list[Candidate]:
    """The sentences of the answer. With `article_groups` (one set of articles per anchor, for a
    question comparing two events) the best sentences of each group are taken."""
    if not candidates:
        return []
    groups = article_groups or [None]
    chosen: list[Candidate] = []
    for group in groups:
        pool = [c for c in candidates if group is None or c.hit.article_id in group]
        if not pool:
            continue
        same = [c for c in pool if c.hit.lang == q.lang]
        if same and same[0].score >= 0.8 * pool[0].score:
            pool = same  # answer in the question's language when that text says as much
        best = pool[0]
        mode = "gather" if _gathers(q) else "single"
        picked = [best]
        length = len(best.text)
        for c in pool[1:]:
            if len(picked) >= MAX_SENTENCES[mode]:
                break
            if c.score < RELATIVE_KEEP[mode] * best.score and not (mode == "gather" and _as_good(c, best)):
                continue
            if mode == "gather" and (not _cue(q, c) or c.hit.article_id != best.hit.article_id):
                continue  # all the people of *that* event, not of another one
            if mode == "single" and length + len(c.text) > SINGLE_MAX_CHARS:
                continue
            if c.hit.lang != best.hit.lang:
                continue
            picked.append(c)
            length += len(c.text)
        chosen.extend(c for c in picked if c.key not in {x.key for x in chosen})
    return chosen


def intersection(q: Question, candidates: list[Candidate], groups: list[set[str]]) -> Answer | None:
    """'Who attended both meetings': the people named in a participation sentence of every
    group of articles, each cited where each group names them; None when no one is common."""
    per_group: list[dict[str, Candidate]] = []
    for group in groups:
        named: dict[str, Candidate] = {}
        for c in candidates:  # best first, so each name keeps its most probable sentence
            if c.hit.article_id in group and took_part(c.text):
                for name in reader.person_names(c.text, c.hit.lang):
                    named.setdefault(name, c)
        per_group.append(named)
    common = [n for n in per_group[0] if all(n in g for g in per_group[1:])]
    if not common:
        return None
    cites = CitationList()
    parts, sentences, items = [], [], []
    for name in common:
        marks = []
        first = per_group[0][name]
        at = first.text.find(name)
        for g in per_group:
            c = g[name]
            n = cites.cite(c.hit, c.span)
            if f"[{n}]" not in marks:
                marks.append(f"[{n}]")
                sentences.append({"text": c.text, "citation": n, "passage_id": c.hit.id,
                                  "start": c.span[0], "end": c.span[1], "p": c.p})
        parts.append(f"{name} {''.join(sorted(marks, key=lambda m: int(m[1:-1])))}")
        if at >= 0:
            items.append(ShortItem(name, cites.cite(first.hit), first.span[0] + at, first.span[0] + at + len(name)))
    if q.lang == "zh":
        text = f"每一次都提到的人：{'、'.join(parts)}。"
    else:
        text = f"Named at each of them: {', '.join(parts[:-1])}{' and ' if len(parts) > 1 else ''}{parts[-1]}."
    short = ShortAnswer(items, 1.0, "list" if len(items) > 1 else "span") if items else None
    return Answer(text=text, answered=True, citations=cites.items(), sentences=sentences, short=short)


def _as_good(c: Candidate, best: Candidate) -> bool:
    """For a list of everyone who took part: a sentence that covers the question about as well
    as the best one does. The reader's probabilities pick one best sentence (they sum to one
    over the candidates), so the others of a list are judged by coverage."""
    mine, top = c.features.get("cov_ctx"), best.features.get("cov_ctx")
    return mine is not None and top is not None and mine >= GATHER_COVERAGE * top


def compose(q: Question, chosen: list[Candidate]) -> Answer:
    cites = CitationList()
    # Read in article order: by the rank of the article's first passage, then by position.
    article_rank: dict[str, int] = {}
    for c in sorted(chosen, key=lambda c: c.rank):
        article_rank.setdefault(c.hit.article_id, len(article_rank))
    if _gathers(q):  # a list reads best in the article's order
        ordered = sorted(chosen, key=lambda c: (article_rank[c.hit.article_id], c.key[0], c.key[1]))
    else:  # a single answer leads with its best sentence
        ordered = sorted(chosen, key=lambda c: (article_rank[c.hit.article_id], -c.score))
    parts, sentences = [], []
    for c in ordered:
        n = cites.cite(c.hit, c.span)
        parts.append(f"{c.text} [{n}]")
        sentences.append({"text": c.text, "citation": n, "passage_id": c.hit.id,
                          "start": c.span[0], "end": c.span[1], "p": c.p})
    joiner = "" if q.lang == "zh" and all(c.hit.lang == "zh" for c in ordered) else " "
    text = joiner.join(parts)
    other = {c.hit.lang for c in ordered} - {q.lang}
    if other and q.lang == "zh":
        text = "（以下摘自英文报道）" + text
    elif other and q.lang == "en":
        text = "(From the Chinese text) " + text
    return Answer(text=text, answered=True, citations=cites.items(), sentences=sentences)


def abstain(q: Question, closest: list[Hit], what: str | None = None, reason: str = "",
            confidence: float | None = None) -> Answer:
    """A plain 'the articles do not say', with the closest passages cited for the reader to check."""
    cites = CitationList()
    ns = [cites.cite(h) for h in closest[:CLOSEST]]
    refs = " ".join(f"[{n}]" for n in ns)
    if q.lang == "zh":
        head = f"文章中没有提到{what}。" if what else "文章没有回答这个问题。"
        text = head + (f"最相关的段落：{refs}" if ns else "")
    else:
        head = f"The articles do not mention {what}." if what else "The articles do not say."
        text = head + (f" The closest passages are {refs}." if ns else "")
    return Answer(text=text, answered=False, citations=cites.items(), reason=reason or "abstained",
                  confidence=confidence)


_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|[\u3400-\u4dbf\u4e00-\u9fff]+|\d+(?:\.\d+)?")


def missing_phrase(q: Question, texts: list[str], lexicon: Lexicon) -> str | None:
    """The most specific run of the question's words that none of `texts` holds ("artificial
    intelligence" in "What did X say about artificial intelligence?"), to name in an abstention."""
    from rag.answer.questions import canonical, strip_question_words

    have: set[str] = set()
    for t in texts:
        raw = tokenize(t, bigrams_only=True)
        have |= set(raw) | set(canonical(raw))
    topic = about(q.text)
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
        if word[0] >= "\u3400":  # a Chinese run: keep its characters that no text covers
            miss = _uncovered_cjk(word, have)
            for part in miss:
                runs.append([(part, reader.MISSING_IDF)])
            runs.append([])
            continue
        if any(t in have or canonical([t])[0] in have for t in toks):
            runs.append([])
            continue
        runs[-1].append((word, max((lexicon.idf(t) or reader.MISSING_IDF) for t in toks)))
    best = None
    for run in runs:
        while run and run[-1][1] == 0.0:
            run.pop()
        if not run:
            continue
        weight = sum(w for _, w in run)
        if best is None or weight > best[0]:
            joiner = "" if run[0][0][0] >= "\u3400" else " "
            best = (weight, joiner.join(w for w, _ in run))
    return best[1] if best else None


def _quote(what: str, q: Question) -> str:
    return what if q.lang == "zh" else f"“{what}”"


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
    from rag.lang.zh import STOP_CHARS as ZH_STOPCHARS

    trimmed = ["".join(p).strip("".join(ZH_STOPCHARS)) for p in parts]
    return [p for p in trimmed if len(p) >= 2]


Similarity = Callable[[str, list[str]], list[float]]  # question, sentences -> cosine similarities
# e5 cosines between a question and a sentence in another language: below LOW unrelated,
# above HIGH on topic (measured on the shipped articles, see docs/EVALUATION.md).
CROSS_LINGUAL_LOW, CROSS_LINGUAL_HIGH = 0.76, 0.84
SEMANTIC_PASSAGES = 3


def score_sentences_semantic(q: Question, hits: list[Hit], similarity: Similarity) -> list[Candidate]:
    """For a question with no passage in its language (a Chinese question about an English-only
    article), words cannot match and the reader, trained on same-language pairs, does not apply:
    a sentence's probability is its embedding similarity mapped onto [0, 1]."""
    cands: dict[tuple[str, int], Candidate] = {}
    for rank, hit in enumerate(hits[:SEMANTIC_PASSAGES]):
        for i, span in enumerate(hit.sentences):
            c = Candidate(hit, rank, span, hit.text[span[0]:span[1]], i)
            cands.setdefault(c.key, c)
    items = list(cands.values())
    if not items:
        return []
    sims = similarity(q.text, [c.text for c in items])
    for c, sim in zip(items, sims):
        coverage = min(1.0, max(0.0, (sim - CROSS_LINGUAL_LOW) / (CROSS_LINGUAL_HIGH - CROSS_LINGUAL_LOW)))
        c.p = coverage * (1.0 if (_cue(q, c) or q.kind in (Kind.OTHER, Kind.WHY)) else 0.5) + 0.02 / (c.rank + 1)
    return sorted(items, key=lambda c: (-c.p, c.rank, c.span[0]))


ListItems = Callable[[Hit, tuple[int, int]], list[tuple[Hit, tuple[int, int]]]]
_INTRODUCES_LIST = reader._INTRODUCES_LIST


def answer(q: Question, hits: list[Hit], lexicon: Lexicon, model: "reader.ReaderModel", qvec,
           min_confidence: float, article_groups: list[set[str]] | None = None,
           list_items: ListItems | None = None, similarity: Similarity | None = None,
           vectors: "reader.Vectors | None" = None) -> Answer:
    """The answer to `q` from `hits`, or an abstention when the reader's confidence that the
    evidence answers it is under `min_confidence`. `list_items(hit, span)` returns the items of
    a list that the sentence at `span` introduces, which may run into the next passages."""
    if not hits:
        return abstain(q, [], reason="nothing retrieved", confidence=0.0)
    if similarity is not None and not any(h.lang == q.lang for h in hits):
        candidates = score_sentences_semantic(q, hits, similarity)
        confidence = candidates[0].p if candidates else 0.0
    else:
        candidates = reader.candidates(q, hits, lexicon, qvec, vectors)
        confidence = model.score(q, candidates, lexicon)
        candidates.sort(key=lambda c: (-c.p, c.rank, c.span[0]))
    # A "how many / when" question is answered by a figure / a date, not by a sentence on the topic.
    topic = about(q.text)
    if topic:
        # "What did X say about Y": when no passage of the evidence holds all the words of Y,
        # whatever X said there, it was not about Y (like an anchor that no article holds).
        wanted = set(tokenize(topic, bigrams_only=True))
        if wanted and not any(wanted <= set(tokenize(h.meta.get("title", "") + "\n" + h.text, bigrams_only=True))
                              for h in hits):
            return abstain(q, hits, what=_quote(topic, q), confidence=0.0,
                           reason=f"not in the evidence: {topic}")
    if q.intersect and q.kind == Kind.WHO and article_groups and len(article_groups) > 1:
        # What the events share is found by comparing their evidence, not read off one sentence.
        both = intersection(q, candidates, article_groups)
        if both is not None:
            both.confidence = confidence
            return both
    best_topic = max((c.features.get("cov_ctx", 1.0) for c in candidates[:1]), default=0.0)
    floor = model.coverage_floor_typed if q.kind in TYPED else model.coverage_floor
    if best_topic < floor:
        # Like an anchor no article holds: no sentence is about what the question asks.
        what = missing_phrase(q, [h.meta.get("title", "") + "\n" + h.text for h in hits], lexicon)
        return abstain(q, hits, what=_quote(what, q) if what else None, confidence=0.0,
                       reason=f"the best sentence covers too little of the question ({best_topic:.2f} < {floor:.2f})"
                              + (f"; not in the evidence: {what}" if what else ""))
    if q.kind == Kind.QUANTITY:
        candidates = [c for c in candidates if states_figure(q.text, c.text)]
        if not candidates:
            return abstain(q, hits, what="这个数字" if q.lang == "zh" else "this figure",
                           reason="no figure in the evidence", confidence=0.0)
    if q.kind == Kind.WHEN:
        candidates = [c for c in candidates if states_date(c.text)]
        if not candidates:
            return abstain(q, hits, what="这个日期" if q.lang == "zh" else "this date",
                           reason="no date in the evidence", confidence=0.0)
    if confidence < min_confidence:
        what = missing_phrase(q, [h.meta.get("title", "") + "\n" + h.text for h in hits], lexicon)
        return abstain(q, hits, what=_quote(what, q) if what else None, confidence=confidence,
                       reason=f"confidence {confidence:.2f} < {min_confidence:.2f}"
                              + (f"; not in the evidence: {what}" if what else ""))
    chosen = select(q, candidates, article_groups)
    if not chosen:
        return abstain(q, hits, reason="no sentence selected", confidence=confidence)
    if list_items is not None:
        chosen = _expand_lists(chosen, list_items)
    out = compose(q, chosen)
    out.confidence = confidence
    return out


def _expand_lists(chosen: list[Candidate], list_items: ListItems) -> list[Candidate]:
    out: list[Candidate] = []
    for c in chosen:
        out.append(c)
        if _INTRODUCES_LIST.search(c.text):
            for hit, span in list_items(c.hit, c.span):
                item = Candidate(hit, c.rank, span, hit.text[span[0]:span[1]], -1, c.p)
                if item.key not in {x.key for x in out} | {x.key for x in chosen}:
                    out.append(item)
    return out
