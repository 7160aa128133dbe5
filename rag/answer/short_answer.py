"""Short answers: the minimal span of a cited sentence that answers the question ("June 29,
2022" before the sentence that says it), or the people of a who-list.

Candidate spans are cut from the sentences the reader chose (rag/answer/span_candidates.py),
described by features that mean the same on any text (rag/answer/span_features.py) and ranked
by a model learnt by `scripts/train_short.py` (boosted trees, rag/answer/tree_model.py). "Who
attended" is answered by the people the sentences name (rag/answer/who_lists.py).
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import rag.lang as language
from rag.answer.linear_model import LinearModel
from rag.answer.span_candidates import Span, candidate_spans, cited_sentences
from rag.answer.span_features import SPAN_FEATURES, feature_matrix, span_features
from rag.answer.tree_model import TreeModel, ranker_from_json
from rag.answer.questions import asks_role
from rag.answer.vocabulary import replies
from rag.answer.who_lists import list_items, people_span
from rag.lang import CJK
from rag.types import Answer, Kind, Question, ShortAnswer, ShortItem

MAX_SENTENCES = 2  # of an answer, searched for its short answer
DECODE_TOP = 20  # the most probable spans among which the expected overlap chooses

# Questions answered by an explanation, not a phrase: no short answer. Chinese "why" is the
# language pack's (为什么 that ends a question is 为 + 什么, "as what": a phrase answers), and
# 怎样的 / 怎么样的 before a noun is "what kind of" ("怎样的新格局"): a phrase answers.
_EXPLAIN = re.compile(r"^\s*(why|how)\b(?!\s+(many|much|long|far|old|big|large|high|often|tall|wide|deep))|"
                      r"\b(explain|describe|what (did|does|do|has|have|will|would) .{1,60}\b(say|said|do|mean|think|propose|call for))\b|"
                      rf"{language.pack('zh').question_kinds['why']}|"
                      r"怎么(?!样的)|怎样(?!的)|如何|什么意义|什么作用", re.I)


def explanatory(q: Question) -> bool:
    """Whether `q` asks for an explanation (why, how, what did X say): its answer is sentences."""
    return q.kind == Kind.WHY or bool(_EXPLAIN.search(q.text))


def rank(model: LinearModel | TreeModel, spans: list[Span]) -> list[Span]:
    if not spans:
        return []
    for s, p in zip(spans, model.predict(feature_matrix(spans))):
        s.p = float(p)
    return sorted(spans, key=lambda s: (-s.p, s.start))


def spans_of(q: Question, answer: Answer, weights: dict[str, float],
             articles: set[str] | None = None) -> list[tuple[Span, dict]]:
    """Every candidate span of the answer's sentences (those cited from `articles`, when
    given), with its features, and its sentence."""
    out = []
    of_article = {c.n: c.article_id for c in answer.citations}
    pool = [k for k, s in enumerate(answer.sentences) if articles is None or of_article.get(s["citation"]) in articles]
    # The best sentences only: a short answer comes from what the reader ranks first, and a
    # gathered list's every sentence would multiply the spans (and the time) to no use.
    best = sorted(pool, key=lambda k: -answer.sentences[k].get("p", 0.0))[:MAX_SENTENCES]
    if not best:
        return out
    for k, s, sentence, lang in cited_sentences(answer):
        if k not in best:
            continue
        cands = candidate_spans(sentence, lang)
        people = people_span(sentence, lang)
        if people is not None and not any(c.items == people.items for c in cands):
            cands.append(people)
        span_features(q, sentence, cands, weights, s.get("p", 0.0), k == best[0], lang)
        out.extend((c, s) for c in cands)
    return states_time(q, out)


def states_time(q: Question, pairs: list[tuple[Span, dict]]) -> list[tuple[Span, dict]]:
    """A when-question's short answer states a time: only the spans that hold a date, when there
    are any, else those that hold a figure ("1066"). The expected-F1 choice can otherwise prefer a
    long clause that shares words with its many overlapping rivals over the date the trees rank
    first (第七次会议座谈会是什么时候举行的？ "6月26日", not the clause that names the meeting)."""
    if q.kind != Kind.WHEN:
        return pairs
    # A date first: a clause that holds "第七次" holds a figure too.
    for kinds in ({"date"}, {"number"}):
        timed = [(c, s) for c, s in pairs if c.types & kinds]
        if timed:
            return timed
    return pairs


def short_answer(q: Question, answer: Answer, model: LinearModel | TreeModel, weights: dict[str, float],
                 min_probability: float = 0.0, events: list[set[str]] | None = None,
                 sharpness: float | None = None) -> ShortAnswer | None:
    """The short answer of an extractive `answer` (rag.types.Answer), or None: when it
    abstained, when the question asks for an explanation, or when no span is probable enough.
    A question about several `events` (the articles of each) gets one answer per event, in the
    question's order ("June 29, June 26"), the same answer once ("Mayor of Chongqing").
    `sharpness`: see `choice`."""
    if not answer.answered or not answer.sentences or explanatory(q):
        return None
    if q.participation and not asks_role(q.text):
        found = list_items(q, answer)
        if found:
            return ShortAnswer(found, 1.0, "list" if len(found) > 1 else "span")
    if events and len(events) > 1:
        each = of_events(q.intersect, [spans_of(q, answer, weights, articles) for articles in events], model,
                         min_probability, sharpness)
        if each is not None:
            return each
    return pick(spans_of(q, answer, weights), model, min_probability, sharpness)


def of_events(intersect: bool, pairs_by_event: list[list[tuple[Span, dict]]], model: LinearModel | TreeModel,
              min_probability: float, sharpness: float | None = None) -> ShortAnswer | None:
    """The short answer of a question about several events, from each event's (span, sentence)
    pairs: what every event's sentences hold when the question asks what they have in common
    ("Which post did he hold at both meetings?"), otherwise one answer per event."""
    if intersect:
        return in_common(pairs_by_event, model, min_probability, sharpness)
    return per_event([pick(pairs, model, min_probability, sharpness) for pairs in pairs_by_event])


def _key(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().casefold()


def in_common(pairs_by_event: list[list[tuple[Span, dict]]], model: LinearModel | TreeModel,
              min_probability: float, sharpness: float | None = None) -> ShortAnswer | None:
    """The span whose text every event's sentences hold, the one whose least probability over
    the events is highest, cited where the first event says it; None when no text is common
    (then the best over all the sentences answers). Union is wrong here: "Which Sichuan Party
    secretary spoke at both meetings" is not answered by each meeting's secretary."""
    best: list[dict[str, tuple[Span, dict]]] = []
    for pairs in pairs_by_event:
        rank(model, [c for c, _ in pairs])
        by_text: dict[str, tuple[Span, dict]] = {}
        for c, s in sorted(pairs, key=lambda cs: (-cs[0].p, cs[0].start)):  # each text's most probable span
            by_text.setdefault(_key(c.text), (c, s))
        best.append(by_text)
    least = {k: min(b[k][0].p for b in best) for k in set.intersection(*map(set, best)) - {""}}
    if not least:
        return None
    key = max(sorted(least), key=least.get)
    if least[key] < min_probability:
        return None
    out = as_short(*best[0][key])
    out.confidence = least[key]
    # Its expected F1 is the least over the events, each against that event's spans (`choice`).
    out.expected_f1 = min(expected_f1(best[0][key][0].text, [c.p for c, _ in pairs], [c.text for c, _ in pairs],
                                      sharpness) for pairs in pairs_by_event)
    return out


