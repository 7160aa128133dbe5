"""Extractive, grounded answers: pick the sentences of the retrieved passages that answer the
question, cite each, and abstain when the evidence does not support an answer.

Nothing here writes new text about the articles: every sentence of an answer is a sentence
of a passage, so every claim is exactly as faithful as its citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

from rag.citations import Citation, CitationList
from rag.questions import PARTICIPATION, SLOT_WORDS, ZH_PARTICIPATION, SYNONYMS, Kind, Question, anchor_tokens, canonical
from rag.retrieval import Hit
from rag.tokenization import tokenize

# Below this share of the question's (idf-weighted) terms, the best sentence is not an answer.
MIN_COVERAGE = 0.28
HEAD_UNKNOWN_FACTOR = 0.6
PHRASE_BONUS = 0.1
NAME_WEIGHT = 0.5
# "What did X say / call / according to X": X is the speaker, not what the answer is about.
_ATTRIBUTION = re.compile(r"\b(say|said|says|call|called|describe[sd]?|according to|stress(ed)?|propose[sd]?|"
                          r"point(ed)? out|urge[sd]?|hope[sd]?|want(ed)?|cite[sd]?|mention(ed)?|speech)\b", re.I)  # per pair of question words found side by side, at most two pairs
# Sentences kept beside the best one must be at least this good relative to it.
RELATIVE_KEEP = {"gather": 0.5, "single": 0.85}
MAX_SENTENCES = {"gather": 6, "single": 2}
CLOSEST = 3


class Lexicon(Protocol):
    def idf(self, token: str) -> float | None: ...


@dataclass
class Candidate:
    hit: Hit
    rank: int
    span: tuple[int, int]  # in hit.text
    text: str
    score: float = 0.0
    cue: bool = False

    @property
    def key(self) -> tuple[str, int]:
        # The same sentence appears in two passages where they overlap: one key for both.
        return (self.hit.meta.get("doc_id", self.hit.id), int(self.hit.meta.get("start", 0)) + self.span[0])


@dataclass
class Answer:
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    reason: str = ""  # why it abstained, for the eval and logs
    sentences: list[dict] = field(default_factory=list)  # [{"text", "citation"}]


_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_CUES = {
    Kind.WHEN: (re.compile(rf"\b({_MONTHS})\b|\b(19|20)\d\d\b|\b\d{{1,2}}:\d\d\b"), re.compile(r"\d+\s*[年月日]|[年月]份|[上下]半年")),
    Kind.WHERE: (re.compile(r"\b(in|at|to|visited)\s+[A-Z]|\b(District|City|Province|County|Park|Center|Centre|Island|Hall|Zone)\b"),
                 re.compile(r"[区市省县镇村园馆]|在.{1,12}(举行|召开)")),
    Kind.QUANTITY: (re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b", re.I),
                    re.compile(r"\d|[一二三四五六七八九十百千万亿]+[个项次名位条家年]")),
    Kind.WHO: (re.compile(r"\b[A-Z][a-z]+(?:'[a-z]+)?\s[A-Z][a-z]+(?:'[a-z]+)?\b"),
               re.compile(r"书记|市长|省长|主任|部长|秘书长|领导|主席|总理|负责人|代表")),
}


_DATES = re.compile(rf"\b({_MONTHS})\s+\d{{1,2}}\b|\b(19|20)\d\d\b|\d+\s*[年月日号]|\b\d+H\b|\b\d{{1,2}}:\d\d\b")
_FIGURE = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|hundred|thousand|million|billion)\b"
                     r"|[一二三四五六七八九十两百千万亿]+\s*[个项次名位条家座处方面倍公里吨元人%]", re.I)
# When a question names a unit, the figure must be in that unit.
_UNITS = [
    (r"\b(km|kilomet(er|re)s?)\b|公里|千米", r"\b(km|kilomet(er|re)s?)\b|公里|千米"),
    (r"\bpercent|%|percentage|百分|比例|增长率", r"percent|%|百分之"),
    (r"\byuan\b|\bRMB\b|元|资金|funding|budget|invest", r"yuan|RMB|\$|dollars?|元"),
    (r"\bpeople\b|\bpersons?\b|\battendees\b|\bpopulation\b|\binhabitants\b|多少人|几人|人口", r"\b(people|persons|attendees|participants|delegates)\b|[0-9一二三四五六七八九十百千万]+\s*(人|名|位)"),
    (r"\btons?\b|吨", r"\btons?\b|吨"),
    (r"\bGDP\b|生产总值|growth|增长", r"%|percent|百分|yuan|元|亿"),
]


def states_figure(question: str, sentence: str) -> bool:
    """Whether `sentence` gives a figure of the kind `question` asks for (dates are not figures)."""
    rest = _DATES.sub(" ", sentence)
    if not _FIGURE.search(rest):
        return False
    for asked, given in _UNITS:
        if re.search(asked, question, re.I) and not re.search(given, rest, re.I):
            return False
    return True


def states_date(sentence: str) -> bool:
    return bool(_DATES.search(sentence))


def has_cue(kind: Kind, text: str, lang: str) -> bool:
    pair = _CUES.get(kind)
    if pair is None:
        return True
    return bool(pair[1 if lang == "zh" else 0].search(text))


def _participation(tokens: set[str], text: str) -> bool:
    return bool(tokens & PARTICIPATION) or any(w in text for w in ZH_PARTICIPATION)


def _adjacent_pairs(pairs: set[tuple[str, str]], tokens: list[str]) -> int:
    if not pairs:
        return 0
    return min(2, len(pairs & set(zip(tokens, tokens[1:]))))


def score_sentences(q: Question, hits: list[Hit], lexicon: Lexicon) -> list[Candidate]:
    """Every sentence of `hits`, scored by the idf-weighted share of the question's terms it holds."""
    # Anchors were matched against whole articles already; a sentence need not repeat them.
    spelled = anchor_tokens(q.text)
    slots = SLOT_WORDS if q.kind in (Kind.WHEN, Kind.WHERE, Kind.WHO) else set()
    weights: dict[str, float] = {}
    name_tokens = set(tokenize(" ".join(q.names))) if _ATTRIBUTION.search(q.text) else set()
    for t in dict.fromkeys(q.terms):
        if t in spelled or t in slots:
            continue
        c = SYNONYMS.get(t, t)
        w = lexicon.idf(t) or lexicon.idf(c)  # "chaired" is unknown, its group's "presided" is not
        if w and t in name_tokens:
            # Names are rare, so their idf is high, but in "What did Wang Xiaohui call the
            # cornerstone" the name only says whose speech; "cornerstone" is what to find.
            w *= NAME_WEIGHT
        if w:
            weights[c] = max(weights.get(c, 0.0), w)
    participation_terms = {t for t in weights if t in PARTICIPATION}
    question_pairs = {(a, b) for a, b in zip(q.terms, q.terms[1:]) if a in weights or b in weights}
    total = sum(weights.values())
    out: dict[tuple[str, int], Candidate] = {}
    for rank, hit in enumerate(hits):
        title_tokens = set(canonical(tokenize(hit.meta.get("title", ""), bigrams_only=True)))
        passage_tokens = set(canonical(tokenize(hit.text, bigrams_only=True)))
        for span in hit.sentences:
            text = hit.text[span[0]:span[1]]
            raw = tokenize(text, bigrams_only=True)
            toks = set(canonical(raw)) | set(raw)
            got = sum(w for t, w in weights.items() if t in toks)
            # A term that is in the headline is known for every sentence of the article, at half weight.
            # Terms of the headline hold for every sentence of the article, terms of the passage
            # for its sentences ("according to Chen Min'er" is said once, before his speech).
            got += 0.5 * sum(w for t, w in weights.items() if t not in toks and t in title_tokens)
            got += 0.35 * sum(w for t, w in weights.items()
                              if t not in toks and t not in title_tokens and t in passage_tokens)
            if q.participation and participation_terms and not (toks & participation_terms) and _participation(toks, text):
                got += sum(weights[t] for t in participation_terms)  # "presided over" answers "who attended"
            coverage = got / total if total else 0.0
            # Question words that stand together in the sentence ("Mayor of Chengdu") beat the same
            # words apart ("Mayor of Chongqing ... Chengdu region").
            coverage += PHRASE_BONUS * _adjacent_pairs(question_pairs, raw)
            cue = has_cue(q.kind, text, hit.lang)
            if q.participation:
                cue = cue and _participation(toks, text)
            score = coverage * (1.0 if cue else 0.5) + 0.02 / (rank + 1)
            c = Candidate(hit, rank, span, text, score, cue)
            if c.key not in out or out[c.key].score < score:
                out[c.key] = c
    return sorted(out.values(), key=lambda c: (-c.score, c.rank, c.span[0]))


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
        for c in pool[1:]:
            if len(picked) >= MAX_SENTENCES[mode]:
                break
            if c.score < RELATIVE_KEEP[mode] * best.score or c.score < MIN_COVERAGE * 0.6:
                continue
            if mode == "gather" and (not c.cue or c.hit.article_id != best.hit.article_id):
                continue  # all the people of *that* event, not of another one
            if c.hit.lang != best.hit.lang:
                continue
            picked.append(c)
        chosen.extend(c for c in picked if c.key not in {x.key for x in chosen})
    return chosen


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
        sentences.append({"text": c.text, "citation": n, "passage_id": c.hit.id})
    joiner = "" if q.lang == "zh" and all(c.hit.lang == "zh" for c in ordered) else " "
    text = joiner.join(parts)
    other = {c.hit.lang for c in ordered} - {q.lang}
    if other and q.lang == "zh":
        text = "（以下摘自英文报道）" + text
    elif other and q.lang == "en":
        text = "(From the Chinese text) " + text
    return Answer(text=text, answered=True, citations=cites.items(), sentences=sentences)


