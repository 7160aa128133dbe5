"""The records the stages hand each other: a retrieved passage (`Hit`), an analysed question
(`Question`), what the reader reads (`Evidence`), an answer with its citations (`Answer`), and
what the engine returns (`Result`, or a `Draft` while a language model writes).

Only records that cross a stage boundary live here; a stage's own working records stay in
its module. This module imports only the language packs (rag.lang), so that every stage may
import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import rag.lang as language

# -- retrieval ---------------------------------------------------------------------------------

@dataclass
class Hit:
    id: str
    text: str
    meta: dict[str, Any]
    score: float = 0.0  # fused score
    dense: float | None = None  # cosine similarity
    bm25: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return self.meta.get("lang", "en")

    @property
    def article_id(self) -> str:
        return self.meta["article_id"]

    @property
    def sentences(self) -> list[tuple[int, int]]:
        raw = self.meta.get("sentences")
        return [tuple(s) for s in json.loads(raw)] if raw else [(0, len(self.text))]


# -- the question ------------------------------------------------------------------------------

class Kind(str, Enum):
    WHO = "who"
    WHERE = "where"
    WHEN = "when"
    QUANTITY = "quantity"
    LIST = "list"
    WHY = "why"
    OTHER = "other"


# Words that ask what several events have in common ("who attended both meetings").
_INTERSECTION_RE = language.any_language("intersection")


@dataclass
class Question:
    """What a question asks (rag.answer.questions.analyse makes it)."""

    text: str
    lang: str
    kind: Kind
    terms: list[str]  # tokens an answer sentence should contain (stemmed, stop words out)
    anchors: set[str] = field(default_factory=set)  # "ord:7", "num:2024"
    names: list[str] = field(default_factory=list)  # capitalised words that may be proper nouns
    phrases: list[str] = field(default_factory=list)  # runs of capitalised words: full names
    head: str = ""  # what a which/what question asks for
    anchor_text: dict[str, str] = field(default_factory=dict)  # anchor -> the words that said it
    context: str = ""  # text borrowed from the previous question for a follow-up
    participation: bool = False  # a who-question about who took part (attended, presided, spoke ...)
    topic: str = ""  # what an attribution question is about ("tourism" in "What did X say about tourism?")
    attendance: str = ""  # for "who attended" (not "who presided"): the words that list who took part

    @property
    def intersect(self) -> bool:
        """Whether the question asks for what its anchors' events share (with two or more anchors)."""
        return bool(_INTERSECTION_RE.search(self.text))


@dataclass
class Evidence:
    """What the reader reads for a question (Engine.evidence)."""

    text: str
    q: Question
    hits: list[Hit]
    qvec: Any  # the question's e5 vector (numpy)
    missing_what: str | None  # what the question names that no article holds
    groups: list[set[str]] | None  # one set of articles per anchor, for a comparison of events
    timings: dict[str, float]
    lexicon: Any


# -- the answer --------------------------------------------------------------------------------

@dataclass
class Citation:
    n: int
    passage_id: str
    article_id: str
    title: str
    date: str | None
    lang: str
    source: str
    text: str
    score: float
    highlights: list[tuple[int, int]] = field(default_factory=list)  # cited sentence spans in `text`

    def to_json(self, with_highlights: bool = True) -> dict[str, Any]:
        d = {"n": self.n, "article_id": self.article_id, "title": self.title, "date": self.date,
             "lang": self.lang, "source": self.source, "text": self.text, "score": round(self.score, 4)}
        if with_highlights:
            d["passage_id"] = self.passage_id
            d["highlights"] = [list(h) for h in self.highlights]
        return d


@dataclass
class ShortItem:
    text: str
    citation: int
    start: int  # offsets in the cited passage's text
    end: int

    def to_json(self) -> dict:
        return {"text": self.text, "citation": self.citation, "start": self.start, "end": self.end}


@dataclass
class ShortAnswer:
    items: list[ShortItem]
    confidence: float  # the span model's probability of the best span (1.0 for a list of names)
    kind: str = "span"  # "span" or "list"
    # Its expected F1 against the span model's distribution (short_answer.choice); None: `confidence`.
    expected_f1: float | None = None

    @property
    def expected(self) -> float:
        """Its expected F1; a list of names, with no span distribution, stands by its confidence."""
        return self.confidence if self.expected_f1 is None else self.expected_f1

    @property
    def text(self) -> str:
        sep = "、" if any(language.has_cjk(i.text) for i in self.items) else ", "
        return sep.join(i.text for i in self.items)

    def to_json(self) -> dict:
        return {"text": self.text, "kind": self.kind, "confidence": round(self.confidence, 4),
                "items": [i.to_json() for i in self.items]}


@dataclass
class Answer:
    text: str
    answered: bool
    citations: list[Citation] = field(default_factory=list)
    reason: str = ""  # why it abstained, for the eval and logs
    sentences: list[dict] = field(default_factory=list)  # [{"text", "citation"}]
    confidence: float | None = None  # probability that the evidence answers the question
    short: ShortAnswer | None = None  # the exact phrase that answers (rag/answer/short_answer.py)
    short_withheld: bool = False  # a phrase was found but is likelier wrong than right (short_answer.withheld)
    # What the coverage floor was compared with (the best sentence's coverage of the question),
    # so that training chooses the floor on the very value the engine compares.
    coverage: float | None = None


# -- what the engine returns -------------------------------------------------------------------

@dataclass
class Draft:
    text: str  # everything the model has written so far, unverified


@dataclass
class Result:
    question: str
    answer: Answer
    timings_ms: dict[str, float]
    analysis: Question | None = None
    retrieved: list[Hit] = field(default_factory=list)
    # Set only when a language model is configured (rag/generate/grounded.py): which mode answered,
    # each generated sentence with its check, and why the model's answer was not used.
    mode: str | None = None
    verified: list[dict[str, Any]] | None = None
    warning: str | None = None
    model: str | None = None
    draft: str = ""

    def to_json(self, details: bool = False) -> dict[str, Any]:
        d = {
            "question": self.question,
            "answer": self.answer.text,
            "answered": self.answer.answered,
            "confidence": None if self.answer.confidence is None else round(self.answer.confidence, 4),
            "short_answer": self.answer.short.to_json() if self.answer.short is not None else None,
            "short_answer_withheld": self.answer.short_withheld,
            "citations": [c.to_json(with_highlights=details) for c in self.answer.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
        if self.mode is not None:
            d["mode"] = self.mode
            d["verified"] = self.verified or []
            d["warning"] = self.warning
            d["model"] = self.model
        if details:
            if self.mode is not None:
                d["draft"] = self.draft  # the model's raw reply, before verification
            d["reason"] = self.answer.reason
            d["sentences"] = self.answer.sentences
            d["retrieved"] = [{"id": h.id, "article_id": h.article_id, "lang": h.lang, "score": round(h.score, 5),
                               "dense": h.dense, "bm25": h.bm25} for h in self.retrieved]
        return d