def per_event(answers: list[ShortAnswer | None]) -> ShortAnswer | None:
    """One short answer from each event's, in order, the same text once; None when an event
    has none of its own (then the best over all the sentences answers). Its expected F1 is the
    mean of the events': the F1 of a list of answers is about the share of its words that are
    right, so one doubtful item costs its share, not the whole (with the least, retrained span
    trees withheld the right "Chongqing, Bishan" for where two meetings were held: docs/READER.md)."""
    if any(a is None for a in answers):
        return None
    items: list[ShortItem] = []
    for a in answers:
        items += [i for i in a.items if i.text not in {x.text for x in items}]
    return ShortAnswer(items, min(a.confidence for a in answers), "list" if len(items) > 1 else "span",
                       sum(a.expected for a in answers) / len(answers))


def pick(pairs: list[tuple[Span, dict]], model: LinearModel | TreeModel, min_probability: float,
         sharpness: float | None = None) -> ShortAnswer | None:
    """The short answer the (span, sentence) pairs give (`choice`), or None when even the most
    probable span is less probable than `min_probability`."""
    if not pairs:
        return None
    ranked = rank(model, [c for c, _ in pairs])
    if ranked[0].p < min_probability:
        return None
    k, expected = choice([c.p for c in ranked], [c.text for c in ranked], sharpness)
    best = ranked[k]
    sent = next(s for c, s in pairs if c is best)
    out = as_short(best, sent)
    out.expected_f1 = expected
    return out


def withheld_note(question: str) -> str:
    """What the chat and the CLI show instead of a withheld short answer, in the question's language."""
    return replies(language.detect(question))["short_withheld"]


def withheld(short: ShortAnswer, confidence: float | None, ratio: float | None) -> bool:
    """Whether to give no short answer although the sentences are shown. The reader's
    `confidence` is the probability that the evidence answers at all; if it does not, the empty
    answer is the right one. Stating the phrase is expected to score confidence × its expected
    F1 (`choice`), stating none 1 − confidence: the phrase is withheld when it loses by the factor
    `ratio` (learnt by scripts/train_short.py; None: never withheld). A confident tone on a
    phrase that is likelier wrong than right is what the user must not get; the sentences and
    their citations stay, with a note that no phrase is stated."""
    if ratio is None or confidence is None:
        return False
    return confidence * short.expected < ratio * (1.0 - confidence)