def abstain(q: Question, closest: list[Hit], what: str | None = None, reason: str = "") -> Answer:
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
    return Answer(text=text, answered=False, citations=cites.items(), reason=reason or "abstained")


Similarity = Callable[[str, list[str]], list[float]]  # question, sentences -> cosine similarities
# e5 cosines between a question and a sentence in another language: below LOW unrelated,
# above HIGH on topic (measured on the shipped articles, see docs/EVALUATION.md).
CROSS_LINGUAL_LOW, CROSS_LINGUAL_HIGH = 0.76, 0.84
SEMANTIC_PASSAGES = 3


def score_sentences_semantic(q: Question, hits: list[Hit], similarity: Similarity) -> list[Candidate]:
    """For a question with no passage in its language (a Chinese question about an English-only
    article), words cannot match: score sentences by embedding similarity instead."""
    cands: dict[tuple[str, int], Candidate] = {}
    for rank, hit in enumerate(hits[:SEMANTIC_PASSAGES]):  # embedding sentences costs ~10 ms each
        for span in hit.sentences:
            c = Candidate(hit, rank, span, hit.text[span[0]:span[1]])
            cands.setdefault(c.key, c)
    items = list(cands.values())
    if not items:
        return []
    sims = similarity(q.text, [c.text for c in items])
    for c, sim in zip(items, sims):
        coverage = min(1.0, max(0.0, (sim - CROSS_LINGUAL_LOW) / (CROSS_LINGUAL_HIGH - CROSS_LINGUAL_LOW)))
        toks = set(tokenize(c.text, bigrams_only=True))
        c.cue = has_cue(q.kind, c.text, c.hit.lang) and (not q.participation or _participation(toks, c.text))
        c.score = coverage * (1.0 if c.cue else 0.5) + 0.02 / (c.rank + 1)
    return sorted(items, key=lambda c: (-c.score, c.rank, c.span[0]))


