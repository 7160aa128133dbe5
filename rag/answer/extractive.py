"""Extractive, grounded answers: pick the sentences of the retrieved passages that answer the
question, cite each, and abstain when the evidence does not support an answer.

Nothing here writes new text about the articles: every sentence of an answer is a sentence
of a passage, so every claim is exactly as faithful as its citation. Which sentences, and
whether to answer at all, is the trained reader's call (rag/answer/reader_model.py,
docs/READER.md); which of them make the answer, rag/answer/selection.py; how it abstains,
rag/answer/abstention.py.
"""

from __future__ import annotations

import re
from typing import Callable

from rag.answer.abstention import abstain, missing_phrase, quote
from rag.answer.attribution import Previous, said_about, said_by
from rag.answer.citations import CitationList
from rag.answer.expected_types import DATES, FIGURE, TYPED
from rag.answer.questions import speaker
from rag.answer.reader_model import ReaderModel
from rag.answer.selection import ListItems, expand_lists, gathers, intersection, item_cue, select
from rag.answer.sentence_features import Candidate, Lexicon, Vectors
from rag.answer.sentence_features import candidates as sentence_candidates
from rag.answer.vocabulary import replies
from rag.lang.tokenization import tokenize
from rag.types import Answer, Hit, Kind, Question


# When a question names a unit, the figure must be in that unit.
_UNITS = [
    (r"\b(km|kilomet(er|re)s?)\b|公里|千米", r"\b(km|kilomet(er|re)s?)\b|公里|千米"),
    (r"\bpercent|%|percentage|百分|比例|增长率", r"percent|%|百分之"),
    (r"\byuan\b|\bRMB\b|元|资金|funding|budget|invest", r"yuan|RMB|\$|dollars?|euros?|pounds?|元"),
    (r"\bpeople\b|\bpersons?\b|\battendees\b|\binhabitants\b|多少人|几人", r"\b(people|persons|attendees|participants|delegates|inhabitants|residents)\b|[0-9一二三四五六七八九十百千万]+\s*(人|名|位)"),
    (r"\btons?\b|吨", r"\btons?\b|吨"),
    (r"\bhow old\b|\bwhat age\b|多大年纪|几岁|多少岁|年龄", r"\b(years?|months?|weeks?|days?)[ -]old\b|\baged?\b|岁"),
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


def states_value(q: Question, sentence: str) -> bool:
    """Whether `sentence` gives what a when / how-many question `q` asks for: a date, a figure."""
    return states_date(sentence) if q.kind == Kind.WHEN else states_figure(q.text, sentence)


def shown_confidence(confidence: float, best: Candidate, shown: Candidate) -> float:
    """The reader's `confidence` is that its most probable sentence, `best`, answers. A when or
    how-many question shows instead the most probable sentence that gives a date or figure: the
    confidence must be that one's. Given that the evidence answers, the sentence model puts the
    answer in each sentence with its probability `p`, so the shown sentence answers with about
    confidence × p(shown) / p(best). "On what date did the Games open?" against a sentence on
    the Games with no date (p 0.99) and one on a delegation's visit "On June 26" (p 0.004) was
    answered with June 26 at confidence 0.67; it is now 0.003, and the tool abstains."""
    if shown is best or best.p <= 0.0:
        return confidence
    return confidence * min(1.0, shown.p / best.p)


def compose(q: Question, chosen: list[Candidate]) -> Answer:
    """The answer of the `chosen` sentences, each cited, in the language's reply form (a note
    when the sentences are in another language than the question)."""
    cites = CitationList()
    # Read in article order: by the rank of the article's first passage, then by position.
    article_rank: dict[str, int] = {}
    for c in sorted(chosen, key=lambda c: c.rank):
        article_rank.setdefault(c.hit.article_id, len(article_rank))
    if gathers(q):  # a list reads best in the article's order
        ordered = sorted(chosen, key=lambda c: (article_rank[c.hit.article_id], c.key[0], c.key[1]))
    else:  # a single answer leads with its best sentence
        ordered = sorted(chosen, key=lambda c: (article_rank[c.hit.article_id], -c.score))
    parts, sentences = [], []
    for c in ordered:
        n = cites.cite(c.hit, c.span)
        parts.append(f"{c.text} [{n}]")
        sentences.append({"text": c.text, "citation": n, "passage_id": c.hit.id,
                          "start": c.span[0], "end": c.span[1], "p": c.p})
    say = replies(q.lang)
    other = {c.hit.lang for c in ordered} - {q.lang}
    # Sentences of two languages are set apart by a space, whatever the question's language.
    text = (" " if other else say["sentence_separator"]).join(parts)
    if other:
        text = say["from_other_language"] + text
    return Answer(text=text, answered=True, citations=cites.items(), sentences=sentences)


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
    # "Who attended" reads every passage retrieved for the list of who took part.
    for rank, hit in enumerate(hits if q.attendance else hits[:SEMANTIC_PASSAGES]):
        for i, span in enumerate(hit.sentences):
            c = Candidate(hit, rank, span, hit.text[span[0]:span[1]], i)
            cands.setdefault(c.key, c)
    items = list(cands.values())
    if not items:
        return []
    sims = similarity(q.text, [c.text for c in items])
    for c, sim in zip(items, sims):
        coverage = min(1.0, max(0.0, (sim - CROSS_LINGUAL_LOW) / (CROSS_LINGUAL_HIGH - CROSS_LINGUAL_LOW)))
        c.p = coverage * (1.0 if (item_cue(q, c) or q.kind in (Kind.OTHER, Kind.WHY)) else 0.5) + 0.02 / (c.rank + 1)
    return sorted(items, key=lambda c: (-c.p, c.rank, c.span[0]))


def _least_event_confidence(q: Question, candidates: list[Candidate], lexicon: Lexicon, model: ReaderModel,
                            groups: list[set[str]]) -> float:
    """A question about several events ("Where were the fifth and the seventh meetings held?")
    is answered when the evidence of each event answers it: the least of the confidences of
    each event's sentences, read on their own. Over all the sentences at once, the reader sees
    two events competing for one answer and its confidence says little. Sets each candidate's
    `p` within its event: score all the candidates after it."""
    return min(model.score(q, [c for c in candidates if c.hit.article_id in g], lexicon) for g in groups)


def answer(q: Question, hits: list[Hit], lexicon: Lexicon, model: ReaderModel, qvec,
           min_confidence: float, article_groups: list[set[str]] | None = None,
           list_items: ListItems | None = None, similarity: Similarity | None = None,
           vectors: Vectors | None = None, previous_passage: Previous | None = None) -> Answer:
    """The answer to `q` from `hits`, or an abstention when the reader's confidence that the
    evidence answers it is under `min_confidence`. `list_items(hit, span)` returns the items of
    a list that the sentence at `span` introduces, which may run into the next passages;
    `previous_passage(hit)` the passage before a passage, to find who said what it quotes."""
    if not hits:
        return abstain(q, [], reason="nothing retrieved", confidence=0.0)
    if similarity is not None and not any(h.lang == q.lang for h in hits):
        candidates = score_sentences_semantic(q, hits, similarity)
        confidence = candidates[0].p if candidates else 0.0
    else:
        candidates = sentence_candidates(q, hits, lexicon, qvec, vectors)
        several = article_groups and len(article_groups) > 1
        least = _least_event_confidence(q, candidates, lexicon, model, article_groups) if several else None
        confidence = model.score(q, candidates, lexicon)  # every candidate's `p` over them all
        if least is not None:
            confidence = least
        candidates.sort(key=lambda c: (-c.p, c.rank, c.span[0]))
    topic = q.topic
    if topic:
        # "What did X say about Y": when no passage of the evidence holds all the words of Y,
        # whatever X said there, it was not about Y (like an anchor that no article holds).
        wanted = set(tokenize(topic, bigrams_only=True))
        on_topic = [h for h in hits
                    if wanted <= set(tokenize(h.meta.get("title", "") + "\n" + h.text, bigrams_only=True))]
        if wanted and not on_topic:
            return abstain(q, hits, what=quote(topic, q), confidence=0.0,
                           reason=f"not in the evidence: {topic}")
        # ... and when Y is there but no passage that holds it reports X speaking, the articles
        # do not relate the two: "What did Huang Qiang say about tourism?" against a passage
        # where he attends a tourism ceremony and says nothing.
        who = speaker(q.text)
        known = {t for t in tokenize(who, bigrams_only=True) if lexicon.idf(t)} if who else set()
        if known and not any(said_by(h, wanted, known, previous_passage) for h in on_topic):
            what = replies(q.lang)["said_about"].format(who=who, what=quote(topic, q))
            return abstain(q, hits, what=what, confidence=0.0,
                           reason=f"no sentence on {topic} is reported as said by {who}")
        # The answer is a sentence on Y that X said, when the evidence has one.
        candidates = said_about(candidates, wanted, known, previous_passage) or candidates
    if q.intersect and q.kind == Kind.WHO and article_groups and len(article_groups) > 1 and \
            confidence >= min_confidence:
        # What the events share is found by comparing their evidence, not read off one sentence.
        both = intersection(q, candidates, article_groups)
        if both is not None:
            both.confidence = confidence
            return both
    # Coverage of the question's words means nothing across languages (a Chinese question, an
    # English article): the floors hold for a sentence in the question's language.
    best_topic: float | None = 0.0  # what the floor compares, None when it does not apply
    best = candidates[0] if candidates else None  # the reader's most probable sentence
    if best is not None:
        best_topic = best.features.get("cov_ctx", 1.0) if best.hit.lang == q.lang else None
    floor = model.coverage_floor_typed if q.kind in TYPED else model.coverage_floor
    if best_topic is not None and best_topic < floor:
        # Like an anchor no article holds: no sentence is about what the question asks.
        what = missing_phrase(q, [h.meta.get("title", "") + "\n" + h.text for h in hits], lexicon)
        out = abstain(q, hits, what=quote(what, q) if what else None, confidence=0.0,
                      reason=f"the best sentence covers too little of the question ({best_topic:.2f} < {floor:.2f})"
                             + (f"; not in the evidence: {what}" if what else ""))
        out.coverage = best_topic
        return out
    if q.kind in TYPED:
        # A "how many / when" question is answered by a figure / a date, not by a sentence on the topic.
        value = "date" if q.kind == Kind.WHEN else "figure"
        candidates = [c for c in candidates if states_value(q, c.text)]
        if not candidates:
            return abstain(q, hits, what=replies(q.lang)[f"this_{value}"],
                           reason=f"no {value} in the evidence", confidence=0.0)
        if candidates[0] is not best:
            # The sentence about what is asked gives no date or figure; another sentence's is shown.
            confidence = shown_confidence(confidence, best, candidates[0])
            if confidence < min_confidence:  # what is missing is the value itself, not a word of the question
                return abstain(q, hits, what=replies(q.lang)[f"this_{value}"], confidence=confidence,
                               reason=f"confidence {confidence:.2f} < {min_confidence:.2f}; "
                                      f"the {value} is from a sentence about something else")
    if confidence < min_confidence:
        what = missing_phrase(q, [h.meta.get("title", "") + "\n" + h.text for h in hits], lexicon)
        return abstain(q, hits, what=quote(what, q) if what else None, confidence=confidence,
                       reason=f"confidence {confidence:.2f} < {min_confidence:.2f}"
                              + (f"; not in the evidence: {what}" if what else ""))
    chosen = select(q, candidates, article_groups, second=model.second_sentence)
    if not chosen:
        return abstain(q, hits, reason="no sentence selected", confidence=confidence)
    if list_items is not None:
        chosen = expand_lists(chosen, list_items)
    out = compose(q, chosen)
    out.confidence = confidence
    out.coverage = best_topic
    return out