_OVERLAP_TOKEN = re.compile(f"[{CJK}]|[^\\W{CJK}]+")


def overlap_tokens(text: str) -> Counter:
    """What two answers share, as SQuAD's and CMRC's F1 count it: words, and Chinese characters
    one by one."""
    return Counter(_OVERLAP_TOKEN.findall(text.casefold()))


def overlap_f1(a: Counter, b: Counter) -> float:
    if len(a) > len(b):
        a, b = b, a
    common = sum(min(n, b[t]) for t, n in a.items() if t in b)
    return 2 * common / (a.total() + b.total()) if common else 0.0


def _distribution(probabilities: Sequence[float], sharpness: float | None) -> tuple[list[int], list[float]]:
    """The DECODE_TOP most probable spans' indices, most probable first, and their weights: each
    p raised to `sharpness` (1 when None), not normalised."""
    order = sorted(range(len(probabilities)), key=lambda i: -probabilities[i])[:DECODE_TOP]
    return order, [max(probabilities[i], 0.0) ** (1.0 if sharpness is None else sharpness) for i in order]


def expected_f1(text: str, probabilities: Sequence[float], texts: Sequence[str], sharpness: float | None) -> float:
    """The expected F1 of `text` against the distribution of spans `choice` weighs."""
    order, w = _distribution(probabilities, sharpness)
    mine = overlap_tokens(text)
    return sum(wi * overlap_f1(mine, overlap_tokens(texts[i])) for wi, i in zip(w, order)) / (sum(w) or 1.0)


def choice(probabilities: Sequence[float], texts: Sequence[str], sharpness: float | None) -> tuple[int, float]:
    """The index of the span to answer with, of spans given by their probabilities and texts,
    and its expected F1 against the spans' distribution (each p raised to `sharpness`, 1 when
    None, and normalised, over the DECODE_TOP most probable). With no `sharpness`, the most
    probable span; otherwise the one with the highest expected F1: when the model hesitates
    between overlapping phrases ("the fourth growth engine", "fourth growth engine in China"),
    the words they share are more often right in part than either is whole, and F1 gives
    partial credit. `sharpness` is learnt with the model (scripts/train_short.py)."""
    order, w = _distribution(probabilities, sharpness)
    if len(order) < 2:
        return order[0], 1.0
    total = sum(w) or 1.0
    toks = [overlap_tokens(texts[i]) for i in order]
    expected = list(w)  # each span's F1 with itself is 1
    for a in range(len(order)):  # F1 is symmetric: each pair once
        for b in range(a + 1, len(order)):
            f1 = overlap_f1(toks[a], toks[b])
            expected[a] += w[b] * f1
            expected[b] += w[a] * f1
    k = 0 if sharpness is None else max(range(len(order)), key=lambda k: (expected[k], -k))
    return order[k], expected[k] / total


def as_short(span: Span, sentence: dict) -> ShortAnswer:
    """The short answer a span of `sentence` (an answer sentence record) gives: the span, or
    the items of an enumeration, each with its offsets in the cited passage."""
    at = sentence["start"]
    if len(span.items) > 1:
        items = [ShortItem(span.text[a - span.start:b - span.start], sentence["citation"], at + a, at + b)
                 for a, b in span.items]
        return ShortAnswer(items, span.p, "list")
    return ShortAnswer([ShortItem(span.text, sentence["citation"], at + span.start, at + span.end)], span.p)


MODEL_PATH = Path(__file__).parent / "models" / "short.json"


@dataclass
class ShortModel:
    spans: LinearModel | TreeModel
    min_probability: float = 0.0
    meta: dict = field(default_factory=dict)
    sharpness: float | None = None  # of the expected-F1 choice (`choice`); None: the most probable span
    withhold_ratio: float | None = None  # of `withheld`; None: a short answer is never withheld

    def to_json(self) -> dict:
        return {"version": 2, "spans": self.spans.to_json(), "min_probability": self.min_probability,
                "sharpness": self.sharpness, "withhold_ratio": self.withhold_ratio, "meta": self.meta}

    @classmethod
    def from_json(cls, d: dict) -> "ShortModel":
        m = ranker_from_json(d["spans"])
        if m.features != SPAN_FEATURES:
            raise ValueError("the short-answer model's features differ from the code's; run scripts/train_short.py")
        sharpness, ratio = d.get("sharpness"), d.get("withhold_ratio")
        return cls(m, float(d.get("min_probability", 0.0)), d.get("meta", {}),
                   None if sharpness is None else float(sharpness), None if ratio is None else float(ratio))


@functools.lru_cache(maxsize=4)
def load(path: Path = MODEL_PATH) -> ShortModel:
    return ShortModel.from_json(json.loads(Path(path).read_text("utf-8")))