ListItems = Callable[[Hit, tuple[int, int]], list[tuple[Hit, tuple[int, int]]]]
_INTRODUCES_LIST = re.compile(r"[:：]\s*$|\b(the following|as follows)\b[^.]*$", re.I)


def answer(q: Question, hits: list[Hit], lexicon: Lexicon, article_groups: list[set[str]] | None = None,
           list_items: ListItems | None = None, similarity: Similarity | None = None) -> Answer:
    """The answer to `q` from `hits`. `list_items(hit, span)` returns the items of a list that the
    sentence at `span` introduces ("... include the following:"), which may run into the next passages."""
    if not hits:
        return abstain(q, [], reason="nothing retrieved")
    if similarity is not None and not any(h.lang == q.lang for h in hits):
        candidates = score_sentences_semantic(q, hits, similarity)
    else:
        candidates = score_sentences(q, hits, lexicon)
    # A "how many / when" question is answered by a figure / a date, not by a sentence on the topic.
    if q.kind == Kind.QUANTITY:
        candidates = [c for c in candidates if states_figure(q.text, c.text)]
        if not candidates:
            return abstain(q, hits, what="这个数字" if q.lang == "zh" else "this figure", reason="no figure in the evidence")
    if q.kind == Kind.WHEN:
        candidates = [c for c in candidates if states_date(c.text)]
        if not candidates:
            return abstain(q, hits, what="这个日期" if q.lang == "zh" else "this date", reason="no date in the evidence")
    chosen = select(q, candidates, article_groups)
    # "Which newspaper ..." when no article uses the word: only a sentence that matches the rest
    # of the question very well may answer (paraphrases such as "posts" for "Secretary" exist).
    needed = MIN_COVERAGE / HEAD_UNKNOWN_FACTOR if q.head_unknown else MIN_COVERAGE
    if not chosen or chosen[0].score < needed:
        best = chosen[0].score if chosen else 0.0
        return abstain(q, hits, reason=f"best sentence covers {best:.2f} of the question (< {needed:.2f})")
    if list_items is not None:
        chosen = _expand_lists(chosen, list_items)
    return compose(q, chosen)


def _expand_lists(chosen: list[Candidate], list_items: ListItems) -> list[Candidate]:
    out: list[Candidate] = []
    for c in chosen:
        out.append(c)
        if _INTRODUCES_LIST.search(c.text):
            for hit, span in list_items(c.hit, c.span):
                item = Candidate(hit, c.rank, span, hit.text[span[0]:span[1]], c.score, c.cue)
                if item.key not in {x.key for x in out} | {x.key for x in chosen}:
                    out.append(item)
    return out
