"""Which sentences make the answer: the best one and those nearly as good, or for a list
("who attended") every sentence of the same article that names someone taking part; the people
common to two events ("who attended both"); the items a sentence introduces ("as follows:")."""

from __future__ import annotations

from typing import Callable

from rag.answer.citations import CitationList
from rag.answer.expected_types import values
from rag.answer.questions import took_part
from rag.answer.sentence_features import INTRODUCES_LIST, Candidate
from rag.answer.vocabulary import replies
from rag.answer.who_lists import participants
from rag.types import Answer, Hit, Kind, Question, ShortAnswer, ShortItem

# Sentences kept beside the best one must be at least this probable relative to it. A sentence
# of the best one's own passage (the same citation: it often finishes what the best one starts)
# joins a single answer at the reader model's own value, learnt with it
# (ReaderModel.second_sentence); one from another passage, a new citation, needs this much.
RELATIVE_KEEP = {"gather": 0.05, "single": 0.3}
MAX_SENTENCES = {"gather": 8, "single": 2}
GATHER_COVERAGE = 0.5
# A second sentence is added to a single answer only while the answer stays short.
SINGLE_MAX_CHARS = 170


def item_cue(q: Question, c: Candidate) -> bool:
    """A sentence that can be one item of a gathered list: it names someone taking part."""
    return took_part(c.text) if q.participation else bool(values(q.kind, c.text, c.hit.lang)) or q.kind == Kind.LIST


def gathers(q: Question) -> bool:
    # "Who attended" wants everyone; "Who is the mayor" wants one sentence.
    return q.kind == Kind.LIST or q.participation


def select(q: Question, candidates: list[Candidate], article_groups: list[set[str]] | None = None,
           second: float | None = None) -> list[Candidate]:
    """The sentences of the answer. With `article_groups` (one set of articles per anchor, for a
    question comparing two events) the best sentences of each group are taken. `second`: how
    probable, relative to the best, a sentence of the best one's passage must be to join a
    single answer."""
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
        mode = "gather" if gathers(q) else "single"
        picked = [best]
        length = len(best.text)
        for c in pool[1:]:
            if len(picked) >= MAX_SENTENCES[mode]:
                break
            keep = second if mode == "single" and second is not None and c.hit.id == best.hit.id \
                else RELATIVE_KEEP[mode]
            if c.score < keep * best.score and not (mode == "gather" and (_as_good(c, best) or _lists_attendees(q, c))):
                continue
            if mode == "gather" and (not item_cue(q, c) or c.hit.article_id != best.hit.article_id):
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
    """'Who attended both meetings': the people every group of articles says took part
    (rag.answer.who_lists.participants), each cited where each group names them; None when no
    one is common."""
    per_group: list[dict[str, Candidate]] = []
    for group in groups:
        named: dict[str, Candidate] = {}
        for c in candidates:  # best first, so each name keeps its most probable sentence
            if c.hit.article_id in group:
                for a, b in participants(c.text, c.hit.lang):
                    named.setdefault(c.text[a:b], c)
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
    say = replies(q.lang)
    last = say["list_last_separator"] if len(parts) > 1 else ""
    text = say["named_at_each"].format(names=say["list_separator"].join(parts[:-1]) + last + parts[-1])
    short = ShortAnswer(items, 1.0, "list" if len(items) > 1 else "span") if items else None
    return Answer(text=text, answered=True, citations=cites.items(), sentences=sentences, short=short)


def _lists_attendees(q: Question, c: Candidate) -> bool:
    """For "who attended": a sentence that names people taking part is part of the list, however
    little it shares with the question's words ("Other attendees included ...")."""
    return bool(q.attendance) and bool(participants(c.text, c.hit.lang))


def _as_good(c: Candidate, best: Candidate) -> bool:
    """For a list of everyone who took part: a sentence that covers the question about as well
    as the best one does. The reader's probabilities pick one best sentence (they sum to one
    over the candidates), so the others of a list are judged by coverage."""
    mine, top = c.features.get("cov_ctx"), best.features.get("cov_ctx")
    return mine is not None and top is not None and mine >= GATHER_COVERAGE * top


ListItems = Callable[[Hit, tuple[int, int]], list[tuple[Hit, tuple[int, int]]]]


def expand_lists(chosen: list[Candidate], list_items: ListItems) -> list[Candidate]:
    """`chosen`, each sentence that introduces a list ("Attending were:") followed by the list's
    items, which `list_items` finds, in the next passages too."""
    out: list[Candidate] = []
    for c in chosen:
        out.append(c)
        if INTRODUCES_LIST.search(c.text):
            for hit, span in list_items(c.hit, c.span):
                item = Candidate(hit, c.rank, span, hit.text[span[0]:span[1]], -1, c.p)
                if item.key not in {x.key for x in out} | {x.key for x in chosen}:
                    out.append(item)
    return out
