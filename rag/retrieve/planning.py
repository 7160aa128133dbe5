"""Query planning: from an analysed question, what to search and where, before any search.

A question's anchors ("the seventh meeting", "2024") and full names ("Chen Min'er") say which
articles can answer it. An anchor or a name that no article holds means the articles do not
answer: nothing is read, and the answer says what is missing. Anchors held by different
articles and by none together mean a comparison of events, which reads each event's evidence.

`plan` is pure: it reads the question and the index's lookups and returns a new `Plan`; the
question is never changed. `retrieve` runs a plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Protocol

from rag.lang.tokenization import tokenize
from rag.retrieve.hybrid import Mode, Retriever
from rag.types import Hit, Question


class Lexicon(Protocol):
    def idf(self, token: str) -> float | None: ...


@dataclass(frozen=True)
class Plan:
    query: str  # the text searched: the question, after what a follow-up borrows from the previous one
    articles: list[str] | None = None  # search only these articles (None: all of them)
    groups: list[set[str]] | None = None  # a comparison of events: the articles of each anchor
    missing_what: str | None = None  # what the question names that no article holds
    topic: str = ""  # what an attribution question is about: searched on its own as well
    attendance: str = ""  # "who attended": the words that list who took part, searched in each event's articles


TOPIC_K = 2  # passages retrieved for an attribution question's topic alone
ATTENDANCE_K = 4  # passages retrieved, per event, for the words that list who attended


def search_text(q: Question, text: str) -> str:
    return f"{q.context} {text}".strip() if q.context else text


def scope_by_anchors(q: Question, anchor_index: Mapping[str, set[str]]
                     ) -> tuple[list[str] | None, list[set[str]] | None, str | None]:
    """(articles, groups, missing_what) from the question's anchors: the articles that hold them
    all; or, when each is in some article but none holds them all, the articles of each (a
    comparison of events); or the words of the anchors that no article holds."""
    if not q.anchors:
        return None, None, None
    by_anchor = {a: set(anchor_index.get(a, ())) for a in q.anchors}
    missing = [a for a, arts in by_anchor.items() if not arts]
    if missing:
        return None, None, " ".join(q.anchor_text[a] for a in sorted(missing))
    common = set.intersection(*by_anchor.values())
    if common:
        return sorted(common), None, None
    return sorted(set.union(*by_anchor.values())), [by_anchor[a] for a in sorted(by_anchor)], None


def unknown_names(names: list[str], lexicon: Lexicon | None) -> list[str]:
    """The names with a word that no passage holds (none without a lexicon)."""
    return [n for n in names if lexicon is not None and any(lexicon.idf(t) is None for t in tokenize(n))]


def plan(q: Question, text: str, anchor_index: Mapping[str, set[str]], lexicon: Lexicon | None,
         articles_with: Callable[[str], set[str]]) -> Plan:
    """What to search for `q` (asked as `text`). `anchor_index`: anchor -> articles holding it;
    `articles_with`: full name -> articles holding it (asked only when every name's words are known)."""
    articles, groups, missing_what = scope_by_anchors(q, anchor_index)
    unknown = unknown_names(q.names, lexicon)
    if not unknown and q.phrases:
        named = {p: articles_with(p) for p in q.phrases}
        unknown = [p for p, arts in named.items() if not arts]
        if not unknown and not missing_what:
            # A full name works like an anchor: the article that answers "what did Chen Min'er
            # say" names him. Without this, a distractor's sentence that matches the rest of
            # the question ("said that the two sides should focus on ...") wins in a large
            # corpus (docs/PERFORMANCE.md). Names in different articles: a comparison, keep all.
            sets = list(named.values())
            with_names = set.intersection(*sets) or set.union(*sets)
            if articles is None:
                articles = sorted(with_names)
            elif set(articles) & with_names:
                articles = sorted(set(articles) & with_names)
    if unknown and not missing_what:
        missing_what = " ".join(unknown)
    return Plan(search_text(q, text), articles, groups, missing_what, q.topic, q.attendance)


def retrieve(p: Plan, retriever: Retriever, lang: str, top_k: int, mode: Mode, timings: dict[str, float],
             query_vector: list[float]) -> list[Hit]:
    """The passages `p` asks for. With something missing, the closest passages of all articles
    (shown beside the abstention)."""
    if p.groups and not p.missing_what:
        # A comparison of events reads the evidence of each: the best passages of one event
        # must not crowd out the other's.
        hits, seen = [], set()
        for group in p.groups:
            for h in retriever.retrieve(p.query, lang, top_k, articles=sorted(group), mode=mode,
                                        timings=timings, query_vector=query_vector):
                if h.id not in seen:
                    seen.add(h.id)
                    hits.append(h)
        hits.sort(key=lambda h: -h.score)
        return hits + _attendance(p, retriever, lang, p.groups, hits, timings)
    hits = retriever.retrieve(p.query, lang, top_k, articles=p.articles if not p.missing_what else None,
                              mode=mode, timings=timings, query_vector=query_vector)
    if p.topic and not p.missing_what:
        # "What did X say about Y": X's name pulls in X's passages, which can push the one on Y
        # out of the top k; Y alone finds it (the reader then checks that X said it).
        seen = {h.id for h in hits}
        extra: dict[str, float] = {}
        hits += [h for h in retriever.retrieve(p.topic, lang, TOPIC_K, articles=p.articles, mode=mode,
                                               timings=extra) if h.id not in seen]
        timings["topic"] = sum(extra.values())
    if not p.missing_what and hits:
        # Without anchors, the event is the best passage's article.
        hits += _attendance(p, retriever, lang, [set(p.articles or [hits[0].article_id])], hits, timings)
    return hits


def _attendance(p: Plan, retriever: Retriever, lang: str, events: list[set[str]], hits: list[Hit],
                timings: dict[str, float]) -> list[Hit]:
    """For "who attended": the passages of each event that list who took part. The question's
    words find the passage on the main guests; "Other attendees included ..." often sits at the
    article's end, matching only the event, and is missed, so the list came out short."""
    if not p.attendance:
        return []
    seen = {h.id for h in hits}
    extra: list[Hit] = []
    spent: dict[str, float] = {}
    # The listing words are few and plain: matched as words, with no query vector to compute.
    mode = Mode.BM25 if retriever.bm25 is not None else Mode.HYBRID
    for event in events:
        for h in retriever.retrieve(p.attendance, lang, ATTENDANCE_K, articles=sorted(event), mode=mode,
                                    timings=spent):
            if h.id not in seen:
                seen.add(h.id)
                extra.append(h)
    timings["attendance"] = sum(spent.values())
    return extra
